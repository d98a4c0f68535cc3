"""The ``semi`` pipeline's ``data.unlabeled_extra_splits`` (STL-10's unlabelled split)."""

import ml_collections
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tfless.data.pipelines import build_data

# A tiny stand-in for TFDS stl10: each split has its own pixel value, so a batch shows
# which split an image came from; the unlabelled split has label -1 as in TFDS.
SPLITS = {"train": (40, 50), "test": (20, 100), "unlabelled": (60, 200)}


def _fake_stl10(self, split, decoders=None, read_config=None, **kwargs):
    n, level = SPLITS[str(split).split("[")[0]]
    labels = np.full(n, -1) if str(split) == "unlabelled" else np.arange(n) % 10
    return tf.data.Dataset.from_tensor_slices(
        {"image": np.full((n, 96, 96, 3), level, np.uint8), "label": labels.astype(np.int64)}
    )


def _cfg(**overrides):
    cfg = ml_collections.ConfigDict(
        dict(
            dataset="stl10",
            pipeline="semi",
            image_size=8,
            channels=3,
            batch_size=10,
            eval_batch_size=20,
            labels_per_class=2,
            split_seed=0,
            mu=3,
            augment=None,
            unlabeled_views=None,
            with_index=False,
            shuffle_buffer=1000,
        )
    )
    cfg.update(overrides)
    return cfg


def _batches(data, n=20):
    return [tf.nest.map_structure(np.asarray, b) for b in data.train.take(n)]


def test_extra_splits_join_the_unlabeled_stream_only():
    with tfds.testing.mock_data(as_dataset_fn=_fake_stl10):
        plain = build_data(_cfg())
        extra = build_data(_cfg(unlabeled_extra_splits=("unlabelled",)))
        plain_batches, extra_batches = _batches(plain), _batches(extra)

    # Labeled batches, the label split and the training-split bookkeeping are unchanged.
    assert extra.num_train == plain.num_train == 40
    assert extra.num_labeled == plain.num_labeled == 20
    assert extra.split_hash == plain.split_hash
    np.testing.assert_array_equal(extra.labeled_indices, plain.labeled_indices)
    for a, b in zip(plain_batches, extra_batches):
        np.testing.assert_array_equal(a["labeled"]["image"], b["labeled"]["image"])
        np.testing.assert_array_equal(a["labeled"]["label"], b["labeled"]["label"])
        assert np.allclose(b["labeled"]["image"], 50 / 255)
        assert b["labeled"]["label"].min() >= 0

    # Without extra splits every unlabeled image comes from train.
    plain_true = np.concatenate([b["unlabeled"]["true_label"] for b in plain_batches])
    assert plain_true.min() >= 0
    # With them, train (40) and unlabelled (60) images are drawn in proportion to size,
    # the unlabelled ones with true_label -1.
    images = np.concatenate([b["unlabeled"]["image"] for b in extra_batches])
    true = np.concatenate([b["unlabeled"]["true_label"] for b in extra_batches])
    assert images.shape == (20 * 30, 8, 8, 3)
    from_extra = true == -1
    assert np.allclose(images[from_extra], 200 / 255)
    assert np.allclose(images[~from_extra], 50 / 255)
    assert set(true[~from_extra].tolist()) <= set(range(10))
    assert 0.5 < from_extra.mean() < 0.7  # 60 / 100 expected over 600 draws


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            dict(unlabeled_extra_splits=("unlabeled",)),
            r"unknown split 'unlabeled' for dataset 'stl10'; expected some of \['unlabelled'\]",
        ),
        (dict(unlabeled_extra_splits=("test",)), r"split 'test' is the test split"),
        (dict(unlabeled_extra_splits=("train",)), r"split 'train' is already the unlabeled"),
        (dict(unlabeled_extra_splits="unlabelled"), r"must be a tuple of split names"),
        (
            dict(unlabeled_extra_splits=("unlabelled", "unlabelled")),
            r"repeats a split",
        ),
        (
            dict(unlabeled_extra_splits=("unlabelled",), with_index=True),
            r"with_index=True cannot be combined with data.unlabeled_extra_splits",
        ),
        (
            dict(unlabeled_extra_splits=("unlabelled",), pipeline="supervised"),
            r"needs data.pipeline='semi'; got 'supervised'",
        ),
    ],
)
def test_bad_extra_splits_fail_before_any_data_is_read(overrides, message):
    # No TFDS mock and no prepared data: the check must come before loading anything.
    with pytest.raises(ValueError, match=message):
        build_data(_cfg(**overrides))


def test_cached_labeled_subset_streams_the_same_batches(monkeypatch):
    """Caching the labeled subset (a speed fix) leaves the batch stream unchanged."""
    from tfless.data import pipelines

    cfg = ml_collections.ConfigDict(
        dict(
            dataset="digits",
            pipeline="supervised",
            image_size=8,
            channels=1,
            batch_size=16,
            labels_per_class=4,
            split_seed=3,
            augment=None,
        )
    )

    def batches():
        it = iter(build_data(cfg, seed=1).train)
        return [next(it) for _ in range(6)]  # 96 images: more than two passes over 40

    cached = batches()
    monkeypatch.setattr(pipelines, "LABELED_CACHE_BYTES", 0)
    uncached = batches()
    for a, b in zip(cached, uncached):
        np.testing.assert_array_equal(a["label"], b["label"])
        np.testing.assert_array_equal(a["image"], b["image"])


def test_labeled_split_and_mu_validation():
    from tfless.data.pipelines import validate_mu
    from tfless.data.splits import validate_labeled_split

    validate_labeled_split([0, 1, 2, 2], 3)
    with pytest.raises(ValueError, match=r"zero examples of class\(es\) \[1\]"):
        validate_labeled_split([0, 0, 2, 2], 3)
    with pytest.raises(ValueError, match="outside \\[0, 3\\)"):
        validate_labeled_split([0, 1, 5], 3)
    with pytest.raises(ValueError, match="empty"):
        validate_labeled_split([], 3)
    assert validate_mu(7) == 7
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="mu .* must be an integer >= 1; got"):
            validate_mu(bad)


def test_build_data_rejects_a_bad_mu_and_an_unknown_view():
    cfg = ml_collections.ConfigDict(
        dict(dataset="digits", pipeline="semi", image_size=8, channels=1, batch_size=8, mu=0)
    )
    with pytest.raises(ValueError, match=r"data.mu .* must be an integer >= 1; got 0"):
        build_data(cfg)
    cfg = ml_collections.ConfigDict(
        dict(dataset="digits", image_size=8, channels=1, batch_size=8, augment="fixmatch")
    )
    with pytest.raises(ValueError, match="unknown view 'fixmatch'"):
        build_data(cfg)
