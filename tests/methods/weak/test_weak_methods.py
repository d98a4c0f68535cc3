"""NoisyLabel, MultiTag and BiT learn on noisy digits; two replicas train as one device."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfless.methods
from tests.testing import run_method_learns, run_mirrored_equivalence, tiny_encoder
from tfless.backbones import build_backbone
from tfless.data import digits_arrays, noise, tags
from tfless.losses.noisy import ROBUST_LOSSES, generalized_cross_entropy
from tfless.methods import METHODS, BiT, MultiTag, NoisyLabel, Supervised

CHANCE = 0.1


@pytest.fixture(scope="module")
def digits():
    (x, y), (xt, yt) = digits_arrays("train"), digits_arrays("test")
    return x.astype(np.float32), y, xt.astype(np.float32), yt


def _mlp():
    """A one-hidden-layer encoder: the loss comparisons need a learner, not a ConvNet."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Dense(32, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, x)


def _batches(batch, size=64, seed=0):
    ds = tf.data.Dataset.from_tensor_slices(batch)
    return ds.shuffle(len(next(iter(batch.values()))), seed=seed).repeat().batch(size, True)


def _clean_accuracy(method, xt, yt) -> float:
    logits = method.logits(xt, training=False)
    return float(np.mean(np.argmax(logits, -1) == yt))


def test_registered():
    assert METHODS["noisy_label"] is NoisyLabel and METHODS["bit"] is BiT
    # Used from Python: no trainer pipeline builds tag batches yet.
    assert "multi_tag" not in METHODS
    assert tfless.methods.MultiTag is MultiTag and tfless.methods.BiT is BiT


def test_noisy_label_is_supervised_with_another_loss(digits):
    x, y, _, _ = digits
    batch = {"image": x[:32], "label": y[:32].astype(np.int32)}
    reference = Supervised(_mlp(), 10, weight_decay=1e-3)
    reference.build_from_batch(batch)
    expected = float(reference.compute_loss(x=batch))
    for loss in ("ce", "gce"):
        method = NoisyLabel(_mlp(), 10, loss=loss, weight_decay=1e-3)
        assert isinstance(method, Supervised) and "noisy_label" in METHODS
        method.build_from_batch(batch)
        method.set_weights(reference.get_weights())
        got = float(method.compute_loss(x=batch))
        if loss == "ce":  # the same computation as Supervised, bit for bit
            assert got == expected
        else:  # the robust loss replaces the cross-entropy; the L2 term stays
            logits = np.asarray(reference.logits(batch["image"]))
            gce = generalized_cross_entropy(np.eye(10, dtype=np.float32)[y[:32]], logits)
            l2 = expected - float(np.mean(reference.example_losses(np.eye(10)[y[:32]], logits)))
            np.testing.assert_allclose(got, float(np.mean(gce)) + l2, rtol=1e-5)
        assert {m.name for m in method.metrics} >= {"robust_loss", "label_agreement"}


def test_every_robust_loss_learns_from_40_percent_symmetric_noise(digits):
    x, y, xt, yt = digits
    noisy, record = noise.corrupt_labels(y, 10, "symmetric", 0.4, seed=0)
    assert 0.35 < record.num_corrupted / len(y) < 0.45
    data = _batches({"image": x, "label": noisy.astype(np.int32), "true_label": y})
    for loss in ROBUST_LOSSES:
        kwargs = {"alpha": 0.01, "beta": 1.0} if loss == "sce" else None  # the MNIST preset
        method = NoisyLabel(_mlp(), 10, loss=loss, loss_kwargs=kwargs)
        hist = run_method_learns(method, data, 3, steps_per_epoch=10, lr=1e-2, seed=0)
        assert 0.5 < np.mean(hist["label_agreement"]) < 0.7, hist["label_agreement"]
        assert _clean_accuracy(method, xt, yt) > 5 * CHANCE, loss


def test_multi_tag_objectives_learn_from_missing_and_extra_tags(digits):
    x, y, xt, yt = digits
    vocab = tags.TagVocabulary([str(c) for c in range(10)], non_visual=["love", "instagood"])
    clean = tags.labels_to_tags(y, vocab.num_targets)
    t, _ = noise.corrupt_tags(clean, "extra", 0.5, seed=0, candidates=vocab.non_visual_ids)
    t, _ = noise.corrupt_tags(t, "missing", 0.2, seed=1)
    keep = noise.drop_untagged(t)
    # Untagged: an extra-tagged image loses both tags (0.5 * 0.04), else its one (0.5 * 0.2).
    assert 0.85 < len(keep) / len(y) < 0.91
    data = _batches({"image": x[keep], "tags": t[keep]})
    for objective in ("softmax", "sigmoid"):
        method = MultiTag(_mlp(), vocab.num_targets, 10, objective=objective)
        run_method_learns(method, data, 3, steps_per_epoch=10, lr=1e-2, seed=0)
        assert _clean_accuracy(method, xt, yt) > 5 * CHANCE, objective
        assert method(xt[:2]).shape == (2, 12) and method.logits(xt[:2]).shape == (2, 10)
        result = method.evaluate(_batches({"image": xt, "label": yt}).take(2), verbose=0)
        assert result[1] > 5 * CHANCE


def test_bit_head_starts_at_zero_and_fine_tunes_with_mixup(digits):
    x, y, xt, yt = digits
    keras.utils.set_random_seed(0)
    trunk = build_backbone("bit_tiny", (8, 8, 1))
    np.testing.assert_array_equal(np.asarray(BiT(trunk, 10).logits(xt[:4])), 0.0)
    # Learning is checked on a small encoder (the GN trunk trains in benchmarks/weak.py).
    method = BiT(_mlp(), 10, mixup_alpha=0.1)
    np.testing.assert_array_equal(np.asarray(method.logits(xt[:4])), 0.0)
    data = _batches({"image": x, "label": y.astype(np.int32)})
    run_method_learns(method, data, 3, steps_per_epoch=10, lr=1e-2, seed=0)
    assert _clean_accuracy(method, xt, yt) > 5 * CHANCE


def test_noisy_label_two_replicas_train_as_one(digits, mirrored_strategy):
    x, y, _, _ = digits
    batch = {"image": x[:16], "label": y[:16].astype(np.int32)}
    run_mirrored_equivalence(lambda: NoisyLabel(_mlp(), 10, loss="sce"), batch, mirrored_strategy)


def test_bad_arguments_are_named():
    enc = tiny_encoder(seed=0)
    with pytest.raises(ValueError, match="Unknown loss 'mae'"):
        NoisyLabel(enc, 10, loss="mae")
    with pytest.raises(ValueError, match="q must be in"):
        NoisyLabel(enc, 10, loss="gce", loss_kwargs={"q": 2.0})
    with pytest.raises(TypeError):
        NoisyLabel(enc, 10, loss="gce", loss_kwargs={"beta": 0.5})
    with pytest.raises(ValueError, match="Unknown objective 'bce'"):
        MultiTag(enc, 12, 10, objective="bce")
    with pytest.raises(ValueError, match="num_classes must be in \\[1, num_tags=12\\]; got 13"):
        MultiTag(enc, 12, 13)
    with pytest.raises(ValueError, match="mixup_alpha must be >= 0"):
        BiT(enc, 10, mixup_alpha=-1)
