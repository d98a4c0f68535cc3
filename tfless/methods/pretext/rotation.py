"""RotNet: predicting image rotations."""

from __future__ import annotations

import keras

from tfless.losses.pretext import pretext_cross_entropy
from tfless.methods.pretext.base import PretextMethod, feature_dim_of, image_shape_of, mlp_head
from tfless.methods.pretext.ops import rotate_all


class Rotation(PretextMethod):
    """Rotation prediction (Gidaris, Singh & Komodakis, ICLR 2018, "Unsupervised
    Representation Learning by Predicting Image Rotations").

    Every image of the batch is fed in all four rotations (0, 90, 180, 270 degrees),
    as the paper found best (Sec. 3.2: "feed all four rotated copies of an image
    simultaneously"), and a head on the encoder features classifies the rotation
    (4-way softmax cross-entropy). The paper's recipe (CIFAR-10, NIN): SGD, batch
    128 images (x4 rotations), momentum 0.9, weight decay 5e-4, lr 0.1 dropped x5 at
    epochs 30, 60, 80 — set in the config, not here.

    Reads ``image`` ``[B, H, H, C]`` (square). Trackers: ``loss``, ``pretext_accuracy``.

    Args:
      encoder: feature network ``[B, H, H, C] -> [B, D]``.
      hidden_dim: width of a hidden ReLU layer of the rotation head (0: linear head;
        the paper classifies with the network's own last block, here the encoder).
    """

    def __init__(
        self,
        encoder: keras.Model,
        hidden_dim: int = 0,
        hidden_layers: int = 1,
        name: str = "rotation",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        h, w, _ = image_shape_of(encoder, "Rotation")
        if h != w:
            raise ValueError(
                f"Rotation needs square images so every rotation keeps the shape; got {h}x{w}."
            )
        if hidden_dim < 0 or hidden_layers < 1:
            raise ValueError(
                f"hidden_dim must be >= 0 and hidden_layers >= 1; got {hidden_dim!r}, "
                f"{hidden_layers!r}."
            )
        self.head = mlp_head(
            feature_dim_of(encoder), int(hidden_dim), 4, "rotation_head", int(hidden_layers)
        )
        self.pretext_accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(
            name="pretext_accuracy"
        )

    def rotation_logits(self, images, training: bool = False):
        """Rotated copies, their labels and logits: ``([4B,H,H,C], [4B], [4B, 4])``."""
        rotated, labels = rotate_all(images)
        logits = self.head(self.encoder(rotated, training=training), training=training)
        return rotated, labels, logits

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        _, labels, logits = self.rotation_logits(x["image"], training=training)
        self.pretext_accuracy_tracker.update_state(labels, logits)
        return pretext_cross_entropy(labels, logits)
