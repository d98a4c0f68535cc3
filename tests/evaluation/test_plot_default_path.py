"""``tfless-eval --protocol=plot`` without ``--out``: the PNG goes into the training run."""

import os

import pytest
from absl import flags

from tfless.cli import evaluate as cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from tfless.configs import load_config
    from tfless.train import train_and_evaluate

    config = load_config(os.path.join(ROOT, "configs", "supervised", "digits.py:smoke"))
    with config.unlocked():
        config.train.steps = 2
        config.train.eval_every = 1
        config.optimizer.warmup_steps = 1
        config.train.verbose = 0
        config.train.tensorboard = False
    workdir = str(tmp_path_factory.mktemp("plot_run") / "run")
    train_and_evaluate(config, workdir)
    return workdir


def test_plot_without_out_writes_into_the_workdir(run_dir, capsys):
    png = os.path.join(run_dir, "embedding_digits.png")
    assert not os.path.exists(png)
    flags.FLAGS(["tfless-eval", f"--workdir={run_dir}", "--protocol=plot"])
    try:
        cli.main(["tfless-eval"])
    finally:
        flags.FLAGS.unparse_flags()
    assert os.path.getsize(png) > 1000
    assert f"Wrote the embedding plot to {png}" in capsys.readouterr().out
    assert not os.path.exists(os.path.join(run_dir, "eval.json"))  # --out writes those


def test_plot_of_a_saved_model_without_out_is_a_usage_error(tmp_path, capsys):
    flags.FLAGS(["tfless-eval", f"--saved_model={tmp_path}", "--protocol=linear,plot"])
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["tfless-eval"])
    finally:
        flags.FLAGS.unparse_flags()
    assert exit_info.value.code == 2
    assert "--protocol=plot on a --saved_model writes a PNG; pass --out=DIR." in (
        capsys.readouterr().err
    )
    with pytest.raises(ValueError, match="pass --out=DIR"):
        cli.evaluate(saved_model=str(tmp_path), protocols=["plot"])
