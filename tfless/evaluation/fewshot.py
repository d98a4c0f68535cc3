"""N-way K-shot accuracy on novel classes, as the few-shot papers report it.

A test episode draws N novel classes, K support and Q = 15 query images of each
(:class:`tfless.data.episodes.EpisodeSampler`, deterministic in the seed); the accuracy of
its queries is averaged over many episodes (600 in Matching Networks, MAML and Chen et al.
2019, "A Closer Look at Few-shot Classification", arXiv:1904.04232) and reported with the
95% confidence interval ``1.96 * std / sqrt(episodes)`` (``std`` over episodes, ``ddof=0``,
as the evaluation code of Chen et al. computes it).

Two ways to score an episode:

* a **head on frozen features**, for any encoder :func:`tfless.evaluation.feature_fn`
  accepts (a method, a ``keras.Model``, a SavedModel export or its directory, a zoo
  encoder): ``protonet`` (nearest class mean in squared Euclidean distance, Snell et al.
  2017), ``baseline`` (a new linear head trained on the support features, Chen et al.
  2019) or ``baseline_pp`` (a new cosine head, Baseline++). Every test image is embedded
  once; episodes are then sampled on the features (:func:`evaluate_heads`).
* a **few-shot method's own** ``episode_logits`` (Matching Networks, MAML, ...), called on
  meta-batches of test episodes (:func:`evaluate_episodes`). A method whose
  ``fewshot_head`` names one of the heads above (ProtoNet, Baseline, Baseline++) is scored
  by that head on cached features, which gives the same logits faster.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import tensorflow as tf

from tfless.data.episodes import EpisodeSampler
from tfless.evaluation.features import extract_features, feature_fn
from tfless.losses import fewshot as fs

#: Heads on frozen features.
HEADS = ("protonet", "baseline", "baseline_pp")
#: Images per forward pass when a method scores whole meta-batches.
_IMAGES_PER_CALL = 512


@dataclasses.dataclass(frozen=True)
class FewShotSettings:
    """Test episodes of the ``fewshot`` protocol.

    Attributes:
      ways: N, classes per episode.
      shots: K values, one evaluation each (1 and 5 in every paper).
      queries: Q, query images per class (15 in every paper).
      episodes: episodes averaged (600 as in Matching Networks, MAML, Chen et al. 2019).
      heads: heads on frozen features to report (see :data:`HEADS`).
      rotations: the novel classes' 90/180/270-degree rotations count as classes too
        (the Omniglot protocol).
      seed: seed of the episodes.
    """

    ways: int = 5
    shots: tuple[int, ...] = (1, 5)
    queries: int = 15
    episodes: int = 600
    heads: tuple[str, ...] = ("protonet",)
    rotations: bool = False
    seed: int = 0

    def __post_init__(self):
        counts = {"ways": self.ways, "queries": self.queries, "episodes": self.episodes}
        bad = {k: v for k, v in counts.items() if int(v) < 1}
        if int(self.ways) < 2:
            bad["ways"] = self.ways
        if bad or not self.shots or any(int(k) < 1 for k in self.shots):
            raise ValueError(
                f"FewShotSettings needs ways >= 2, shots >= 1, queries >= 1, episodes >= 1; "
                f"got {bad or {'shots': self.shots}}."
            )
        unknown = [h for h in self.heads if h not in HEADS]
        if unknown:
            raise ValueError(f"Unknown few-shot heads {unknown}; expected some of {list(HEADS)}.")


def confidence_interval(accuracies) -> tuple[float, float]:
    """``(mean, 1.96 * std / sqrt(n))`` of per-episode accuracies (``std`` with ``ddof=0``)."""
    acc = np.asarray(accuracies, np.float64).reshape(-1)
    if not len(acc):
        raise ValueError("No episode accuracies to summarise.")
    return float(acc.mean()), float(1.96 * acc.std() / np.sqrt(len(acc)))


def setting_name(ways: int, shots: int) -> str:
    """``'5way1shot'``: the metric prefix of an N-way K-shot setting."""
    return f"{int(ways)}way{int(shots)}shot"


def _sampler(labels, ways, shots, queries, seed, rotations, images=None) -> EpisodeSampler:
    """An episode sampler over ``labels``; without images a stand-in of 1x1 pixels is
    enough, since only the drawn positions are used."""
    if images is None:
        images = np.broadcast_to(np.zeros((1, 1, 1, 1), np.uint8), (len(labels), 1, 1, 1))
    return EpisodeSampler(
        images,
        np.asarray(labels).astype(np.int64),
        ways=ways,
        shots=shots,
        queries=queries,
        seed=seed,
        rotations=rotations,
        name="novel",
    )


def _episode_positions(sampler: EpisodeSampler, episodes: int):
    """``(support [E, N*K], query [E, N*Q])`` rows of the (rotation-major) feature table."""
    n = len(sampler.images)
    support, query = [], []
    for i in range(episodes):
        _, turns, s, q = sampler.episode_indices(i)
        support.append((s + turns[:, None] * n).reshape(-1))
        query.append((q + turns[:, None] * n).reshape(-1))
    return np.stack(support), np.stack(query)


def _head_logits(head: str, support, support_label, query, ways: int, seed):
    if head == "protonet":
        return fs.prototype_logits(query, fs.class_prototypes(support, support_label, ways))
    cosine = head == "baseline_pp"
    params = fs.fit_support_head(support, support_label, ways, cosine=cosine, seed=seed)
    return fs.head_logits(query, params, cosine, 2.0)


# One function per head, each traced once per shape and episode count (the support size
# must stay static): a 1- and 5-shot evaluation traces each twice, not one function six
# times (which TensorFlow would report as excessive retracing).
_HEAD_FNS = {head: tf.function(functools.partial(_head_logits, head)) for head in HEADS}


def head_accuracies(head: str, support, support_label, query, query_label, ways: int, seed=0):
    """Per-episode query accuracy ``[E]`` of a head on frozen features.

    Args:
      head: one of :data:`HEADS`.
      support: float ``[E, N*K, D]``; support_label: int ``[E, N*K]``; query: float
        ``[E, N*Q, D]``; query_label: int ``[E, N*Q]``; ways: N; seed: seed of the heads
        that are trained.
    """
    if head not in HEADS:
        raise ValueError(f"Unknown few-shot head {head!r}; expected one of {list(HEADS)}.")
    logits = _HEAD_FNS[head](
        tf.convert_to_tensor(support, tf.float32),
        tf.convert_to_tensor(support_label, tf.int32),
        tf.convert_to_tensor(query, tf.float32),
        int(ways),
        tf.constant([int(seed), 0], tf.int64),
    )
    return np.mean(np.argmax(logits.numpy(), -1) == np.asarray(query_label), axis=-1)


def rotated_features(fn, images: np.ndarray, rotations: bool, batch_size: int = 256):
    """Features ``[R * M, D]`` of ``images`` (R = 4 quarter turns with ``rotations``, else 1),
    rotation-major."""
    turns = range(4) if rotations else range(1)
    return np.concatenate(
        [extract_features(fn, np.rot90(images, k, axes=(1, 2)), batch_size) for k in turns]
    )


def evaluate_heads(features, labels, settings: FewShotSettings, *, num_images=None) -> dict:
    """Few-shot accuracy of the frozen-feature heads on cached features.

    Args:
      features: float ``[R * M, D]`` (see :func:`rotated_features`); labels: int ``[M]``
        class ids of the novel images.
      settings: the episodes and heads.
      num_images: M (default ``len(labels)``).

    Returns:
      ``{"fewshot_<N>way<K>shot_<head>_accuracy": mean, ..._ci95: half-width}`` for every
      shot count and head.
    """
    labels = np.asarray(labels).reshape(-1)
    features = np.asarray(features, np.float32)
    out = {}
    for shots in settings.shots:
        sampler = _sampler(
            labels, settings.ways, shots, settings.queries, settings.seed, settings.rotations
        )
        support, query = _episode_positions(sampler, settings.episodes)
        s_label = np.repeat(np.arange(settings.ways), shots)[None].repeat(len(support), 0)
        q_label = np.repeat(np.arange(settings.ways), settings.queries)[None].repeat(len(query), 0)
        for head in settings.heads:
            acc = head_accuracies(
                head, features[support], s_label, features[query], q_label, settings.ways
            )
            prefix = f"fewshot_{setting_name(settings.ways, shots)}_{head}"
            out[f"{prefix}_accuracy"], out[f"{prefix}_ci95"] = confidence_interval(acc)
    return out


def evaluate_episodes(method, images, labels, settings: FewShotSettings) -> dict:
    """Few-shot accuracy of a method's own ``episode_logits`` on test episodes.

    Meta-batches are sized to about 512 images per call.

    Returns:
      ``{"fewshot_<N>way<K>shot_accuracy": mean, ..._ci95: half-width}`` per shot count.
    """
    out = {}
    for shots in settings.shots:
        # One trace per setting: methods read the static support size (FCE, MAML steps).
        logits_fn = tf.function(method.episode_logits)
        sampler = _sampler(
            labels,
            settings.ways,
            shots,
            settings.queries,
            settings.seed,
            settings.rotations,
            images,
        )
        per_episode = settings.ways * (shots + settings.queries)
        batch = max(1, min(settings.episodes, _IMAGES_PER_CALL // per_episode))
        accuracies = []
        for start in range(0, settings.episodes, batch):
            count = min(batch, settings.episodes - start)
            eps = [sampler.episode(start + i) for i in range(count)]
            mb = {k: np.stack([e[k] for e in eps]) for k in eps[0]}
            logits = logits_fn(
                tf.constant(mb["support_image"]),
                tf.constant(mb["support_label"]),
                tf.constant(mb["query_image"]),
                settings.ways,
            )
            hits = np.argmax(np.asarray(logits), -1) == mb["query_label"]
            accuracies.append(hits.mean(axis=-1))
        prefix = f"fewshot_{setting_name(settings.ways, shots)}"
        out[f"{prefix}_accuracy"], out[f"{prefix}_ci95"] = confidence_interval(
            np.concatenate(accuracies)
        )
    return out


def evaluate_fewshot(encoder, images, labels, settings: FewShotSettings | None = None) -> dict:
    """The ``fewshot`` protocol: N-way K-shot accuracy with 95% CI on novel classes.

    Args:
      encoder: a few-shot method (scored by its own ``episode_logits``, see the module doc)
        or anything :func:`tfless.evaluation.feature_fn` accepts (scored by the heads).
      images: float32 ``[M, H, W, C]`` in [0, 1] of the novel classes; labels: int ``[M]``.
      settings: the episodes (default :class:`FewShotSettings`).

    Returns:
      the method's own ``fewshot_<N>way<K>shot_accuracy`` / ``_ci95`` (for a few-shot
      method) and ``fewshot_<N>way<K>shot_<head>_accuracy`` / ``_ci95`` per head.

    Raises:
      ValueError: for fewer novel classes than ``ways`` or a class with fewer than
        ``shots + queries`` images (naming the class and the counts), before any episode.
    """
    settings = settings or FewShotSettings()
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels).reshape(-1)
    for shots in settings.shots:  # bad splits fail before any image is embedded
        _sampler(labels, settings.ways, shots, settings.queries, 0, settings.rotations)
    own = getattr(encoder, "fewshot_head", None) if hasattr(encoder, "episode_logits") else None
    heads = tuple(settings.heads) + ((own,) if own and own not in settings.heads else ())
    out = {}
    if heads:
        features = rotated_features(feature_fn(encoder), images, settings.rotations)
        out.update(evaluate_heads(features, labels, dataclasses.replace(settings, heads=heads)))
    if own:
        for shots in settings.shots:
            prefix = f"fewshot_{setting_name(settings.ways, shots)}"
            out[f"{prefix}_accuracy"] = out[f"{prefix}_{own}_accuracy"]
            out[f"{prefix}_ci95"] = out[f"{prefix}_{own}_ci95"]
    elif hasattr(encoder, "episode_logits"):
        out.update(evaluate_episodes(encoder, images, labels, settings))
    return out
