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


def view_fn(name: str | None, kwargs=None):
    """The batched view builder ``images -> dict`` registered as ``name``."""
    kwargs = dict(kwargs or {})
    if name in (None, "", "identity", "none") and not kwargs:
        return lambda images: {"image": images}
    from tfless.augment.views import VIEWS

    if name not in VIEWS:
        raise ValueError(f"Unknown augmentation/view {name!r}. Expected one of {sorted(VIEWS)}.")
    return VIEWS[name](**kwargs)


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
    load_kw = dict(
        image_size=cfg.get("image_size"), channels=cfg.get("channels"), data_dir=cfg.get("data_dir")
    )
    image_shape = _image_shape(info, cfg.get("image_size"), cfg.get("channels"))
    train_all = datasets.load(cfg.dataset, "train", with_index=True, **load_kw)
    test = datasets.load(cfg.dataset, "test", **load_kw)
    eval_bs = int(cfg.get("eval_batch_size") or 256)
    test = test.map(lambda ex: {"image": ex["image"], "label": ex["label"]})
    test = test.batch(eval_bs).prefetch(tf.data.AUTOTUNE)

    labels = datasets.labels_of(train_all)
    num_train = len(labels)
    lpc = cfg.get("labels_per_class")
    if lpc:
        labeled_idx, _, split_hash = splits.labeled_unlabeled_split(
            labels, int(lpc), seed=int(cfg.get("split_seed", 0))
        )
        labeled = splits.select(train_all, labeled_idx)
        num_labeled = len(labeled_idx)
        # `select` filters the whole training split: without a cache every pass over a
        # few labeled images would decode and resize all of them again (40 of 1,257
        # digits: the labeled-only run was 10x slower than the all-labels one). Subsets
        # that fit in memory are cached after their first pass.
        if num_labeled * int(np.prod(image_shape)) * 4 <= LABELED_CACHE_BYTES:
            labeled = labeled.cache()
    else:
        labeled, split_hash, num_labeled = train_all, None, num_train
        labeled_idx = None
    present = np.unique(labels if labeled_idx is None else labels[labeled_idx])
    if pipeline != "unlabeled" and len(present) < info.num_classes:
        missing = sorted(set(range(info.num_classes)) - set(present.tolist()))
        raise ValueError(
            f"The labeled split of {cfg.dataset!r} has no examples of class(es) {missing}; "
            f"expected at least one example of each of the {info.num_classes} classes."
        )

    shuffle_buffer = int(cfg.get("shuffle_buffer") or 10_000)

    def stream(ds, bs, s):
        ds = ds.shuffle(
            min(shuffle_buffer, max(num_train, 1)), seed=s, reshuffle_each_iteration=True
        )
        return ds.repeat().batch(bs, drop_remainder=True)

    labeled_view = view_fn(cfg.get("augment"), cfg.get("augment_kwargs"))
    with_index = bool(cfg.get("with_index", False))

    def labeled_batch(b):
        out = dict(labeled_view(b["image"]))
        out["label"] = b["label"]
        if with_index:
            out["index"] = b["index"]
        return out

    if pipeline == "supervised":
        train = stream(labeled, batch_size, seed).skip(skip_batches)
        train = train.map(labeled_batch, num_parallel_calls=tf.data.AUTOTUNE)
    elif pipeline == "semi":
        mu = int(cfg.get("mu") or 0)
        if mu < 1:
            raise ValueError(
                f"data.mu must be >= 1 for the 'semi' pipeline; got {cfg.get('mu')!r}."
            )
        uview = view_fn(cfg.get("unlabeled_views"), cfg.get("views_kwargs"))

        def unlabeled_batch(b):
            out = dict(uview(b["image"]))
            out["true_label"] = b["label"]
            if with_index:
                out["index"] = b["index"]
            return out

        lab = stream(labeled, batch_size, seed).map(
            labeled_batch, num_parallel_calls=tf.data.AUTOTUNE
        )
        if extra_splits:
            train_images = train_all.map(lambda ex: {"image": ex["image"], "label": ex["label"]})
            parts = [("train", train_images, num_train)] + [
                (s, datasets.load(cfg.dataset, s, **load_kw), None) for s in extra_splits
            ]
            unl = _mixed_stream(parts, shuffle_buffer, seed + 1)
            unl = unl.batch(batch_size * mu, drop_remainder=True)
        else:
            unl = stream(train_all, batch_size * mu, seed + 1)
        unl = unl.map(unlabeled_batch, num_parallel_calls=tf.data.AUTOTUNE)
        train = tf.data.Dataset.zip(lab, unl).skip(skip_batches)
        train = train.map(lambda a, b: {"labeled": a, "unlabeled": b})
    else:
        uview = view_fn(cfg.get("augment"), cfg.get("augment_kwargs"))

        def ssl_batch(b):
            out = dict(uview(b["image"]))
            if with_index:
                out["index"] = b["index"]
            return out

        train = stream(train_all, batch_size, seed).skip(skip_batches)
        train = train.map(ssl_batch, num_parallel_calls=tf.data.AUTOTUNE)
    train = train.prefetch(tf.data.AUTOTUNE)
    return Data(
        train, test, info, image_shape, split_hash, num_labeled, num_train, train_all, labeled_idx
    )


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
