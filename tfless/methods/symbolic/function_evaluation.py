"""Function evaluation: predict the value of ``f(a)`` from its tree."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfless.data.symbolic_tables import TABLE_KEYS
from tfless.layers.tree_lstm import TreeLSTM
from tfless.methods.base import Method
from tfless.methods.symbolic.verification import side_states

#: A prediction counts as correct when its relative error is at most this (the paper's).
RELATIVE_TOLERANCE = 1e-3


def relative_error(prediction, target):
    """``|prediction - target| / max(|target|, 1e-8)``, elementwise (NumPy or tensors)."""
    if isinstance(prediction, np.ndarray):
        return np.abs(prediction - target) / np.maximum(np.abs(target), 1e-8)
    return tf.abs(prediction - target) / tf.maximum(tf.abs(target), 1e-8)


class FunctionEvaluator(Method):
    """Function evaluation: the Tree-LSTM encodes the left side ``f(a)`` of a numeric
    equation and the number decoder ``Dense(hidden, sigmoid) -> Dense(1)`` predicts its
    value, trained with mean squared error against ``target`` (the exact ``f(a)``).

    "Combining Symbolic Expressions and Black-box Function Evaluations in Neural Programs"
    (Arabshahi, Singh, Anandkumar, ICLR 2018, arXiv 1801.04342): numeric equations train
    through a number decoder with MSE; a prediction is correct when its relative error is at
    most 1e-3 (``accuracy``). The paper's decoder ends in a sigmoid on normalized values;
    here the last layer is linear on raw values (our choice, no normalization to undo).
    ``accuracy_1e2`` reports the looser 1e-2 tolerance too. Reads node tables and ``target``
    (examples labelled false are the caller's to leave out).
    """

    input_keys = TABLE_KEYS + ("target",)

    def __init__(self, encoder: TreeLSTM, name: str = "function_evaluator", **kwargs):
        super().__init__(encoder, name=name, **kwargs)
        init = keras.initializers.GlorotUniform(seed=1)
        self.decoder = keras.Sequential(
            [
                keras.layers.Dense(encoder.hidden, "sigmoid", kernel_initializer=init),
                keras.layers.Dense(1, kernel_initializer=init),
            ],
            name="number_decoder",
        )
        self.accuracy_tracker = keras.metrics.Mean(name="accuracy")
        self.loose_tracker = keras.metrics.Mean(name="accuracy_1e2")

    def call(self, inputs, training=False):
        lhs, _ = side_states(self.encoder(inputs, training=training), inputs)
        return self.decoder(lhs, training=training)[:, 0]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        prediction = self(x, training=training)
        target = tf.cast(x["target"], prediction.dtype)
        error = relative_error(prediction, target)
        self.accuracy_tracker.update_state(tf.cast(error <= RELATIVE_TOLERANCE, tf.float32))
        self.loose_tracker.update_state(tf.cast(error <= 1e-2, tf.float32))
        return tf.reduce_mean(tf.square(prediction - target))

    def test_step(self, data):
        self.loss_tracker.update_state(self.compute_loss(x=data, training=False))
        return self.metrics_result()

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker, self.loose_tracker]
