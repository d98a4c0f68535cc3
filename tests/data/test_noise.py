"""Label and tag noise: rates, seeds, records, and the errors on bad input."""

import os

import numpy as np
import pytest
import tensorflow as tf

from tfless.data import noise


def _labels(n=5000, c=10):
    return np.random.default_rng(0).integers(0, c, size=n)


def test_symmetric_noise_flips_the_rate_to_other_classes_uniformly():
    clean = _labels()
    noisy = noise.symmetric_noise(clean, 0.4, 10, seed=3)
    flipped = noisy != clean
    assert abs(flipped.mean() - 0.4) < 0.03
    # Flips land on the other nine classes uniformly (each about 1/9 of the flips).
    offsets = (noisy[flipped] - clean[flipped]) % 10
    assert set(np.unique(offsets)) == set(range(1, 10))
    assert np.bincount(offsets, minlength=10)[1:].min() > 0.7 * flipped.sum() / 9
    np.testing.assert_array_equal(noisy, noise.symmetric_noise(clean, 0.4, 10, seed=3))
    assert not np.array_equal(noisy, noise.symmetric_noise(clean, 0.4, 10, seed=4))
    np.testing.assert_array_equal(noise.symmetric_noise(clean, 0.0, 10), clean)


def test_class_dependent_noise_follows_the_flip_table():
    clean = _labels()
    noisy = noise.class_dependent_noise(clean, 0.3, noise.MNIST_FLIPS, 10, seed=1)
    for c in range(10):
        changed = noisy[clean == c] != c
        if c in noise.MNIST_FLIPS:
            assert abs(changed.mean() - 0.3) < 0.06
            assert set(noisy[clean == c][changed]) == {noise.MNIST_FLIPS[c]}
        else:
            assert not changed.any()


def test_records_hash_what_was_corrupted():
    clean = _labels(500)
    a, rec = noise.corrupt_labels(clean, 10, "symmetric", 0.2, seed=0)
    b, rec_b = noise.corrupt_labels(clean, 10, "symmetric", 0.2, seed=0)
    _, rec_c = noise.corrupt_labels(clean, 10, "symmetric", 0.2, seed=1)
    assert rec == rec_b and rec.hash != rec_c.hash
    assert rec.num_corrupted == int((a != clean).sum()) and rec.num_examples == 500
    assert rec.to_dict()["kind"] == "symmetric" and len(rec.hash) == 16
    tags = np.eye(4, dtype=np.float32)[clean % 4]
    _, t1 = noise.corrupt_tags(tags, "missing", 0.5, seed=0)
    _, t2 = noise.corrupt_tags(tags, "extra", 0.5, seed=0, candidates=[3])
    assert t1.hash != t2.hash and 0 < t1.num_corrupted < 500


def test_missing_and_extra_tags():
    tags = np.zeros((2000, 6), np.float32)
    tags[:, 0] = 1
    tags[:, 1] = 1
    missing = noise.missing_tags(tags, 0.25, seed=0)
    assert abs(1 - missing[:, :2].mean() - 0.25) < 0.03 and missing[:, 2:].sum() == 0
    kept = noise.drop_untagged(missing)
    np.testing.assert_array_equal(kept, np.flatnonzero(missing.sum(1) > 0))
    extra = noise.extra_tags(tags, 0.5, candidates=[4, 5], seed=0)
    gained = extra.sum(1) - 2
    assert set(np.unique(gained)) == {0, 1} and abs(gained.mean() - 0.5) < 0.04
    assert extra[:, 2:4].sum() == 0 and abs(extra[:, 4].sum() - extra[:, 5].sum()) < 100
    # An image already carrying every candidate gains nothing.
    full = np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(noise.extra_tags(full, 0.9, seed=0), full)


def test_relabel_maps_by_index():
    ds = tf.data.Dataset.from_tensor_slices(
        {"image": np.zeros((4, 2, 2, 1), np.float32), "label": [0, 1, 2, 3], "index": [0, 1, 2, 3]}
    )
    out = [int(e["label"]) for e in noise.relabel(ds, [3, 3, 0, 1])]
    assert out == [3, 3, 0, 1]


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.2", True])
def test_rates_outside_0_1_are_refused(rate):
    with pytest.raises(ValueError, match=r"in \[0, 1\); got"):
        noise.symmetric_noise([0, 1], rate, 2)


def test_bad_labels_flips_and_kinds_are_named():
    with pytest.raises(ValueError, match="label 12 is outside the 10 classes"):
        noise.symmetric_noise([1, 12], 0.1, 10)
    with pytest.raises(ValueError, match="class 11 is outside"):
        noise.class_dependent_noise([1], 0.1, {1: 11}, 10)
    with pytest.raises(ValueError, match="'pairflip'"):
        noise.corrupt_labels([1], 10, "pairflip", 0.1)
    with pytest.raises(ValueError, match="candidate tag id 7 is outside the vocabulary"):
        noise.extra_tags(np.zeros((1, 3)), 0.1, candidates=[7])
    with pytest.raises(ValueError, match="unknown keys \\['noise'\\]"):
        noise.noisy_training_split(None, [0], {"noise": 0.1}, 2)


def test_build_data_applies_label_noise_and_the_manifest_records_it():
    import tensorflow as tf

    from tfless.configs import load_config
    from tfless.data import labels_of
    from tfless.data.pipelines import build_data
    from tfless.train.manifest import run_manifest

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    config = load_config(os.path.join(root, "configs/noisy_label/digits.py:ce_40_smoke"))
    plain = load_config(os.path.join(root, "configs/supervised/digits.py:smoke"))
    data = build_data(config.data, seed=0)
    record = data.label_noise
    assert record["kind"] == "symmetric" and record["rate"] == 0.4 and len(record["hash"]) == 16
    assert record["num_examples"] == data.num_train
    seen = labels_of(data.raw_train)
    plain_data = build_data(plain.data, seed=0)
    clean = labels_of(plain_data.raw_train)
    assert (seen != clean).sum() == record["num_corrupted"]
    assert abs(record["num_corrupted"] / len(seen) - 0.4) < 0.05
    # Test labels stay clean.
    test_labels = np.concatenate([b["label"].numpy() for b in data.test])
    np.testing.assert_array_equal(test_labels, labels_of(plain_data.test.unbatch()))
    manifest = run_manifest(config, data, tf.distribute.get_strategy(), 0, None, None)
    assert manifest["label_noise"] == record
