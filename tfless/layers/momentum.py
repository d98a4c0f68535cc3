"""Exponential moving average (momentum) copies of a network.

Used by Mean Teacher's teacher (Tarvainen & Valpola 2017) and by MoCo's key
encoder (He et al. 2020): a second network whose weights follow
``target <- decay * target + (1 - decay) * source`` after each optimizer step.

The update is written for ``tf.distribute``: called from a replica context
(inside ``train_step``) it merges into the cross-replica context and updates
each mirrored variable once per device with that device's copy of the source,
so the copies stay identical on every replica.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.layers.batchnorm import bn_layers


def _tf_variable(v):
    return v.value if isinstance(v, keras.Variable) else v


def momentum_update(targets, sources, decay) -> None:
    """``t <- decay * t + (1 - decay) * s`` for each pair of variables.

    Args:
      targets: list of variables updated in place.
      sources: list of variables (or tensors) of the same shapes, in the same order.
      decay: scalar in [0, 1] (Python float or tensor; may depend on the step).
    """
    targets = [_tf_variable(t) for t in targets]
    sources = [_tf_variable(s) for s in sources]
    if len(targets) != len(sources):
        raise ValueError(
            f"momentum_update needs as many targets as sources; got {len(targets)} and "
            f"{len(sources)}."
        )

    def _update(var, src, d):
        d = tf.cast(d, var.dtype)
        return var.assign(d * var + (1.0 - d) * tf.cast(src, var.dtype))

    def _merged(strategy, sources, decay):
        for t, s in zip(targets, sources, strict=True):
            strategy.extended.update(t, _update, args=(s, decay), group=False)

    tf.__internal__.distribute.interim.maybe_merge_call(
        _merged, tf.distribute.get_strategy(), sources, decay
    )


def clone_network(
    source: keras.Model, name: str | None = None, local_bn: bool = False
) -> keras.Model:
    """A new functional/sequential model with ``source``'s structure and a copy of its weights.

    Args:
      source: built functional or sequential model.
      name: name of the copy (default: Keras' own).
      local_bn: make every batch norm of the copy per-replica (``synchronized=False``).
        MoCo's key encoder needs this: after BN shuffling its keys must be normalized
        with the statistics of each replica's (shuffled) slice of the batch.
    """
    if not isinstance(source, keras.Model):
        raise ValueError(
            f"clone_network expects a built functional or sequential keras.Model; got "
            f"{type(source).__name__}."
        )

    def clone_layer(layer):
        config = layer.get_config()
        if local_bn and isinstance(layer, keras.layers.BatchNormalization):
            config["synchronized"] = False
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(source, clone_function=clone_layer)
    copy.set_weights(source.get_weights())
    if name is not None:
        copy.name = name
    if hasattr(source, "feature_dim"):
        copy.feature_dim = source.feature_dim
    return copy


def momentum_update_trainable(target: keras.Model, source: keras.Model, momentum) -> None:
    """``theta_k <- m theta_k + (1 - m) theta_q`` on trainable weights (He et al. 2019, Eq. 2).

    For MoCo's key network, a :func:`clone_network` left trainable (rather than a
    :class:`MomentumCopy`): a frozen Keras ``BatchNormalization`` always normalizes
    with its moving statistics, while MoCo's key encoder normalizes with the
    statistics of the key batch, as in the paper; the method leaves the copy's
    variables out of the optimizer instead. Batch-norm moving statistics are not
    averaged: the key encoder keeps its own, from its own forward passes. Works in a
    replica context.
    """
    momentum_update(target.trainable_weights, source.trainable_weights, momentum)


class MomentumCopy(keras.layers.Layer):
    """A non-trainable copy of ``source`` that follows it by an exponential moving average.

    Call it like the source network; call :meth:`update` after each optimizer
    step (e.g. from ``Method.after_train_step``). Every weight follows the EMA,
    including batch-norm moving statistics, unless ``average_non_trainable`` is
    False, in which case non-trainable weights are left to the copy's own
    forward passes (MoCo keeps its key encoder's BN statistics this way).

    Args:
      source: the built functional or sequential ``keras.Model`` to follow.
      decay: default EMA decay (0.999 in Mean Teacher, MoCo).
      average_non_trainable: also average non-trainable weights (BN statistics).
      batch_stats_in_training: when True, the copy's batch-norm layers normalize with batch
        statistics when called with ``training=True`` (Mean Teacher's teacher gets its own
        noise and batch statistics, as in the authors' code). Its variables still never
        reach the optimizer. When False, a Keras-frozen copy always uses moving statistics.

    Attributes:
      network: the copy (a ``keras.Model``), usable directly.
    """

    def __init__(
        self,
        source: keras.Model,
        decay: float = 0.999,
        average_non_trainable: bool = True,
        batch_stats_in_training: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"decay must be in [0, 1]; got {decay!r}.")
        # A closure, not an attribute: Keras would track the source as a sub-layer and
        # ``trainable = False`` below would then freeze the source too.
        self._source = lambda: source
        self.decay = float(decay)
        self.average_non_trainable = bool(average_non_trainable)
        self.network = clone_network(source)
        self.network.trainable = False
        self.trainable = False
        if batch_stats_in_training:
            # Keras' BatchNormalization uses batch statistics only when its layer is
            # trainable; keep those layers trainable but their variables out of any
            # optimizer by marking each variable non-trainable.
            for layer in bn_layers(self.network):
                layer.trainable = True
                for v in layer.weights:
                    v.trainable = False

    @property
    def source(self) -> keras.Model:
        return self._source()

    def _pairs(self):
        # ``weights`` keeps the structural order of both models; the copy's own trainable
        # flags are all False, so which weights are averaged is read from the source.
        tgt, src = list(self.network.weights), list(self.source.weights)
        if [tuple(t.shape) for t in tgt] != [tuple(s.shape) for s in src]:
            raise ValueError(
                "MomentumCopy: the copy and its source no longer have matching weights."
            )
        if not self.average_non_trainable:
            keep = [i for i, s in enumerate(src) if s.trainable]
            tgt, src = [tgt[i] for i in keep], [src[i] for i in keep]
        return tgt, src

    def update(self, decay=None) -> None:
        """Moves the copy towards the source: ``t <- decay t + (1 - decay) s``."""
        tgt, src = self._pairs()
        momentum_update(tgt, src, self.decay if decay is None else decay)

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)
