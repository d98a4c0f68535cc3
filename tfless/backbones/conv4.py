"""Conv-4: the four-block network of few-shot learning."""

from __future__ import annotations

import keras

from tfless.backbones.common import batch_norm, check_input_shape, finish


def conv4(
    input_shape=(84, 84, 3),
    width: int = 64,
    bn_synchronized: bool = False,
    pool: bool = False,
    name: str = "conv4",
) -> keras.Model:
    """Four blocks of 3x3 conv(64)-BN-ReLU-maxpool(2) (Vinyals et al. 2016; Snell et al. 2017).

    As in Matching/Prototypical Networks and MAML, the final map is flattened,
    not averaged (``pool=False``): 1600-d at 84x84, 64-d at 28x28. ``pool=True``
    global-average-pools it instead.
    """
    shape = check_input_shape(input_shape, name, min_size=16)
    inputs = keras.Input(shape, name="image")
    x = inputs
    for i in range(4):
        x = keras.layers.Conv2D(width, 3, padding="same", name=f"conv{i}")(x)
        x = batch_norm(synchronized=bn_synchronized, name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
    if pool:
        return finish(inputs, x, name, pool=True)
    x = keras.layers.Flatten(name="features", dtype="float32")(x)
    model = keras.Model(inputs, x, name=name)
    model.feature_dim = int(x.shape[-1])
    return model
