"""A workdir survives a second process, damaged checkpoints and a loss that turns NaN."""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.configs import load_config
from tfless.train import ConfigError, restore_method, train_and_evaluate
from tfless.train import checkpoints as ckpts
from tfless.train.guards import NonFiniteLoss, StopOnNonFinite
from tfless.train.workdir_lock import WorkdirLock, WorkdirLocked

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMOKE = f"{ROOT}/configs/supervised/digits.py:smoke"


def tiny(**overrides):
    """Two epochs of two steps: checkpoints ckpt-2 and ckpt-4."""
    c = load_config(SMOKE)
    with c.unlocked():
        c.train.steps, c.train.eval_every = 4, 2
        c.train.verbose, c.train.tensorboard = 0, False
        for key, value in overrides.items():
            section, name = key.split(".")
            c[section][name] = value
    return c


def _read_json(path):
    def refuse(token):
        raise ValueError(f"{path} holds {token}, which is not JSON")

    with open(path) as f:
        return json.load(f, parse_constant=refuse)


# ------------------------------------------------------------------ workdir lock
# The holder imports the lock module alone: no TensorFlow start-up in the subprocess.
_HOLDER = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("workdir_lock", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.WorkdirLock(sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_live_holder_refuses_a_second_run_and_a_killed_one_does_not(tmp_path, cli_module, capsys):
    workdir = str(tmp_path / "run")
    path = os.path.join(ROOT, "tfless", "train", "workdir_lock.py")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, path, workdir], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        who = rf"PID {holder.pid} on host {socket.gethostname()}"
        with pytest.raises(WorkdirLocked, match=who):
            WorkdirLock(workdir).acquire()
        # Refused at once, before any data or checkpoint is touched.
        with pytest.raises(ConfigError, match=rf"workdir .* is in use by {who}"):
            train_and_evaluate(tiny(), workdir)
        assert not os.path.exists(os.path.join(workdir, "checkpoints"))

        # Through the launcher: one line on stderr, status 2.
        from absl import app

        argv = ["train", f"--config={SMOKE}", f"--workdir={workdir}"]
        with cli_module("train") as train_cli, pytest.raises(SystemExit) as exit_info:
            app.run(train_cli.main, argv=argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"PID {holder.pid}" in err[0], err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # The kernel released the dead process's lock: a restart is not blocked.
    with WorkdirLock(workdir) as lock:
        assert lock.held
        assert json.load(open(lock.path))["pid"] == os.getpid()
    assert open(lock.path).read() == ""


# ------------------------------------------------------------ damaged checkpoints
def _small_checkpoints(directory, steps=(1, 2, 3)):
    """A CheckpointManager directory with one checkpoint per step of a few variables."""
    v = tf.Variable(np.zeros(64, np.float32))
    epoch = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(v=v, epoch=epoch), directory, max_to_keep=5
    )
    for step in steps:
        v.assign(np.full(64, step, np.float32))
        epoch.assign(step)
        manager.save(checkpoint_number=step)
    return manager


def _flip_byte(path):
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))


def test_newest_intact_checkpoint_survives_a_bad_state_file_and_damaged_files(tmp_path, caplog):
    d = str(tmp_path / "ckpts")
    assert ckpts.newest_intact(d) is None
    _small_checkpoints(d)
    newest = os.path.join(d, "ckpt-3")
    state = os.path.join(d, "checkpoint")
    # A garbage or dangling state file: tf.train.latest_checkpoint gives up, the scan does not.
    for text in ("garbage {{{", 'model_checkpoint_path: "ckpt-99"\n'):
        open(state, "w").write(text)
        assert tf.train.latest_checkpoint(d) is None
        with caplog.at_level(logging.WARNING, logger="tfless.train.checkpoints"):
            assert ckpts.newest_intact(d) == newest
        assert "state file" in caplog.text
        ckpts.repair_state(d, newest)
        assert tf.train.latest_checkpoint(d) == newest
        caplog.clear()

    # Damaged newest checkpoints are skipped, each named with its reason.
    _flip_byte(f"{newest}.data-00000-of-00001")
    open(os.path.join(d, "ckpt-2.index"), "wb").write(b"xx")
    with caplog.at_level(logging.WARNING, logger="tfless.train.checkpoints"):
        assert ckpts.newest_intact(d) == os.path.join(d, "ckpt-1")
    assert "ckpt-3 is damaged" in caplog.text and "Checksum does not match" in caplog.text
    assert "ckpt-2 is damaged" in caplog.text and "too short to be an sstable" in caplog.text
    # A checkpoint without a required key does not count either.
    with pytest.raises(ckpts.NoIntactCheckpoint, match="missing"):
        ckpts.newest_intact(d, required=("no_such_key",))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("tiny") / "run")
    train_and_evaluate(tiny(), workdir)
    return workdir


def _copy(workdir, tmp_path):
    copy = str(tmp_path / "run")
    shutil.copytree(workdir, copy)
    os.remove(os.path.join(copy, "metrics.json"))
    return copy


def test_a_corrupted_latest_checkpoint_falls_back_to_the_previous_one(
    finished_run, tmp_path, caplog
):
    workdir = _copy(finished_run, tmp_path)
    ckpt_dir = os.path.join(workdir, "checkpoints")
    _flip_byte(os.path.join(ckpt_dir, "ckpt-4.data-00000-of-00001"))
    # A garbage state file too: tf.train.latest_checkpoint would restart from step 0.
    open(os.path.join(ckpt_dir, "checkpoint"), "w").write("garbage {{{")
    with caplog.at_level(logging.WARNING, logger="tfless.train.checkpoints"):
        result = train_and_evaluate(tiny(), workdir)
    assert "ckpt-4 is damaged and is skipped" in caplog.text
    assert "Checksum does not match" in caplog.text
    assert _read_json(os.path.join(workdir, "manifest.json"))["resumed_from_epoch"] == 1
    assert result.metrics["steps"] == 4 and result.metrics["epochs"] == 2
    assert result.metrics["bn_recomputed"] is True  # "auto" on a 4-step run
    assert [r["step"] for r in _read_json(os.path.join(workdir, "history.json"))] == [2, 4]
    ckpts.verify_checkpoint(os.path.join(ckpt_dir, "ckpt-4"))  # saved again, intact
    assert tf.train.latest_checkpoint(ckpt_dir).endswith("ckpt-4")
    with WorkdirLock(workdir):  # the run released its lock
        pass

    # Every checkpoint damaged: refused, never started over; restore_method refuses too.
    _flip_byte(os.path.join(ckpt_dir, "ckpt-4.data-00000-of-00001"))
    open(os.path.join(ckpt_dir, "ckpt-2.index"), "wb").write(b"")
    with pytest.raises(ConfigError, match=r"No checkpoint in .* can be read .*ckpt-4.*ckpt-2"):
        train_and_evaluate(tiny(), workdir)
    with pytest.raises(ckpts.NoIntactCheckpoint, match="Refusing to start the run over"):
        restore_method(workdir)


# --------------------------------------------------------------- non-finite loss
class _PoisonAtEpoch(keras.callbacks.Callback):
    """Sets one weight to NaN when epoch ``epoch`` begins (a stand-in for a diverging run)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            v = self.model.trainable_variables[0]
            v.assign(np.full(v.shape, np.nan, np.float32))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from tfless.train import callbacks

    monkeypatch.setattr(callbacks, "extra_callbacks", lambda *args: [_PoisonAtEpoch(1)])
    workdir = str(tmp_path / "run")
    # Not a ConfigError: tfless-train lets it through, with its traceback and status 1.
    with pytest.raises(NonFiniteLoss) as info:
        train_and_evaluate(tiny(), workdir)
    assert not isinstance(info.value, ConfigError)
    message = str(info.value)
    assert "at step 3 (epoch 2 of 2)" in message and "loss=nan" in message, message
    assert "ckpt-2 is kept" in message
    ckpt_dir = os.path.join(workdir, "checkpoints")
    assert tf.train.latest_checkpoint(ckpt_dir).endswith("ckpt-2")
    assert not os.path.exists(os.path.join(ckpt_dir, "ckpt-4.index"))
    reader = tf.train.load_checkpoint(os.path.join(ckpt_dir, "ckpt-2"))
    assert all(
        np.isfinite(reader.get_tensor(k)).all()
        for k, dtype in reader.get_variable_to_dtype_map().items()
        if dtype.is_floating
    )
    assert not os.path.exists(os.path.join(workdir, "metrics.json"))
    assert [r["epoch"] for r in _read_json(os.path.join(workdir, "history.json"))] == [0]
    with WorkdirLock(workdir):  # released on the way out
        pass


def test_weights_turned_nan_by_an_epochs_last_step_are_not_checkpointed():
    # The loss of the last step was computed before its update: only the weights show it.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.optimizer.build(model.trainable_variables)
    guard = StopOnNonFinite()
    guard.set_model(model)
    guard.on_epoch_end(0, {"loss": 0.5, "val_loss": float("nan")})  # validation is not training
    model.layers[0].kernel.assign(np.full((2, 1), np.inf, np.float32))
    with pytest.raises(NonFiniteLoss, match=r"1 weights are not finite \(.*kernel\)"):
        guard.on_epoch_end(0, {"loss": 0.5})
