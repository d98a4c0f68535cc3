"""Jigsaw puzzles: predicting the permutation of shuffled tiles."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tfless.augment.ops import check_probability, intensity_jitter
from tfless.losses.pretext import pretext_cross_entropy
from tfless.methods.pretext.base import (
    PretextMethod,
    allow_any_image_size,
    branch_layer,
    check_encoder_runs_on,
    feature_dim_of,
    image_shape_of,
    mlp_head,
)
from tfless.methods.pretext.ops import jigsaw_tile_size, jigsaw_tiles, maximal_hamming_permutations

#: Smallest tile side accepted: below this a tile holds too little of the image to place it.
MIN_TILE = 3


class Jigsaw(PretextMethod):
    """Solving jigsaw puzzles (Noroozi & Favaro, ECCV 2016, "Unsupervised Learning of
    Visual Representations by Solving Jigsaw Puzzles").

    The image is cut into a ``grid x grid`` grid of cells; in each cell a tile of
    ``tile_fraction`` of the cell side is cropped at a random position (the paper:
    64-pixel tiles in 75-pixel cells of a 225-pixel crop, so gaps of ~11 pixels on
    average plus random jitter, which stop the network from matching edges). The tiles
    are shuffled by one of ``num_permutations`` permutations (100 by default), chosen
    once by the paper's greedy maximal-average-Hamming-distance algorithm with a fixed
    seed. The context-free network is siamese: the encoder (shared weights) embeds
    every tile, a shared fully connected layer (the paper's fc6, 1024 units per tile)
    maps each tile's features, these are concatenated in tile order and an MLP (the
    paper's fc7 of 4096 units, then fc8) classifies the permutation. The exported
    encoder stops before fc6, as the paper transfers the conv layers.

    Deviation: the paper normalises each tile's mean and variance; here tiles keep
    the encoder's [0, 1] input contract so the exported encoder sees ordinary images.

    Reads ``image`` ``[B, H, W, C]`` (the central ``grid*cell`` square is used).
    Trackers: ``loss``, ``pretext_accuracy``.

    Args:
      encoder: fully convolutional feature network ``[B, h, w, C] -> [B, D]`` built for
        the full image size; it is applied to tiles of ``tile x tile`` pixels.
      num_permutations: size of the permutation set (classes).
      grid: tiles per side.
      tile_fraction: tile side / cell side, in (0, 1].
      hidden_dim: width of the hidden layer on the concatenated features (fc7).
      tile_dim: width of the per-tile fully connected layer (fc6; 0: none).
      tile_jitter: strength of a contrast and brightness jitter drawn independently for
        every tile in training (:func:`tfless.augment.ops.intensity_jitter`); the paper
        normalises every tile's mean and variance for the same purpose (no matching
        of tiles by low-level statistics). 0 (default): off.
      permutation_seed: seed of the first permutation of the greedy selection.
    """

    def __init__(
        self,
        encoder: keras.Model,
        num_permutations: int = 100,
        grid: int = 3,
        tile_fraction: float = 64 / 75,
        hidden_dim: int = 4096,
        tile_dim: int = 1024,
        tile_jitter: float = 0.0,
        permutation_seed: int = 0,
        name: str = "jigsaw",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if grid < 2:
            raise ValueError(f"grid must be >= 2; got {grid!r}.")
        if not 0 < tile_fraction <= 1:
            raise ValueError(f"tile_fraction must be in (0, 1]; got {tile_fraction!r}.")
        if hidden_dim < 0 or tile_dim < 0:
            raise ValueError(
                f"hidden_dim and tile_dim must be >= 0; got {hidden_dim!r}, {tile_dim!r}."
            )
        check_probability(tile_jitter, "tile_jitter")
        self.tile_jitter = float(tile_jitter)
        h, w, c = image_shape_of(encoder, "Jigsaw")
        cell, tile = jigsaw_tile_size(min(h, w), grid, tile_fraction)
        if tile < MIN_TILE:
            need = int(np.ceil(grid * MIN_TILE / tile_fraction))
            raise ValueError(
                f"Jigsaw: images of {h}x{w} are too small for a {grid}x{grid} grid: tiles would be "
                f"{tile}x{tile} pixels (need >= {MIN_TILE}); use images of at least {need}x{need}."
            )
        self.grid = int(grid)
        self.tile_fraction = float(tile_fraction)
        self.tile_size = tile
        self.permutations = maximal_hamming_permutations(
            int(num_permutations), self.grid, permutation_seed
        )
        allow_any_image_size(encoder, c)
        check_encoder_runs_on(encoder, tile, c, "Jigsaw")
        self.tile_fc = branch_layer(feature_dim_of(encoder), int(tile_dim), "jigsaw_tile")
        self.head = mlp_head(
            grid * grid * (int(tile_dim) or feature_dim_of(encoder)),
            int(hidden_dim),
            len(self.permutations),
            "jigsaw_head",
        )
        self.pretext_accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(
            name="pretext_accuracy"
        )

    def puzzle_logits(self, images, training: bool = False, seed=None):
        """Shuffled tiles ``[B, n, t, t, C]``, permutation labels ``[B]`` and logits ``[B, P]``."""
        tiles, labels = jigsaw_tiles(images, self.permutations, self.grid, self.tile_fraction, seed)
        n = self.grid * self.grid
        t, c = self.tile_size, int(images.shape[-1])
        flat = ops.reshape(tiles, [-1, t, t, c])
        if training and self.tile_jitter:
            flat = intensity_jitter(flat, self.tile_jitter)
        feats = self.encoder(flat, training=training)
        feats = self.tile_fc(feats, training=training)
        feats = ops.reshape(feats, [-1, n * int(feats.shape[-1])])
        return tiles, labels, self.head(feats, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        _, labels, logits = self.puzzle_logits(x["image"], training=training)
        self.pretext_accuracy_tracker.update_state(labels, logits)
        return pretext_cross_entropy(labels, logits)
