"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 train one model."""

import json
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_to_identical_weights(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    workdir = str(tmp_path / "run")
    procs = []
    for i in range(2):
        env = dict(os.environ)
        env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        cmd = [
            sys.executable,
            "-m",
            "tfless.cli.train",
            f"--config={ROOT}/configs/supervised/digits.py:smoke",
            f"--workdir={workdir}",
            "--strategy=multiworker",
            "--config.train.steps=30",
            "--config.train.eval_every=10",
            # Fused steps through the strategy loop (one tf.function call per 5 steps).
            "--config.train.steps_per_execution=5",
            "--config.optimizer.ema=0.0",
            "--config.train.verbose=0",
        ]
        log = open(tmp_path / f"worker{i}.log", "w")
        procs.append(
            (subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT), log)
        )
    for p, log in procs:
        try:
            p.wait(timeout=240)
        finally:
            if p.poll() is None:
                p.kill()
            log.close()
    for i, (p, _) in enumerate(procs):
        assert p.returncode == 0, (tmp_path / f"worker{i}.log").read_text()[-3000:]

    chief = json.load(open(os.path.join(workdir, "metrics.json")))
    other = json.load(open(os.path.join(workdir, ".worker1", "metrics.json")))
    assert chief["steps"] == other["steps"] == 30
    assert chief["weights_digest"] == other["weights_digest"]
    history = json.load(open(os.path.join(workdir, "history.json")))
    assert [r["epoch"] for r in history] == [0, 1, 2]
    assert [r["step"] for r in history] == [10, 20, 30]
    assert history[-1]["loss"] < 0.7 * history[0]["loss"]
    # Training accuracy of the global batch rises well above chance (10 classes).
    assert history[-1]["accuracy"] > 0.5
    # Both workers evaluated the same weights on the same test split (through the
    # distributed loop, which needs every worker): the same numbers.
    assert chief["test_accuracy"] == pytest.approx(other["test_accuracy"], abs=1e-6)
    assert chief["test_loss"] == pytest.approx(other["test_loss"], rel=1e-5)
    manifest = json.load(open(os.path.join(workdir, "manifest.json")))
    assert manifest["num_replicas"] == 2
