"""MoCo v1 and v2: momentum contrast with a queue of negative keys."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.layers.heads import moco_head
from tfless.layers.momentum import clone_network, momentum_update_trainable
from tfless.layers.queue import KeyQueue
from tfless.losses.contrastive import check_temperature, l2_normalize, moco_loss
from tfless.methods.base import Method, encoder_feature_dim
from tfless.methods.contrastive.common import (
    batch_images,
    check_global_batch,
    gather,
    replica_info,
    step_number,
    two_views,
)

#: Paper temperature per version: MoCo v1 (He et al. 2019, Sec. 4) and v2 (Chen et al. 2020).
DEFAULT_TEMPERATURE = {1: 0.07, 2: 0.2}


class MoCo(Method):
    """Momentum Contrast (He, Fan, Wu, Xie & Girshick, CVPR 2020, arXiv:1911.05722) and MoCo v2
    (Chen, Fan, Girshick & He 2020, arXiv:2003.04297).

    The query encoder (encoder + head) is trained with InfoNCE against one
    positive key, produced from the other view by a momentum copy of the query
    network, and ``queue_size`` negative keys of earlier batches held in a
    FIFO queue. After each optimizer step the key network moves towards the
    query network (``m = 0.999``) and the global batch of keys is enqueued.

    Defaults are the papers': K = 65536, m = 0.999, 128-d keys; v1 has a linear
    head and tau = 0.07, v2 a 2-layer MLP head (hidden 2048 for ResNet-50: the
    feature size) and tau = 0.2; SGD lr 0.03 (batch 256), momentum 0.9,
    weight decay 1e-4 (v2 with a cosine schedule). v2's stronger augmentation
    (blur) is the view builder's job.

    Distribution. Keys are all-gathered before enqueueing, so every replica's
    queue copy (a per-replica variable, see :class:`tfless.layers.queue.KeyQueue`)
    holds the same keys in the same order. BN shuffling (Sec. 3.3) is done as in
    the paper: the key images of the global batch are gathered, permuted with a
    permutation every replica draws identically from the step number, each
    replica encodes its slice of the permuted batch with batch statistics, and
    the keys are gathered and un-permuted. The key encoder's batch statistics
    therefore come from a different subset of images than the queries', so the
    model cannot "cheat" through batch norm; the key encoder's batch norm is made
    per-replica for this even when the query encoder's is synchronized.
    Shuffling rather than synchronized BN is used because it is what the paper
    does, costs only two gathers, and works with any encoder. On one replica
    there is nothing to shuffle across (the paper's single-GPU runs share that
    leak).

    Reads ``views`` = ``(query_view, key_view)``; ``label`` is ignored.

    Args:
      encoder: query feature network ``[B, H, W, C] -> [B, D]``.
      version: 1 or 2.
      queue_size: K; must be a multiple of the global batch size.
      momentum: m of the key-encoder update, in [0, 1).
      temperature: tau > 0; default 0.07 (v1) / 0.2 (v2).
      projection_dim: key size (128).
      hidden_dim: v2 head's hidden width (default: feature size).
      shuffle_bn: shuffle the key batch across replicas (Sec. 3.3).
      seed: seed of the queue's random initialization and of the BN shuffling.
    """

    input_keys = ("views",)

    def __init__(
        self,
        encoder: keras.Model,
        version: int = 2,
        queue_size: int = 65536,
        momentum: float = 0.999,
        temperature: float | None = None,
        projection_dim: int = 128,
        hidden_dim: int | None = None,
        shuffle_bn: bool = True,
        seed: int = 0,
        name: str = "moco",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if version not in (1, 2):
            raise ValueError(f"MoCo version must be 1 or 2; got {version!r}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"MoCo momentum must be in [0, 1); got {momentum!r}.")
        self.version = int(version)
        self.momentum = float(momentum)
        self.temperature = check_temperature(
            DEFAULT_TEMPERATURE[self.version] if temperature is None else temperature
        )
        self.shuffle_bn = bool(shuffle_bn)
        self.seed = int(seed)
        feature_dim = encoder_feature_dim(encoder, "MoCo")
        self.head = moco_head(feature_dim, self.version, hidden_dim, int(projection_dim))
        # Shuffled keys must be normalized with per-replica statistics; a synchronized BN
        # (the trainer's default with several replicas) would undo the shuffle.
        self.key_encoder = clone_network(encoder, name="key_encoder", local_bn=self.shuffle_bn)
        self.key_head = clone_network(self.head, name="key_head")
        self.queue = KeyQueue(queue_size, int(projection_dim), seed=self.seed)
        self.contrast_accuracy = keras.metrics.Mean(name="contrast_accuracy")

    # ---------------------------------------------------------------- pieces
    def call(self, inputs, training=False):
        return self.features(batch_images(inputs), training=training)

    def query(self, images, training: bool = True):
        """Normalized queries ``[B, projection_dim]``."""
        return l2_normalize(self.head(self.encoder(images, training=training), training=training))

    def _key_net(self, images):
        # Batch statistics of the key batch, as in the paper's train-mode key encoder.
        return l2_normalize(self.key_head(self.key_encoder(images, training=True), training=True))

    def keys(self, images, ctx=None, replicas: int = 1, replica_id=0, step=0):
        """Keys of the local batch ``[B, D]`` and of the global batch ``[R*B, D]`` (replica order).

        With several replicas and ``shuffle_bn``, the key batch is permuted
        across replicas before encoding and un-permuted after.
        """
        if ctx is None or replicas == 1 or not self.shuffle_bn:
            k = tf.stop_gradient(self._key_net(images))
            return k, tf.stop_gradient(gather(k, ctx))
        local = tf.shape(images)[0]
        everything = ctx.all_gather(images, axis=0)
        total = tf.shape(everything)[0]
        seed = tf.stack([tf.cast(step, tf.int64), tf.constant(self.seed, tf.int64)])
        # Same seed on every replica -> the same permutation everywhere.
        perm = tf.argsort(tf.random.stateless_uniform([total], seed))
        start = replica_id * local
        mine = tf.gather(everything, perm)[start : start + local]
        k_shuffled = ctx.all_gather(self._key_net(mine), axis=0)
        k_all = tf.stop_gradient(tf.gather(k_shuffled, tf.argsort(perm)))
        return k_all[start : start + local], k_all

    def check_batch_size(self, global_batch: int) -> None:
        """Raises ``ValueError`` for a global batch with no negatives or that does not divide K."""
        check_global_batch(global_batch, 1, "MoCo")
        self.queue.check_batch_size(global_batch)

    def optimized_variables(self) -> list:
        # The key network keeps trainable batch norm (batch statistics) but follows the
        # query network by momentum only.
        return self.encoder.trainable_variables + self.head.trainable_variables

    def _loss(self, x, training, step=0):
        q_img, k_img = two_views(x, "MoCo")
        ctx, replicas, replica_id = replica_info()
        if q_img.shape[0] is not None:
            self.check_batch_size(int(q_img.shape[0]) * replicas)
        k, k_all = self.keys(k_img, ctx, replicas, replica_id, step)
        q = self.query(q_img, training=training)
        loss = moco_loss(q, k, self.queue(), self.temperature)
        return loss, q, k, k_all

    # --------------------------------------------------------------- training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The InfoNCE loss of a batch; the queue and key network are updated after the step."""
        loss, q, k, k_all = self._loss(x, training, step_number(self, training))
        if training:
            self.keep_for_update(q=q, k=k, k_all=k_all)
        return loss

    def after_train_step(self, data) -> None:
        kept = self.kept_for_update()
        q, k, k_all = kept["q"], kept["k"], kept["k_all"]
        positive = tf.reduce_sum(q * k, axis=1)
        hardest = tf.reduce_max(tf.matmul(q, self.queue(), transpose_b=True), axis=1)
        self.contrast_accuracy.update_state(tf.cast(positive > hardest, "float32"))
        # As in Algorithm 1: the key network follows the new query network, then this
        # batch's keys replace the oldest ones.
        momentum_update_trainable(self.key_encoder, self.encoder, self.momentum)
        momentum_update_trainable(self.key_head, self.head, self.momentum)
        self.queue.enqueue(k_all)
