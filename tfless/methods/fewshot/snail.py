"""SNAIL: temporal convolutions and causal attention over the episode (Mishra et al. 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from tfless.layers.snail_blocks import AttentionBlock, TCBlock
from tfless.losses.fewshot import episode_accuracy, episode_cross_entropy
from tfless.methods.base import encoder_feature_dim
from tfless.methods.fewshot.episodic import EPISODE_KEYS, EpisodicMethod, embed_sets
from tfless.methods.fewshot.sequence import (
    check_ways,
    presentation_order,
)

#: The paper's few-shot network (Appendix A, Omniglot and miniImageNet): attention blocks
#: (key size, value size) and TC blocks (filters), then a 1x1 convolution to N logits.
FEWSHOT_ARCHITECTURE = (
    ("attention", 64, 32),
    ("tc", 128),
    ("attention", 256, 128),
    ("tc", 128),
    ("attention", 512, 256),
)


def _build_blocks(architecture, sequence_length: int) -> list:
    blocks = []
    for i, spec in enumerate(architecture):
        kind = spec[0] if isinstance(spec, Sequence) and spec else None
        if kind == "attention" and len(spec) == 3:
            blocks.append(AttentionBlock(int(spec[1]), int(spec[2]), name=f"attention_{i}"))
        elif kind == "tc" and len(spec) == 2:
            blocks.append(TCBlock(sequence_length, int(spec[1]), name=f"tc_{i}"))
        else:
            raise ValueError(
                f"SNAIL architecture entry {i} is {spec!r}; expected ('attention', key_size, "
                "value_size) or ('tc', filters)."
            )
    return blocks


class SNAIL(EpisodicMethod):
    """Simple Neural AttentIve meta-Learner for N-way K-shot classification.

    Mishra, Rohaninejad, Chen and Abbeel, "A Simple Neural Attentive Meta-Learner"
    (arXiv 1707.03141). Each query is classified from a sequence of ``N*K + 1`` steps: the
    support examples (encoder features concatenated with their one-hot labels), then the
    query with an all-zero label. Dense blocks of causal dilated temporal convolutions
    (TC blocks) and causal soft-attention blocks (:mod:`tfless.layers.snail_blocks`) run
    over the sequence; a final linear map (the paper's 1x1 convolution) of the last step
    gives the query's N logits. Causality means the query's label is never visible and the
    query sees no other query: every query has its own sequence.

    Paper defaults (Appendix A, the Omniglot and miniImageNet network):
    AttentionBlock(64, 32), TCBlock(T, 128), AttentionBlock(256, 128), TCBlock(T, 128),
    AttentionBlock(512, 256) with T = N*K + 1, TC dilations 2, 4, ..., 2^ceil(log2 T), on a
    Conv-4 embedding (the paper's Omniglot embedding; its miniImageNet one is a small ResNet,
    here any ``encoder``). The loss is the cross-entropy of the query predictions. Support
    examples are presented in a random order in training (the sampler's episodes are
    class-major) and in one fixed order outside it, so :meth:`episode_logits` is
    deterministic.

    Published, not measured: Omniglot 5-way 1-shot / 5-shot 99.07 / 99.78, 20-way 97.64 /
    99.36; miniImageNet 5-way 1-shot / 5-shot 55.71 / 68.88 (with its ResNet embedding).

    Reads meta-batches ``support_image`` / ``support_label`` / ``query_image`` /
    ``query_label`` (:mod:`tfless.data.episodes`) and reports ``loss`` and the query
    ``accuracy``.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      ways: N, the label inputs and outputs (episodes with fewer ways use the first N).
      shots: K, which sets the sequence length ``T = N*K + 1`` the TC blocks are sized for
        (longer sequences still run; their oldest steps then fall outside the receptive
        field of the convolutions, not of the attention).
      architecture: the blocks, :data:`FEWSHOT_ARCHITECTURE` by default.
      shuffle_support: present the support set in a random order in training (True) or in
        the sampler's class-major order (deterministic: no random draw in the step).
    """

    input_keys = EPISODE_KEYS

    def __init__(
        self,
        encoder: keras.Model,
        ways: int = 5,
        shots: int = 1,
        architecture=FEWSHOT_ARCHITECTURE,
        shuffle_support: bool = True,
        name: str = "snail",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        for key, value in dict(ways=ways, shots=shots).items():
            if int(value) != value or value < 1:
                raise ValueError(f"SNAIL {key} must be a positive integer; got {value!r}.")
        self.ways = int(ways)
        self.shots = int(shots)
        self.sequence_length = self.ways * self.shots + 1
        self.shuffle_support = bool(shuffle_support)
        self.feature_dim = encoder_feature_dim(encoder, "SNAIL")
        self.blocks = _build_blocks(architecture, self.sequence_length)
        self.classifier = keras.layers.Dense(self.ways, name="classifier")
        shape = (None, None, self.feature_dim + self.ways)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.classifier.build(shape)
        self.built = True  # every variable exists: fit need not trace a symbolic call

    def sequence_outputs(self, sequence):
        """Per-step logits ``[B, T, ways]`` of sequences ``[B, T, D + ways]`` (causal)."""
        for block in self.blocks:
            sequence = block(sequence)
        return self.classifier(sequence)

    def query_sequences(self, support, support_label, query, seed=None):
        """The ``[E*N*Q, N*K + 1, D + ways]`` sequences of a meta-batch's queries.

        Args:
          support: ``[E, N*K, D]`` features; support_label: int ``[E, N*K]``.
          query: ``[E, N*Q, D]`` features.
          seed: int ``[2]`` of the support order (default: the fixed evaluation order).
        """
        episodes, n_support = tf.shape(support)[0], support.shape[1]
        n_query, dim = tf.shape(query)[1], query.shape[-1]
        order = presentation_order(episodes, n_support, seed, self.shuffle_support)
        labels = tf.gather(tf.cast(support_label, tf.int32), order, batch_dims=1)
        support = tf.concat(
            [tf.gather(support, order, batch_dims=1), tf.one_hot(labels, self.ways)], -1
        )
        query = tf.concat([query, tf.zeros(tf.stack([episodes, n_query, self.ways]))], -1)
        prefix = tf.repeat(support, n_query, axis=0)  # [E*NQ, NK, D+N], episode-major
        last = tf.reshape(query, [-1, 1, dim + self.ways])
        return tf.concat([prefix, last], axis=1)

    def _query_logits(self, support_image, support_label, query_image, training, seed=None):
        support, query = embed_sets(self.encoder, [support_image, query_image], training)
        sequences = self.query_sequences(support, support_label, query, seed)
        logits = self.sequence_outputs(sequences)[:, -1]
        return tf.reshape(logits, [tf.shape(query)[0], -1, self.ways])

    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """Logits ``[E, N*Q, ways]`` of the queries of a meta-batch (the few-shot contract)."""
        ways = check_ways(ways, self.ways, "SNAIL")
        logits = self._query_logits(support_image, support_label, query_image, training)
        return logits[..., :ways]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        seed = self.step_seed() if training else None
        logits = self._query_logits(
            x["support_image"], x["support_label"], x["query_image"], training, seed
        )
        labels = tf.cast(x["query_label"], tf.int32)
        self.accuracy_tracker.update_state(episode_accuracy(labels, logits))
        return episode_cross_entropy(labels, logits)
