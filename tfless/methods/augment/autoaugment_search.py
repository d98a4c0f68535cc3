"""AutoAugment policy search: sample policies, train children, update the controller.

AutoAugment (Cubuk, Zoph, Mane, Vasudevan, Le, CVPR 2019, https://arxiv.org/abs/1805.09501,
Section 3): a one-layer LSTM controller with 100 hidden units emits a policy as 30 softmax
decisions -- 5 sub-policies x 2 operations x (op type, probability in 11 bins, magnitude in
10 bins) -- each decision fed back as an embedding. A child model is trained from scratch
with the policy on a reduced training split; its validation accuracy is the reward and the
controller is updated by policy gradient. At the end the sub-policies of the 5 best
policies are concatenated into the final 25-sub-policy policy.

Differences from the paper, all documented and configurable:

* The paper trains the controller with PPO (learning rate 0.00035, entropy penalty 1e-5,
  baseline an exponential moving average of rewards with weight 0.95). This module uses
  REINFORCE with the same moving-average baseline, learning rate and entropy weight: with a
  handful of policies per update PPO's clipped multi-epoch updates bring little.
* The paper's 16 ops include SamplePairing; the op library has SolarizeAdd instead (see
  :mod:`tfless.augment.search_space`).
* The child model is a small ConvNet trained for a few hundred steps on a reduced digits
  split (:mod:`tfless.methods.augment.child`); the scaled values live in
  ``configs/aa_search/digits.py`` and the launcher.

Using a searched policy in any run: :func:`tfless.augment.policies.save_policy` writes
JSON with the policy in the published format, and the ``autoaugment`` view
(:func:`tfless.augment.views.autoaugment`, ``policy`` = a name in ``POLICIES`` or a JSON
path) applies it in the data pipeline.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from tfless.augment.policies import check_policy
from tfless.augment.search_space import SearchSpace, apply_policy_tables, pick_subpolicies
from tfless.methods.augment.child import ChildTrainer
from tfless.methods.augment.policy_controller import PolicyController, make_reinforce_update


@dataclasses.dataclass
class SearchResult:
    """Result of :func:`autoaugment_search`.

    Attributes:
      policy: the final policy (sub-policies of the ``top_k`` best policies concatenated).
      history: one dict per sampled policy: ``{"index", "reward", "policy"}``.
      baseline_reward: validation accuracy of a child trained without augmentation.
      seconds: wall time.
    """

    policy: list
    history: list
    baseline_reward: float
    seconds: float


def autoaugment_search(
    data: dict,
    num_policies: int = 15000,
    policies_per_update: int = 1,
    space: SearchSpace | None = None,
    learning_rate: float = 0.00035,
    entropy_weight: float = 1e-5,
    baseline_decay: float = 0.95,
    top_k: int = 5,
    child_steps: int = 300,
    child_batch_size: int = 32,
    child_learning_rate: float = 3e-3,
    child_widths=(16, 32, 64),
    controller_hidden: int = 100,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> SearchResult:
    """AutoAugment's search loop: sample policies, train children, update the controller.

    Defaults are the paper's (15,000 policies, controller lr 0.00035, entropy 1e-5,
    baseline decay 0.95, top 5 policies concatenated); the child settings are scaled for
    digits. The controller update is REINFORCE with the moving-average baseline (see the
    module docstring).

    Args:
      data: ``reduced_digits()``-style dict (child train and validation arrays).
      num_policies: policies sampled (= children trained).
      policies_per_update: policies per controller update (their advantages averaged).
      space: the :class:`SearchSpace` (default AutoAugment's).
      top_k: best policies whose sub-policies form the final policy.
      seed: controller sampling and child seed.
      log: called with a progress line per update.

    Returns:
      :class:`SearchResult`.
    """
    space = space or SearchSpace()
    _check_search(num_policies, policies_per_update, top_k, baseline_decay)
    start = time.time()
    keras.utils.set_random_seed(seed)
    controller = PolicyController(space.decision_kinds, space.vocab_sizes, controller_hidden)
    update_controller = make_reinforce_update(
        controller, keras.optimizers.Adam(learning_rate), entropy_weight
    )
    child = ChildTrainer(
        data,
        _policy_augment(("Identity",) + space.ops),
        steps=child_steps,
        batch_size=child_batch_size,
        learning_rate=child_learning_rate,
        widths=child_widths,
        seed=seed,
    )
    # Same shapes as real policies, so the baseline child shares their trace.
    shape = [1, space.num_subpolicies, space.ops_per_subpolicy]
    identity_tables = tuple(tf.zeros(shape, t) for t in (tf.int32, tf.float32, tf.float32))
    baseline_reward = child(*identity_tables)
    history = []
    baseline, update = None, 0
    while len(history) < num_policies:
        n = min(policies_per_update, num_policies - len(history))
        actions = controller.sample(n, [seed, update])
        rewards = _score_policies(child, space, actions, n, history, seed)
        if baseline is None:
            baseline = float(rewards.mean())
        update_controller(actions, tf.constant(rewards - baseline))
        baseline = baseline_decay * baseline + (1.0 - baseline_decay) * float(rewards.mean())
        update += 1
        if log:
            log(
                f"update {update}: policies {len(history)}/{num_policies} "
                f"reward {rewards.mean():.4f} baseline {baseline:.4f} "
                f"(no augmentation {baseline_reward:.4f})"
            )
    best = sorted(history, key=lambda h: -h["reward"])[:top_k]
    policy = [sub for h in best for sub in h["policy"]]
    return SearchResult(check_policy(policy), history, baseline_reward, time.time() - start)


def _check_search(num_policies, policies_per_update, top_k, baseline_decay) -> None:
    for name, value in (
        ("num_policies", num_policies),
        ("policies_per_update", policies_per_update),
        ("top_k", top_k),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if top_k > num_policies:
        raise ValueError(f"top_k ({top_k}) must be <= num_policies ({num_policies})")
    if not 0.0 <= baseline_decay < 1.0:
        raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay!r}")


def _policy_augment(names) -> Callable:
    """``augment(images, op_table, prob_table, mag_table)``: one policy's tables ``[1, S, K]``."""

    def augment(images, op_table, prob_table, mag_table):
        policy = tf.zeros([tf.shape(images)[0]], tf.int32)
        rows = pick_subpolicies((op_table, prob_table, mag_table), policy)
        return apply_policy_tables(images, *rows, names)

    return augment


def _score_policies(child, space, actions, n, history, seed) -> np.ndarray:
    """Trains a child for each of the ``n`` sampled policies, appends them to ``history``
    and returns their rewards ``[n]``."""
    tables = space.tables(actions)
    rewards = []
    for i in range(n):
        reward = child(*(t[i : i + 1] for t in tables), seed=seed + len(history) + 1)
        rewards.append(reward)
        history.append(
            {"index": len(history), "reward": reward, "policy": space.decode(actions[i].numpy())}
        )
    return np.asarray(rewards, np.float32)
