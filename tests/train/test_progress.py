"""Training progress reads well in a log: one line per epoch when stdout is no terminal."""

import io

from tfless.configs import load_config
from tfless.train import train_and_evaluate
from tfless.train.trainer import progress_verbosity


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_only_on_a_terminal():
    assert progress_verbosity(1, _Terminal()) == 1
    assert progress_verbosity(1, io.StringIO()) == 2
    assert progress_verbosity(0, io.StringIO()) == 0
    assert progress_verbosity(2, _Terminal()) == 2


def test_a_run_logged_to_a_file_prints_one_line_per_epoch(tmp_path, capsys):
    config = load_config("configs/supervised/digits.py:smoke")
    with config.unlocked():
        config.train.steps, config.train.eval_every = 6, 2
        config.train.tensorboard = False
        config.train.verbose = 1
    train_and_evaluate(config, str(tmp_path / "run"))
    out = capsys.readouterr().out
    # Keras' bar draws with "━" and rewrites itself with "\r" / backspaces on every step.
    assert "━" not in out and "\r" not in out and "\x08" not in out, out[:500]
    assert sum("/step" in line for line in out.splitlines()) == 3, out


def test_fit_does_not_warn_about_shuffle(tmp_path, recwarn):
    config = load_config("configs/supervised/digits.py:smoke")
    with config.unlocked():
        config.train.steps, config.train.eval_every = 4, 2
        config.train.tensorboard = False
        config.train.verbose = 0
    train_and_evaluate(config, str(tmp_path / "run"))
    shuffle = [str(w.message) for w in recwarn if "shuffle" in str(w.message)]
    assert not shuffle, shuffle
