"""Pieces shared by the backbone builders."""

from __future__ import annotations

import keras


def check_input_shape(input_shape, name: str, min_size: int = 1) -> tuple[int, int, int]:
    """Validates ``(H, W, C)`` and returns it as a tuple of ints."""
    shape = tuple(input_shape)
    if len(shape) != 3 or any((not isinstance(d, int)) or d < 1 for d in shape):
        raise ValueError(
            f"{name}: input_shape must be (height, width, channels); got {input_shape!r}."
        )
    if min(shape[:2]) < min_size:
        raise ValueError(
            f"{name}: images of {shape[0]}x{shape[1]} are too small; "
            f"need at least {min_size}x{min_size}."
        )
    return shape


def batch_norm(
    momentum: float = 0.99, epsilon: float = 1e-3, synchronized: bool = False, name=None
):
    """BatchNormalization; ``synchronized=True`` aggregates statistics over all replicas."""
    return keras.layers.BatchNormalization(
        momentum=momentum, epsilon=epsilon, synchronized=synchronized, name=name
    )


def finish(inputs, x, name: str, pool: bool) -> keras.Model:
    """Global-average-pools the map (unless ``pool=False``) into the named ``features`` output.

    The output is float32 under a mixed-precision policy too, so heads, losses and
    exports built on the features compute in float32 (:mod:`tfless.train.precision`).
    """
    if pool:
        x = keras.layers.GlobalAveragePooling2D(name="features", dtype="float32")(x)
    else:
        x = keras.layers.Identity(name="features", dtype="float32")(x)
    model = keras.Model(inputs, x, name=name)
    model.feature_dim = int(x.shape[-1])
    return model
