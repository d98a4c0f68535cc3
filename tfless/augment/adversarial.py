"""Adversarial AutoAugment's policy pieces (Zhang, Wang, Zhang, Zhong, ICLR 2020).

"Adversarial AutoAugment", https://arxiv.org/abs/1912.11188. A policy controller (the
AutoAugment LSTM, 100 hidden units) samples ``M`` policies per step (``M = 8`` in the
paper); the batch is copied ``M`` times, copy ``m`` augmented by policy ``m`` (one random
sub-policy per image), and the target network minimises its loss over all copies. The
controller maximises that loss: its reward for policy ``m`` is the target loss on copy
``m``, normalised over the ``M`` policies, and it is updated by REINFORCE with an entropy
bonus (Adam, learning rate 0.00035, entropy weight 1e-5 in the paper).

Search space (Section 3.1 as we read it): AutoAugment's, 5 sub-policies of 2 operations,
each an op type and one of 10 magnitudes; the application probability is not searched
(every chosen op is applied), since the controller's own sampling already randomises the
policies. ``ADVERSARIAL_SPACE`` encodes it; pass another :class:`SearchSpace` to change it.

The training method is :class:`tfless.methods.augment.AdversarialAutoAugment`; this module
holds the pure functions it uses (its controller is
:class:`tfless.methods.augment.PolicyController`).
"""

from __future__ import annotations

import tensorflow as tf

from tfless.augment.search_space import (
    AUTOAUGMENT_OPS,
    SearchSpace,
    apply_policy_tables,
    pick_subpolicies,
)

#: The paper's number of policy instances per batch.
DEFAULT_NUM_POLICIES = 8

#: The Adversarial AutoAugment search space: 5 x 2 ops, op type + 10 magnitudes.
ADVERSARIAL_SPACE = SearchSpace(ops=AUTOAUGMENT_OPS, search_probability=False)


def normalized_rewards(losses, epsilon: float = 1e-8) -> tf.Tensor:
    """``(L_m - mean(L)) / (std(L) + epsilon)`` over the ``M`` policies (paper, Eq. 6).

    Args:
      losses: ``[M]`` target loss under each policy.
    """
    losses = tf.cast(losses, tf.float32)
    mean, var = tf.nn.moments(losses, axes=[0])
    return (losses - mean) / (tf.sqrt(var) + epsilon)


def augment_with_policies(images, tables, space: SearchSpace) -> tf.Tensor:
    """``M`` augmented copies of a batch, copy ``m`` under policy ``m``.

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1] or uint8.
      tables: ``space.tables(actions)`` for ``M`` policies, each ``[M, S, K]``.
      space: the search space the tables come from.

    Returns:
      ``[M * B, H, W, C]``, policy-major (rows ``m * B .. (m + 1) * B - 1`` use policy m).
    """
    num_policies = tf.shape(tables[0])[0]
    batch = tf.shape(images)[0]
    copies = tf.tile(images, [num_policies, 1, 1, 1])
    policy_index = tf.repeat(tf.range(num_policies), batch)
    rows = pick_subpolicies(tables, policy_index)
    return apply_policy_tables(copies, *rows, ("Identity",) + space.ops)
