"""SNAIL: causal over the episode sequence, queries never see their label, it learns."""

import keras
import numpy as np
import pytest

from tests.methods.fewshot.sequence_testing import (
    BASE,
    novel_accuracy_after_meta_training,
    pixels,
)
from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.data import digits_arrays
from tfless.data.episodes import episode_batch
from tfless.methods import METHODS
from tfless.methods.fewshot.snail import FEWSHOT_ARCHITECTURE, SNAIL

SMALL = (("attention", 8, 8), ("tc", 8), ("attention", 8, 8))


def _small(encoder=None, **kwargs):
    keras.utils.set_random_seed(0)
    return SNAIL(encoder or pixels(), **{**dict(ways=3, shots=2, architecture=SMALL), **kwargs})


@pytest.fixture(scope="module")
def batch():
    x, y = digits_arrays("train")
    return episode_batch(x[y < BASE], y[y < BASE], ways=3, shots=2, queries=2, episodes=2)


def test_snail_is_registered_with_the_papers_blocks():
    assert METHODS["snail"] is SNAIL
    method = SNAIL(pixels(), ways=5, shots=1)
    kinds = [type(b).__name__ for b in method.blocks]
    assert kinds == ["AttentionBlock", "TCBlock", "AttentionBlock", "TCBlock", "AttentionBlock"]
    assert len(FEWSHOT_ARCHITECTURE) == 5
    assert [d.dilation for d in method.blocks[1].blocks] == [2, 4, 8]  # T = 5*1 + 1 = 6


def test_output_at_t_does_not_depend_on_later_inputs():
    method = _small()
    sequence = np.random.default_rng(0).normal(size=(2, 7, 64 + 3)).astype(np.float32)
    base = np.asarray(method.sequence_outputs(sequence))
    for t in range(6):
        later = sequence.copy()
        later[:, t + 1 :] = np.random.default_rng(t).normal(size=later[:, t + 1 :].shape)
        out = np.asarray(method.sequence_outputs(later))
        np.testing.assert_allclose(out[:, : t + 1], base[:, : t + 1], atol=1e-5)
        assert np.abs(out[:, t + 1 :] - base[:, t + 1 :]).max() > 1e-4


def test_each_query_has_its_own_sequence_with_a_zero_label(batch):
    method = _small()
    support, query = (
        np.asarray(s, np.float32)
        for s in (batch["support_image"].reshape(2, 6, 64), batch["query_image"].reshape(2, 6, 64))
    )
    sequences = np.asarray(method.query_sequences(support, batch["support_label"], query))
    assert sequences.shape == (2 * 6, 6 + 1, 64 + 3)
    np.testing.assert_array_equal(sequences[:, -1, 64:], 0.0)  # the query's label: zeros
    np.testing.assert_array_equal(sequences[:, -1, :64], query.reshape(12, 64))
    np.testing.assert_array_equal(sequences[:, :-1, 64:].sum(-1), 1.0)  # one-hot support
    args = (batch["support_image"], batch["support_label"], batch["query_image"])
    base = np.asarray(method.episode_logits(*args, ways=3))
    assert base.shape == (2, 6, 3)
    other = batch["query_image"].copy()
    other[:, 1:] = 1.0 - other[:, 1:]
    changed = np.asarray(method.episode_logits(args[0], args[1], other, ways=3))
    np.testing.assert_allclose(changed[:, 0], base[:, 0], atol=1e-6)
    assert np.abs(changed[:, 1:] - base[:, 1:]).max() > 1e-4
    np.testing.assert_array_equal(np.asarray(method.episode_logits(*args, ways=3)), base)


def test_loss_matches_numpy(batch):
    method = _small()
    logits = np.asarray(
        method.episode_logits(
            batch["support_image"], batch["support_label"], batch["query_image"], ways=3
        ),
        np.float64,
    )
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    want = -np.take_along_axis(logp, batch["query_label"][..., None].astype(int), -1).mean()
    np.testing.assert_allclose(float(method.compute_loss(batch, training=False)), want, rtol=1e-5)


def test_bad_arguments_are_refused(batch):
    with pytest.raises(ValueError, match="entry 1 is \\('conv', 8\\)"):
        SNAIL(pixels(), architecture=(("tc", 8), ("conv", 8)))
    with pytest.raises(ValueError, match="shots must be a positive integer"):
        SNAIL(pixels(), shots=0)
    with pytest.raises(ValueError, match="at most 3-way.*ways=5"):
        _small().episode_logits(
            batch["support_image"], batch["support_label"], batch["query_image"], ways=5
        )


def test_snail_learns_novel_classes():
    """Meta-trained on 2-way episodes of digits 0-4, it classifies digits 5-9 above chance."""
    keras.utils.set_random_seed(0)
    blocks = (("attention", 16, 16), ("tc", 16), ("attention", 16, 16))
    method = SNAIL(pixels(), ways=2, shots=2, architecture=blocks)
    accuracy = novel_accuracy_after_meta_training(method, ways=2, lr=1e-2, steps=90)
    # 600 queries: chance is 0.5 +- 0.02; measured 0.67.
    assert accuracy > 0.58, accuracy


def test_two_replicas_train_as_one_device(batch, mirrored_strategy):
    # Episodes are split across replicas; a fixed support order keeps the step draw-free.
    run_mirrored_equivalence(
        lambda: SNAIL(
            tiny_encoder(widths=(4,), seed=None),
            ways=3,
            shots=2,
            architecture=SMALL,
            shuffle_support=False,
        ),
        batch,
        mirrored_strategy,
        keys=("loss", "accuracy"),
    )
