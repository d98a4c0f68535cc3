"""Equation verification with a Tree-LSTM: is ``lhs = rhs`` an identity?"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.data.symbolic import FUNCTIONS, NUMBER, SYMBOL_ID, VOCABULARY
from tfless.data.symbolic_tables import TABLE_KEYS
from tfless.layers.tree_lstm import TreeLSTM
from tfless.methods.base import Method


def build_tree_lstm(
    hidden: int = 50, dropout: float = 0.2, max_height: int = 7, seed: int = 0
) -> TreeLSTM:
    """A :class:`tfless.layers.tree_lstm.TreeLSTM` over the grammar of
    :mod:`tfless.data.symbolic` (one cell per function, raw ``Number`` leaves encoded)."""
    return TreeLSTM(
        num_symbols=len(VOCABULARY),
        function_ids=range(SYMBOL_ID[FUNCTIONS[0]], SYMBOL_ID[FUNCTIONS[-1]] + 1),
        number_id=SYMBOL_ID[NUMBER],
        hidden=hidden,
        max_height=max_height,
        dropout=dropout,
        seed=seed,
    )


def side_states(states, batch):
    """``(h_lhs, h_rhs)``: rows ``lhs_root`` / ``rhs_root`` of per-node states ``[B, M, H]``."""
    lhs = tf.gather(states, tf.cast(batch["lhs_root"], tf.int32), batch_dims=1)
    rhs = tf.gather(states, tf.cast(batch["rhs_root"], tf.int32), batch_dims=1)
    return lhs, rhs


class VerifierMixin:
    """Loss, accuracy and evaluation shared by the verifiers: a logit per equation,
    ``<h_lhs, h_rhs> + bias``, trained with binary cross-entropy on ``label``."""

    def _init_verifier(self):
        self.bias = self.add_weight(shape=(), initializer="zeros", name="score_bias")
        self.accuracy_tracker = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)

    def score(self, lhs, rhs):
        """The logit ``<h_lhs, h_rhs> + bias`` of side states ``[B, H]``."""
        return tf.reduce_sum(lhs * rhs, axis=-1) + self.bias

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits = self(x, training=training)
        labels = tf.cast(x["label"], logits.dtype)
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
        self.accuracy_tracker.update_state(labels, logits)
        return loss

    def test_step(self, data):
        loss = self.compute_loss(x=data, training=False)
        self.loss_tracker.update_state(loss)
        return self.metrics_result()

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker]


class TreeLSTMVerifier(VerifierMixin, Method):
    """Equation verification with a Tree-LSTM over both sides.

    "Combining Symbolic Expressions and Black-box Function Evaluations in Neural Programs"
    (Arabshahi, Singh, Anandkumar, ICLR 2018, arXiv 1801.04342): each side is encoded by
    the Tree-LSTM (one cell per function), the equation's logit is
    ``<h_lhs, h_rhs> + bias`` and the loss is binary cross-entropy (the paper's 2-way
    softmax against a fixed 0 logit). Reads node tables
    (:mod:`tfless.data.symbolic_tables`) and ``label``; ``encoder`` is the Tree-LSTM.
    Trained on identities alone it is "Tree-LSTM (symbolic)"; with numeric equations
    ``f(a) = b`` (decimal trees) added to its data it is "Tree-LSTM (symbolic + numeric)".
    """

    input_keys = TABLE_KEYS + ("label",)

    def __init__(self, encoder: TreeLSTM, name: str = "tree_lstm_verifier", **kwargs):
        super().__init__(encoder, name=name, **kwargs)
        self._init_verifier()

    def call(self, inputs, training=False):
        lhs, rhs = side_states(self.encoder(inputs, training=training), inputs)
        return self.score(lhs, rhs)
