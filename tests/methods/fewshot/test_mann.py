"""MANN: labels arrive one step late, queries never see their own label, it learns, two
replicas train as one device."""

import keras
import numpy as np
import pytest

from tests.methods.fewshot.sequence_testing import (
    BASE,
    novel_accuracy_after_meta_training,
    pixels,
)
from tests.testing import run_mirrored_equivalence
from tfless.data import digits_arrays
from tfless.data.episodes import episode_batch
from tfless.methods import METHODS
from tfless.methods.fewshot.mann import MANN


def _small(**kwargs):
    keras.utils.set_random_seed(0)
    args = dict(ways=3, controller_units=16, memory_slots=8, memory_width=6, read_heads=2)
    return MANN(pixels(), **{**args, **kwargs})


@pytest.fixture(scope="module")
def batch():
    x, y = digits_arrays("train")
    return episode_batch(x[y < BASE], y[y < BASE], ways=3, shots=2, queries=2, episodes=2)


def test_mann_is_registered():
    assert METHODS["mann"] is MANN


def test_label_of_a_step_arrives_at_the_next_step_only(batch):
    method = _small(shuffle_support=False)  # presented in the sampler's order
    args = (batch["support_image"], batch["support_label"], batch["query_image"])
    base_support, _, base_query = (np.asarray(a) for a in method.sequence_logits(*args))
    t = 2
    labels = batch["support_label"].copy()
    labels[:, t] = (labels[:, t] + 1) % 3
    support, _, query = (np.asarray(a) for a in method.sequence_logits(args[0], labels, args[2]))
    # Steps up to t never saw label t; step t+1 reads it as y_{t-1}.
    np.testing.assert_allclose(support[:, : t + 1], base_support[:, : t + 1], atol=1e-6)
    assert np.abs(support[:, t + 1] - base_support[:, t + 1]).max() > 1e-4
    assert np.abs(query - base_query).max() > 1e-4  # the queries do use the support labels


def test_a_query_sees_neither_its_label_nor_other_queries(batch):
    method = _small()
    args = (batch["support_image"], batch["support_label"], batch["query_image"])
    base = np.asarray(method.episode_logits(*args, ways=3))
    assert base.shape == (2, 6, 3)
    other = batch["query_image"].copy()
    other[:, 1:] = 1.0 - other[:, 1:]
    changed = np.asarray(method.episode_logits(args[0], args[1], other, ways=3))
    np.testing.assert_allclose(changed[:, 0], base[:, 0], atol=1e-6)
    assert np.abs(changed[:, 1:] - base[:, 1:]).max() > 1e-4
    # Evaluation is deterministic (a fixed support order) and takes no query labels.
    np.testing.assert_array_equal(np.asarray(method.episode_logits(*args, ways=3)), base)


def _cross_entropy(labels, logits):
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.take_along_axis(logp, labels[..., None], -1).mean()


@pytest.mark.parametrize("sequence_loss", [True, False])
def test_loss_matches_numpy(batch, sequence_loss):
    method = _small(sequence_loss=sequence_loss)
    support, labels, query = (
        np.asarray(a, np.float64)
        for a in method.sequence_logits(
            batch["support_image"], batch["support_label"], batch["query_image"]
        )
    )
    labels = labels.astype(int)
    query_labels = batch["query_label"].astype(int)
    if sequence_loss:
        want = _cross_entropy(
            np.concatenate([labels, query_labels], 1), np.concatenate([support, query], 1)
        )
    else:
        want = _cross_entropy(query_labels, query)
    got = float(method.compute_loss(batch, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # The support order is a permutation of the episode's labels.
    np.testing.assert_array_equal(np.sort(labels, 1), np.sort(batch["support_label"], 1))


def test_bad_arguments_are_refused(batch):
    method = _small()
    with pytest.raises(ValueError, match="at most 3-way.*ways=4"):
        method.episode_logits(
            batch["support_image"], batch["support_label"], batch["query_image"], ways=4
        )
    with pytest.raises(ValueError, match="memory_slots >= read_heads"):
        MANN(pixels(), memory_slots=2, read_heads=4)
    with pytest.raises(ValueError, match="gamma"):
        MANN(pixels(), gamma=1.5)


def test_mann_learns_novel_classes():
    """Meta-trained on 2-way episodes of digits 0-4, it classifies digits 5-9 above chance."""
    keras.utils.set_random_seed(0)
    method = MANN(
        pixels(), ways=2, controller_units=64, memory_slots=16, memory_width=16, read_heads=2
    )
    accuracy = novel_accuracy_after_meta_training(method, ways=2, lr=5e-3, steps=240)
    # 600 queries: chance is 0.5 +- 0.02; measured 0.68.
    assert accuracy > 0.58, accuracy


def test_two_replicas_train_as_one_device(mirrored_strategy):
    # Episodes are split across replicas; the sampler's support order keeps the step draw-free.
    x, y = digits_arrays("train")
    run_mirrored_equivalence(
        lambda: _small(ways=2, shuffle_support=False, controller_units=8, read_heads=1),
        episode_batch(x[y < BASE], y[y < BASE], ways=2, shots=1, queries=1, episodes=2),
        mirrored_strategy,
        keys=("loss", "accuracy"),
    )
