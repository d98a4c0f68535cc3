"""Adversarial AutoAugment: a policy controller that maximises the target's training loss."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfless.augment import adversarial
from tfless.augment.search_space import SearchSpace
from tfless.methods.augment.policy_controller import PolicyController
from tfless.methods.base import ClassifierMixin, Method, l2_weight_penalty, scale_for_replicas


class AdversarialAutoAugment(ClassifierMixin, Method):
    """Target network and adversarial policy controller trained together.

    Zhang, Wang, Zhang, Zhong, "Adversarial AutoAugment", ICLR 2020,
    https://arxiv.org/abs/1912.11188. Every step:

    1. the controller (:class:`tfless.methods.augment.PolicyController`, LSTM with 100
       units) samples ``num_policies`` (M = 8) policies from a stateless seed (the same
       policies on every replica);
    2. the labeled batch is copied M times, copy m augmented by policy m (one random
       sub-policy per image, every op applied at its searched magnitude);
    3. the target network takes one optimizer step on the cross-entropy averaged over all
       ``M * B`` copies (the paper's large-batch objective);
    4. the controller takes one REINFORCE step on the per-policy losses normalised over
       the M policies (mean 0, std 1; averaged over replicas), with entropy bonus
       ``entropy_weight``, using its own Adam optimizer.

    The paper updates the controller once per epoch from losses accumulated over the epoch
    with the epoch's policies; on digits an epoch is a few steps, so here policies are
    resampled and the controller updated every step (the same estimator with an
    accumulation window of one step).

    Reads ``image`` and ``label``. Trackers: ``loss``, ``xent`` (target loss on the
    augmented copies), ``reward_loss_spread`` (max - min per-policy loss, what the
    controller exploits), ``controller_entropy``, ``accuracy``.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: classes of the linear head.
      num_policies: M, policy instances per batch (paper: 8).
      ops: op names of the search space (default AutoAugment's 16).
      num_subpolicies, ops_per_subpolicy, magnitude_bins: search-space shape (5, 2, 10).
      controller_hidden: LSTM units (paper: 100).
      controller_learning_rate: controller Adam learning rate (paper: 0.00035).
      entropy_weight: entropy bonus of the controller (paper: 1e-5).
      weight_decay: coupled L2 on the target's kernels.
      seed: seed of the policy sampling.
    """

    input_keys = ("image", "label")
    xla_unsupported = "its policy sampler draws with StatelessMultinomial, which XLA on CPU lacks"

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        num_policies: int = adversarial.DEFAULT_NUM_POLICIES,
        ops: Sequence[str] = adversarial.ADVERSARIAL_SPACE.ops,
        num_subpolicies: int = 5,
        ops_per_subpolicy: int = 2,
        magnitude_bins: int = 10,
        controller_hidden: int = 100,
        controller_learning_rate: float = 0.00035,
        entropy_weight: float = 1e-5,
        weight_decay: float = 0.0,
        seed: int = 0,
        name: str = "adversarial_autoaugment",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if int(num_policies) != num_policies or num_policies < 2:
            raise ValueError(
                f"num_policies (M) must be an integer >= 2 (rewards are normalised over "
                f"the M policies), got {num_policies!r}"
            )
        if controller_learning_rate <= 0:
            raise ValueError(
                f"controller_learning_rate must be > 0, got {controller_learning_rate!r}"
            )
        if entropy_weight < 0 or weight_decay < 0:
            raise ValueError(
                f"entropy_weight and weight_decay must be >= 0, got {entropy_weight!r}, "
                f"{weight_decay!r}"
            )
        self.space = SearchSpace(
            ops=tuple(ops),
            num_subpolicies=num_subpolicies,
            ops_per_subpolicy=ops_per_subpolicy,
            magnitude_bins=magnitude_bins,
            search_probability=False,
        )
        self.num_classes = int(num_classes)
        self.num_policies = int(num_policies)
        self.entropy_weight = float(entropy_weight)
        self.weight_decay = float(weight_decay)
        self.seed = int(seed)
        self.head = keras.layers.Dense(self.num_classes, name="head")
        # Built now: fit builds the optimizer before the first step, and the target update
        # names its variables explicitly.
        self.head.build((None, int(encoder.output_shape[-1])))
        self.controller = PolicyController(
            self.space.decision_kinds, self.space.vocab_sizes, controller_hidden
        )
        self.controller_optimizer = keras.optimizers.Adam(
            controller_learning_rate, name="controller_adam"
        )
        self.controller_optimizer.build(self.controller.trainable_variables)
        self.xent_tracker = keras.metrics.Mean(name="xent")
        self.spread_tracker = keras.metrics.Mean(name="reward_loss_spread")
        self.entropy_tracker = keras.metrics.Mean(name="controller_entropy")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.logits(inputs, training=training)

    @property
    def target_variables(self) -> list:
        """Trainable variables of the target network (encoder and head)."""
        return self.encoder.trainable_variables + self.head.trainable_variables

    def sample_policies(self, step) -> tf.Tensor:
        """The ``[M, T]`` controller decisions for training step ``step``."""
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])
        return self.controller.sample(self.num_policies, seed)

    def policy_losses(self, images, labels, actions, training=True):
        """Augments with the policies of ``actions``; returns logits, per-copy loss, labels."""
        copies = adversarial.augment_with_policies(images, self.space.tables(actions), self.space)
        tiled = tf.tile(labels, [self.num_policies])
        logits = self.logits(copies, training=training)
        per_copy = keras.losses.sparse_categorical_crossentropy(tiled, logits, from_logits=True)
        return logits, per_copy, tiled

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Target loss under freshly sampled policies (used to build variables)."""
        actions = self.sample_policies(0)
        _, per_copy, _ = self.policy_losses(x["image"], x["label"], actions, training)
        return tf.reduce_mean(per_copy)

    def train_step(self, data):
        with self.seeded_step():
            images, labels = data["image"], data["label"]
            actions = self.sample_policies(self.optimizer.iterations)
            target_vars = self.target_variables
            with tf.GradientTape() as tape:
                logits, per_copy, tiled = self.policy_losses(images, labels, actions, True)
                xent = tf.reduce_mean(per_copy)
                loss = xent + l2_weight_penalty(target_vars, self.weight_decay)
                scaled = self.optimizer.scale_loss(scale_for_replicas(loss))
            self.optimizer.apply(tape.gradient(scaled, target_vars), target_vars)

            per_policy = tf.reduce_mean(tf.reshape(per_copy, [self.num_policies, -1]), axis=1)
            context = tf.distribute.get_replica_context()
            if context is not None:
                per_policy = context.all_reduce(tf.distribute.ReduceOp.MEAN, per_policy)
            rewards = adversarial.normalized_rewards(tf.stop_gradient(per_policy))
            controller_vars = self.controller.trainable_variables
            with tf.GradientTape() as tape:
                log_prob, entropy = self.controller.log_prob(actions)
                controller_loss = -tf.reduce_mean(rewards * log_prob)
                controller_loss -= self.entropy_weight * tf.reduce_mean(entropy)
                # Every replica holds the same gradient; the optimizer sums over replicas.
                controller_scaled = scale_for_replicas(controller_loss)
            grads = tape.gradient(controller_scaled, controller_vars)
            self.controller_optimizer.apply(grads, controller_vars)

            self.loss_tracker.update_state(loss)
            self.xent_tracker.update_state(xent)
            self.spread_tracker.update_state(tf.reduce_max(per_policy) - tf.reduce_min(per_policy))
            self.entropy_tracker.update_state(tf.reduce_mean(entropy))
            self.accuracy_tracker.update_state(tiled, logits)
        return self.metrics_result()

    def current_policy(self, step: int = 0) -> list:
        """A policy sampled from the controller, in the published format."""
        return self.space.decode(self.sample_policies(step)[0].numpy())
