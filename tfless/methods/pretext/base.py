"""Shared pieces of the pretext-task methods."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.methods.base import Method


def image_shape_of(encoder: keras.Model, what: str) -> tuple[int, int, int]:
    """``(H, W, C)`` the encoder was built for; ``ValueError`` if it is not fully known."""
    shape = tuple(encoder.input_shape[1:])
    if len(shape) != 3 or any(d is None for d in shape):
        raise ValueError(
            f"{what}: the encoder must be built for a fixed (H, W, C) image shape; "
            f"got input shape {encoder.input_shape}."
        )
    return tuple(int(d) for d in shape)


def allow_any_image_size(encoder: keras.Model, channels: int) -> None:
    """Lets a fully convolutional encoder run on tiles smaller than its build size.

    Siamese pretext tasks (jigsaw, context) apply the encoder to patches, while the
    exported encoder keeps taking whole images; Keras functional models otherwise
    reject inputs whose spatial size differs from the ``keras.Input`` they were built on.
    """
    encoder.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})


def check_encoder_runs_on(encoder: keras.Model, size: int, channels: int, what: str) -> None:
    """Raises ``ValueError`` if the encoder cannot process ``size x size`` patches."""
    try:
        out = encoder(tf.zeros([1, size, size, channels]), training=False)
    except Exception as e:  # any failure means the patch is too small
        raise ValueError(
            f"{what}: the encoder cannot process {size}x{size} patches ({type(e).__name__}); "
            "use larger images or a smaller grid."
        ) from e
    if len(out.shape) != 2:
        raise ValueError(f"{what}: the encoder must return [B, D] features; got {out.shape}.")


def mlp_head(
    in_dim: int, hidden_dim: int, out_dim: int, name: str, hidden_layers: int = 1
) -> keras.Sequential:
    """Built ``hidden_layers x [Dense(hidden_dim) -> ReLU] -> Dense(out_dim)``
    (``hidden_dim=0``: one linear layer).

    Built at construction so every variable exists before ``fit`` builds the optimizer
    (under ``tf.distribute`` the optimizer only knows the variables present then).
    """
    layers = [keras.Input((in_dim,))]
    if hidden_dim:
        layers += [
            keras.layers.Dense(
                hidden_dim, activation="relu", name=f"{name}_hidden" + (f"{i}" if i else "")
            )
            for i in range(hidden_layers)
        ]
    layers.append(keras.layers.Dense(out_dim, name=f"{name}_logits"))
    return keras.Sequential(layers, name=name)


def branch_layer(in_dim: int, width: int, name: str) -> keras.layers.Layer:
    """A siamese branch's own fully connected layer (fc6), ``Dense(width) -> ReLU``, built.

    ``width=0`` gives the identity (the branch output is the encoder feature).
    """
    if not width:
        return keras.layers.Identity(name=name)
    layer = keras.layers.Dense(width, activation="relu", name=f"{name}_fc6")
    layer.build((None, in_dim))
    return layer


def feature_dim_of(encoder: keras.Model) -> int:
    """Size ``D`` of the encoder's ``[B, D]`` features."""
    return int(encoder.output_shape[-1])


class PretextMethod(Method):
    """A :class:`Method` whose evaluation step reports its pretext loss and metrics.

    Subclasses implement ``compute_loss`` (which updates their trackers); ``test_step``
    runs it with ``training=False`` so ``fit(validation_data=...)`` and ``evaluate``
    report the pretext task on held-out images. The pretext tasks read ``image`` only
    (labels never reach them).
    """

    input_keys = ("image",)

    def build(self, input_shape=None):
        # Sub-models are built in the constructors; nothing is created lazily.
        self.built = True

    def test_step(self, data):
        loss = self.compute_loss(x=data, training=False)
        self.loss_tracker.update_state(loss)
        return self.metrics_result()
