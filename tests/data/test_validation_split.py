"""The validation split: the seeded stratified hold-out, its exclusion from every training
stream, the dataset's own validation split, and where the trainer and manifest use it."""

import types

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfless.data import splits, to_arrays
from tfless.data.datasets import digits_arrays
from tfless.data.pipelines import build_data
from tfless.data.synthetic import shapes_arrays


def _cfg(**overrides):
    cfg = ml_collections.ConfigDict(
        dict(
            dataset="digits",
            pipeline="semi",
            image_size=None,
            channels=None,
            batch_size=20,
            eval_batch_size=64,
            labels_per_class=2,
            split_seed=0,
            mu=4,
            augment=None,
            unlabeled_views=None,
            with_index=True,
            shuffle_buffer=2000,
            val_size=0.1,
        )
    )
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope="module")
def digits_data():
    return build_data(_cfg())


def _rows(images) -> set:
    return {row.tobytes() for row in np.asarray(images).reshape(len(images), -1)}


def test_holdout_is_stratified_seeded_and_disjoint():
    # Imbalanced classes: 300 / 100 / 20 / 3 examples.
    labels = np.repeat([0, 1, 2, 3], [300, 100, 20, 3])
    np.random.RandomState(1).shuffle(labels)
    val, train, digest = splits.validation_holdout(labels, 42, seed=5)
    assert len(val) == 42 and digest == splits.split_hash(val)
    np.testing.assert_array_equal(np.sort(np.concatenate([val, train])), np.arange(len(labels)))
    per_class = np.bincount(labels[val], minlength=4)
    # Each class gives its share (42 * n_c / 423) within one, and at least one example.
    assert np.all(np.abs(per_class - 42 * np.array([300, 100, 20, 3]) / 423) <= 1.0)
    assert per_class.min() >= 1
    again, _, same = splits.validation_holdout(labels, 42, seed=5)
    other, _, different = splits.validation_holdout(labels, 42, seed=6)
    np.testing.assert_array_equal(val, again)
    assert same == digest and different != digest and not np.array_equal(val, other)
    # keep_per_class keeps labeled-split candidates in training: class 3 (3 examples)
    # gives none.
    val, train, _ = splits.validation_holdout(labels, 100, seed=0, keep_per_class=10)
    assert np.bincount(labels[train], minlength=4)[:3].min() >= 10
    assert np.bincount(labels[train], minlength=4)[3] == 3 and len(val) == 100
    # Keeping more than a class has is not possible: one of each stays in training.
    val, train, _ = splits.validation_holdout(labels, 42, seed=0, keep_per_class=1000)
    assert len(val) == 42 and set(labels[train]) == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "val_size, expected", [(None, 0), (0, 0), (0.0, 0), (0.1, 126), (200, 200), (200.0, 200)]
)
def test_val_size_is_a_count_or_a_fraction(val_size, expected):
    assert splits.resolve_val_size(val_size, 1257) == expected


@pytest.mark.parametrize("val_size", [-1, 1.5, True, "0.1", 1257])
def test_bad_val_size_is_refused_naming_it(val_size):
    with pytest.raises(ValueError, match=f"val_size.*{val_size!r}"):
        splits.resolve_val_size(val_size, 1257)


def test_tiny_datasets_get_a_stratified_holdout_or_a_clear_error():
    # The synthetic dataset: 512 training images of 4 classes.
    _, labels = shapes_arrays("train")
    val, _, _ = splits.validation_holdout(labels, splits.resolve_val_size(0.1, 512))
    assert sorted(np.bincount(labels[val]).tolist()) == [12, 13, 13, 13]  # 51 of 512
    with pytest.raises(ValueError, match="cannot hold each of the 4 classes.*at least 4"):
        splits.validation_holdout(labels, 3)
    # A class of a single example stays in training; the others give what they can.
    tiny = np.array([0, 0, 0, 1, 1, 1, 2])
    val, train, _ = splits.validation_holdout(tiny, 3)
    assert len(val) == 3 and set(tiny[val]) == {0, 1} and 6 in train
    with pytest.raises(ValueError, match="without a training example.*at most 2"):
        splits.validation_holdout(np.array([0, 0, 1, 1, 2]), 3)


def test_held_out_examples_leave_the_labeled_and_unlabeled_streams(digits_data):
    data = digits_data
    assert (data.val_source, data.num_val, data.num_train) == ("train", 126, 1257 - 126)
    x_all, _ = digits_arrays("train")
    (raw,) = data.raw_train.batch(2000).as_numpy_iterator()
    x = raw["image"]
    xv, yv = to_arrays(data.val.unbatch())
    assert len(xv) == 126 and np.bincount(yv).min() >= 12  # stratified: 12 or 13 each
    assert int(data.val.cardinality()) == 2  # known: Keras needs no "ran out of data"
    assert not _rows(xv) & _rows(x) and _rows(xv) | _rows(x) == _rows(x_all)
    # raw_train is renumbered densely (memory banks, label propagation index it).
    np.testing.assert_array_equal(raw["index"], np.arange(1131))
    assert data.labeled_indices.max() < 1131
    assert data.labeled_class_counts.tolist() == [2] * 10
    seen_labeled, seen_unlabeled = set(), set()
    for batch in data.train.take(8).as_numpy_iterator():
        seen_labeled |= _rows(batch["labeled"]["image"])
        seen_unlabeled |= _rows(batch["unlabeled"]["image"])
    assert len(seen_unlabeled) > 400  # 8 batches of 80 unlabeled images
    assert not (seen_labeled | seen_unlabeled) & _rows(xv)
    assert seen_labeled <= _rows(x[data.labeled_indices])


def test_val_size_zero_or_absent_means_no_validation():
    cfg = _cfg(pipeline="supervised", labels_per_class=None, val_size=0)
    data = build_data(cfg)
    assert data.val is None and data.num_val == 0 and data.val_hash is None
    assert data.num_train == 1257
    del cfg["val_size"]
    assert build_data(cfg).val is None


def _fake_flowers(self, split, decoders=None, read_config=None, **kwargs):
    n, level = {"train": (204, 50), "validation": (102, 100), "test": (102, 150)}[str(split)]
    return tf.data.Dataset.from_tensor_slices(
        {
            "image": np.full((n, 4, 4, 3), level, np.uint8),
            "label": (np.arange(n) % 102).astype(np.int64),
        }
    )


def test_a_dataset_with_its_own_validation_split_uses_it_whole():
    cfg = _cfg(dataset="oxford_flowers102", pipeline="supervised", labels_per_class=None)
    cfg.update(image_size=4, with_index=False)
    with tfds.testing.mock_data(as_dataset_fn=_fake_flowers):
        data = build_data(cfg)
        xv, _ = to_arrays(data.val.unbatch())
    assert (data.val_source, data.num_val, data.val_hash) == ("validation", 102, None)
    assert data.num_train == 204  # nothing held out of the training split
    assert np.allclose(xv, 100 / 255)


def test_the_trainer_validates_on_the_validation_split_never_the_test_split():
    from tfless.train import trainer

    class Method:
        has_classifier = True

        def fit(self, train, **kwargs):
            self.kwargs = kwargs
            return types.SimpleNamespace(history={})

    data = types.SimpleNamespace(train="train", val="val", test="test")
    run = types.SimpleNamespace(
        method=Method(), data=data, optimizer=types.SimpleNamespace(use_ema=False)
    )
    trainer._fit(run, tf.distribute.get_strategy(), [], 2, 1, 0, 0)
    assert run.method.kwargs["validation_data"] == "val"


def test_the_manifest_and_the_online_probe_use_the_validation_split(digits_data):
    from tfless.evaluation import online_probe_callbacks
    from tfless.train.manifest import run_manifest

    config = ml_collections.ConfigDict({"data": _cfg().to_dict()})
    manifest = run_manifest(config, digits_data, tf.distribute.get_strategy(), 0, None, None)
    assert manifest["val_source"] == "train" and manifest["num_val"] == 126
    assert manifest["val_hash"] == digits_data.val_hash and len(manifest["val_hash"]) == 16
    assert manifest["config"]["data"]["val_size"] == 0.1
    probe_cfg = ml_collections.ConfigDict(
        {"eval": {"online_probe_every": 1, "online_probe_examples": 50}}
    )
    (probe,) = online_probe_callbacks(digits_data, probe_cfg)
    assert len(probe.test_labels) == 126  # the validation split, not the 540 test images
    with pytest.raises(ValueError, match="no validation|there is none"):
        online_probe_callbacks(types.SimpleNamespace(raw_train=1, val=None), probe_cfg)
