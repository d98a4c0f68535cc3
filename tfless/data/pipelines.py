"""Input pipelines built from ``config.data``.

Pipelines batch first and then augment the whole batch with a view builder from
:mod:`tfless.augment.views` (vectorized, per-image randomness). Kinds:

* ``supervised``: ``{"image", "label"}`` from the labeled subset.
* ``semi``: ``{"labeled": {"image", "label"}, "unlabeled": {<views>, "true_label"}}``;
  the unlabeled batch is ``mu`` times the labeled one and is drawn from the whole
  training split (labels removed except ``true_label``, kept for monitoring only), as
  in FixMatch/MixMatch, plus the splits named in ``unlabeled_extra_splits`` (STL-10's
  ``unlabelled``; their ``true_label`` is the split's own label, -1 when it has none).
* ``unlabeled``: ``<views>`` (plus ``index`` when ``with_index``) from the whole
  training split, with no labels at all.

Training datasets repeat forever; ``skip_batches`` fast-forwards after a resume so the
resumed run sees the batches the interrupted run had not seen yet.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tfless.augment.views import build_view
from tfless.data import datasets, splits

PIPELINES = ("supervised", "semi", "unlabeled")


@dataclasses.dataclass
class Data:
    """What the trainer needs from the data.

    Attributes:
      train: infinite batched training dataset of dict batches.
      test: finite batched test dataset of ``{"image", "label"}``.
      info: :class:`tfless.data.DatasetInfo` of the dataset.
      image_shape: ``(H, W, C)`` after resizing.
      split_hash: hash of the labeled indices (None when all labels are used).
      num_labeled: labeled training examples.
      num_train: all training examples.
      raw_train: the unbatched, un-augmented training split ``{"image", "label", "index"}``
        (for callbacks that need features of the whole set: DeepCluster, label propagation).
      labeled_indices: indices of the labeled examples in ``raw_train`` (None: all).
    """

    train: tf.data.Dataset
    test: tf.data.Dataset
    info: datasets.DatasetInfo
    image_shape: tuple[int, int, int]
    split_hash: str | None
    num_labeled: int
    num_train: int
    raw_train: tf.data.Dataset | None = None
    labeled_indices: np.ndarray | None = None


# Labeled subsets up to this size (float32 images) are cached in memory.
LABELED_CACHE_BYTES = 1 << 30

# Names of "no augmentation" in data.augment / data.unlabeled_views.
_NO_VIEW = (None, "", "none")


def _view(name: str | None, kwargs=None):
    """The batched view builder ``images -> dict`` named ``name`` (no name: ``identity``)."""
    return build_view("identity" if name in _NO_VIEW else name, **dict(kwargs or {}))


def validate_mu(mu, name: str = "mu") -> int:
    """Returns ``mu`` as an int; raises ``ValueError`` unless it is an integer >= 1.

    ``mu`` is the unlabeled-to-labeled batch ratio of the ``semi`` pipeline.
    """
    if isinstance(mu, bool) or not isinstance(mu, (int, np.integer)) or mu < 1:
        raise ValueError(
            f"{name} (unlabeled-to-labeled batch ratio) must be an integer >= 1; got {mu!r}."
        )
    return int(mu)


def _image_shape(info, image_size, channels) -> tuple[int, int, int]:
    h, w, c = info.image_shape
    if image_size:
        h, w = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    return (int(h), int(w), int(channels or c))


def build_data(cfg, *, seed: int = 0, skip_batches: int = 0) -> Data:
    """Builds train/test datasets from ``config.data``.

    Keys read: ``dataset``, ``pipeline``, ``image_size``, ``channels``, ``batch_size``
    (global; the labeled batch for ``semi``), ``eval_batch_size``, ``labels_per_class``
    (None: all labels), ``split_seed``, ``mu``, ``augment`` (view of labeled images),
    ``augment_kwargs``, ``unlabeled_views`` and ``views_kwargs`` (views of unlabeled
    images), ``with_index``, ``shuffle_buffer``, ``data_dir``, ``unlabeled_extra_splits``.

    ``unlabeled_extra_splits`` (``semi`` only; absent or empty: the training split alone)
    is a tuple of further splits of the dataset, e.g. ``("unlabelled",)`` for STL-10 as
    in FixMatch/MixMatch, appended to the unlabeled stream only: labeled batches,
    ``num_train``, ``raw_train`` and the label split stay those of the training split.
    Each split is shuffled on its own (buffer ``min(shuffle_buffer, size)``) and the
    streams are sampled in proportion to their sizes, so every unlabeled image is drawn
    equally often. Their examples keep their stored label as ``true_label``: -1 for
    STL-10's ``unlabelled`` split, which the methods' monitors skip. The names are
    checked before any data is read: unknown splits, ``train`` (already in the stream),
    ``test`` (the evaluation split) and repeats raise ``ValueError``, as does
    ``with_index`` (``index`` numbers the training split only: label propagation's
    graph, memory banks).
    """
    pipeline = cfg.get("pipeline", "supervised")
    if pipeline not in PIPELINES:
        raise ValueError(f"Unknown data.pipeline {pipeline!r}. Expected one of {list(PIPELINES)}.")
    info = datasets.get_info(cfg.dataset)
    extra_splits = _extra_splits(cfg, info, pipeline)
    batch_size = int(cfg.batch_size)
    if batch_size < 1:
        raise ValueError(f"data.batch_size must be >= 1; got {batch_size!r}.")
    mu = validate_mu(cfg.get("mu"), "data.mu") if pipeline == "semi" else 0
    load_kw = dict(
        image_size=cfg.get("image_size"), channels=cfg.get("channels"), data_dir=cfg.get("data_dir")
    )
    image_shape = _image_shape(info, cfg.get("image_size"), cfg.get("channels"))
    train_all = datasets.load(cfg.dataset, "train", with_index=True, **load_kw)
    test = _test_batches(cfg, load_kw)
    labels = datasets.labels_of(train_all)
    labeled, labeled_idx, split_hash = _labeled_subset(cfg, train_all, labels, image_shape)
    if pipeline != "unlabeled":
        splits.validate_labeled_split(
            labels if labeled_idx is None else labels[labeled_idx],
            info.num_classes,
            name=f"The labeled split of {cfg.dataset!r}",
        )
    streams = _Streams(cfg, seed, num_train=len(labels))
    if pipeline == "supervised":
        train = streams.supervised(labeled, batch_size, skip_batches)
    elif pipeline == "semi":
        extra = [(s, datasets.load(cfg.dataset, s, **load_kw), None) for s in extra_splits]
        train = streams.semi(labeled, train_all, extra, batch_size, batch_size * mu, skip_batches)
    else:
        train = streams.unlabeled(train_all, batch_size, skip_batches)
    train = train.prefetch(tf.data.AUTOTUNE)
    num_labeled = len(labels) if labeled_idx is None else len(labeled_idx)
    return Data(
        train, test, info, image_shape, split_hash, num_labeled, len(labels), train_all, labeled_idx
    )


def _test_batches(cfg, load_kw) -> tf.data.Dataset:
    """The finite, batched ``{"image", "label"}`` test split."""
    test = datasets.load(cfg.dataset, "test", **load_kw)
    eval_bs = int(cfg.get("eval_batch_size") or 256)
    test = test.map(lambda ex: {"image": ex["image"], "label": ex["label"]})
    return test.batch(eval_bs).prefetch(tf.data.AUTOTUNE)


def _labeled_subset(cfg, train_all, labels, image_shape):
    """``(labeled dataset, labeled indices or None, split hash or None)``.

    ``data.labels_per_class`` picks that many labeled examples per class with
    ``data.split_seed``; without it every training example is labeled.
    """
    lpc = cfg.get("labels_per_class")
    if lpc is None:
        return train_all, None, None
    if isinstance(lpc, bool) or not isinstance(lpc, int) or lpc < 1:
        raise ValueError(
            f"data.labels_per_class must be an integer >= 1, or None for all labels; got {lpc!r}."
        )
    labeled_idx, _, split_hash = splits.labeled_unlabeled_split(
        labels, int(lpc), seed=int(cfg.get("split_seed", 0))
    )
    labeled = splits.select(train_all, labeled_idx)
    # `select` filters the whole training split: without a cache every pass over a
    # few labeled images would decode and resize all of them again (40 of 1,257
    # digits: the labeled-only run was 10x slower than the all-labels one). Subsets
    # that fit in memory are cached after their first pass.
    if len(labeled_idx) * int(np.prod(image_shape)) * 4 <= LABELED_CACHE_BYTES:
        labeled = labeled.cache()
    return labeled, labeled_idx, split_hash


class _Streams:
    """Infinite, shuffled, batched and augmented training streams of one ``config.data``.

    The labeled stream is shuffled with ``seed`` and the unlabeled one with ``seed + 1``;
    ``skip`` drops the batches a resumed run has already seen.
    """

    def __init__(self, cfg, seed: int, num_train: int):
        self.cfg = cfg
        self.seed = seed
        self.num_train = num_train
        self.shuffle_buffer = int(cfg.get("shuffle_buffer") or 10_000)
        self.with_index = bool(cfg.get("with_index", False))

    def _batched(self, ds, batch_size, seed):
        buffer = min(self.shuffle_buffer, max(self.num_train, 1))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
        return ds.repeat().batch(batch_size, drop_remainder=True)

    def _augment(self, view, label_key: str | None):
        """``batch -> {<view of image>, label_key: label, ["index"]}`` for ``Dataset.map``."""
        with_index = self.with_index

        def fn(b):
            out = dict(view(b["image"]))
            if label_key:
                out[label_key] = b["label"]
            if with_index:
                out["index"] = b["index"]
            return out

        return fn

    def _labeled_map(self):
        view = _view(self.cfg.get("augment"), self.cfg.get("augment_kwargs"))
        return self._augment(view, "label")

    def supervised(self, labeled, batch_size, skip):
        """``{<augment view>, "label"[, "index"]}`` batches of the labeled subset."""
        train = self._batched(labeled, batch_size, self.seed).skip(skip)
        return train.map(self._labeled_map(), num_parallel_calls=tf.data.AUTOTUNE)

    def semi(self, labeled, train_all, extra, batch_size, unlabeled_batch_size, skip):
        """``{"labeled": ..., "unlabeled": {<views>, "true_label"[, "index"]}}`` batches.

        Unlabeled batches are drawn from the whole training split plus the ``extra``
        ``(name, dataset, None)`` splits.
        """
        labeled_map = self._labeled_map()
        view = _view(self.cfg.get("unlabeled_views"), self.cfg.get("views_kwargs"))
        lab = self._batched(labeled, batch_size, self.seed)
        lab = lab.map(labeled_map, num_parallel_calls=tf.data.AUTOTUNE)
        if extra:
            images = train_all.map(lambda ex: {"image": ex["image"], "label": ex["label"]})
            parts = [("train", images, self.num_train)] + extra
            unl = _mixed_stream(parts, self.shuffle_buffer, self.seed + 1)
            unl = unl.batch(unlabeled_batch_size, drop_remainder=True)
        else:
            unl = self._batched(train_all, unlabeled_batch_size, self.seed + 1)
        unl = unl.map(self._augment(view, "true_label"), num_parallel_calls=tf.data.AUTOTUNE)
        train = tf.data.Dataset.zip(lab, unl).skip(skip)
        return train.map(lambda a, b: {"labeled": a, "unlabeled": b})

    def unlabeled(self, train_all, batch_size, skip):
        """``{<augment view>[, "index"]}`` batches of the whole training split, no labels."""
        view = _view(self.cfg.get("augment"), self.cfg.get("augment_kwargs"))
        train = self._batched(train_all, batch_size, self.seed).skip(skip)
        return train.map(self._augment(view, None), num_parallel_calls=tf.data.AUTOTUNE)


def _extra_splits(cfg, info, pipeline) -> tuple[str, ...]:
    """``data.unlabeled_extra_splits`` as a validated tuple (empty when absent)."""
    extra = cfg.get("unlabeled_extra_splits") or ()
    if isinstance(extra, str) or not all(isinstance(s, str) for s in extra):
        raise ValueError(
            f"data.unlabeled_extra_splits must be a tuple of split names, e.g. "
            f"('unlabelled',); got {extra!r}."
        )
    extra = tuple(extra)
    if not extra:
        return extra
    if pipeline != "semi":
        raise ValueError(
            f"data.unlabeled_extra_splits={extra!r} needs data.pipeline='semi'; got {pipeline!r}."
        )
    candidates = [s for s in info.splits if s not in ("train", "test")]
    for split in extra:
        base = split.split("[")[0]
        if base in ("train", "test"):
            why = "is already the unlabeled stream" if base == "train" else "is the test split"
            raise ValueError(
                f"data.unlabeled_extra_splits: split {split!r} {why}; expected some of "
                f"{candidates} for dataset {info.name!r}."
            )
        if base not in info.splits:
            raise ValueError(
                f"data.unlabeled_extra_splits: unknown split {split!r} for dataset "
                f"{info.name!r}; expected some of {candidates}."
            )
    if len(set(extra)) != len(extra):
        raise ValueError(f"data.unlabeled_extra_splits repeats a split: {extra!r}.")
    if cfg.get("with_index", False):
        raise ValueError(
            f"data.with_index=True cannot be combined with data.unlabeled_extra_splits="
            f"{extra!r}: 'index' numbers the training split only (label propagation's "
            "graph, memory banks are built over it). Drop the extra splits for this method."
        )
    return extra


def _mixed_stream(parts, shuffle_buffer, seed) -> tf.data.Dataset:
    """An infinite stream drawing from each part in proportion to its size.

    ``parts`` are ``(name, dataset, size)``; each dataset is shuffled and repeated on its
    own. A ``size`` of None is read from the dataset's cardinality (counted when unknown).
    """
    streams, sizes = [], []
    for i, (name, ds, n) in enumerate(parts):
        if n is None:
            n = int(ds.cardinality())
            if n < 0:
                n = int(ds.reduce(np.int64(0), lambda c, _: c + 1))
        if n < 1:
            raise ValueError(f"Split {name!r} of data.unlabeled_extra_splits is empty.")
        sizes.append(n)
        streams.append(
            ds.shuffle(
                min(shuffle_buffer, n), seed=seed + i, reshuffle_each_iteration=True
            ).repeat()
        )
    total = float(sum(sizes))
    return tf.data.Dataset.sample_from_datasets(
        streams, weights=[n / total for n in sizes], seed=seed
    )


def check_batch(batch, image_shape) -> None:
    """Validates the images of a batch: rank 4, float32, the expected ``(H, W, C)``.

    Raises:
      ValueError: naming the key, the bad shape or dtype, and what was expected.
    """

    def visit(key, value):
        if isinstance(value, dict):
            for k, v in value.items():
                visit(f"{key}.{k}" if key else k, v)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(f"{key}[{i}]", v)
        elif key.split(".")[-1].startswith(("image", "views")):
            shape = tuple(value.shape)
            if len(shape) != 4:
                raise ValueError(
                    f"Batch key {key!r} has shape {shape}; expected rank-4 [batch, H, W, C]."
                )
            if value.dtype != tf.float32:
                raise ValueError(
                    f"Batch key {key!r} has dtype {value.dtype.name}; expected float32 in [0, 1]."
                )
            if tuple(shape[1:]) != tuple(image_shape):
                raise ValueError(
                    f"Batch key {key!r} has images of shape {shape[1:]}; "
                    f"expected {tuple(image_shape)}."
                )

    visit("", batch)
