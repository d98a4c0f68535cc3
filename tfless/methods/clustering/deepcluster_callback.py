"""The Keras callback that re-clusters the training set for DeepCluster every epoch."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import normalized_mutual_info_score


class DeepClusterCallback(keras.callbacks.Callback):
    """At the start of every ``every`` epochs: features of the whole dataset -> k-means ->
    new pseudo-labels and a re-initialized classifier (Caron et al. 2018, Sec. 3).

    Args:
      data: the training images WITHOUT augmentation, either an array
        ``[N, H, W, C]`` in index order, or a ``tf.data.Dataset`` of dicts with
        ``image`` and ``index`` (batched or not).
      batch_size: batch size of the feature pass.
      every: re-cluster every this many epochs (1 in the paper).

    Attributes:
      nmi_history: NMI between consecutive assignments (the paper's Fig. 2(b)
        stability measure); appended from the second clustering on.
    """

    def __init__(self, data, batch_size: int = 256, every: int = 1):
        super().__init__()
        if every < 1:
            raise ValueError(f"DeepClusterCallback every must be >= 1; got {every!r}.")
        self.data = data
        self.batch_size = int(batch_size)
        self.every = int(every)
        self.nmi_history: list[float] = []

    def _features(self, method) -> np.ndarray:
        encode = tf.function(lambda x: method.encoder(x, training=False))
        if isinstance(self.data, np.ndarray):
            out = [
                encode(tf.constant(self.data[s : s + self.batch_size], tf.float32)).numpy()
                for s in range(0, len(self.data), self.batch_size)
            ]
            return np.concatenate(out)
        ds = self.data
        if len(ds.element_spec["image"].shape) == 3:
            ds = ds.batch(self.batch_size)
        feats = np.zeros((method.num_data, 0), np.float32)
        for batch in ds:
            f = encode(batch["image"]).numpy()
            if feats.shape[1] == 0:
                feats = np.zeros((method.num_data, f.shape[1]), np.float32)
            feats[batch["index"].numpy()] = f
        return feats

    def on_epoch_begin(self, epoch, logs=None):
        if epoch % self.every:
            return
        method = self.model
        # The round (which seeds k-means and the new head) follows the epoch, so a run
        # resumed at this epoch clusters as the uninterrupted run did.
        method.rounds = epoch // self.every
        previous = method.last_assignment
        labels = method.recluster(self._features(method))
        if previous is not None:
            self.nmi_history.append(float(normalized_mutual_info_score(previous, labels)))
