"""Tests of the augmentation preview grid and the tfless-augment-preview launcher."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tfless.cli.augment_preview import PREVIEW_POLICIES, build_preview_fn, preview_grid
from tfless.data.synthetic import shapes_arrays

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("policy", PREVIEW_POLICIES)
def test_preview_grid_every_policy(policy, tmp_path):
    images = shapes_arrays("train")[0][:2]
    path = preview_grid(images, build_preview_fn(policy), str(tmp_path / "g.png"), num_samples=1)
    png = np.asarray(Image.open(path))
    assert png.ndim == 3 and png.shape[0] > 100 and png.shape[1] > 100
    # A real picture, not a blank canvas.
    assert png[..., :3].std() > 10


def test_preview_grid_columns_and_errors(tmp_path):
    images = shapes_arrays("train")[0][:2]
    calls = []

    def fn(x):
        calls.append(x.shape)
        return 1.0 - x

    small = preview_grid(images, fn, str(tmp_path / "a.png"), num_samples=1)
    wide = preview_grid(images, fn, str(tmp_path / "b" / "c.png"), num_samples=3)
    assert len(calls) == 4
    assert Image.open(wide).size[0] > Image.open(small).size[0]
    with pytest.raises(ValueError, match="images must be"):
        preview_grid(images[0], fn, str(tmp_path / "x.png"))
    with pytest.raises(ValueError, match="unknown preview policy 'autoaugment'"):
        build_preview_fn("autoaugment")


def test_cli_writes_png(tmp_path):
    out = tmp_path / "grid.png"
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "tfless.cli.augment_preview", "--policy=weak_strong"]
    cmd += ["--dataset=digits", f"--out={out}", "--num_images=3", "--num_samples=1"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.exists() and Image.open(out).size[0] > 100
