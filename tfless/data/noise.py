"""Label-noise tools for experiments: flipped labels, missing and extra tags, with a record.

Every function draws from ``numpy.random.default_rng(seed)``, so the same seed corrupts the
same examples in the same way, and :func:`corrupt_labels` / :func:`corrupt_tags` return a
:class:`NoiseRecord` saying what was corrupted: kind, rate, seed, how many examples changed
and a hash of the corrupted labels (the trainer writes it into the run manifest as
``label_noise``).

Kinds:

* ``symmetric``: each label is replaced, with probability ``rate``, by one of the other
  ``C - 1`` classes drawn uniformly (the symmetric noise of Wang et al. 2019,
  arXiv:1908.06112; a flipped label is never its own class).
* ``class_dependent``: each label of a class in ``flips`` is replaced by ``flips[class]``
  with probability ``rate`` (the asymmetric noise of Patrini et al. 2017, arXiv:1609.03683,
  used by Wang et al.: :data:`MNIST_FLIPS`, :data:`CIFAR10_FLIPS`).
* ``missing`` (tags): each tag an image carries is removed with probability ``rate``.
* ``extra`` (tags): with probability ``rate`` an image gains one tag it does not carry,
  drawn uniformly from ``candidates`` (non-visual tags such as ``#love`` in the hashtag
  data of Mahajan et al. 2018, arXiv:1805.00932).

Rates are in [0, 1): a rate of 1 would leave no clean signal to learn from.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import tensorflow as tf

LABEL_NOISE = ("symmetric", "class_dependent")
TAG_NOISE = ("missing", "extra")

#: MNIST's class-dependent flips (Patrini et al. 2017; Wang et al. 2019): 7->1, 2->7, 5<->6, 3->8.
MNIST_FLIPS = {7: 1, 2: 7, 5: 6, 6: 5, 3: 8}
#: CIFAR-10's: truck->automobile, bird->airplane, deer->horse, cat<->dog.
CIFAR10_FLIPS = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}


@dataclasses.dataclass(frozen=True)
class NoiseRecord:
    """What a corruption did: enough to repeat it and to tell two corruptions apart.

    Attributes:
      kind: one of :data:`LABEL_NOISE` or :data:`TAG_NOISE`.
      rate: the corruption probability.
      seed: the seed of the draws.
      num_examples: examples looked at.
      num_corrupted: examples whose labels or tags changed.
      hash: sha256 (first 16 hex digits) of kind, rate, seed and the corrupted labels.
    """

    kind: str
    rate: float
    seed: int
    num_examples: int
    num_corrupted: int
    hash: str

    def to_dict(self) -> dict:
        """A JSON-safe dict (for the run manifest)."""
        return dataclasses.asdict(self)


def check_rate(rate, name: str = "noise rate") -> float:
    """Returns ``rate`` as a float; ``ValueError`` unless it is a number in [0, 1)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1); got {rate!r}.")
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {rate!r}.")
    return float(rate)


def _check_labels(labels, num_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D integer array; got {labels.dtype} {labels.shape}.")
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(
            f"label {int(bad[0])} is outside the {num_classes} classes [0, {num_classes})."
        )
    return labels.astype(np.int64)


def symmetric_noise(labels, rate: float, num_classes: int, seed: int = 0) -> np.ndarray:
    """``labels`` with each one flipped, with probability ``rate``, to another class.

    Args:
      labels: int ``[N]`` class ids in ``[0, num_classes)``.
      rate: flip probability in [0, 1).
      num_classes: ``C`` >= 2.
      seed: seed of the draws.

    Returns:
      int64 ``[N]``.
    """
    rate = check_rate(rate)
    if num_classes < 2:
        raise ValueError(f"symmetric noise needs num_classes >= 2; got {num_classes!r}.")
    labels = _check_labels(labels, num_classes)
    rng = np.random.default_rng(seed)
    flip = rng.random(len(labels)) < rate
    offset = rng.integers(1, num_classes, size=len(labels))
    return np.where(flip, (labels + offset) % num_classes, labels)


def class_dependent_noise(
    labels, rate: float, flips: dict, num_classes: int, seed: int = 0
) -> np.ndarray:
    """``labels`` with each label ``c`` in ``flips`` set to ``flips[c]`` with probability ``rate``.

    Args:
      labels: int ``[N]``.
      rate: flip probability in [0, 1).
      flips: ``{source class: target class}``, e.g. :data:`MNIST_FLIPS`.
      num_classes: number of classes (checks ``labels`` and ``flips``).
      seed: seed of the draws.
    """
    rate = check_rate(rate)
    labels = _check_labels(labels, num_classes)
    for src, dst in flips.items():
        for c in (src, dst):
            if not 0 <= int(c) < num_classes:
                raise ValueError(f"flip {src}->{dst}: class {c} is outside [0, {num_classes}).")
    table = np.arange(num_classes)
    for src, dst in flips.items():
        table[int(src)] = int(dst)
    flip = np.random.default_rng(seed).random(len(labels)) < rate
    return np.where(flip, table[labels], labels)


def _hash(kind, rate, seed, array) -> str:
    digest = hashlib.sha256(f"{kind}:{rate!r}:{seed}:".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def corrupt_labels(
    labels, num_classes: int, kind: str, rate: float, seed: int = 0, flips: dict | None = None
) -> tuple[np.ndarray, NoiseRecord]:
    """Applies label noise ``kind`` and records it.

    Args:
      labels: int ``[N]``.
      num_classes: number of classes.
      kind: ``"symmetric"`` or ``"class_dependent"`` (which needs ``flips``).
      rate: in [0, 1).
      seed: seed of the draws.
      flips: ``{source: target}`` classes of ``class_dependent`` noise.

    Returns:
      ``(noisy labels int64 [N], NoiseRecord)``.
    """
    if kind not in LABEL_NOISE:
        raise ValueError(f"Unknown label noise {kind!r}. Expected one of {list(LABEL_NOISE)}.")
    clean = _check_labels(labels, num_classes)
    if kind == "symmetric":
        noisy = symmetric_noise(clean, rate, num_classes, seed)
    else:
        if not flips:
            raise ValueError("class_dependent noise needs flips={source: target}.")
        noisy = class_dependent_noise(clean, rate, flips, num_classes, seed)
    changed = int(np.sum(noisy != clean))
    record = NoiseRecord(
        kind, float(rate), int(seed), len(clean), changed, _hash(kind, rate, seed, noisy)
    )
    return noisy, record


def check_tags(tags, num_tags: int | None = None) -> np.ndarray:
    """Validates a multi-hot ``[N, T]`` array of 0/1 and returns it as float32."""
    tags = np.asarray(tags)
    if tags.ndim != 2:
        raise ValueError(f"tags must be a multi-hot [N, T] array; got shape {tags.shape}.")
    if num_tags is not None and tags.shape[1] != num_tags:
        raise ValueError(f"tags have {tags.shape[1]} columns; the vocabulary has {num_tags}.")
    if not np.isin(tags, (0, 1)).all():
        raise ValueError("tags must hold only 0 and 1 (multi-hot).")
    return tags.astype(np.float32)


def missing_tags(tags, rate: float, seed: int = 0) -> np.ndarray:
    """``tags`` with each present tag removed with probability ``rate`` (images may end up
    with none: see :func:`drop_untagged`)."""
    rate = check_rate(rate, "missing-tag rate")
    tags = check_tags(tags)
    keep = np.random.default_rng(seed).random(tags.shape) >= rate
    return tags * keep


def extra_tags(tags, rate: float, candidates=None, seed: int = 0) -> np.ndarray:
    """``tags`` where, with probability ``rate``, an image gains one tag from ``candidates``.

    Args:
      tags: multi-hot ``[N, T]``.
      rate: in [0, 1).
      candidates: tag ids to draw the extra tag from (default: every tag); a tag the image
        already carries is not drawn.
      seed: seed of the draws.
    """
    rate = check_rate(rate, "extra-tag rate")
    tags = check_tags(tags).copy()
    n, t = tags.shape
    candidates = np.arange(t) if candidates is None else np.asarray(candidates, np.int64)
    bad = candidates[(candidates < 0) | (candidates >= t)]
    if bad.size:
        raise ValueError(f"candidate tag id {int(bad[0])} is outside the vocabulary [0, {t}).")
    rng = np.random.default_rng(seed)
    gains = rng.random(n) < rate
    draws = rng.random((n, len(candidates)))
    for i in np.flatnonzero(gains):
        free = tags[i, candidates] == 0
        if free.any():
            # The free candidate with the largest uniform draw: a uniform pick among them.
            tags[i, candidates[np.argmax(np.where(free, draws[i], -1.0))]] = 1.0
    return tags


def corrupt_tags(
    tags, kind: str, rate: float, seed: int = 0, candidates=None
) -> tuple[np.ndarray, NoiseRecord]:
    """Applies tag noise ``kind`` (``"missing"`` or ``"extra"``) and records it."""
    if kind not in TAG_NOISE:
        raise ValueError(f"Unknown tag noise {kind!r}. Expected one of {list(TAG_NOISE)}.")
    clean = check_tags(tags)
    if kind == "missing":
        noisy = missing_tags(clean, rate, seed)
    else:
        noisy = extra_tags(clean, rate, candidates, seed)
    changed = int(np.sum(np.any(noisy != clean, axis=1)))
    packed = np.packbits(noisy.astype(np.uint8), axis=1)
    record = NoiseRecord(
        kind, float(rate), int(seed), len(clean), changed, _hash(kind, rate, seed, packed)
    )
    return noisy, record


def drop_untagged(tags) -> np.ndarray:
    """Indices of the images that still carry at least one tag.

    Objectives that spread the target over an image's tags (the multi-tag softmax) need
    one; as in hashtag data, images left without a tag in the vocabulary are left out.
    """
    return np.flatnonzero(check_tags(tags).sum(axis=1) > 0)


def relabel(ds: tf.data.Dataset, labels) -> tf.data.Dataset:
    """``ds`` (unbatched, with a dense ``index``) with ``label`` set to ``labels[index]``."""
    table = tf.constant(np.asarray(labels, np.int64))

    def fn(ex):
        return {**ex, "label": tf.cast(tf.gather(table, ex["index"]), ex["label"].dtype)}

    return ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE)


def noisy_training_split(ds: tf.data.Dataset, labels, noise_cfg, num_classes: int):
    """Applies ``data.label_noise`` to a training split; the build step's hook.

    Args:
      ds: the training split, unbatched, with a dense ``index``.
      labels: its clean labels ``[N]``.
      noise_cfg: mapping with ``kind`` (:data:`LABEL_NOISE`), ``rate``, ``seed`` (default 0)
        and, for ``class_dependent``, ``flips`` (``{source: target}``; ``"mnist"`` or
        ``"cifar10"`` name :data:`MNIST_FLIPS` / :data:`CIFAR10_FLIPS`).
      num_classes: number of classes.

    Returns:
      ``(dataset with noisy labels, noisy labels [N], NoiseRecord.to_dict())``.
    """
    known = {"kind", "rate", "seed", "flips"}
    unknown = sorted(set(noise_cfg) - known)
    if unknown:
        raise ValueError(f"data.label_noise has unknown keys {unknown}; expected {sorted(known)}.")
    flips = noise_cfg.get("flips")
    named = {"mnist": MNIST_FLIPS, "cifar10": CIFAR10_FLIPS}
    if isinstance(flips, str):
        if flips not in named:
            raise ValueError(f"Unknown flips {flips!r}. Expected one of {sorted(named)} or a dict.")
        flips = named[flips]
    elif flips is not None:
        flips = {int(k): int(v) for k, v in dict(flips).items()}
    noisy, record = corrupt_labels(
        labels,
        num_classes,
        noise_cfg.get("kind", "symmetric"),
        noise_cfg.get("rate"),
        int(noise_cfg.get("seed", 0) or 0),
        flips,
    )
    return relabel(ds, noisy), noisy, record.to_dict()
