"""CPC v2: contrastive predictive coding over a grid of image patches."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.augment.ops import check_probability, intensity_jitter
from tfless.losses.contrastive import info_nce
from tfless.methods.base import Method
from tfless.methods.contrastive.common import (
    batch_images,
    check_global_batch,
    gather,
    replica_info,
    shared_encoder_at,
)


def patch_grid_size(image_size: int, patch_size: int, stride: int) -> int:
    """Number of patches per side of a ``image_size`` image: ``(H - p) // s + 1``."""
    return (int(image_size) - int(patch_size)) // int(stride) + 1


def extract_patch_grid(images, patch_size: int, stride: int):
    """Overlapping patches ``[B, G, G, p, p, C]`` of images ``[B, H, W, C]`` (``VALID`` tiling)."""
    c = images.shape[-1]
    patches = tf.image.extract_patches(
        images, [1, patch_size, patch_size, 1], [1, stride, stride, 1], [1, 1, 1, 1], "VALID"
    )
    g_h, g_w = patches.shape[1], patches.shape[2]
    return tf.reshape(patches, [-1, g_h, g_w, patch_size, patch_size, c])


class PatchGridFlatten(keras.layers.Layer):
    """Images ``[B, H, W, C]`` -> their patch grid as a batch of patches ``[B*G*G, p, p, C]``."""

    def __init__(self, patch_size: int, stride: int, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.stride = int(patch_size), int(stride)

    def call(self, images):
        patches = extract_patch_grid(images, self.patch_size, self.stride)
        p = self.patch_size
        return tf.reshape(patches, [-1, p, p, images.shape[-1]])

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "stride": self.stride}


class GridMeanPool(keras.layers.Layer):
    """Patch features ``[B*G*G, D]`` -> their mean over each image's ``G x G`` grid ``[B, D]``."""

    def __init__(self, cells: int, **kwargs):
        super().__init__(**kwargs)
        self.cells = int(cells)

    def call(self, features):
        dim = features.shape[-1]
        return tf.reduce_mean(tf.reshape(features, [-1, self.cells, dim]), axis=1)

    def get_config(self):
        return {**super().get_config(), "cells": self.cells}


#: Prediction directions: where the predicted patches lie relative to the context.
DIRECTIONS = ("down", "up", "right", "left")


def _suffixed(name: str, direction: str) -> str:
    return name if direction == "down" else f"{name}_{direction}"


def orient_grid(z, direction: str):
    """The ``[B, G, G, D]`` grid re-indexed so that ``direction`` becomes "down".

    ``up``: rows reversed; ``right``: transposed (columns become rows); ``left``:
    transposed, then rows reversed. Every patch stays in the grid, so InfoNCE over
    the re-indexed grid has the same candidates.
    """
    if direction == "down":
        return z
    if direction == "up":
        return tf.reverse(z, axis=[1])
    t = tf.transpose(z, [0, 2, 1, 3])
    return t if direction == "right" else tf.reverse(t, axis=[1])


def context_network(grid: int, dim: int, layers: int = 2, kernel: int = 3, name="context"):
    """A masked (PixelCNN-style) residual conv stack over a ``[G, G, dim]`` feature grid.

    Every convolution is causal along rows: the input is padded with ``kernel - 1``
    rows on top and none below, so context ``c[i, j]`` depends only on rows ``<= i``.
    """
    inputs = keras.Input((grid, grid, dim), name="patch_features")
    x = inputs
    for i in range(layers):
        h = keras.layers.ZeroPadding2D(((kernel - 1, 0), (kernel // 2, kernel // 2)))(x)
        h = keras.layers.Conv2D(dim, (kernel, kernel), activation="relu", name=f"masked{i}a")(h)
        h = keras.layers.Conv2D(dim, 1, name=f"masked{i}b")(h)
        x = keras.layers.ReLU()(keras.layers.Add()([x, h]))
    return keras.Model(inputs, x, name=name)


class CPC(Method):
    """Contrastive Predictive Coding v2 (Henaff et al., ICML 2020, arXiv:1905.09272; after
    van den Oord, Li & Vinyals 2018, arXiv:1807.03748).

    Each image is cut into a ``G x G`` grid of overlapping patches; the encoder
    maps every patch to ``z[i, j]``; a masked convolutional context network sees
    only rows above and including ``i`` and produces ``c[i, j]``; for each
    ``k = 1..prediction_steps`` a linear map ``W_k`` predicts ``z[i + k, j]`` from
    ``c[i, j]``, and InfoNCE picks the true patch among all patches of all images
    in the global batch (gathered from every replica: other locations of the
    same image and every location of other images are the negatives).

    Paper setting: 64 px patches at stride 32 (a 7 x 7 grid), predictions up to 5
    rows ahead (van den Oord et al. 2018, Sec. 3.3), top-to-bottom. CPC v2's other
    changes live elsewhere: layer normalization instead of batch norm in the encoder
    (batch statistics would leak across patches of one image; choose a backbone
    without BN for faithful runs, e.g. ``convnet(norm="layer")``) and patch-wise
    augmentation (the input pipeline). CPC v2 also predicts in other directions than
    top-to-bottom: ``directions`` adds bottom-to-top, left-to-right and
    right-to-left, each with its own context network and predictors over the same
    patch features (the grid is flipped or transposed so that every direction
    predicts "rows below").

    Features for evaluation and export (``eval_features``): by default the paper's
    protocol (CPC v2, Sec. 2.2: the context network and predictors are discarded
    and the encoder forms ``z = f(x)`` of the patched image; linear classification
    reads ``z`` mean-pooled over the grid): :meth:`feature_encoder` cuts an image
    into the same patch grid, encodes every patch and averages. ``"image"`` runs
    the (fully convolutional) encoder on the whole image instead; on 8x8 digits
    upsampled to 24x24, whose 8 px patches hold about 3x3 source pixels, pooling
    the grid loses where the strokes are and the whole image probes better (see
    ``configs/cpc/digits.py``).

    Reads ``image`` (or the first of ``views``); ``label`` is ignored.

    Args:
      encoder: functional feature network; it encodes the patches at the patch size
        (same weights); :meth:`feature_encoder` wraps it for whole images.
      patch_size: p, patch side in pixels.
      patch_stride: s (default ``p // 2``: half-overlapping as in the paper).
      prediction_steps: K, rows predicted ahead; needs a grid of at least K + 1 rows.
      context_layers: residual masked conv blocks of the context network.
      eval_features: ``"patch_grid"`` (the paper) or ``"image"``.
      patch_jitter: strength of a contrast and brightness jitter drawn independently for
        every patch in training (:func:`tfless.augment.ops.intensity_jitter`): CPC v2's
        patch-based augmentation, so that neighbouring patches cannot be matched by
        their low-level statistics alone. 0 (default) turns it off.
      directions: some of ``"down"`` (context above predicts rows below: the
        default), ``"up"``, ``"right"``, ``"left"``; the loss averages them.
    """

    input_keys = ("image",)

    def __init__(
        self,
        encoder: keras.Model,
        patch_size: int = 64,
        patch_stride: int | None = None,
        prediction_steps: int = 5,
        context_layers: int = 2,
        directions=("down",),
        eval_features: str = "patch_grid",
        patch_jitter: float = 0.0,
        name: str = "cpc",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        h, w, c = (int(d) for d in encoder.input.shape[1:])
        self.patch_size = int(patch_size)
        self.patch_stride = int(patch_stride or max(1, self.patch_size // 2))
        self.prediction_steps = int(prediction_steps)
        if self.prediction_steps < 1:
            raise ValueError(f"CPC prediction_steps must be >= 1; got {prediction_steps!r}.")
        grid = patch_grid_size(min(h, w), self.patch_size, self.patch_stride)
        if self.patch_size > min(h, w) or grid < self.prediction_steps + 1:
            raise ValueError(
                f"CPC: a {h}x{w} image is too small for {self.patch_size} px patches at stride "
                f"{self.patch_stride}: it gives a grid of {max(grid, 0)} rows, and predicting "
                f"{self.prediction_steps} rows ahead needs at least {self.prediction_steps + 1}."
            )
        if h != w:
            raise ValueError(f"CPC expects square images; got {h}x{w}.")
        if isinstance(directions, str):
            directions = (directions,)
        directions = tuple(directions)
        bad = [d for d in directions if d not in DIRECTIONS]
        if bad or not directions or len(set(directions)) != len(directions):
            raise ValueError(
                f"CPC directions must be distinct values among {DIRECTIONS}; got {directions!r}."
            )
        self.directions = directions
        if eval_features not in ("patch_grid", "image"):
            raise ValueError(
                f"CPC eval_features must be 'patch_grid' or 'image'; got {eval_features!r}."
            )
        self.eval_features = eval_features
        check_probability(patch_jitter, "CPC patch_jitter")
        self.patch_jitter = float(patch_jitter)
        self.grid = grid
        self.patch_encoder = shared_encoder_at(
            encoder, (self.patch_size, self.patch_size, c), name="patch_encoder"
        )
        # Built here (no new variables) so the tracked structure never changes after init.
        image = keras.Input((h, w, c), name="image")
        self.patch_grid = PatchGridFlatten(self.patch_size, self.patch_stride, name="patch_grid")
        pooled = GridMeanPool(grid * grid, name="grid_mean")(
            self.patch_encoder(self.patch_grid(image))
        )
        self.grid_encoder = keras.Model(image, pooled, name=f"{encoder.name}_patch_grid")
        dim = int(self.patch_encoder.feature_dim)
        # One context network and K predictors per direction ("down" keeps the
        # single-direction names).
        self.contexts = [
            context_network(grid, dim, int(context_layers), name=_suffixed("context", d))
            for d in directions
        ]
        self.predictors = [
            keras.layers.Dense(dim, use_bias=False, name=_suffixed(f"predict_{k + 1}", d))
            for d in directions
            for k in range(self.prediction_steps)
        ]
        for p in self.predictors:
            p.build((None, dim))
        self.step_losses = [
            keras.metrics.Mean(name=f"nce_step{k + 1}") for k in range(self.prediction_steps)
        ]

    def feature_encoder(self) -> keras.Model:
        """``[B, H, W, C] -> [B, D]``: the patch encoder over the image's patch grid,
        mean-pooled (the paper's evaluation features), or with ``eval_features="image"``
        the encoder itself. Same weights as :attr:`encoder`."""
        return self.grid_encoder if self.eval_features == "patch_grid" else self.encoder

    def call(self, inputs, training=False):
        return self.features(batch_images(inputs), training=training)

    def patch_features(self, images, training=False):
        """``z``: ``[B, G, G, D]`` features of the patch grid of ``images``."""
        flat = self.patch_grid(images)
        if training and self.patch_jitter:
            flat = intensity_jitter(flat, self.patch_jitter)
        z = self.patch_encoder(flat, training=training)
        return tf.reshape(z, [-1, self.grid, self.grid, z.shape[-1]])

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        images = batch_images(x)
        ctx, replicas, replica_id = replica_info()
        check_global_batch(images.shape[0], replicas, "CPC", minimum=1)
        z_down = self.patch_features(images, training=training)
        g, dim = self.grid, z_down.shape[-1]
        local = tf.shape(z_down)[0]
        base = replica_id * local * g * g
        total = 0.0
        for d, direction in enumerate(self.directions):
            z = orient_grid(z_down, direction)  # this direction predicts "rows below"
            context = self.contexts[d](z, training=training)
            candidates = gather(tf.reshape(z, [-1, dim]), ctx)  # every patch of the global batch
            for k in range(1, self.prediction_steps + 1):
                predictor = self.predictors[d * self.prediction_steps + k - 1]
                pred = predictor(tf.reshape(context[:, : g - k], [-1, dim]))
                b, i, j = tf.meshgrid(tf.range(local), tf.range(g - k), tf.range(g), indexing="ij")
                target = base + tf.reshape((b * g + i + k) * g + j, [-1])
                step = info_nce(pred, candidates, positive_index=target)
                self.step_losses[k - 1].update_state(step)
                total += step
        return total / (self.prediction_steps * len(self.directions))
