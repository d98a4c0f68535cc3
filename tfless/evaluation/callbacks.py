"""Online linear probe: monitors representation quality during pre-training."""

from __future__ import annotations

import keras
import numpy as np

from tfless.evaluation.features import extract_features
from tfless.evaluation.linear_probe import linear_probe_features


class OnlineLinearProbe(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs, fits a linear probe on frozen features of a labeled
    subset and logs its test accuracy as ``probe_accuracy``.

    The monitoring protocol of self-supervised libraries (e.g. the kNN/linear monitors
    of Wu et al. 2018 and solo-learn): labels are only read here, never by the method.
    Unlike an online probe trained by gradient on a detached head inside the step, this
    one refits a logistic regression on cached features, so it adds no variables to the
    method and cannot leak gradients into the encoder.

    Args:
      train_images, train_labels: the labeled subset ``[N, H, W, C]`` / ``[N]``.
      test_images, test_labels: where the accuracy is measured.
      every_n_epochs: probe period, in epochs (``fit``'s epochs; tfless configs call them
        ``eval_every`` steps).
      batch_size: feature-extraction batch size.

    After training, ``self.history`` lists ``(epoch, probe_accuracy)``.
    """

    def __init__(
        self,
        train_images,
        train_labels,
        test_images,
        test_labels,
        every_n_epochs: int = 1,
        batch_size: int = 256,
    ):
        super().__init__()
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1; got {every_n_epochs!r}.")
        self.train_images = np.asarray(train_images, np.float32)
        self.train_labels = np.asarray(train_labels)
        self.test_images = np.asarray(test_images, np.float32)
        self.test_labels = np.asarray(test_labels)
        self.every_n_epochs = int(every_n_epochs)
        self.batch_size = int(batch_size)
        self.history: list[tuple[int, float]] = []

    def probe(self) -> float:
        """Linear-probe test accuracy of the model's current encoder."""
        if hasattr(self.model, "feature_encoder"):
            encoder = self.model.feature_encoder()
        else:
            encoder = getattr(self.model, "encoder", self.model)
        train_f = extract_features(encoder, self.train_images, self.batch_size)
        test_f = extract_features(encoder, self.test_images, self.batch_size)
        return linear_probe_features(train_f, self.train_labels, test_f, self.test_labels)[
            "linear_accuracy"
        ]

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        acc = self.probe()
        self.history.append((int(epoch), acc))
        if logs is not None:
            logs["probe_accuracy"] = acc
