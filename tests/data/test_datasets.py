"""Datasets and label splits."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfless import data
from tfless.data import synthetic


def test_digits_fixed_stratified_split():
    xtr, ytr = data.digits_arrays("train")
    xte, yte = data.digits_arrays("test")
    assert xtr.shape == (1257, 8, 8, 1) and xte.shape == (540, 8, 8, 1)
    assert xtr.dtype == np.float32 and 0.0 <= xtr.min() and xtr.max() <= 1.0
    # 70/30 stratified: every class keeps ~30% of its images in test.
    for c in range(10):
        frac = (yte == c).sum() / ((yte == c).sum() + (ytr == c).sum())
        assert 0.28 < frac < 0.32
    # Fixed: the same call gives the same split.
    np.testing.assert_array_equal(ytr, data.digits_arrays("train")[1])


def test_mnist5k_fixed_stratified_split_of_real_28px_digits():
    xtr, ytr = data.mnist5k_arrays("train")
    xte, yte = data.mnist5k_arrays("test")
    assert xtr.shape == (4000, 28, 28, 1) and xte.shape == (1000, 28, 28, 1)
    assert xtr.dtype == np.float32 and xtr.min() == 0.0 and xtr.max() == 1.0
    # 80/20 stratified over 500 images per class.
    assert np.bincount(ytr).tolist() == [400] * 10 and np.bincount(yte).tolist() == [100] * 10
    # Real digits: ink in the centre, an empty border, no duplicates across the split.
    assert xtr[:, 12:16, 12:16].mean() > 5 * xtr[:, :2].mean()
    train_keys = {x.tobytes() for x in xtr[:200]}
    assert not train_keys & {x.tobytes() for x in xte}
    np.testing.assert_array_equal(ytr, data.mnist5k_arrays("train")[1])
    ex = next(iter(data.load("mnist5k", "test", image_size=14)))
    assert ex["image"].shape == (14, 14, 1)
    with pytest.raises(ValueError, match="Unknown split 'validation' for dataset 'mnist5k'"):
        data.mnist5k_arrays("validation")


def test_load_returns_dict_examples_and_resizes():
    ds = data.load("digits", "test", image_size=16, channels=3)
    ex = next(iter(ds))
    assert ex["image"].shape == (16, 16, 3) and ex["image"].dtype == tf.float32
    assert ex["label"].dtype == tf.int32
    assert len(list(ds)) == 540
    indexed = next(iter(data.load("digits", "train", with_index=True).skip(5)))
    assert int(indexed["index"]) == 5


def test_synthetic_shapes_are_balanced_and_learnable_sized():
    x, y = synthetic.shapes_arrays("train")
    assert x.shape == (512, 16, 16, 3) and np.bincount(y).tolist() == [128] * 4


def test_tfds_dataset_through_mock_data():
    with tfds.testing.mock_data(num_examples=12):
        ds = data.load("cifar10", "train")
        ex = next(iter(ds))
        assert ex["image"].shape == (32, 32, 3) and ex["image"].dtype == tf.float32
        assert float(tf.reduce_max(ex["image"])) <= 1.0
        assert len(list(ds)) == 12


def test_unknown_dataset_and_split_name_the_accepted_ones():
    with pytest.raises(ValueError, match=r"Unknown dataset 'digitz'.*'digits'"):
        data.load("digitz", "train")
    with pytest.raises(ValueError, match=r"Unknown split 'validation' for dataset 'digits'"):
        data.load("digits", "validation")


def test_labeled_unlabeled_split_is_seeded_and_hashed():
    _, y = data.digits_arrays("train")
    lab, unl, h = data.labeled_unlabeled_split(y, 4, seed=0)
    assert len(lab) == 40 and len(unl) == 1257 - 40
    assert np.bincount(y[lab]).tolist() == [4] * 10
    assert len(np.intersect1d(lab, unl)) == 0
    lab2, _, h2 = data.labeled_unlabeled_split(y, 4, seed=0)
    np.testing.assert_array_equal(lab, lab2)
    assert h == h2 == data.split_hash(lab[::-1])
    _, _, h3 = data.labeled_unlabeled_split(y, 4, seed=1)
    assert h3 != h


def test_too_many_labels_per_class_is_refused_naming_the_class():
    y = np.array([0] * 10 + [1] * 3)
    with pytest.raises(ValueError, match=r"num_per_class=4 .* class\(es\) \[1\] \(sizes \[3\]\)"):
        data.labeled_unlabeled_split(y, 4)


def test_imbalanced_subsample_follows_the_exponential_profile():
    y = np.repeat(np.arange(10), 100)
    idx = data.imbalanced_indices(y, imbalance_ratio=10)
    counts = np.bincount(y[idx])
    assert counts[0] == 100 and counts[-1] == 10
    assert np.all(np.diff(counts) <= 0)


def test_select_keeps_exactly_the_indices():
    ds = tf.data.Dataset.range(20).map(lambda i: {"v": i})
    kept = [int(e["v"]) for e in data.select(ds, [3, 7, 19])]
    assert kept == [3, 7, 19]
