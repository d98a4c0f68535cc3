"""The diffusion step of label propagation, run between epochs as a Keras callback."""

from __future__ import annotations

import keras
import numpy as np

from tfless.losses.consistency import label_diffusion


class LabelPropagationCallback(keras.callbacks.Callback):
    """Recomputes :class:`~tfless.methods.semi.label_propagation.LabelPropagation`'s pseudo-labels.

    At the end of every epoch (and at the start of training when
    ``at_train_begin``): encoder features of all training images (inference
    mode), :func:`tfless.losses.consistency.label_diffusion` with the model's
    ``k``, ``alpha``, ``gamma``, and the result stored in the model's variables
    for the next epoch (Iscen et al. 2019, Alg. 1).

    Args:
      images: float32 ``[N, H, W, C]`` training images in [0, 1], in ``index`` order.
      labels: int ``[N]``; only the entries at ``labeled_indices`` are used for
        diffusion (the rest only to log ``diffusion_accuracy``, a monitor).
      labeled_indices: int ``[L]`` positions of the labeled examples.
      batch_size: feature-extraction batch size.
      at_train_begin: also diffuse before the first epoch.
    """

    def __init__(self, images, labels, labeled_indices, batch_size=512, at_train_begin=False):
        super().__init__()
        self.images = np.asarray(images, np.float32)
        self.labels = np.asarray(labels).astype(np.int64)
        self.labeled_mask = np.zeros(len(self.labels), bool)
        self.labeled_mask[np.asarray(labeled_indices, np.int64)] = True
        self.batch_size = int(batch_size)
        self.at_train_begin = bool(at_train_begin)
        self.last_accuracy = None

    def diffuse(self) -> dict:
        """Runs one diffusion and stores it in the model; returns monitoring figures."""
        m = self.model
        if len(self.images) != m.num_examples:
            raise ValueError(
                f"The callback has {len(self.images)} images but the model was built for "
                f"num_examples={m.num_examples}."
            )
        feats = np.concatenate(
            [
                np.asarray(m.encoder(self.images[i : i + self.batch_size], training=False))
                for i in range(0, len(self.images), self.batch_size)
            ]
        )
        pseudo, certainty, class_weights, _ = label_diffusion(
            feats,
            np.where(self.labeled_mask, self.labels, 0),
            self.labeled_mask,
            m.num_classes,
            k=m.k,
            alpha=m.alpha,
            gamma=m.gamma,
            max_iterations=m.max_iterations,
        )
        m.set_pseudo_labels(pseudo, certainty, class_weights)
        unl = ~self.labeled_mask
        self.last_accuracy = float(np.mean(pseudo[unl] == self.labels[unl])) if unl.any() else 1.0
        return {
            "diffusion_accuracy": self.last_accuracy,
            "mean_certainty": float(certainty[unl].mean()) if unl.any() else 1.0,
        }

    def on_train_begin(self, logs=None):
        if self.at_train_begin:
            self.diffuse()

    def on_epoch_end(self, epoch, logs=None):
        figures = self.diffuse()
        if logs is not None:
            logs.update(figures)
