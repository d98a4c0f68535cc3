"""Projection heads of the contrastive methods (SimCLR, MoCo v1/v2)."""

from __future__ import annotations

import keras


def mlp_head(
    input_dim: int,
    hidden_dims=(),
    output_dim: int = 128,
    batch_norm: bool = True,
    bn_synchronized: bool = False,
    name: str = "projection_head",
) -> keras.Model:
    """A functional MLP ``[B, input_dim] -> [B, output_dim]``: (Dense-BN-ReLU)* then Dense.

    Args:
      input_dim: feature size of the encoder output.
      hidden_dims: widths of the hidden layers (empty: a linear head).
      output_dim: size of the projection.
      batch_norm: batch-normalize the hidden layers (the SimCLR code base does).
      bn_synchronized: synchronize those batch-norm statistics across replicas.
      name: model name.
    """
    inputs = keras.Input((int(input_dim),), name="features")
    x = inputs
    for i, width in enumerate(hidden_dims):
        x = keras.layers.Dense(int(width), use_bias=not batch_norm, name=f"dense{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(synchronized=bn_synchronized, name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
    x = keras.layers.Dense(int(output_dim), name="projection")(x)
    return keras.Model(inputs, x, name=name)


def simclr_head(input_dim: int, hidden_dim: int | None = None, output_dim: int = 128, **kw):
    """SimCLR's 2-layer MLP ``g(h) = W2 ReLU(BN(W1 h))`` (Chen et al. 2020, Sec. 2.1, B.9).

    ``hidden_dim`` defaults to the feature size (2048 for ResNet-50), output 128.
    """
    return mlp_head(input_dim, (hidden_dim or input_dim,), output_dim, **kw)


def moco_head(input_dim: int, version: int = 2, hidden_dim: int | None = None, output_dim=128):
    """MoCo's head: v1 a linear layer to 128-d (He et al. 2019, Sec. 3.3); v2 a
    2-layer MLP with a hidden ReLU layer of the feature size (Chen et al. 2020, MoCo v2, Sec. 2).

    The MoCo v2 head has no batch norm.
    """
    if version not in (1, 2):
        raise ValueError(f"MoCo version must be 1 or 2; got {version!r}.")
    hidden = () if version == 1 else (hidden_dim or input_dim,)
    return mlp_head(input_dim, hidden, output_dim, batch_norm=False, name=f"moco_v{version}_head")
