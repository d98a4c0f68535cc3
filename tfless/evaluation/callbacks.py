"""Online linear probe: monitors representation quality during pre-training."""

from __future__ import annotations

import keras
import numpy as np

from tfless.data.arrays import to_arrays
from tfless.evaluation.features import extract_features
from tfless.evaluation.linear_probe import linear_probe_features
from tfless.evaluation.settings import DEFAULTS


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

    The probe's parameters are those of the end-of-run linear probe
    (:data:`tfless.evaluation.DEFAULTS`). After training, ``self.history`` lists
    ``(epoch, probe_accuracy)``.
    """

    def __init__(
        self,
        train_images,
        train_labels,
        test_images,
        test_labels,
        every_n_epochs: int = 1,
        batch_size: int = DEFAULTS.batch_size,
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
        """Linear-probe test accuracy of the model's current feature network."""
        train_f = extract_features(self.model, self.train_images, self.batch_size)
        test_f = extract_features(self.model, self.test_images, self.batch_size)
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


def online_probe_callbacks(data, config) -> list:
    """The trainer's online probe: ``[OnlineLinearProbe]`` when the config asks for one.

    Args:
      data: the trainer's data (``raw_train``: unbatched training split of
        ``{"image", "label", ...}``; ``val``: batched validation split, where the probe
        is scored: a monitor run during training never looks at the test split).
      config: the run config; ``eval.online_probe_every`` (epochs, i.e.
        ``train.eval_every`` steps; 0 or absent: no probe) and
        ``eval.online_probe_examples`` (training images the probe fits on, default 1000).
        Labels are read only by the probe, never by the method.

    Returns:
      a list with the probe, or ``[]``.

    Raises:
      ValueError: if the config asks for a probe but the data has no validation split.
    """
    eval_cfg = (config.get("eval", None) if config is not None else None) or {}
    every = int(eval_cfg.get("online_probe_every", 0) or 0)
    if not every or getattr(data, "raw_train", None) is None:
        return []
    if getattr(data, "val", None) is None:
        raise ValueError(
            f"eval.online_probe_every={every} scores the probe on the validation split, but "
            "there is none (data.val_size is 0); set data.val_size (e.g. 0.1) or "
            "eval.online_probe_every=0."
        )
    limit = int(eval_cfg.get("online_probe_examples", 1000) or 1000)
    x, y = to_arrays(data.raw_train.take(limit))
    xt, yt = to_arrays(data.val.unbatch())
    return [OnlineLinearProbe(x, y, xt, yt, every_n_epochs=every)]
