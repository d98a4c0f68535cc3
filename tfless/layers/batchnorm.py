"""Batch-norm statistics helpers.

Some methods forward extra, perturbed copies of a batch that must normalize with batch
statistics (training mode) without moving the running averages: VAT's power-iteration
and adversarial passes (the authors' ``update_batch_stats=False``), for example. Keras'
``BatchNormalization`` has no such switch, so :class:`preserve_bn_statistics` saves the
moving statistics on entry and writes them back on exit. Inside ``tf.function`` the
save, the forward passes and the restore run in program order (automatic control
dependencies on the variables).
"""

from __future__ import annotations

import keras
import tensorflow as tf


def bn_layers(model: keras.layers.Layer) -> list:
    """Every BatchNormalization layer inside ``model`` (nested models included)."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def bn_moving_variables(model: keras.layers.Layer) -> list:
    """The moving mean and variance variables of every built BatchNormalization in ``model``."""
    out = []
    for layer in bn_layers(model):
        if layer.built:
            out += [layer.moving_mean, layer.moving_variance]
    return out


class preserve_bn_statistics:
    """Context manager: forward passes inside it leave BN moving statistics unchanged.

    Example::

        with preserve_bn_statistics(model):
            logits_adv = model(x + r_adv, training=True)  # batch stats, no update
    """

    def __init__(self, model: keras.layers.Layer):
        self.variables = bn_moving_variables(model)
        self._saved = None

    def __enter__(self):
        self._saved = [tf.identity(v.value) for v in self.variables]
        return self

    def __exit__(self, *exc):
        for v, saved in zip(self.variables, self._saved):
            v.assign(saved)
        self._saved = None
        return False
