"""The installed console scripts as a user runs them: in a fresh process, from a shell.

Every script runs in a subprocess (``python -m tfless.cli.<name>`` or the installed
``tfless-<name>``), so each test sees what the user sees: help text, exit status, stderr.
"""

import fcntl
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from tests.testing import tfless_train_in_process

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOKE = "--config=configs/supervised/digits.py:smoke"
# A two-step run (no warm-up: it must be shorter than the run): a manifest and metrics.
SHORT = [
    "--config.train.steps=2",
    "--config.train.eval_every=1",
    "--config.optimizer.warmup_steps=0",
    "--config.train.verbose=0",
]
# TensorFlow start-up lines a normal run must not print.
TF_NOISE = ("oneDNN", "cuInit", "cpu_feature_guard", "cudart_stub")


def _script(name: str) -> list[str]:
    """The installed ``tfless-<name>`` script, else the module run by this interpreter."""
    module = {"eval": "evaluate"}.get(name, name).replace("-", "_")
    installed = shutil.which(f"tfless-{name}")
    return [installed] if installed else [sys.executable, "-m", f"tfless.cli.{module}"]


class _Launch:
    """A console script started in the background; ``result()`` waits for it.

    Most of these runs spend their time loading TensorFlow, so the module starts the
    independent ones together to use every core. Output goes to files, not pipes, so a
    talkative process never blocks on a full pipe while another is awaited.
    """

    def __init__(self, out_dir: pathlib.Path, name: str, *args: str):
        # As a user's shell would have it: no TF_CPP_MIN_LOG_LEVEL from the test session.
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        out_dir.mkdir(parents=True, exist_ok=True)
        self._out, self._err = out_dir / "stdout", out_dir / "stderr"
        with open(self._out, "w") as out, open(self._err, "w") as err:
            self._process = subprocess.Popen(
                [*_script(name), *args], cwd=ROOT, env=env, stdout=out, stderr=err, text=True
            )
        self.args = args

    def result(self, timeout: float = 180) -> subprocess.CompletedProcess:
        code = self._process.wait(timeout=timeout)
        return subprocess.CompletedProcess(
            self.args, code, self._out.read_text(), self._err.read_text()
        )


def _run(tmp: pathlib.Path, name: str, *args: str) -> subprocess.CompletedProcess:
    return _Launch(tmp / "process", name, *args).result()


# Config mistakes: the override and words the one error line must hold.
MISTAKES = {
    "unknown_key": ("--config.train.stepz=3", ("unknown config key", "stepz", "steps")),
    "bad_value": ("--config.train.steps=0", ("train.steps must be >= 1", "0")),
    "unknown_method": ("--config.method.name=nosuch", ("Unknown method", "nosuch")),
    "unknown_backbone": ("--config.model.backbone=nosuch", ("Unknown backbone", "nosuch")),
    "unknown_dataset": ("--config.data.dataset=nosuch", ("Unknown dataset", "nosuch")),
}


#: Run as a user would: one mistake caught when the flags parse (before TensorFlow loads),
#: one by the trainer (a ConfigError). The others take the second path and run in-process.
SUBPROCESS_MISTAKES = ("unknown_key", "unknown_method")


def _launch_all(tmp: pathlib.Path) -> dict:
    """The module's independent script runs, started together: name -> ``_Launch``."""
    runs = {
        "smoke": _Launch(tmp / "smoke", "train", SMOKE, f"--workdir={tmp / 'smoke/run'}", *SHORT),
        "mirrored": _Launch(
            tmp / "mirrored",
            "train",
            SMOKE,
            f"--workdir={tmp / 'mirrored/run'}",
            "--strategy=mirrored",
            "--cpu_devices=2",
            *SHORT,
        ),
        "eval_help": _Launch(tmp / "eval_help", "eval", "--help"),
        "diverged": _Launch(
            tmp / "diverged",
            "train",
            SMOKE,
            f"--workdir={tmp / 'diverged/run'}",
            *SHORT,
            "--config.optimizer.learning_rate=1e30",
        ),
    }
    for key in SUBPROCESS_MISTAKES:
        override = MISTAKES[key][0]
        workdir = tmp / key / "run"
        runs[key] = _Launch(tmp / key, "train", SMOKE, f"--workdir={workdir}", *SHORT, override)
    return runs


class _Finished:
    """A run of :func:`_launch_all` that has ended, read back from its files."""

    def __init__(self, out_dir: pathlib.Path):
        self._dir = out_dir

    def result(self) -> subprocess.CompletedProcess:
        code = int((self._dir / "returncode").read_text())
        out, err = ((self._dir / n).read_text() for n in ("stdout", "stderr"))
        return subprocess.CompletedProcess([], code, out, err)


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """The runs of :func:`_launch_all`, made once for the whole test session.

    pytest-xdist gives every worker its own module fixtures, so each worker running a
    test of this module would launch all of them again; instead the first one launches
    them into a directory the workers share (under a file lock) and the others read the
    results it left there.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    tmp = shared / "console_scripts"
    with open(shared / "console_scripts.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tmp / "done").exists():
            for name, run in _launch_all(tmp).items():
                (tmp / name / "returncode").write_text(str(run.result().returncode))
            (tmp / "done").write_text("")
    names = [*_FIXED_RUNS, *SUBPROCESS_MISTAKES]
    return {"tmp": tmp, **{name: _Finished(tmp / name) for name in names}}


#: The runs :func:`_launch_all` starts besides the config mistakes.
_FIXED_RUNS = ("smoke", "mirrored", "eval_help", "diverged")


# ------------------------------------------------------------------------------- --help
# One of each script's own flags, with a word of its help text.
OWN_FLAGS = {
    "train": ("--workdir", "Run directory"),
    "eval": ("--saved_model", "export version directory"),
    "export": ("--export_root", ""),
    "zoo": ("--out_root", "export root"),
    "serve": ("--export_root", ""),
    "augment-preview": ("--num_images", ""),
    "augment-search": ("--child_steps", ""),
}


@pytest.mark.parametrize("name", sorted(OWN_FLAGS))
def test_help_lists_the_scripts_own_flags_and_exits_0(launched, tmp_path, name):
    flag, words = OWN_FLAGS[name]
    if name == "eval":  # loads TensorFlow for its defaults: started with the others
        result = launched["eval_help"].result()
    else:
        result = _run(tmp_path, name, "--help")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{flag}:" in result.stdout
    assert words in result.stdout
    assert "Try --helpfull to get a list of all flags" not in result.stdout


# ------------------------------------------------------------------------ a normal run
def test_a_normal_run_prints_no_tensorflow_start_up_lines(launched):
    result = launched["smoke"].result()
    assert result.returncode == 0, result.stderr[-3000:]
    noise = [line for line in result.stderr.splitlines() if any(n in line for n in TF_NOISE)]
    assert not noise, "\n".join(noise)
    # Nor absl INFO lines (TensorFlow notes every checkpoint save at INFO).
    info = [line for line in result.stderr.splitlines() if re.match(r"I\d{4} ", line)]
    assert not info, "\n".join(info)
    assert "test_accuracy" in json.loads(result.stdout)


def test_mirrored_on_split_cpu_trains_on_two_replicas(launched):
    result = launched["mirrored"].result()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Cannot split the CPU" not in result.stderr
    manifest = json.loads((launched["tmp"] / "mirrored/run/manifest.json").read_text())
    assert manifest["strategy"] == "MirroredStrategy"
    assert manifest["num_replicas"] == 2


# ---------------------------------------------------------------------- config mistakes
def _assert_usage_error(result, *words: str) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "tfless-train: error:" in line]
    assert len(errors) == 1, result.stderr[-3000:]
    for word in words:
        assert word in errors[0], errors[0]


@pytest.mark.parametrize("mistake", SUBPROCESS_MISTAKES)
def test_a_config_mistake_is_one_error_line_and_status_2(launched, mistake):
    _assert_usage_error(launched[mistake].result(), *MISTAKES[mistake][1])
    assert not (launched["tmp"] / mistake / "run" / "checkpoints").exists()


@pytest.mark.parametrize("mistake", sorted(set(MISTAKES) - set(SUBPROCESS_MISTAKES)))
def test_other_config_mistakes_are_one_error_line_and_status_2_too(
    mistake, tmp_path, cli_module, monkeypatch, capsys
):
    override, words = MISTAKES[mistake]
    args = [f"{SMOKE}", f"--workdir={tmp_path / 'run'}", *SHORT, override]
    monkeypatch.chdir(ROOT)
    status = tfless_train_in_process(cli_module, monkeypatch, *args)
    err = capsys.readouterr().err
    _assert_usage_error(subprocess.CompletedProcess(args, status, "", err), *words)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_diverged_run_stops_with_one_error_line_and_status_1(launched):
    result = launched["diverged"].result()
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "tfless-train: error:" in line]
    assert len(errors) == 1 and "not finite" in errors[0], result.stderr[-3000:]
    assert not (launched["tmp"] / "diverged/run/metrics.json").exists()


def test_a_missing_config_file_or_bad_arg_is_one_error_line_and_status_2(tmp_path):
    result = _run(tmp_path, "train", "--config=configs/no/such.py", f"--workdir={tmp_path}")
    _assert_usage_error(result, "--config", "configs/no/such.py")
    result = _run(tmp_path, "train", SMOKE + "y", f"--workdir={tmp_path}")
    _assert_usage_error(result, "Unknown config arg 'smokey'")


def test_a_workdir_holding_another_run_is_refused_with_status_2(launched, tmp_path):
    assert launched["smoke"].result().returncode == 0
    workdir = launched["tmp"] / "smoke/run"
    before = (workdir / "manifest.json").read_text()
    args = [SMOKE, f"--workdir={workdir}", *SHORT, "--config.train.steps=4"]
    result = _run(tmp_path, "train", *args)
    _assert_usage_error(result, "different config", "train.steps")
    assert (workdir / "manifest.json").read_text() == before
