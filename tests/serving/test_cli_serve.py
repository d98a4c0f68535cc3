"""``tfless-serve``: the launcher loads an export root, serves it, and stops by itself."""

import os
import re
import subprocess
import sys

import numpy as np

from tfless import serving

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_tfless_serve_cli_serves_and_stops_itself(root, reference):
    x, run = reference
    # A model whose first export is still being written does not keep the others down.
    os.makedirs(os.path.join(root, "incomplete", ".tmp-export-1"))
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    cmd = [
        sys.executable,
        "-m",
        "tfless.cli.serve",
        f"--export_root={root}",
        "--rest_api_port=0",
        "--port=-1",
        "--exit_after_seconds=90",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        line = proc.stdout.readline()  # the server prints its address once loaded
        match = re.search(r"REST on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        assert "waiting for a complete version of: incomplete" in line
        client = serving.FeatureClient(match.group(1), "digits", timeout=10)
        np.testing.assert_array_equal(
            client.predict(x[:3]), run("serving_default", "feature_vector", x[:3])
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
