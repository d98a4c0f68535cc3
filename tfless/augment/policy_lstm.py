"""The autoregressive policy LSTM's forward pass, as a pure function of its weights.

The NAS/AutoAugment controller (Zoph & Le, "Neural Architecture Search with Reinforcement
Learning", ICLR 2017, https://arxiv.org/abs/1611.01578; Cubuk et al., "AutoAugment",
CVPR 2019, https://arxiv.org/abs/1805.09501) emits a fixed sequence of categorical
decisions: at step ``t`` an LSTM cell reads the embedding of decision ``t - 1`` (a learned
start vector at ``t = 0``), and a softmax head of the decision's kind (shared across
positions of that kind) gives the distribution of decision ``t``.

The trainable controller, :class:`tfless.methods.augment.PolicyController`, runs this
function on its variables; an augmentation that applies a trained generator (the
``tanda`` view) runs it on saved weights, without any training code.

Weights, by name (``H`` hidden units, ``E`` embedding size, ``V_k`` choices of kind ``k``):
``lstm_kernel [E + H, 4H]``, ``lstm_bias [4H]`` (gates i, f, g, o), ``start [1, E]``, and per
kind ``{k}_logits_kernel [H, V_k]``, ``{k}_logits_bias [V_k]``, ``{k}_embedding [V_k, E]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import tensorflow as tf


def weight_shapes(
    kinds: Sequence[str], vocab_sizes: Mapping[str, int], hidden: int, embedding: int
) -> dict[str, tuple[int, ...]]:
    """Shape of every weight of a policy LSTM over decisions ``kinds``, by name."""
    shapes = {"lstm_kernel": (embedding + hidden, 4 * hidden), "lstm_bias": (4 * hidden,)}
    for kind in dict.fromkeys(kinds):
        n = int(vocab_sizes[kind])
        shapes[f"{kind}_logits_kernel"] = (hidden, n)
        shapes[f"{kind}_logits_bias"] = (n,)
        shapes[f"{kind}_embedding"] = (n, embedding)
    shapes["start"] = (1, embedding)
    return shapes


def unroll(weights: Mapping, kinds: Sequence[str], n, actions=None, seed=None):
    """Runs the LSTM over ``len(kinds)`` decisions for ``n`` sequences.

    Args:
      weights: name -> tensor or variable (see the module docstring).
      kinds: the kind of each decision, in emission order.
      n: number of sequences (int or scalar tensor).
      actions: ``[n, T]`` int32 decisions to score; None samples them.
      seed: stateless seed ``[2]`` int64 when sampling; decision ``t`` uses
        ``(seed[0], seed[1] * 1000 + t)``.

    Returns:
      ``(actions [n, T] int32, log_prob [n], entropy [n])``: the decisions, their summed
      log-probability and the summed per-step entropy.
    """
    hidden = int(weights["lstm_bias"].shape[0]) // 4
    inputs = tf.tile(weights["start"], [n, 1])
    h, c = tf.zeros([n, hidden]), tf.zeros([n, hidden])
    chosen, log_prob, entropy = [], tf.zeros([n]), tf.zeros([n])
    kernel = tf.convert_to_tensor(weights["lstm_kernel"])
    bias = tf.convert_to_tensor(weights["lstm_bias"])
    for t, kind in enumerate(kinds):
        z = tf.matmul(tf.concat([inputs, h], axis=1), kernel) + bias
        i, f, g, o = tf.split(z, 4, axis=1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        h = tf.sigmoid(o) * tf.tanh(c)
        logits = tf.matmul(h, weights[f"{kind}_logits_kernel"]) + weights[f"{kind}_logits_bias"]
        logp = tf.nn.log_softmax(logits)
        if actions is None:
            step_seed = tf.stack([seed[0], seed[1] * 1000 + t])
            a = tf.random.stateless_categorical(logits, 1, step_seed, dtype=tf.int32)[:, 0]
        else:
            a = actions[:, t]
        chosen.append(a)
        log_prob += tf.gather(logp, a, batch_dims=1)
        entropy -= tf.reduce_sum(tf.exp(logp) * logp, axis=-1)
        inputs = tf.gather(tf.convert_to_tensor(weights[f"{kind}_embedding"]), a)
    return tf.stack(chosen, axis=1), log_prob, entropy


def sample(weights: Mapping, kinds: Sequence[str], n, seed) -> tf.Tensor:
    """``n`` decision sequences ``[n, T]`` int32 from a stateless ``seed`` (2 ints).

    The same seed gives the same samples on every replica, so policies agree across
    devices without communication.
    """
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    return unroll(weights, kinds, n, seed=seed)[0]


def log_prob(weights: Mapping, kinds: Sequence[str], actions) -> tuple[tf.Tensor, tf.Tensor]:
    """Log-probability ``[n]`` and summed per-step entropy ``[n]`` of ``actions [n, T]``."""
    actions = tf.cast(tf.convert_to_tensor(actions), tf.int32)
    _, logp, entropy = unroll(weights, kinds, tf.shape(actions)[0], actions=actions)
    return logp, entropy
