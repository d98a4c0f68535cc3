"""The Meta-learner LSTM: a learned optimizer of a few-shot learner (Ravi & Larochelle 2017)."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from tfless.layers.batchnorm import bn_layers
from tfless.losses import fewshot as fs
from tfless.methods.fewshot.fast_weights import FastWeightMethod, positive


def preprocess(x, p: float = 10.0):
    """The gradient / loss preprocessing of Andrychowicz et al. 2016 (Appendix A), ``[...]`` ->
    ``[..., 2]``: ``(log|x| / p, sign(x))`` where ``|x| >= exp(-p)``, else ``(-1, exp(p) x)``.

    It brings inputs of very different magnitudes to a common scale while keeping the sign.
    """
    x = tf.convert_to_tensor(x)
    big = tf.abs(x) >= math.exp(-p)
    safe = tf.maximum(tf.abs(x), math.exp(-p))
    first = tf.where(big, tf.math.log(safe) / p, -tf.ones_like(x))
    second = tf.where(big, tf.sign(x), math.exp(p) * x)
    return tf.stack([first, second], axis=-1)


def _flatten(tensors):
    return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)


def _unflatten(flat, like):
    sizes = [int(math.prod(t.shape)) for t in like]
    return [tf.reshape(p, t.shape) for p, t in zip(tf.split(flat, sizes), like)]


class MetaLSTM(FastWeightMethod):
    """Meta-learner LSTM (Ravi & Larochelle, "Optimization as a Model for Few-Shot Learning",
    ICLR 2017; official code twitter/meta-learning-lstm).

    The learner (the encoder and a linear head with ``ways`` outputs) is trained on an episode's
    support set by an LSTM whose cell state IS the learner's parameter vector ``c``. Every
    inner step ``t`` computes the learner's support loss ``L_t`` and gradient ``g_t`` at
    ``c_{t-1}``, and per coordinate (all weights shared across coordinates):

    * layer 1, a standard LSTM (``hidden_size`` units) over the preprocessed loss and gradient
      (:func:`preprocess`, ``P = preprocess_p``; 4 inputs);
    * layer 2, the meta-learner cell with learned gates,
      ``f_t = sigmoid(W_F [h_t, c_{t-1}, f_{t-1}] + b_F)``,
      ``i_t = sigmoid(W_I [h_t, c_{t-1}, i_{t-1}] + b_I)``,
      ``c_t = f_t * c_{t-1} - i_t * g_t``.

    With ``f = 1`` and ``i = lr`` this is plain SGD; the gate biases start in ``b_F ~ U(4, 5)``
    and ``b_I ~ U(-5, -4)`` (the paper's initialization: an SGD-like update with a small
    rate), the other meta-weights in ``U(-0.01, 0.01)``. ``c_0`` is the learner's meta-learned
    initialization (its variables). ``f_0 = i_0 = 0`` and the layer-1 state starts at zero
    (the paper is silent; the common choice). The meta-loss is the query cross-entropy at
    ``c_T``; no second derivatives: ``L_t`` and ``g_t`` are constants to the meta-gradient.

    Inner loop (paper): ``inner_steps`` updates on the whole support set (1-shot: 12 updates
    on batches of 5; 5-shot: 8 on batches of 25, the whole 5-way support set in both), the same
    at meta-test. Meta-optimizer: Adam 1e-3 with the gradient norm clipped at 0.25 (config:
    ``optimizer.clipnorm``).

    Batch norm, as the official code: statistics are reset at the start of every episode
    (means 0, variances 1); the inner loop normalizes with batch statistics and accumulates
    moving statistics with ``bn_momentum`` (Keras convention, the weight of the old value: the
    code's Torch momentum 0.9 for 1-shot is ``0.1`` here, 0.95 for 5-shot is ``0.05``; this
    constructor sets it on the encoder's batch-norm layers). Meta-training queries use batch
    statistics; at meta-test (:meth:`episode_logits`) the learner is in inference mode and uses
    the statistics accumulated during that episode's inner loop only. Batch-norm scales and
    offsets are part of ``c`` (``adapt_batch_norm=True``).

    Args:
      encoder: the built learner network ``[B, H, W, C] -> [B, D]`` (Conv-4, 32 filters).
      ways: N of the episodes.
      inner_steps: learner updates per episode (paper: 12 for 1-shot, 8 for 5-shot).
      hidden_size: units of the layer-1 LSTM (paper: 20).
      preprocess_p: ``P`` of the preprocessing (paper: 10).
      bn_momentum: the learner's batch-norm momentum (Keras convention, see above).
      adapt_batch_norm: whether batch-norm scales and offsets are part of ``c``.
      name: Keras model name.
    """

    def __init__(
        self,
        encoder: keras.Model,
        ways: int = 5,
        inner_steps: int = 12,
        hidden_size: int = 20,
        preprocess_p: float = 10.0,
        bn_momentum: float = 0.1,
        adapt_batch_norm: bool = True,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(encoder, ways, adapt_batch_norm, "MetaLSTM", name=name, **kwargs)
        self.inner_steps = positive(inner_steps, "inner_steps", "MetaLSTM")
        self.hidden_size = positive(hidden_size, "hidden_size", "MetaLSTM")
        self.preprocess_p = positive(preprocess_p, "preprocess_p", "MetaLSTM", float)
        if not 0.0 <= float(bn_momentum) < 1.0:
            raise ValueError(f"MetaLSTM bn_momentum must be in [0, 1); got {bn_momentum!r}.")
        for layer in bn_layers(encoder):
            layer.momentum = float(bn_momentum)
        small = keras.initializers.RandomUniform(-0.01, 0.01)
        h = self.hidden_size
        self.lstm_kernel = self.add_weight(shape=(4 + h, 4 * h), initializer=small, name="lstm_w")
        self.lstm_bias = self.add_weight(shape=(4 * h,), initializer=small, name="lstm_b")
        self.forget_kernel = self.add_weight(shape=(h + 2, 1), initializer=small, name="w_f")
        self.input_kernel = self.add_weight(shape=(h + 2, 1), initializer=small, name="w_i")
        self.forget_bias = self.add_weight(
            shape=(1,), initializer=keras.initializers.RandomUniform(4.0, 5.0), name="b_f"
        )
        self.input_bias = self.add_weight(
            shape=(1,), initializer=keras.initializers.RandomUniform(-5.0, -4.0), name="b_i"
        )
        self.built = True

    def _lstm(self, x, h, c):
        z = tf.matmul(tf.concat([x, h], -1), self.lstm_kernel) + self.lstm_bias
        i, f, g, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
        return tf.sigmoid(o) * tf.tanh(c), c

    def gates(self, h, c_prev, f_prev, i_prev):
        """``(f_t, i_t)`` ``[n, 1]`` of the meta-learner cell from the layer-1 output ``h
        [n, hidden]``, the learner's parameters ``c_prev [n, 1]`` and the previous gates."""
        f = tf.sigmoid(
            tf.matmul(tf.concat([h, c_prev, f_prev], -1), self.forget_kernel) + self.forget_bias
        )
        i = tf.sigmoid(
            tf.matmul(tf.concat([h, c_prev, i_prev], -1), self.input_kernel) + self.input_bias
        )
        return f, i

    def adapt(self, support_image, support_label):
        """Trains the learner on one episode's support set; returns ``(params, state)``: the
        learner's parameter list ``c_T`` and its batch-norm statistics of the episode."""
        learner = self.learner
        init = learner.parameters()
        state = learner.reset_state()
        c = _flatten(init)[:, None]
        n = int(c.shape[0])
        h = cell = tf.zeros([n, self.hidden_size], c.dtype)
        f = i = tf.zeros([n, 1], c.dtype)
        keep = self._adapted_mask(init)
        for _ in range(self.inner_steps):
            params = _unflatten(c[:, 0], init)
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(params)
                logits, state = learner.logits(params, state, support_image, training=True)
                loss = fs.episode_cross_entropy(support_label, logits)
            grads = tape.gradient(loss, params)
            # No second derivatives: the learner's loss and gradient are inputs only.
            grad = tf.stop_gradient(_flatten(grads))[:, None]
            loss = tf.stop_gradient(loss) * tf.ones_like(grad[:, 0])
            p = self.preprocess_p
            x = tf.concat([preprocess(loss, p), preprocess(grad[:, 0], p)], axis=-1)
            h, cell = self._lstm(x, h, cell)
            f, i = self.gates(h, c, f, i)
            updated = f * c - i * grad
            c = updated if keep is None else tf.where(keep, updated, c)
        return _unflatten(c[:, 0], init), state

    def _adapted_mask(self, init):
        """bool ``[n, 1]``: the coordinates the meta-learner updates (None when all are)."""
        if all(self.learner.adapted):
            return None
        parts = [
            tf.fill([int(math.prod(t.shape))], adapted)
            for t, adapted in zip(init, self.learner.adapted)
        ]
        return tf.concat(parts, 0)[:, None]

    def query_logits(self, support_image, support_label, query_image, training: bool):
        """Query logits of the adapted learner: batch statistics when meta-training, the
        episode's accumulated statistics (inference mode) at meta-test."""
        params, state = self.adapt(support_image, support_label)
        logits, _ = self.learner.logits(params, state, query_image, training=bool(training))
        return logits
