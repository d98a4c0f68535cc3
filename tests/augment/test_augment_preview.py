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


def _column_titles(fig, columns):
    return [ax.get_title() for ax in fig.get_axes()[:columns]]


@pytest.mark.parametrize("policy", ["randaugment", "cifar10", "weak_strong"])
def test_preview_columns_name_ops_and_magnitudes(policy, preview):
    from tfless.augment import ops

    images = shapes_arrays("train")[0][:2]
    fn = preview.build_preview_fn(policy, magnitude=7.0, num_layers=2, flip=False)
    fig = preview.preview_figure(images, fn, num_samples=2)
    titles = [t for t in _column_titles(fig, 10) if t]
    assert titles[0] == "original"
    for title in titles[1:]:
        named = [n for n in ops.OP_NAMES if n in title]
        assert named or title.startswith("weak"), title
    if policy == "randaugment":
        # Two ops per column, each with magnitude 7 unless magnitude-free.
        for title in titles[1:]:
            lines = title.splitlines()
            assert len(lines) == 2
            assert all(line.endswith("7") or " " not in line for line in lines), title
    if policy == "cifar10":
        assert all(t.startswith("sub-policy ") for t in titles[1:])
    if policy == "weak_strong":
        assert [t.split(":")[0] for t in titles[1:]] == ["weak", "strong"] * 2
        assert all("Cutout" in t for t in titles[2::2])


def test_digits_are_upscaled_nearest_before_augmenting(preview):
    from tfless.data import builtin_arrays

    digits = builtin_arrays("digits", "train")[0][:2]
    big = preview.upscale(digits, 32)
    assert big.shape == (2, 32, 32, 1)
    np.testing.assert_array_equal(big[:, ::4, ::4], digits)
    np.testing.assert_array_equal(big[:, 3::4, 3::4], digits)
    assert preview.upscale(big, 32).shape == big.shape
    fig = preview.preview_figure(big, preview.build_preview_fn("randaugment"), num_samples=1)
    shapes = {ax.get_images()[0].get_array().shape for ax in fig.get_axes()}
    assert shapes == {(32, 32)}


def test_cli_shows_digits_upscaled(tmp_path, preview, monkeypatch):
    seen = {}
    real = preview.preview_figure

    def spy(images, *args, **kwargs):
        fig = real(images, *args, **kwargs)
        seen["shapes"] = {ax.get_images()[0].get_array().shape for ax in fig.get_axes()}
        seen["title"] = fig._suptitle.get_text()
        return fig

    monkeypatch.setattr(preview, "preview_figure", spy)
    argv = ["tfless-augment-preview", "--policy=cifar10", "--dataset=digits"]
    argv += [f"--out={tmp_path / 'g.png'}", "--num_images=2", "--num_samples=1"]
    flags.FLAGS(argv)
    preview.main(argv[:1])
    assert seen["shapes"] == {(32, 32)}
    assert "8 px upscaled to 32 px, nearest" in seen["title"]
