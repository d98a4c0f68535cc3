"""Learned-policy search spaces and applying policies given as per-image tensor tables.

A learned AutoAugment-style policy is ``num_subpolicies`` sub-policies of
``ops_per_subpolicy`` operations, each an op type, a probability bin and a magnitude bin
(AutoAugment: Cubuk, Zoph, Mane, Vasudevan, Le, "AutoAugment: Learning Augmentation
Policies from Data", CVPR 2019, https://arxiv.org/abs/1805.09501, Section 3: 5 x 2
operations, 16 ops, 11 probability and 10 magnitude bins). :class:`SearchSpace` maps a
controller's decisions to such policies; :func:`apply_policy_tables` applies policies held
as tensors, so one traced graph serves every policy a search or an adversarial method
samples.

Magnitude bin ``i`` is magnitude ``i`` on the op library's 0..10 scale (the level scale of
the published policies, whose magnitudes run 0..9); probability bin ``j`` is
``j / (probability_bins - 1)``. The paper's 16 ops include SamplePairing; the op library
has SolarizeAdd instead, so :data:`AUTOAUGMENT_OPS` is the library's 16 ops
(``OP_NAMES`` without Identity).

The searches and controllers that produce these policies are training loops and live in
:mod:`tfless.methods.augment`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tfless.augment import ops, rng

#: The AutoAugment search space's ops in this library (the paper's 16 with SolarizeAdd
#: in place of SamplePairing).
AUTOAUGMENT_OPS = tuple(n for n in ops.OP_NAMES if n != "Identity")
PROBABILITY_BINS = 11
MAGNITUDE_BINS = 10


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A policy search space: ``num_subpolicies`` x ``ops_per_subpolicy`` operations.

    Each operation is an op type, a magnitude bin and (when ``search_probability``) a
    probability bin; without probabilities every op is applied (Adversarial AutoAugment).

    Attributes:
      ops: op names the controller chooses from.
      num_subpolicies: sub-policies per policy (AutoAugment: 5).
      ops_per_subpolicy: operations per sub-policy (AutoAugment: 2).
      probability_bins: probabilities ``0, 1/(n-1), ..., 1`` (AutoAugment: 11).
      magnitude_bins: magnitudes ``0 .. n-1`` (AutoAugment: 10).
      search_probability: include the probability decision.
    """

    ops: tuple[str, ...] = AUTOAUGMENT_OPS
    num_subpolicies: int = 5
    ops_per_subpolicy: int = 2
    probability_bins: int = PROBABILITY_BINS
    magnitude_bins: int = MAGNITUDE_BINS
    search_probability: bool = True

    def __post_init__(self):
        if isinstance(self.ops, str) or not tuple(self.ops):
            raise ValueError(f"ops must be a non-empty list of op names, got {self.ops!r}")
        object.__setattr__(self, "ops", tuple(self.ops))
        for name in self.ops:
            ops.check_op_name(name)
        for field in ("num_subpolicies", "ops_per_subpolicy"):
            value = getattr(self, field)
            if int(value) != value or value < 1:
                raise ValueError(f"{field} must be a positive integer, got {value!r}")
        if not 2 <= self.probability_bins:
            raise ValueError(f"probability_bins must be >= 2, got {self.probability_bins!r}")
        if not 1 <= self.magnitude_bins <= ops.MAX_MAGNITUDE + 1:
            raise ValueError(f"magnitude_bins must be in [1, 11], got {self.magnitude_bins!r}")

    @property
    def decision_kinds(self) -> tuple[str, ...]:
        """Kind of each controller decision, in emission order."""
        per_op = (
            ("op", "probability", "magnitude") if self.search_probability else ("op", "magnitude")
        )
        return per_op * (self.num_subpolicies * self.ops_per_subpolicy)

    @property
    def vocab_sizes(self) -> dict[str, int]:
        """Number of choices of each decision kind."""
        sizes = {"op": len(self.ops), "magnitude": self.magnitude_bins}
        if self.search_probability:
            sizes["probability"] = self.probability_bins
        return sizes

    def tables(self, actions) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Decisions ``[P, T]`` -> op index, probability, magnitude tables ``[P, S, K]``.

        Op indices point into ``("Identity",) + ops`` (index 0 is "not applied").
        """
        actions = tf.cast(tf.convert_to_tensor(actions), tf.int32)
        per_op = 3 if self.search_probability else 2
        shape = [-1, self.num_subpolicies, self.ops_per_subpolicy, per_op]
        a = tf.reshape(actions, shape)
        op_index = a[..., 0] + 1
        if self.search_probability:
            prob = tf.cast(a[..., 1], tf.float32) / float(self.probability_bins - 1)
        else:
            prob = tf.ones_like(op_index, tf.float32)
        magnitude = tf.cast(a[..., -1], tf.float32)
        return op_index, prob, magnitude

    def decode(self, actions) -> list[list[tuple[str, float, float]]]:
        """One policy's decisions ``[T]`` -> a policy in the published format."""
        op_index, prob, magnitude = (
            np.asarray(t)[0] for t in self.tables(np.asarray(actions)[None])
        )
        names = ("Identity",) + self.ops
        return [
            [
                (names[op_index[s, k]], round(float(prob[s, k]), 4), float(magnitude[s, k]))
                for k in range(self.ops_per_subpolicy)
            ]
            for s in range(self.num_subpolicies)
        ]


def apply_policy_tables(images, op_index, prob, magnitude, names, **kwargs) -> tf.Tensor:
    """Applies per-image sub-policies given as tensors (no retracing across policies).

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1] or uint8.
      op_index: ``[B, K]`` int indices into ``names`` (0 must be Identity).
      prob: ``[B, K]`` probability of applying each op.
      magnitude: ``[B, K]`` magnitudes on the 0..10 scale.
      names: op names, ``names[0] == "Identity"``.

    Returns:
      the augmented batch, same shape and dtype.
    """
    images = ops.check_images(images)
    if names[0] != "Identity":
        raise ValueError(f"names[0] must be 'Identity', got {names[0]!r}")
    batch = tf.shape(images)[0]
    x = ops.to_float255(images)
    for k in range(op_index.shape[1]):
        apply = rng.uniform([batch]) < prob[:, k]
        index = tf.where(apply, tf.cast(op_index[:, k], tf.int32), 0)
        x = ops.apply_per_image(
            x, index, magnitude[:, k], names, images.dtype == tf.uint8, **kwargs
        )
    return ops.from_float255(x, images.dtype)


def pick_subpolicies(tables, policy_index) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Rows ``[B, K]`` of a uniformly drawn sub-policy of policy ``policy_index[b]``.

    Args:
      tables: ``(op_index, prob, magnitude)``, each ``[P, S, K]`` (``SearchSpace.tables``).
      policy_index: ``[B]`` policy of every image.
    """
    op_index, prob, magnitude = tables
    batch = tf.shape(policy_index)[0]
    num_sub = tf.shape(op_index)[1]
    sub = rng.uniform([batch], 0, num_sub, dtype=tf.int32)
    idx = tf.stack([tf.cast(policy_index, tf.int32), sub], axis=1)
    return tuple(tf.gather_nd(t, idx) for t in (op_index, prob, magnitude))
