"""N-way K-shot episodes and meta-batches of them.

An episode draws ``ways`` (N) classes of one class split, ``shots`` (K) support images and
``queries`` (Q) query images of each, all distinct. Its labels are episode-local: the N
classes are shuffled and numbered ``0 .. N-1``, and the images are class-major (rows
``c*K .. c*K+K-1`` of the support set, ``c*Q .. c*Q+Q-1`` of the query set, are class
``c``). A meta-batch stacks E episodes::

    support_image  float32 [E, N*K, H, W, C] in [0, 1]
    support_label  int32   [E, N*K] in [0, N)
    query_image    float32 [E, N*Q, H, W, C]
    query_label    int32   [E, N*Q] in [0, N)

Episode ``i`` of a sampler is a pure function of ``(seed, i)`` and meta-batch ``b`` holds
episodes ``b*E .. b*E+E-1``, so a stream resumed at meta-batch ``b`` is exactly the one an
uninterrupted run saw. Training and test episodes come from two samplers over disjoint
class splits, each with its own ways / shots / queries (Prototypical Networks train 30-way
or 20-way episodes and test 5-way ones).

``rotations=True`` adds, as in the Omniglot protocol of Matching Networks and Prototypical
Networks, every class rotated by 90, 180 and 270 degrees as three new classes: all images
of an episode class share its rotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

KEYS = ("support_image", "support_label", "query_image", "query_label")

# Largest meta-batch index of an endless stream.
_ENDLESS = np.iinfo(np.int64).max
# How many offending classes an error lists before "...".
_SHOWN = 5


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")
    return int(value)


def _as_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"images must be [M, H, W, C] (or [M, H, W]); got shape {images.shape}.")
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"images must be uint8 (0-255) or float in [0, 1]; got dtype {images.dtype}."
        )
    return images


def _class_name(label, class_names) -> str:
    if class_names is not None and 0 <= int(label) < len(class_names):
        return f"{int(label)} ({class_names[int(label)]!r})"
    return str(int(label))


class EpisodeSampler:
    """Deterministic N-way K-shot episodes of one class split.

    Args:
      images: ``[M, H, W, C]`` (or ``[M, H, W]``) uint8 in 0..255 or float in [0, 1].
      labels: int ``[M]``, the global class ids of the split's images.
      ways: N, classes per episode.
      shots: K, support images per class.
      queries: Q, query images per class.
      seed: the sampler's seed; episode ``i`` depends on ``(seed, i)`` alone.
      rotations: add each class rotated by 90, 180 and 270 degrees as three more classes
        (needs square images).
      class_names: optional names of the global class ids, used in error messages.
      name: what the split is called in error messages (e.g. ``"background"``).

    Raises:
      ValueError: before any episode is drawn, when the split has fewer than ``ways``
        classes (counting rotations), or a class has fewer than ``shots + queries`` images
        (naming the classes and their counts), or the arguments are malformed.
    """

    def __init__(
        self,
        images,
        labels,
        *,
        ways: int,
        shots: int,
        queries: int,
        seed: int = 0,
        rotations: bool = False,
        class_names: Sequence[str] | None = None,
        name: str = "split",
    ):
        self.images = _as_images(images)
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(self.images):
            raise ValueError(
                f"labels must be [M] with M = {len(self.images)} (one per image); got shape "
                f"{labels.shape}."
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integer class ids; got dtype {labels.dtype}.")
        self.ways = _positive_int(ways, "ways")
        self.shots = _positive_int(shots, "shots")
        self.queries = _positive_int(queries, "queries")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0; got {seed!r}.")
        self.seed = int(seed)
        self.rotations = bool(rotations)
        self.name = name
        h, w, _ = self.images.shape[1:]
        if self.rotations and h != w:
            raise ValueError(f"rotations=True needs square images; got {h}x{w}.")
        self.classes, inverse = np.unique(labels, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse, minlength=len(self.classes))
        self._members = np.split(order, np.cumsum(counts)[:-1])
        self._check(counts, class_names)

    @property
    def num_classes(self) -> int:
        """Classes episodes draw from (4x the split's classes with ``rotations``)."""
        return len(self.classes) * (4 if self.rotations else 1)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of the images."""
        return tuple(int(d) for d in self.images.shape[1:])

    def _check(self, counts, class_names) -> None:
        need = self.shots + self.queries
        if len(self.classes) == 0:
            raise ValueError(f"The {self.name} class split has no images.")
        if self.ways > self.num_classes:
            rot = " (with x4 rotations)" if self.rotations else ""
            raise ValueError(
                f"ways={self.ways} but the {self.name} class split has only "
                f"{self.num_classes} classes{rot}; use at most {self.num_classes} ways or a "
                "split with more classes."
            )
        short = np.flatnonzero(counts < need)
        if len(short):
            listed = ", ".join(
                f"class {_class_name(self.classes[i], class_names)} has {counts[i]} images"
                for i in short[:_SHOWN]
            )
            more = f", and {len(short) - _SHOWN} more" if len(short) > _SHOWN else ""
            raise ValueError(
                f"shots + queries = {self.shots} + {self.queries} = {need} images per class "
                f"are needed, but {len(short)} classes of the {self.name} class split have "
                f"fewer: {listed}{more}. Lower shots or queries, or drop those classes."
            )

    def episode_indices(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The draws of episode ``index``: ``(classes, rotations, support, query)``.

        ``classes`` int ``[N]`` global class ids in episode-label order, ``rotations`` int
        ``[N]`` quarter turns of each (all 0 without ``rotations``), ``support`` int
        ``[N, K]`` and ``query`` int ``[N, Q]`` positions in ``images``.
        """
        rng = np.random.default_rng([self.seed, int(index)])
        chosen = rng.choice(self.num_classes, self.ways, replace=False)
        base, turns = (chosen // 4, chosen % 4) if self.rotations else (chosen, 0 * chosen)
        need = self.shots + self.queries
        picks = np.stack(
            [self._members[c][rng.choice(len(self._members[c]), need, replace=False)] for c in base]
        )
        return self.classes[base], turns, picks[:, : self.shots], picks[:, self.shots :]

    def _gather(self, positions: np.ndarray, turns: np.ndarray) -> np.ndarray:
        """float32 ``[N * n, H, W, C]`` images at ``positions [N, n]``, class ``c`` turned
        ``turns[c]`` quarter turns."""
        images = self.images[positions]
        if self.rotations:
            images = np.stack([np.rot90(x, int(k), axes=(1, 2)) for x, k in zip(images, turns)])
        images = images.reshape((-1,) + self.image_shape)
        if images.dtype == np.uint8:
            return images.astype(np.float32) / np.float32(255.0)
        return images.astype(np.float32)

    def episode(self, index: int) -> dict[str, np.ndarray]:
        """Episode ``index`` as a dict of numpy arrays (the meta-batch keys, no E axis)."""
        _, turns, support, query = self.episode_indices(index)
        local = np.arange(self.ways, dtype=np.int32)
        return {
            "support_image": self._gather(support, turns),
            "support_label": np.repeat(local, self.shots),
            "query_image": self._gather(query, turns),
            "query_label": np.repeat(local, self.queries),
        }

    def meta_batch(self, batch: int, episodes_per_batch: int) -> dict[str, np.ndarray]:
        """Meta-batch ``batch``: episodes ``batch*E .. batch*E+E-1`` stacked on a new axis 0."""
        e = _positive_int(episodes_per_batch, "episodes_per_batch")
        eps = [self.episode(int(batch) * e + i) for i in range(e)]
        return {k: np.stack([ep[k] for ep in eps]) for k in KEYS}

    def dataset(self, episodes_per_batch: int, *, start: int = 0) -> tf.data.Dataset:
        """Endless ``tf.data`` of meta-batches ``start, start + 1, ...``.

        Args:
          episodes_per_batch: E, episodes per meta-batch (under a distribution strategy the
            E axis is split across replicas).
          start: index of the first meta-batch (a resumed run's ``skip_batches``).
        """
        e = _positive_int(episodes_per_batch, "episodes_per_batch")
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
            raise ValueError(f"start must be an integer >= 0; got {start!r}.")
        h, w, c = self.image_shape
        n, k, q = self.ways, self.shots, self.queries
        shapes = ([e, n * k, h, w, c], [e, n * k], [e, n * q, h, w, c], [e, n * q])

        def draw(b):
            batch = self.meta_batch(int(b), e)
            return tuple(batch[key] for key in KEYS)

        def to_dict(b):
            out = tf.numpy_function(draw, [b], (tf.float32, tf.int32, tf.float32, tf.int32))
            for t, s in zip(out, shapes):
                t.set_shape(s)
            return dict(zip(KEYS, out))

        batches = tf.data.Dataset.range(int(start), _ENDLESS)
        return batches.map(to_dict, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def episode_batch(
    images,
    labels,
    *,
    ways: int,
    shots: int,
    queries: int,
    episodes: int = 1,
    seed: int = 0,
    rotations: bool = False,
) -> dict[str, np.ndarray]:
    """One meta-batch of ``episodes`` episodes as a dict of numpy arrays.

    The same as ``EpisodeSampler(images, labels, ...).meta_batch(0, episodes)``.
    """
    sampler = EpisodeSampler(
        images, labels, ways=ways, shots=shots, queries=queries, seed=seed, rotations=rotations
    )
    return sampler.meta_batch(0, episodes)


def check_disjoint(splits: Mapping[str, Sequence | np.ndarray]) -> None:
    """Raises ``ValueError`` when two class splits share a class.

    Args:
      splits: split name -> the class ids or class names (or labels) of that split.
    """
    names = list(splits)
    sets = {n: set(np.unique(np.asarray(splits[n])).tolist()) for n in names}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = sorted(sets[a] & sets[b])
            if shared:
                head = ", ".join(map(str, shared[:_SHOWN]))
                more = f" and {len(shared) - _SHOWN} more" if len(shared) > _SHOWN else ""
                raise ValueError(
                    f"Class splits {a!r} and {b!r} overlap: they share {len(shared)} "
                    f"classes ({head}{more}). Few-shot class splits must be disjoint."
                )


def check_episode_stream(batch: Mapping, replicas: int) -> None:
    """Raises ``ValueError`` unless the meta-batch's E axis divides across ``replicas``."""
    e = int(batch["support_image"].shape[0])
    if e % int(replicas):
        raise ValueError(
            f"episodes_per_batch={e} is not divisible by the {replicas} replicas; under a "
            "distribution strategy each replica takes an equal share of the episodes. Use a "
            f"multiple of {replicas}."
        )
