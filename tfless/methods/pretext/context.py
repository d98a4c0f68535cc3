"""Context prediction: the relative position of two patches."""

from __future__ import annotations

import keras
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
from tfless.methods.pretext.ops import color_drop, color_project, context_geometry, context_pairs

#: Smallest patch side accepted.
MIN_PATCH = 3
ABERRATION_DEFENCES = ("color_drop", "projection", "none")


class ContextPrediction(PretextMethod):
    """Context prediction (Doersch, Gupta & Efros, ICCV 2015, "Unsupervised Visual
    Representation Learning by Context Prediction").

    A center patch and one of its 8 neighbours in a 3x3 arrangement are cropped; a
    siamese network (the encoder, then a shared fully connected layer: the paper's
    fc6 of 4096 units; shared weights) embeds both, and an MLP on the concatenated
    features (the paper's fc7 of 4096 units, then fc8) predicts which of
    the 8 positions the neighbour came from. Trivial shortcuts are blocked as in the
    paper: a gap of half a patch between patches (48 pixels for 96-pixel patches),
    random jitter of each patch by up to 7/96 of a patch, and a chromatic-aberration
    defence: ``color_drop`` (keep one random colour channel, replace the others by
    low-amplitude noise) or ``projection`` (remove the green-magenta colour axis).
    Grayscale images need no defence; it is skipped for them.

    Reads ``image`` ``[B, H, W, C]``. Trackers: ``loss``, ``pretext_accuracy``.

    Args:
      encoder: fully convolutional feature network built for the full image size; it is
        applied to patches of ``patch_size`` pixels.
      patch_size: patch side in pixels; ``None`` takes the largest patch whose 3x3
        arrangement with gaps and jitter fits the image.
      gap_ratio: gap / patch side (0.5 in the paper).
      jitter_ratio: maximal jitter / patch side (7/96 in the paper).
      aberration: ``"color_drop"``, ``"projection"`` or ``"none"``.
      hidden_dim: width of the hidden layer on the concatenated pair features (fc7).
      patch_dim: width of the per-patch fully connected layer (fc6; 0: none). The
        exported encoder stops before it.
      patch_jitter: strength of a contrast and brightness jitter drawn independently for
        every patch in training (:func:`tfless.augment.ops.intensity_jitter`), against
        matching the two patches by low-level statistics. 0 (default): off.
    """

    def __init__(
        self,
        encoder: keras.Model,
        patch_size: int | None = None,
        gap_ratio: float = 0.5,
        jitter_ratio: float = 7 / 96,
        aberration: str = "color_drop",
        hidden_dim: int = 4096,
        patch_dim: int = 4096,
        patch_jitter: float = 0.0,
        name: str = "context_prediction",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if aberration not in ABERRATION_DEFENCES:
            raise ValueError(
                f"aberration must be one of {ABERRATION_DEFENCES}; got {aberration!r}."
            )
        if gap_ratio < 0 or jitter_ratio < 0:
            raise ValueError(
                f"gap_ratio and jitter_ratio must be >= 0; got {gap_ratio!r}, {jitter_ratio!r}."
            )
        if hidden_dim < 0 or patch_dim < 0:
            raise ValueError(
                f"hidden_dim and patch_dim must be >= 0; got {hidden_dim!r}, {patch_dim!r}."
            )
        check_probability(patch_jitter, "patch_jitter")
        self.patch_jitter = float(patch_jitter)
        h, w, c = image_shape_of(encoder, "ContextPrediction")
        patch, gap, jitter, span = context_geometry(min(h, w), patch_size, gap_ratio, jitter_ratio)
        if patch < MIN_PATCH or span > min(h, w):
            raise ValueError(
                f"ContextPrediction: images of {h}x{w} are too small for 3x3 patches of {patch} px "
                f"with gap {gap} and jitter {jitter} (needs {span}x{span}, "
                f"patches >= {MIN_PATCH} px)."
            )
        self.patch_size, self.gap, self.jitter = patch, gap, jitter
        self.aberration = aberration if c == 3 else "none"
        allow_any_image_size(encoder, c)
        check_encoder_runs_on(encoder, patch, c, "ContextPrediction")
        self.patch_fc = branch_layer(feature_dim_of(encoder), int(patch_dim), "context_patch")
        self.head = mlp_head(
            2 * (int(patch_dim) or feature_dim_of(encoder)), int(hidden_dim), 8, "context_head"
        )
        self.pretext_accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(
            name="pretext_accuracy"
        )

    def _defend(self, patches):
        if self.aberration == "color_drop":
            return color_drop(patches)
        if self.aberration == "projection":
            return color_project(patches)
        return patches

    def pair_logits(self, images, training: bool = False, seed=None):
        """Center and neighbour patches ``[B, p, p, C]``, labels ``[B]``, logits ``[B, 8]``."""
        center, neighbour, labels = context_pairs(
            images, self.patch_size, self.gap, self.jitter, seed
        )
        both = ops.concatenate([center, neighbour], 0)
        if training:
            both = self._defend(both)
            if self.patch_jitter:
                both = intensity_jitter(both, self.patch_jitter)
        feats = self.patch_fc(self.encoder(both, training=training), training=training)
        center_f, neighbour_f = ops.split(feats, 2, axis=0)
        logits = self.head(ops.concatenate([center_f, neighbour_f], -1), training=training)
        return center, neighbour, labels, logits

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        _, _, labels, logits = self.pair_logits(x["image"], training=training)
        self.pretext_accuracy_tracker.update_state(labels, logits)
        return pretext_cross_entropy(labels, logits)
