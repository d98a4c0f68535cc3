"""train_and_evaluate: artifacts, resume after a kill, EMA, bad input."""

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tfless.configs import load_config
from tfless.data.pipelines import check_batch
from tfless.train import restore_method, train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def smoke(**overrides):
    c = load_config(f"{ROOT}/configs/supervised/digits.py:smoke")
    with c.unlocked():
        c.train.verbose = 0
        c.train.tensorboard = False
        for key, value in overrides.items():
            node = c
            *path, last = key.split(".")
            for p in path:
                node = node[p]
            node[last] = value
    return c


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """One finished 40-step run, shared by the tests that read it (they change copies)."""
    workdir = str(tmp_path_factory.mktemp("smoke") / "run")
    c = smoke(**{"train.steps": 40, "train.eval_every": 20, "data.labels_per_class": 5})
    return c, workdir, train_and_evaluate(c, workdir)


def _copy(workdir, tmp_path) -> str:
    copy = str(tmp_path / "run")
    shutil.copytree(workdir, copy)
    return copy


def test_run_writes_manifest_metrics_checkpoints_and_restores(smoke_run, tmp_path):
    c, workdir, result = smoke_run
    assert result.metrics["steps"] == 40 and result.metrics["epochs"] == 2
    for name in ("manifest.json", "metrics.json", "history.json"):
        assert os.path.exists(os.path.join(workdir, name))
    manifest = json.load(open(os.path.join(workdir, "manifest.json")))
    assert manifest["config"]["data"]["labels_per_class"] == 5
    assert manifest["num_labeled"] == 50 and len(manifest["split_hash"]) == 16
    assert manifest["versions"]["tensorflow"] == tf.__version__
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("ckpt-40")
    # The restored method computes what the trained one computes (EMA weights in place).
    method, config = restore_method(workdir)
    images = np.random.RandomState(0).uniform(size=(4, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(
        method(images).numpy(), result.method(images).numpy(), rtol=1e-5, atol=1e-5
    )
    # Starting a finished run again does no more training.
    again = train_and_evaluate(c, _copy(workdir, tmp_path))
    assert again.metrics["steps"] == 40
    assert again.metrics["weights_digest"] == result.metrics["weights_digest"]


def test_an_epochs_history_row_is_written_before_its_checkpoint(tmp_path, monkeypatch):
    """A kill between the two must not leave a checkpoint after a history row never written."""
    from tfless.train import callbacks

    history_path, seen = str(tmp_path / "run" / "history.json"), []
    save = callbacks.EpochCheckpoint.on_epoch_end

    def checked_save(self, epoch, logs=None):
        rows = json.load(open(history_path)) if os.path.exists(history_path) else []
        seen.append((epoch, [r["epoch"] for r in rows]))
        save(self, epoch, logs)

    monkeypatch.setattr(callbacks.EpochCheckpoint, "on_epoch_end", checked_save)
    train_and_evaluate(smoke(**{"train.steps": 4, "train.eval_every": 2}), str(tmp_path / "run"))
    assert seen == [(0, [0]), (1, [0, 1])]


def test_killed_run_resumes_from_checkpoint_to_the_same_step_count_and_weights(tmp_path):
    workdir = str(tmp_path / "run")
    cmd = [
        sys.executable,
        "-m",
        "tfless.cli.train",
        f"--config={ROOT}/configs/supervised/digits.py:smoke",
        f"--workdir={workdir}",
        "--config.train.steps=100",
        "--config.train.eval_every=10",
        "--config.train.verbose=0",
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    ckpts = os.path.join(workdir, "checkpoints")
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None:
        if tf.train.latest_checkpoint(ckpts) and "ckpt-40" in str(os.listdir(ckpts)):
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not os.path.exists(os.path.join(workdir, "metrics.json")), "run finished before the kill"
    killed_at = int(tf.train.latest_checkpoint(ckpts).rsplit("-", 1)[1])
    assert 20 <= killed_at < 100

    # Resume in this process (saves a second TensorFlow start-up); the config is the one
    # the launcher built from the same flags, or the run would refuse the workdir.
    config = load_config(f"{ROOT}/configs/supervised/digits.py:smoke")
    with config.unlocked():
        config.train.steps, config.train.eval_every, config.train.verbose = 100, 10, 0
    train_and_evaluate(config, workdir)
    metrics = json.load(open(os.path.join(workdir, "metrics.json")))
    manifest = json.load(open(os.path.join(workdir, "manifest.json")))
    assert metrics["steps"] == 100 and metrics["epochs"] == 10
    assert manifest["resumed_from_epoch"] == killed_at // 10
    history = json.load(open(os.path.join(workdir, "history.json")))
    assert [r["epoch"] for r in history] == list(range(10))
    assert [r["step"] for r in history] == [10 * (i + 1) for i in range(10)]
    # Exact: the resumed run ends with the weights of a run that was never interrupted.
    uninterrupted = train_and_evaluate(config, str(tmp_path / "uninterrupted"))
    assert metrics["weights_digest"] == uninterrupted.metrics["weights_digest"]


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("data.dataset", "imagenet_typo", "Unknown dataset 'imagenet_typo'"),
        ("method.name", "fixmatch_typo", "Unknown method 'fixmatch_typo'"),
        ("model.backbone", "resnet7", "Unknown backbone 'resnet7'"),
        ("train.strategy", "horovod", "Unknown strategy 'horovod'"),
        ("data.labels_per_class", 500, "num_per_class=500 is larger"),
        ("optimizer.name", "adagrad", "Unknown optimizer 'adagrad'"),
        ("data.pipeline", "episodic", "Unknown data.pipeline 'episodic'"),
        ("train.eval_every", 7, "must be a multiple of train.eval_every=7"),
    ],
)
def test_bad_config_values_fail_fast_naming_the_value(tmp_path, key, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        train_and_evaluate(smoke(**{key: value}), str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_workdir_with_a_different_config_is_refused(smoke_run, tmp_path):
    c, workdir, _ = smoke_run
    changed = copy.deepcopy(c)
    with changed.unlocked():
        changed.optimizer.learning_rate = 0.1
    with pytest.raises(
        ValueError, match=r"different config \(optimizer.learning_rate: 0.002 -> 0.1"
    ):
        train_and_evaluate(changed, _copy(workdir, tmp_path))


def test_num_data_is_read_from_the_training_split_and_a_wrong_one_is_refused(tmp_path):
    from tfless.train.build import build_method

    config = load_config(f"{ROOT}/configs/pirl/digits.py:smoke")
    assert "num_data" not in config.method.kwargs
    method = build_method(config, (24, 24, 1), 10, num_train=1257)
    assert method.num_data == 1257 and method.bank.num_data == 1257
    with config.unlocked():
        config.method.kwargs.num_data = 1000
        config.train.verbose = 0
        config.train.tensorboard = False
    with pytest.raises(
        ValueError, match=r"num_data=1000 but the training split of 'digits' has 1257 examples"
    ):
        train_and_evaluate(config, str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_label_propagation_reads_its_number_of_slots_from_the_training_split():
    from tfless.train.build import build_method

    config = load_config(f"{ROOT}/configs/label_propagation/cifar10.py:smoke")
    assert "num_examples" not in config.method.kwargs
    method = build_method(config, (8, 8, 3), 10, num_train=300)
    assert method.num_examples == 300


def test_images_of_the_wrong_rank_or_dtype_are_refused():
    good = {"image": tf.zeros([2, 16, 16, 1]), "label": tf.zeros([2], tf.int32)}
    check_batch(good, (16, 16, 1))
    with pytest.raises(ValueError, match=r"'image' has shape \(2, 16, 16\); expected rank-4"):
        check_batch({"image": tf.zeros([2, 16, 16])}, (16, 16, 1))
    with pytest.raises(ValueError, match="'image' has dtype uint8; expected float32"):
        check_batch({"image": tf.zeros([2, 16, 16, 1], tf.uint8)}, (16, 16, 1))
    with pytest.raises(
        ValueError, match=r"'unlabeled.image_strong' has images of shape \(8, 8, 1\)"
    ):
        check_batch({"unlabeled": {"image_strong": tf.zeros([2, 8, 8, 1])}}, (16, 16, 1))


def test_launcher_rejects_a_config_key_that_does_not_exist(tmp_path, cli_module, capsys):
    # In this process (a subprocess costs a TensorFlow import): absl's app.run parses the
    # flags as `python -m tfless.cli.train` does and exits before main() on a bad one.
    from absl import app

    argv = [
        "train",
        f"--config={ROOT}/configs/supervised/digits.py:smoke",
        f"--workdir={tmp_path}/run",
        "--config.train.stepz=5",
    ]
    with cli_module("train") as train_cli, pytest.raises(SystemExit) as exit_info:
        app.run(train_cli.main, argv=argv)
    assert exit_info.value.code != 0
    assert "stepz" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "run")


def test_model_init_starts_a_fresh_run_from_another_runs_encoder(smoke_run, tmp_path):
    from tfless.evaluation import keras_encoder
    from tfless.train.build import build_run

    _, workdir, _ = smoke_run
    source = keras_encoder(restore_method(workdir)[0])
    c = smoke(**{"model.init": workdir})
    loaded = keras_encoder(build_run(c, init_weights=True).method)
    for s, d in zip(source.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(s), np.asarray(d), err_msg=d.path)
    # Restoring a run (init_weights=False) builds fresh weights: its checkpoint fills them.
    fresh = keras_encoder(build_run(c).method)
    assert not np.array_equal(np.asarray(fresh.weights[0]), np.asarray(source.weights[0]))
    # Another backbone shape is refused naming both shapes; a missing source before any work.
    widths = tuple(c.model.kwargs.widths)
    wider = smoke(**{"model.init": workdir, "model.kwargs.widths": widths[:-1] + (2 * widths[-1],)})
    with pytest.raises(ValueError, match=r"has shape .* but this run's .* has"):
        build_run(wider, init_weights=True)
    with pytest.raises(ValueError, match="model.init='/no/such/run' is neither"):
        train_and_evaluate(smoke(**{"model.init": "/no/such/run"}), str(tmp_path / "never"))
    assert not os.path.exists(tmp_path / "never" / "checkpoints")
