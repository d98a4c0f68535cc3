import numpy as np
import pytest
import tensorflow as tf

from tests.testing import digits_images, run_method_learns, run_mirrored_equivalence, tiny_encoder
from tfless.methods import METHODS
from tfless.methods.pretext import ContextPrediction
from tfless.methods.pretext.ops import (
    NEIGHBOURS,
    color_drop,
    color_project,
    context_geometry,
    context_pairs,
)


def test_geometry_follows_the_paper_ratios():
    # Doersch et al.: 96-pixel patches, 48-pixel gaps, 7-pixel jitter.
    assert context_geometry(400, 96, 0.5, 7 / 96) == (96, 48, 7, 3 * 96 + 2 * 48 + 14)
    patch, gap, jitter, span = context_geometry(32, None, 0.5, 7 / 96)
    assert span <= 32 and context_geometry(32, patch + 1, 0.5, 7 / 96)[3] > 32


def test_pairs_are_neighbours_at_the_labelled_position():
    x = np.random.default_rng(0).random((6, 40, 40, 1)).astype(np.float32)
    # Encode each pixel's coordinates so a patch tells where it was cut from.
    rows, cols = np.meshgrid(np.arange(40), np.arange(40), indexing="ij")
    coded = np.stack([rows, cols], -1)[None].repeat(6, 0).astype(np.float32)
    center, neigh, labels = context_pairs(tf.constant(coded), 8, 4, 1, seed=tf.constant([3, 4]))
    assert center.shape == (6, 8, 8, 2) and x.shape[0] == labels.shape[0]
    for b in range(6):
        dr, dc = NEIGHBOURS[labels[b]]
        delta = neigh[b, 0, 0].numpy() - center[b, 0, 0].numpy()
        # Neighbour sits one patch + gap (12 px) away in the labelled direction, +-2 jitter.
        assert abs(delta[0] - 12 * dr) <= 2 and abs(delta[1] - 12 * dc) <= 2, (b, delta)


def test_aberration_defences():
    p = np.random.default_rng(0).random((5, 6, 6, 3)).astype(np.float32)
    dropped = color_drop(tf.constant(p), seed=tf.constant([0, 1])).numpy()
    for i in range(5):
        kept = [c for c in range(3) if np.array_equal(dropped[i, ..., c], p[i, ..., c])]
        assert len(kept) == 1
        others = [c for c in range(3) if c != kept[0]]
        assert dropped[i, ..., others].std() < p[i, ..., kept[0]].std() / 20
    projected = color_project(tf.constant(p)).numpy()
    green_magenta = projected @ (np.array([-1.0, 2.0, -1.0]) / np.sqrt(6))
    np.testing.assert_allclose(green_magenta, 0, atol=1e-5)


def test_context_learns():
    x = digits_images(28, n=512)
    method = ContextPrediction(tiny_encoder((28, 28, 1), (16, 32)), hidden_dim=64, patch_dim=32)
    assert METHODS["context_prediction"] is ContextPrediction
    hist = run_method_learns(
        method, x, 60, batch_size=64, seed=0, window=5, above={"pretext_accuracy": 1 / 8}
    )
    assert np.mean(hist["loss"][-5:]) < 0.85 * np.mean(hist["loss"][:5]), hist["loss"]
    assert np.mean(hist["pretext_accuracy"][-5:]) > 0.25, hist["pretext_accuracy"]  # chance 1/8


def test_context_two_replicas_train_as_one_with_colour(mirrored_strategy):
    # Patch positions and labels are drawn per image, the same on one replica or two
    # (invariant_random). Colour dropping and the patch jitter draw over the concatenated
    # centre and neighbour patches, which that does not cover: the deterministic
    # projection defence stands in (colour dropping is checked in test_aberration_defences).
    run_mirrored_equivalence(
        lambda: ContextPrediction(
            tiny_encoder((28, 28, 3), (8,)), hidden_dim=8, patch_dim=0, aberration="projection"
        ),
        {"image": digits_images(28, channels=3, n=8)},
        mirrored_strategy,
        invariant_random=True,
        keys=("loss", "pretext_accuracy"),
    )


def test_context_bad_input():
    with pytest.raises(ValueError, match="patch_jitter"):
        ContextPrediction(tiny_encoder((28, 28, 1), (16, 32)), patch_jitter=1.5)
    with pytest.raises(ValueError, match="too small for 3x3 patches"):
        ContextPrediction(tiny_encoder((8, 8, 1), (16, 32)))
    with pytest.raises(ValueError, match="too small"):
        ContextPrediction(tiny_encoder((28, 28, 1), (16, 32)), patch_size=10)
    with pytest.raises(ValueError, match="aberration"):
        ContextPrediction(tiny_encoder((28, 28, 1), (16, 32)), aberration="blur")
