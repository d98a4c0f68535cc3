"""Tests of the augmentation preview grid and the tfless-augment-preview launcher."""

import numpy as np
import pytest
from absl import flags
from PIL import Image

from tfless.data.synthetic import shapes_arrays

PREVIEW_POLICIES = ("randaugment", "cifar10", "svhn", "imagenet", "simclr", "weak_strong")


@pytest.fixture
def preview(cli_module):
    # The launcher module defines absl flags; import it in isolation (see cli_module).
    with cli_module("augment_preview") as module:
        yield module


def test_the_launcher_offers_these_policies(preview):
    assert tuple(preview.PREVIEW_POLICIES) == PREVIEW_POLICIES


@pytest.mark.parametrize("policy", PREVIEW_POLICIES)
def test_preview_grid_every_policy(policy, tmp_path, preview):
    images = shapes_arrays("train")[0][:2]
    path = preview.preview_grid(
        images, preview.build_preview_fn(policy), str(tmp_path / "g.png"), num_samples=1
    )
    png = np.asarray(Image.open(path))
    assert png.ndim == 3 and png.shape[0] > 100 and png.shape[1] > 100
    # A real picture, not a blank canvas.
    assert png[..., :3].std() > 10


def test_preview_grid_columns_and_errors(tmp_path, preview):
    preview_grid, build_preview_fn = preview.preview_grid, preview.build_preview_fn
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


def test_cli_main_writes_png(tmp_path, preview):
    # In-process (a subprocess would spend most of its time importing TensorFlow); the
    # cli_module fixture restores every flag afterwards.
    out = tmp_path / "grid.png"
    argv = ["tfless-augment-preview", "--policy=weak_strong", "--dataset=digits"]
    argv += [f"--out={out}", "--num_images=3", "--num_samples=1"]
    flags.FLAGS(argv)
    preview.main(argv[:1])
    assert out.exists() and Image.open(out).size[0] > 100
    with pytest.raises(flags.IllegalFlagValueError, match="nope"):
        flags.FLAGS(["tfless-augment-preview", "--policy=nope"])
