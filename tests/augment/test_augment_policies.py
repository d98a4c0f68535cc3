"""Tests of tfless.augment.policies: policy data, apply_policy statistics, RandAugment."""

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import ops, policies


def _images(batch, seed=0, size=8):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(batch, size, size, 3)).astype(np.uint8)


@pytest.mark.parametrize("name", ["cifar10", "svhn", "imagenet"])
def test_published_policies_format(name):
    policy = policies.POLICIES[name]
    assert len(policy) == 25
    for sub in policy:
        assert len(sub) == 2
        for op, prob, magnitude in sub:
            assert op in ops.OPS and 0.0 <= prob <= 1.0 and 0 <= magnitude <= 10
    assert policies.check_policy(name) == policies.check_policy(policy)


def test_reduced_cifar10_policy_spot_check():
    # First and last sub-policies of AutoAugment's reduced CIFAR-10 policy (paper appendix).
    assert policies.CIFAR10_POLICY[0] == [("Invert", 0.1, 7), ("Contrast", 0.2, 6)]
    assert policies.CIFAR10_POLICY[-1] == [("TranslateY", 0.7, 9), ("AutoContrast", 0.9, 1)]


def test_apply_policy_respects_probabilities():
    images = np.full((4000, 2, 2, 1), 10, np.uint8)
    out = policies.apply_policy(images, [[("Invert", 0.3, 0)]]).numpy()
    inverted = np.mean(out[:, 0, 0, 0] == 245)
    assert abs(inverted - 0.3) < 0.035  # > 4 standard deviations
    # One sub-policy per image, chosen uniformly; ops in order with their own probability.
    policy = [[("Invert", 1.0, 0), ("SolarizeAdd", 0.5, 10)], [("Identity", 1.0, 0)]]
    values = policies.apply_policy(images, policy).numpy()[:, 0, 0, 0]
    # 255 - 10 = 245 >= 128, so SolarizeAdd leaves inverted pixels; it adds 110 to the rest.
    assert set(np.unique(values)) == {10, 245}
    assert abs(np.mean(values == 245) - 0.5) < 0.035
    policy = [[("SolarizeAdd", 0.5, 10), ("Invert", 1.0, 0)]]
    values = policies.apply_policy(images, policy).numpy()[:, 0, 0, 0]
    assert set(np.unique(values)) == {255 - 120, 245}
    assert abs(np.mean(values == 135) - 0.5) < 0.035


@pytest.mark.parametrize(
    "name, dtype", [("cifar10", np.uint8), ("svhn", np.float32), ("imagenet", np.uint8)]
)
def test_apply_policy_in_tf_data(name, dtype):
    images = _images(16)
    data = images if dtype == np.uint8 else images.astype(np.float32) / 255.0
    ds = tf.data.Dataset.from_tensor_slices(data).batch(8)
    ds = ds.map(lambda x: policies.apply_policy(x, name))
    piped = np.concatenate(list(ds.as_numpy_iterator()))
    assert piped.dtype == data.dtype and piped.shape == data.shape
    assert 0 <= piped.min() and piped.max() <= (255 if data.dtype == np.uint8 else 1)
    assert not np.allclose(piped, data)


@pytest.mark.parametrize(
    "policy, match",
    [
        ("cifar100", "unknown policy 'cifar100'"),
        ([], "at least one sub-policy"),
        ([[("Rotat", 0.5, 3)]], "unknown op 'Rotat'"),
        ([[("Rotate", 1.5, 3)]], "probability must be in"),
        ([[("Rotate", 0.5, 12)]], r"magnitude must be in \[0, 10\], got 12"),
        ([[("Rotate", 0.5)]], "must be \\(op_name, probability, magnitude\\)"),
    ],
)
def test_bad_policies(policy, match):
    with pytest.raises(ValueError, match=match):
        policies.apply_policy(_images(2), policy)


def test_randaugment_per_image_choice():
    images = np.full((4000, 2, 2, 1), 10, np.uint8)
    ra = policies.RandAugment(1, 5, ops=["Invert", "Identity"])
    values = ra(images).numpy()[:, 0, 0, 0]
    assert abs(np.mean(values == 245) - 0.5) < 0.035
    # Two layers: inverted twice or not at all is 1/2, once is 1/2.
    values = policies.RandAugment(2, 5, ops=["Invert", "Identity"])(images).numpy()
    assert abs(np.mean(values[:, 0, 0, 0] == 245) - 0.5) < 0.035
    values = policies.RandAugment(1, 5, ops=["Invert"], prob=0.25)(images).numpy()
    assert abs(np.mean(values[:, 0, 0, 0] == 245) - 0.25) < 0.035
    np.testing.assert_array_equal(policies.RandAugment(0, 5)(images).numpy(), images)


def test_randaugment_uses_all_ops_in_graph():
    images = np.repeat(_images(1, size=16), 200, axis=0).astype(np.float32) / 255.0
    out = tf.function(policies.RandAugment(2, 9))(images)
    assert out.dtype == tf.float32 and out.shape == images.shape
    distinct = {o.tobytes() for o in out.numpy()}
    # 17 choices per layer, random signs and cutout locations: many distinct results.
    assert len(distinct) > 50


def test_randaugment_magnitude_range_and_presets():
    images = _images(8)
    ra = policies.RandAugment(2, (1.0, 10.0), ops=policies.FIXMATCH_OPS, prob=0.5)
    assert ra(images).shape == images.shape
    for name, (n, m) in policies.RANDAUGMENT_PRESETS.items():
        preset = policies.RandAugment.preset(name)
        assert (preset.num_layers, preset.magnitude) == (n, m)
        assert preset(images).shape == images.shape
    assert policies.RANDAUGMENT_PRESETS["cifar100"] == (2, 14)
    assert len(policies.RANDAUGMENT_PAPER_OPS) == 14


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_layers=2, magnitude=11), r"magnitude must be in \[0, 10\], got 11"),
        (dict(num_layers=-1, magnitude=5), "num_layers must be a non-negative integer"),
        (dict(num_layers=2, magnitude=5, ops=["Blur"]), "unknown augmentation op 'Blur'"),
        (dict(num_layers=2, magnitude=5, prob=2.0), "prob must be in"),
        (dict(num_layers=2, magnitude=(8, 2)), "magnitude range"),
    ],
)
def test_randaugment_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        policies.RandAugment(**kwargs)


def test_randaugment_bad_images_and_preset():
    ra = policies.RandAugment(2, 9)
    with pytest.raises(ValueError, match="rank 4"):
        ra(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        ra(np.zeros((1, 8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="dtype float16"):
        ra(np.zeros((1, 8, 8, 3), np.float16))
    with pytest.raises(ValueError, match="unknown RandAugment preset 'mnist'"):
        policies.RandAugment.preset("mnist")
