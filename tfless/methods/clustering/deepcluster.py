"""DeepCluster: alternate k-means on the features and classification into the clusters."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfless.methods.base import Method, encoder_feature_dim
from tfless.methods.clustering.kmeans import (
    kmeans,
    l2_normalize_rows,
    pca_whiten,
    uniform_cluster_weights,
)


class DeepCluster(Method):
    """DeepCluster (Caron, Bojanowski, Joulin & Douze, ECCV 2018, arXiv:1807.05520).

    Every epoch the features of the whole training set are PCA-whitened,
    L2-normalized and clustered with k-means; the cluster of each example is
    its pseudo-label for that epoch, and the network (encoder + a linear
    classifier re-initialized at every clustering) is trained to predict it
    with cross-entropy. :meth:`recluster` does the clustering; the
    :class:`~tfless.methods.clustering.deepcluster_callback.DeepClusterCallback`
    calls it at the start of every epoch.

    Paper defaults: k = 10000 clusters for ImageNet (Sec. 5.3, "ten times the
    number of classes" works best), PCA to 256 dimensions with whitening, L2
    normalization, empty-cluster reassignment, uniform sampling over clusters,
    SGD lr 0.05, momentum 0.9, weight decay 1e-5 (Sec. 4.2). Use a much smaller
    ``num_clusters`` and ``pca_dim`` on small data (10x the classes is the
    paper's rule). The paper's Sobel input filter is left to the input pipeline.

    Uniform sampling over clusters is realized by weighting each example's loss
    with ``N / (K_nonempty * n_cluster)`` (the same objective in expectation;
    the input pipeline stays a plain shuffle). Pseudo-labels are looked up by
    the batch's ``index``, so the data must be loaded ``with_index=True``.

    Reads ``image`` and ``index``; ``label`` is ignored.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_data: number of training examples (indices in ``[0, num_data)``).
      num_clusters: k of k-means, ``2 <= k <= num_data``.
      pca_dim: PCA dimension (capped at the feature size).
      kmeans_iterations: Lloyd iterations per clustering.
      uniform_sampling: weight losses so clusters count equally.
      seed: seed of k-means and the head re-initialization.
    """

    input_keys = ("image", "index")

    def __init__(
        self,
        encoder: keras.Model,
        num_data: int,
        num_clusters: int = 10000,
        pca_dim: int = 256,
        kmeans_iterations: int = 20,
        uniform_sampling: bool = True,
        seed: int = 0,
        name: str = "deepcluster",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if int(num_data) < 2:
            raise ValueError(f"DeepCluster needs num_data >= 2; got {num_data!r}.")
        if not 2 <= int(num_clusters) <= int(num_data):
            raise ValueError(
                f"DeepCluster num_clusters must be in [2, num_data={num_data}]; "
                f"got {num_clusters!r}."
            )
        if int(pca_dim) < 1:
            raise ValueError(f"DeepCluster pca_dim must be >= 1; got {pca_dim!r}.")
        self.num_data = int(num_data)
        self.num_clusters = int(num_clusters)
        self.pca_dim = int(pca_dim)
        self.kmeans_iterations = int(kmeans_iterations)
        self.uniform_sampling = bool(uniform_sampling)
        self.seed = int(seed)
        self.rounds = 0
        feature_dim = encoder_feature_dim(encoder, "DeepCluster")
        self.head = keras.Sequential(
            [keras.Input((feature_dim,)), keras.layers.Dense(self.num_clusters)], name="head"
        )
        self.pseudo_labels = keras.Variable(
            np.zeros(self.num_data, "int32"), trainable=False, name="pseudo_labels"
        )
        self.cluster_weights = keras.Variable(
            np.ones(self.num_clusters, "float32"), trainable=False, name="cluster_weights"
        )
        self.xent_tracker = keras.metrics.Mean(name="xent")
        # Scores the cluster pseudo-labels, not the true labels: DeepCluster is no classifier.
        self.cluster_accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(
            name="cluster_accuracy"
        )
        self.last_assignment: np.ndarray | None = None
        self.reassigned = 0

    def call(self, inputs, training=False):
        images = inputs["image"] if isinstance(inputs, dict) else inputs
        return self.features(images, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(x, dict) or "index" not in x or "image" not in x:
            keys = sorted(x) if isinstance(x, dict) else type(x).__name__
            raise ValueError(
                f"DeepCluster reads batch['image'] and batch['index'] (load the data with "
                f"with_index=True); got batch keys {keys}."
            )
        index = tf.cast(x["index"], tf.int32)
        labels = tf.gather(tf.convert_to_tensor(self.pseudo_labels), index)
        logits = self.head(self.encoder(x["image"], training=training), training=training)
        xent = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        if self.uniform_sampling:
            weights = tf.gather(tf.convert_to_tensor(self.cluster_weights), labels)
            loss = tf.reduce_mean(weights * xent)
        else:
            loss = tf.reduce_mean(xent)
        self.xent_tracker.update_state(tf.reduce_mean(xent))
        self.cluster_accuracy_tracker.update_state(labels, logits)
        return loss

    def callbacks(self, data) -> list[keras.callbacks.Callback]:
        """A :class:`DeepClusterCallback` over the un-augmented training set.

        Args:
          data: :class:`tfless.data.pipelines.Data` (its ``raw_train`` carries ``index``).
        """
        from tfless.methods.clustering.deepcluster_callback import DeepClusterCallback

        if data.num_train != self.num_data:
            raise ValueError(
                f"DeepCluster was built with num_data={self.num_data} but the training set "
                f"has {data.num_train} examples; set method.kwargs.num_data={data.num_train}."
            )
        return [DeepClusterCallback(data.raw_train)]

    # ------------------------------------------------------------- clustering
    def cluster_features(self, features: np.ndarray) -> np.ndarray:
        """Pseudo-labels ``[N]`` of features ``[N, D]``: PCA-whiten, L2-normalize, k-means."""
        reduced = l2_normalize_rows(pca_whiten(features, self.pca_dim))
        labels, _, reassigned = kmeans(
            reduced, self.num_clusters, self.kmeans_iterations, seed=self.seed + self.rounds
        )
        self.reassigned = reassigned
        return labels

    def recluster(self, features: np.ndarray) -> np.ndarray:
        """Clusters ``features`` (rows ordered by example index), sets the pseudo-labels and
        cluster weights, and re-initializes the classifier. Returns the labels."""
        features = np.asarray(features)
        if features.shape[0] != self.num_data:
            raise ValueError(
                f"DeepCluster.recluster expects features of all {self.num_data} examples; "
                f"got {features.shape[0]}."
            )
        labels = self.cluster_features(features)
        self.pseudo_labels.assign(labels.astype("int32"))
        self.cluster_weights.assign(uniform_cluster_weights(labels, self.num_clusters))
        self.reset_head()
        self.last_assignment = labels
        self.rounds += 1
        return labels

    def reset_head(self) -> None:
        """Fresh random classifier weights: the cluster indices are arbitrary each round."""
        dense = self.head.layers[-1]
        init = keras.initializers.GlorotUniform(seed=self.seed + 1000 + self.rounds)
        dense.kernel.assign(init(dense.kernel.shape))
        dense.bias.assign(np.zeros(dense.bias.shape, "float32"))
