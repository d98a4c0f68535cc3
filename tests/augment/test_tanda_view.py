"""Applying a trained TANDA generator without training code: TF sequences, files, the view."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import ops, policy_lstm, tanda, views
from tfless.data.synthetic import shapes_arrays


def _weights(num_transforms, hidden=4, embedding=6, seed=0):
    rng = np.random.RandomState(seed)
    shapes = policy_lstm.weight_shapes(("tf",), {"tf": num_transforms}, hidden, embedding)
    return {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}


def _images(n=4):
    return shapes_arrays("test", num_examples=n)[0]


def test_frozen_generator_applies_the_op_library():
    generator = tanda.FrozenGenerator([("Invert", 0.0), ("Solarize", 5.0)], 2, _weights(2))
    x = tf.constant(_images(2))
    out = generator.apply(x, tf.constant([[0, 1], [1, 1]]))
    ref0 = ops.apply_op(ops.apply_op(x[:1], "Invert"), "Solarize", 5.0)
    ref1 = ops.apply_op(ops.apply_op(x[1:], "Solarize", 5.0), "Solarize", 5.0)
    np.testing.assert_allclose(out.numpy(), np.concatenate([ref0, ref1]), atol=1e-6)
    seqs = generator.sample(5, [3, 4]).numpy()
    assert seqs.shape == (5, 2) and seqs.min() >= 0 and seqs.max() < 2
    np.testing.assert_array_equal(seqs, generator.sample(5, [3, 4]).numpy())


def test_file_round_trip_and_view_eager_and_in_tf_data(tmp_path):
    transforms = [("Rotate", 3.0), ("Invert", 0.0), ("ShearX", 5.0)]
    weights = _weights(3)
    path = str(tmp_path / "gen.json")
    paths = {f"policy_controller/{k}": v for k, v in weights.items()}
    tanda.write_generator(path, transforms, 4, 4, paths, note="x")
    record = tanda.read_generator(path)
    assert record["transforms"] == transforms and record["note"] == "x"
    assert sorted(record["weights"]) == sorted(weights)
    view = views.tanda(path)
    images = _images()
    out = view(images)["image"]
    assert out.shape == images.shape and out.dtype == tf.float32
    assert view(tf.cast(tf.constant(images) * 255, tf.uint8))["image"].dtype == tf.uint8
    ds = tf.data.Dataset.from_tensor_slices(images).batch(2).map(view)
    assert next(iter(ds))["image"].shape == (2, *images.shape[1:])
    np.testing.assert_allclose(views.tanda(path, prob=0.0)(images)["image"], images)


def test_bad_generator_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        views.tanda(str(tmp_path / "none.json"))
    path = str(tmp_path / "gen.json")
    weights = _weights(2)
    tanda.write_generator(path, [("Rotate", 3.0)], 2, 4, weights)
    with pytest.raises(ValueError, match="tf_logits_kernel"):
        views.tanda(path)  # weights for 2 TFs, file lists 1
    with pytest.raises(ValueError, match="non-empty"):
        tanda.FrozenGenerator([], 2, weights)
    with pytest.raises(ValueError, match="sequence_length"):
        tanda.FrozenGenerator([("Rotate", 3.0), ("Invert", 0.0)], 0, weights)
