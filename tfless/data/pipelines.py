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
* ``episodes``: meta-batches of N-way K-shot episodes of the training class split
  (:mod:`tfless.data.episodes`), see :func:`build_episode_data`.

Training datasets repeat forever. Their order and their augmentation are a pure function
of the seed and the batch index (pass ``e`` over the data is shuffled with a seed derived
from ``(seed, e)``, batch ``n`` augmented with one derived from ``(seed, n)``), so
``skip_batches`` starts a resumed run at exactly the batch where the interrupted run
stopped, and the rest of its stream is the one the uninterrupted run saw.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tfless.augment import rng
from tfless.augment.views import build_view
from tfless.data import datasets, noise, splits

PIPELINES = ("supervised", "semi", "unlabeled", "episodes")


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
      val: finite batched validation dataset of ``{"image", "label"}`` for per-epoch
        evaluation and model selection (None: ``data.val_size`` is 0 or absent).
      val_source: ``"validation"`` (the dataset's own split), ``"train"`` (a hold-out of
        the training split) or None.
      val_hash: hash of the held-out positions in the training split (None otherwise).
      num_val: validation examples.
      labeled_class_counts: int ``[num_classes]`` examples of each class in the labeled
        subset (ReMixMatch's known label distribution).
      label_noise: what ``data.label_noise`` corrupted
        (:meth:`tfless.data.noise.NoiseRecord.to_dict`: kind, rate, seed, counts, hash), or None.
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
    val: tf.data.Dataset | None = None
    val_source: str | None = None
    val_hash: str | None = None
    num_val: int = 0
    labeled_class_counts: np.ndarray | None = None
    label_noise: dict | None = None


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
    images), ``with_index``, ``shuffle_buffer``, ``data_dir``, ``unlabeled_extra_splits``,
    ``val_size``.

    ``val_size`` (a count, a fraction, 0 / absent: none) gives ``Data.val``: the dataset's
    ``validation`` split, else a stratified hold-out of the training split (``split_seed``)
    removed before the label split, the streams, ``raw_train`` (renumbered) and ``num_train``.

    ``unlabeled_extra_splits`` (``semi`` only; empty: the training split alone; absent: the
    dataset's ``unlabeled_splits``, i.e. a ``folder:`` dataset's unlabeled images when
    it has some and ``with_index`` is off)
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
    if pipeline == "episodes":
        return build_episode_data(cfg, seed=seed, skip_batches=skip_batches)
    info = datasets.get_info(
        cfg.dataset, data_dir=cfg.get("data_dir"), unlabeled_dir=cfg.get("unlabeled_dir")
    )
    extra_splits = _extra_splits(cfg, info, pipeline)
    batch_size = int(cfg.batch_size)
    if batch_size < 1:
        raise ValueError(f"data.batch_size must be >= 1; got {batch_size!r}.")
    mu = validate_mu(cfg.get("mu"), "data.mu") if pipeline == "semi" else 0
    load_kw = dict(
        image_size=cfg.get("image_size"),
        channels=cfg.get("channels"),
        data_dir=cfg.get("data_dir"),
        unlabeled_dir=cfg.get("unlabeled_dir"),
    )
    image_shape = _image_shape(info, cfg.get("image_size"), cfg.get("channels"))
    train_all = datasets.load(cfg.dataset, "train", with_index=True, **load_kw)
    test = _test_batches(cfg, load_kw)
    labels = datasets.labels_of(train_all)
    val = _validation(cfg, info, load_kw, train_all, labels)
    if val.train_indices is not None:
        # Held-out examples leave every training stream; the rest is renumbered densely.
        train_all = splits.select(train_all, val.train_indices, renumber=True)
        labels = labels[val.train_indices]
    train_all, labels, label_noise = _label_noise(cfg, pipeline, train_all, labels, info)
    labeled, labeled_idx, split_hash = _labeled_subset(cfg, train_all, labels, image_shape)
    if pipeline != "unlabeled":
        splits.validate_labeled_split(
            labels if labeled_idx is None else labels[labeled_idx],
            info.num_classes,
            name=f"The labeled split of {cfg.dataset!r}",
        )
    num_labeled = len(labels) if labeled_idx is None else len(labeled_idx)
    streams = _Streams(cfg, seed, num_train=len(labels))
    if pipeline == "supervised":
        train = streams.supervised(labeled, num_labeled, batch_size, skip_batches)
    elif pipeline == "semi":
        extra = [(s, datasets.load(cfg.dataset, s, **load_kw), None) for s in extra_splits]
        train = streams.semi(
            labeled, num_labeled, train_all, extra, batch_size, batch_size * mu, skip_batches
        )
    else:
        train = streams.unlabeled(train_all, batch_size, skip_batches)
    train = train.prefetch(tf.data.AUTOTUNE)
    data = Data(
        train, test, info, image_shape, split_hash, num_labeled, len(labels), train_all, labeled_idx
    )
    kept = labels if labeled_idx is None else labels[labeled_idx]
    counts = np.bincount(kept, minlength=info.num_classes)
    return dataclasses.replace(
        data, **val.data_fields(), labeled_class_counts=counts, label_noise=label_noise
    )


def _label_noise(cfg, pipeline, train_all, labels, info):
    """``(train_all, labels, record)`` after ``data.label_noise`` (unchanged, None without it).

    The noise is applied to the training examples left after the validation hold-out, so
    validation and test labels stay clean (:func:`tfless.data.noise.noisy_training_split`).
    """
    spec = cfg.get("label_noise")
    if not spec:
        return train_all, labels, None
    if pipeline != "supervised":
        raise ValueError(
            f"data.label_noise applies to the supervised pipeline; data.pipeline is {pipeline!r}."
        )
    spec = spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)
    return noise.noisy_training_split(train_all, labels, spec, info.num_classes)


def build_episode_data(cfg, *, seed: int = 0, skip_batches: int = 0) -> Data:
    """The ``episodes`` pipeline: ``Data.train`` is an endless stream of meta-batches.

    Keys read: ``dataset``, ``image_size``, ``channels``, ``data_dir``, ``class_split_dir``
    (the class lists of a ``folder:`` dataset, see :mod:`tfless.data.fewshot_sources`),
    ``ways`` / ``shots`` / ``queries`` (N, K, Q of the training episodes; default 5, 1,
    15), ``batch_size`` (episodes per meta-batch E), ``rotations`` (x4 rotated classes),
    ``eval_batch_size``, ``val_size`` (truthy: ``Data.val`` is the ``validation`` class
    split). The test episodes are the evaluation's (``config.fewshot``), not read here.

    The training class split is ``train``; ``Data.test`` (and ``Data.val``) hold the
    images of the ``test`` (``validation``) class split as ``{"image", "label"}`` batches
    with their global class ids. Meta-batch ``b`` holds episodes ``b*E .. b*E+E-1`` of a
    sampler seeded ``seed``, so ``skip_batches`` resumes the stream exactly.
    ``episode_stream=False`` makes ``Data.train`` plain ``{"image", "label"}`` batches of
    ``batch_size`` training-split images instead (Baseline pre-training), resumable alike.

    Raises:
      ValueError: before any training, when the class splits overlap, the training split
        has fewer than N classes or a class fewer than K + Q images.
    """
    from tfless.data import episodes, fewshot_sources

    info = datasets.get_info(cfg.dataset, data_dir=cfg.get("data_dir"))
    kw = dict(
        image_size=cfg.get("image_size"),
        channels=cfg.get("channels"),
        data_dir=cfg.get("data_dir"),
        split_dir=cfg.get("class_split_dir"),
    )
    want_val = bool(cfg.get("val_size"))
    parts = {s: fewshot_sources.class_split_arrays(cfg.dataset, s, **kw) for s in ("train", "test")}
    if want_val:
        parts["validation"] = fewshot_sources.class_split_arrays(cfg.dataset, "validation", **kw)
    episodes.check_disjoint({s: labels for s, (_, labels, _) in parts.items()})
    images, labels, class_names = parts["train"]
    sampler = episodes.EpisodeSampler(
        images,
        labels,
        ways=cfg.get("ways", 5),
        shots=cfg.get("shots", 1),
        queries=cfg.get("queries", 15),
        seed=int(seed),
        rotations=bool(cfg.get("rotations", False)),
        class_names=class_names,
        name=f"{cfg.dataset!r} train",
    )
    batch_size = int(cfg.batch_size)
    if cfg.get("episode_stream", True):
        train = sampler.dataset(batch_size, start=int(skip_batches))
    else:
        # Baseline / Baseline++ pre-train on plain {"image", "label"} batches of the training
        # class split (global class ids), then meet the same test episodes.
        examples, size = _float_examples(images, labels), len(labels)
        examples = shuffled_passes(examples, size, size, seed, skip_batches * batch_size)
        train = examples.batch(batch_size, drop_remainder=True)
    train = train.prefetch(tf.data.AUTOTUNE)
    num_classes = max(info.num_classes, 1 + max(int(lab.max()) for _, lab, _ in parts.values()))
    info = dataclasses.replace(info, num_classes=num_classes)
    raw_train = _float_examples(images, labels).enumerate()
    raw_train = raw_train.map(lambda i, ex: {**ex, "index": i})
    val = {}
    if want_val:
        vx, vy, _ = parts["validation"]
        val = dict(
            val=_eval_batches(cfg, _float_examples(vx, vy)),
            val_source="validation",
            num_val=len(vy),
        )
    return Data(
        train,
        _eval_batches(cfg, _float_examples(*parts["test"][:2])),
        info,
        sampler.image_shape,
        None,
        len(labels),
        len(labels),
        raw_train,
        labeled_class_counts=np.bincount(labels, minlength=num_classes),
        **val,
    )


def _float_examples(images: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    """Unbatched ``{"image": float32 in [0, 1], "label": int32}`` examples of arrays."""
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    ds = tf.data.Dataset.from_tensor_slices({"image": images, "label": labels.astype(np.int32)})
    return ds.map(
        lambda ex: {"image": tf.cast(ex["image"], tf.float32) / scale, "label": ex["label"]}
    )


def _test_batches(cfg, load_kw) -> tf.data.Dataset:
    """The finite, batched ``{"image", "label"}`` test split."""
    return _eval_batches(cfg, datasets.load(cfg.dataset, "test", **load_kw))


def _eval_batches(cfg, ds) -> tf.data.Dataset:
    """``ds`` as finite ``{"image", "label"}`` batches of ``data.eval_batch_size``."""
    eval_bs = int(cfg.get("eval_batch_size") or 256)
    ds = ds.map(lambda ex: {"image": ex["image"], "label": ex["label"]})
    return ds.batch(eval_bs).prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass
class _Validation:
    """The validation data of a run: batches, where they come from, the kept training part."""

    batches: tf.data.Dataset | None = None
    source: str | None = None
    hash: str | None = None
    size: int = 0
    train_indices: np.ndarray | None = None

    def data_fields(self) -> dict:
        """The :class:`Data` fields of the validation split."""
        return dict(val=self.batches, val_source=self.source, val_hash=self.hash, num_val=self.size)


def _validation(cfg, info, load_kw, train_all, labels) -> _Validation:
    """The validation split of ``data.val_size`` (0 or absent: none).

    The dataset's own ``validation`` split when it has one; otherwise a stratified hold-out
    of the training split with ``data.split_seed`` (see :func:`splits.validation_holdout`),
    its positions returned as ``train_indices`` (what stays for training).
    """
    count = splits.resolve_val_size(cfg.get("val_size"), len(labels))
    if not count:
        return _Validation()
    if "validation" in info.splits:
        val = datasets.load(cfg.dataset, "validation", **load_kw)
        size = int(val.cardinality())
        return _Validation(_eval_batches(cfg, val), "validation", None, max(size, 0))
    lpc = cfg.get("labels_per_class")
    keep = lpc if isinstance(lpc, int) and not isinstance(lpc, bool) and lpc > 1 else 1
    val_idx, train_idx, val_hash = splits.validation_holdout(
        labels, count, seed=int(cfg.get("split_seed", 0)), keep_per_class=keep
    )
    val = splits.select(train_all, val_idx).map(
        lambda ex: {"image": ex["image"], "label": ex["label"]}
    )
    # A filter hides the size; Keras warns of "running out of data" without it.
    val = val.apply(tf.data.experimental.assert_cardinality(count))
    shape = _image_shape(info, load_kw["image_size"], load_kw["channels"])
    # As the labeled subset: filtering the whole training split at every evaluation
    # would decode it all again.
    if count * int(np.prod(shape)) * 4 <= LABELED_CACHE_BYTES:
        val = val.cache()
    return _Validation(_eval_batches(cfg, val), "train", val_hash, count, train_idx)


def _labeled_subset(cfg, train_all, labels, image_shape):
    """``(labeled dataset, labeled indices or None, split hash or None)``.

    ``data.labels_per_class`` picks that many labeled examples per class with
    ``data.split_seed``; ``data.imbalance_ratio`` (optional) keeps a long-tailed subset
    instead (:func:`splits.imbalanced_indices`, head / tail size); without either every
    training example is labeled.
    """
    lpc = cfg.get("labels_per_class")
    ratio = cfg.get("imbalance_ratio")
    if lpc is None and ratio is None:
        return train_all, None, None
    if ratio is not None:
        if lpc is not None:
            raise ValueError(
                f"data.imbalance_ratio={ratio!r} and data.labels_per_class={lpc!r}: set one."
            )
        labeled_idx = splits.imbalanced_indices(
            labels, float(ratio), seed=int(cfg.get("split_seed", 0))
        )
        split_hash = splits.split_hash(labeled_idx)
    elif isinstance(lpc, bool) or not isinstance(lpc, int) or lpc < 1:
        raise ValueError(
            f"data.labels_per_class must be an integer >= 1, or None for all labels; got {lpc!r}."
        )
    else:
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

    A stream is a pure function of its seed and of the index of its first batch, whatever
    iterators were made of the dataset before (Keras ``fit`` makes its own): pass ``e``
    over the data is shuffled with a seed derived from ``(stream seed, e)``, and batch
    ``n`` is augmented under :func:`tfless.augment.rng.seeded` with ``(stream seed, n)``.
    ``skip`` starts every stream at batch ``skip``, so a resumed run sees exactly the
    batches an uninterrupted run saw from there on, without reading the passes before.
    The labeled stream's seed is ``seed`` and the unlabeled one's ``seed + 1``.
    """

    def __init__(self, cfg, seed: int, num_train: int):
        self.cfg = cfg
        self.seed = seed
        self.num_train = num_train
        self.shuffle_buffer = int(cfg.get("shuffle_buffer") or 10_000)
        self.with_index = bool(cfg.get("with_index", False))

    def _batched(self, ds, size, batch_size, seed, skip):
        """Batches ``skip, skip + 1, ...`` of shuffled passes over ``ds`` (``size`` examples)."""
        buffer = min(self.shuffle_buffer, max(self.num_train, 1))
        examples = shuffled_passes(ds, size, buffer, seed, start=skip * batch_size)
        return examples.batch(batch_size, drop_remainder=True)

    def _augment(self, batches, view, label_key: str | None, seed: int, skip: int):
        """``batches`` as ``{<view of image>, label_key: label, ["index"]}``, batch ``n`` (counted
        from ``skip``) augmented with the seed ``(seed, n)``."""
        with_index = self.with_index

        def fn(b, n):
            with rng.seeded(tf.stack([tf.constant(seed, tf.int64), n])):
                out = dict(view(b["image"]))
            if label_key:
                out[label_key] = b["label"]
            if with_index:
                out["index"] = b["index"]
            return out

        indexed = tf.data.Dataset.zip(batches, tf.data.Dataset.range(skip, _ENDLESS))
        return indexed.map(fn, num_parallel_calls=tf.data.AUTOTUNE)

    def _labeled_view(self):
        return _view(self.cfg.get("augment"), self.cfg.get("augment_kwargs"))

    def supervised(self, labeled, num_labeled, batch_size, skip):
        """``{<augment view>, "label"[, "index"]}`` batches of the labeled subset."""
        train = self._batched(labeled, num_labeled, batch_size, self.seed, skip)
        return self._augment(train, self._labeled_view(), "label", self.seed, skip)

    def semi(self, labeled, num_labeled, train_all, extra, batch_size, unlabeled_batch_size, skip):
        """``{"labeled": ..., "unlabeled": {<views>, "true_label"[, "index"]}}`` batches.

        Unlabeled batches are drawn from the whole training split plus the ``extra``
        ``(name, dataset, None)`` splits.
        """
        lab = self._batched(labeled, num_labeled, batch_size, self.seed, skip)
        lab = self._augment(lab, self._labeled_view(), "label", self.seed, skip)
        view = _view(self.cfg.get("unlabeled_views"), self.cfg.get("views_kwargs"))
        unl_seed = self.seed + 1
        if extra:
            images = train_all.map(lambda ex: {"image": ex["image"], "label": ex["label"]})
            parts = [("train", images, self.num_train)] + extra
            unl = _mixed_stream(parts, self.shuffle_buffer, unl_seed, skip * unlabeled_batch_size)
            unl = unl.batch(unlabeled_batch_size, drop_remainder=True)
        else:
            unl = self._batched(train_all, self.num_train, unlabeled_batch_size, unl_seed, skip)
        unl = self._augment(unl, view, "true_label", unl_seed, skip)
        train = tf.data.Dataset.zip(lab, unl)
        return train.map(lambda a, b: {"labeled": a, "unlabeled": b})

    def unlabeled(self, train_all, batch_size, skip):
        """``{<augment view>[, "index"]}`` batches of the whole training split, no labels."""
        train = self._batched(train_all, self.num_train, batch_size, self.seed, skip)
        return self._augment(train, self._labeled_view(), None, self.seed, skip)


# Upper end of the endless ranges (pass and batch counters).
_ENDLESS = np.iinfo(np.int64).max
# Graph-level seed of the shuffles of :func:`shuffled_passes` (any constant but 0).
_GRAPH_SEED = 1


def _pass_seed(seed, epoch):
    """The shuffle seed of pass ``epoch`` of a stream seeded ``seed``: a function of both."""
    pair = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    return tf.random.stateless_uniform([], pair, 0, 2**62, dtype=tf.int64)


def shuffled_passes(ds, size: int, buffer: int, seed: int, start: int = 0) -> tf.data.Dataset:
    """Examples ``start, start + 1, ...`` of endless shuffled passes over ``ds``.

    Pass ``e`` (examples ``e * size`` to ``(e + 1) * size - 1``) is ``ds`` shuffled with a
    buffer of ``buffer`` and a seed derived from ``(seed, e)`` alone, so the sequence is
    the same for every iterator, and starting at ``start`` skips whole passes without
    reading them (only the part of the pass ``start`` falls in is read and dropped).

    Args:
      ds: finite dataset of ``size`` examples (``size >= 1``).
      buffer: shuffle buffer (the whole pass when ``>= size``).
      seed: the stream's seed.
      start: index of the first example to yield.
    """
    size = max(int(size), 1)
    first = int(start) // size

    def one_pass(epoch):
        # A fixed graph seed for this pass's function graph only: the shuffle then depends
        # on the pass seed alone, not on TensorFlow's global seed (whose value 0 would also
        # make TensorFlow compare the tensor seed as a Python bool).
        tf.random.set_seed(_GRAPH_SEED)
        return ds.shuffle(buffer, seed=_pass_seed(seed, epoch), reshuffle_each_iteration=False)

    passes = tf.data.Dataset.range(first, _ENDLESS).flat_map(one_pass)
    return passes.skip(int(start) - first * size)


def _extra_splits(cfg, info, pipeline) -> tuple[str, ...]:
    """``data.unlabeled_extra_splits`` as a validated tuple.

    When absent, a ``semi`` pipeline without ``with_index`` takes the dataset's
    ``unlabeled_splits`` (a folder dataset's unlabeled images); otherwise it is empty.
    """
    extra = cfg.get("unlabeled_extra_splits")
    if extra is None and pipeline == "semi" and not cfg.get("with_index", False):
        extra = info.unlabeled_splits
    extra = extra or ()
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


# Choices of the mixed unlabeled stream are drawn in blocks of this many examples.
_CHOICE_BLOCK = 4096


def _choice_blocks(seed: int, weights, first_block) -> tf.data.Dataset:
    """The part chosen for each example of a mixed stream, from block ``first_block`` on;
    block ``j`` depends on ``(seed, j)`` alone."""
    logits = tf.math.log(tf.constant([weights], tf.float32))

    def block(j):
        pair = tf.stack([tf.constant(seed, tf.int64), j])
        return tf.random.stateless_categorical(logits, _CHOICE_BLOCK, pair, dtype=tf.int64)[0]

    return tf.data.Dataset.range(first_block, _ENDLESS).map(block).unbatch()


def _mixed_stream(parts, shuffle_buffer, seed, start: int = 0) -> tf.data.Dataset:
    """An infinite stream drawing from each part in proportion to its size.

    ``parts`` are ``(name, dataset, size)``; each dataset is shuffled pass by pass on its
    own (:func:`shuffled_passes`). A ``size`` of None is read from the dataset's
    cardinality (counted when unknown). The part each example comes from is drawn
    statelessly from ``seed`` and the example's index, so starting at example ``start``
    counts how many of the examples before it each part gave and starts every part there.
    """
    streams, sizes = [], []
    for name, ds, n in parts:
        if n is None:
            n = int(ds.cardinality())
            if n < 0:
                n = int(ds.reduce(np.int64(0), lambda c, _: c + 1))
        if n < 1:
            raise ValueError(f"Split {name!r} of data.unlabeled_extra_splits is empty.")
        sizes.append(n)
    weights = [n / float(sum(sizes)) for n in sizes]
    first_block, offset = divmod(int(start), _CHOICE_BLOCK)
    used = np.zeros(len(parts), np.int64)
    if start:
        before = _choice_blocks(seed, weights, 0).take(int(start)).batch(_CHOICE_BLOCK)
        for chosen in before.as_numpy_iterator():
            used += np.bincount(chosen, minlength=len(parts))
    for i, ((_, ds, _), n) in enumerate(zip(parts, sizes)):
        streams.append(shuffled_passes(ds, n, min(shuffle_buffer, n), seed + i, int(used[i])))
    choices = _choice_blocks(seed, weights, first_block).skip(offset)
    return tf.data.Dataset.choose_from_datasets(streams, choices)


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
