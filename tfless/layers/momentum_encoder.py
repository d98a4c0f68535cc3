"""MoCo's momentum (key) encoder: a copy of a network whose weights trail the original.

Why not :class:`tfless.layers.momentum.MomentumCopy`: that copy is frozen
(``trainable = False``), and a frozen Keras ``BatchNormalization`` always
normalizes with its moving statistics. MoCo's key encoder must normalize with
the statistics of the (shuffled) key batch, as in the paper, so the copy here
stays "trainable" for batch norm and the method simply leaves its variables
out of the optimizer. The distributed EMA itself is
:func:`tfless.layers.momentum.momentum_update`.
"""

from __future__ import annotations

import keras

from tfless.layers.momentum import momentum_update


def clone_model(model: keras.Model, name: str | None = None, local_bn: bool = False):
    """A new functional model with ``model``'s architecture and a copy of its weights.

    Args:
      model: built functional or sequential model.
      name: name of the copy.
      local_bn: make every batch norm of the copy per-replica (``synchronized=False``),
        as MoCo's key encoder after BN shuffling needs.
    """

    def clone_layer(layer):
        config = layer.get_config()
        if local_bn and isinstance(layer, keras.layers.BatchNormalization):
            config["synchronized"] = False
        return layer.__class__.from_config(config)

    clone = keras.models.clone_model(model, clone_function=clone_layer)
    clone.set_weights(model.get_weights())
    if name is not None:
        clone.name = name
    if hasattr(model, "feature_dim"):
        clone.feature_dim = model.feature_dim
    return clone


def momentum_update_trainable(target: keras.Model, source: keras.Model, momentum) -> None:
    """``theta_k <- m theta_k + (1 - m) theta_q`` on trainable weights (He et al. 2019, Eq. 2).

    Batch-norm moving statistics are not averaged: the key encoder keeps its own,
    from its own forward passes, as in MoCo. Works in a replica context.
    """
    momentum_update(target.trainable_weights, source.trainable_weights, momentum)
