"""The learned-augmentation policy controller and its REINFORCE update.

:class:`PolicyController` is the trainable LSTM controller of AutoAugment (Cubuk, Zoph,
Mane, Vasudevan, Le, "AutoAugment: Learning Augmentation Policies from Data", CVPR 2019,
https://arxiv.org/abs/1805.09501), also used by Adversarial AutoAugment and as TANDA's
sequence generator. Its forward pass is :func:`tfless.augment.policy_lstm.unroll`, the
same function that applies a saved generator as an augmentation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfless.augment import policy_lstm


class PolicyController(keras.Model):
    """Autoregressive LSTM controller over a fixed sequence of categorical decisions.

    The NAS/AutoAugment controller (Zoph & Le 2017; Cubuk et al. 2019): at step ``t`` an
    LSTM cell reads the embedding of decision ``t - 1`` (a learned start vector at
    ``t = 0``), and a softmax head of the decision's kind (op / probability / magnitude,
    shared across positions) gives the distribution of decision ``t``.

    Args:
      kinds: the kind of each decision, e.g. ``SearchSpace.decision_kinds``.
      vocab_sizes: number of choices of each kind.
      hidden: LSTM units (AutoAugment and Adversarial AutoAugment: 100).
      embedding: size of the decision embeddings.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        vocab_sizes: dict[str, int],
        hidden: int = 100,
        embedding: int = 32,
        name: str = "policy_controller",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.kinds = tuple(kinds)
        if not self.kinds:
            raise ValueError("kinds must list at least one decision")
        missing = sorted(set(self.kinds) - set(vocab_sizes))
        if missing:
            raise ValueError(f"vocab_sizes lacks the kind(s) {missing}")
        self.vocab_sizes = {k: int(vocab_sizes[k]) for k in dict.fromkeys(self.kinds)}
        self.hidden = int(hidden)
        shapes = policy_lstm.weight_shapes(self.kinds, self.vocab_sizes, self.hidden, embedding)
        # Raw weights rather than LSTMCell/Dense/Embedding layers: the controller is unrolled
        # for up to 30 steps inside tf.function, and layer-call overhead made tracing the
        # unroll and its gradient take tens of seconds.
        glorot = keras.initializers.GlorotUniform()
        # Forget-gate bias 1 (Jozefowicz et al. 2015), as Keras' unit_forget_bias.
        bias = np.zeros(shapes["lstm_bias"], np.float32)
        bias[self.hidden : 2 * self.hidden] = 1.0
        initializers = {"lstm_kernel": glorot, "lstm_bias": keras.initializers.Constant(bias)}
        for kind in self.vocab_sizes:
            initializers[f"{kind}_logits_kernel"] = glorot
            initializers[f"{kind}_logits_bias"] = "zeros"
            initializers[f"{kind}_embedding"] = keras.initializers.RandomUniform(-0.1, 0.1)
        initializers["start"] = "random_uniform"
        self.policy_weights = {
            w: self.add_weight(shape=shapes[w], initializer=initializers[w], name=w) for w in shapes
        }
        # Build every sub-layer now, so an optimizer created later sees all variables.
        self.log_prob(tf.zeros([1, len(self.kinds)], tf.int32))

    @property
    def num_decisions(self) -> int:
        """Number of decisions in one sequence."""
        return len(self.kinds)

    def sample(self, n: int, seed) -> tf.Tensor:
        """``n`` decision sequences ``[n, T]`` int32, from a stateless ``seed`` (2 ints).

        The same seed gives the same samples on every replica, so policies agree across
        devices without communication.
        """
        return policy_lstm.sample(self.policy_weights, self.kinds, n, seed)

    def log_prob(self, actions) -> tuple[tf.Tensor, tf.Tensor]:
        """Log-probability ``[n]`` and summed per-step entropy ``[n]`` of ``actions [n, T]``."""
        return policy_lstm.log_prob(self.policy_weights, self.kinds, actions)

    def call(self, actions):
        return self.log_prob(actions)[0]


def reinforce_loss(controller, actions, advantages, entropy_weight: float = 1e-5):
    """REINFORCE surrogate ``-mean(A * log pi(a)) - entropy_weight * mean(H)``.

    Args:
      controller: a :class:`PolicyController`.
      actions: ``[n, T]`` sampled decisions.
      advantages: ``[n]`` rewards minus a baseline (treated as constants).
      entropy_weight: weight of the entropy bonus (AutoAugment's 1e-5 penalty).
    """
    log_prob, entropy = controller.log_prob(actions)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    return -tf.reduce_mean(advantages * log_prob) - entropy_weight * tf.reduce_mean(entropy)


def make_reinforce_update(
    controller, optimizer, entropy_weight: float = 1e-5, compile: bool = False
) -> Callable:
    """``update(actions [n, T], advantages [n]) -> loss`` applying one controller step.

    Eager by default: tracing the gradient of a 30-step unroll costs more than the few
    hundred updates of a search on this scale; ``compile=True`` wraps it in tf.function.
    """
    optimizer.build(controller.trainable_variables)

    def update(actions, advantages):
        with tf.GradientTape() as tape:
            loss = reinforce_loss(controller, actions, advantages, entropy_weight)
        grads = tape.gradient(loss, controller.trainable_variables)
        optimizer.apply(grads, controller.trainable_variables)
        return loss

    # A static Python loop unrolls the controller: autograph only slows the trace down.
    return tf.function(update, autograph=False) if compile else update
