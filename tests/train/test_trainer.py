"""train_and_evaluate: artifacts, resume after a kill, EMA, bad input."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tfless.train import restore_method, train_and_evaluate
from tfless.train.pipelines import check_batch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from configs.supervised import digits as digits_config  # noqa: E402


def smoke(**overrides):
    c = digits_config.get_config("smoke")
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


def test_run_writes_manifest_metrics_checkpoints_and_restores(tmp_path):
    workdir = str(tmp_path / "run")
    c = smoke(**{"train.steps": 40, "train.eval_every": 20, "data.labels_per_class": 5})
    result = train_and_evaluate(c, workdir)
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
    again = train_and_evaluate(c, workdir)
    assert again.metrics["steps"] == 40
    assert again.metrics["weights_digest"] == result.metrics["weights_digest"]


def test_killed_run_resumes_from_checkpoint_to_the_same_step_count(tmp_path):
    workdir = str(tmp_path / "run")
    cmd = [
        sys.executable,
        "-m",
        "tfless.cli.train",
        f"--config={ROOT}/configs/supervised/digits.py:smoke",
        f"--workdir={workdir}",
        "--config.train.steps=300",
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
    assert 20 <= killed_at < 300

    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    metrics = json.load(open(os.path.join(workdir, "metrics.json")))
    manifest = json.load(open(os.path.join(workdir, "manifest.json")))
    assert metrics["steps"] == 300 and metrics["epochs"] == 30
    assert manifest["resumed_from_epoch"] == killed_at // 10
    history = json.load(open(os.path.join(workdir, "history.json")))
    assert [r["epoch"] for r in history] == list(range(30))
    assert [r["step"] for r in history] == [10 * (i + 1) for i in range(30)]


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("data.dataset", "imagenet_typo", "Unknown dataset 'imagenet_typo'"),
        ("method.name", "fixmatch_typo", "Unknown method 'fixmatch_typo'"),
        ("model.backbone", "resnet7", "Unknown backbone 'resnet7'"),
        ("train.strategy", "horovod", "Unknown strategy 'horovod'"),
        ("data.labels_per_class", 500, "num_per_class=500 is larger"),
        ("optimizer.name", "adagrad", "Unknown optimizer 'adagrad'"),
        ("data.pipeline", "episodes", "Unknown data.pipeline 'episodes'"),
        ("train.eval_every", 7, "must be a multiple of train.eval_every=7"),
    ],
)
def test_bad_config_values_fail_fast_naming_the_value(tmp_path, key, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        train_and_evaluate(smoke(**{key: value}), str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


def test_workdir_with_a_different_config_is_refused(tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(smoke(), workdir)
    with pytest.raises(
        ValueError, match=r"different config \(optimizer.learning_rate: 0.002 -> 0.1"
    ):
        train_and_evaluate(smoke(**{"optimizer.learning_rate": 0.1}), workdir)


def test_num_data_is_read_from_the_training_split_and_a_wrong_one_is_refused(tmp_path):
    from configs.pirl import digits as pirl_config
    from tfless.train.trainer import build_method

    config = pirl_config.get_config("smoke")
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


def test_launcher_rejects_a_config_key_that_does_not_exist(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfless.cli.train",
            f"--config={ROOT}/configs/supervised/digits.py:smoke",
            f"--workdir={tmp_path}/run",
            "--config.train.stepz=5",
        ],
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "stepz" in out.stderr
    assert not os.path.exists(tmp_path / "run")
