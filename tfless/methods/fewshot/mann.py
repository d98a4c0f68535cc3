"""MANN: an LSTM controller with least-recently-used-access memory (Santoro et al. 2016)."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.layers import lru_memory
from tfless.losses.fewshot import episode_accuracy, episode_cross_entropy
from tfless.methods.base import encoder_feature_dim
from tfless.methods.fewshot.episodic import EPISODE_KEYS, EpisodicMethod, embed_sets
from tfless.methods.fewshot.sequence import (
    check_ways,
    presentation_order,
)


class MANN(EpisodicMethod):
    """Memory-augmented neural network with LRUA memory.

    Santoro, Bartunov, Botvinick, Wierstra and Lillicrap, "One-shot Learning with
    Memory-Augmented Neural Networks" (arXiv 1605.06065). An LSTM controller reads the
    episode one example at a time as ``(x_t, y_{t-1})``: the image features of step ``t``
    with the one-hot label of step ``t-1`` (zeros at ``t = 0``), so the label of an example
    arrives one step after it and the network must bind the two through its memory. It
    reads the memory by cosine similarity and writes with the least-recently-used access
    rule of :mod:`tfless.layers.lru_memory`; its prediction at step ``t`` is a linear map
    of the controller output and the read vectors.

    Episodes as sequences: the support set, shuffled (the paper presents examples in a
    random order with labels shuffled per episode; the episode sampler already shuffles
    the classes), then every query as one more step continuing the support sequence on its
    own: a query never sees its own label (it is fed the last support label as ``y_{t-1}``),
    nor any other query. Outside training the support order is a fixed draw, so
    :meth:`episode_logits` is deterministic.

    Paper defaults (Section 4, Omniglot): LSTM controller of 200 units, a memory of 128 slots
    of width 40, 4 read heads; the loss is the cross-entropy of every prediction in the
    sequence (``sequence_loss=True``: support steps and queries; the first example of a class
    can only be guessed, as in the paper). The usage decay ``gamma`` is not given in the
    paper; 0.95 as the public reimplementations. The keys are ``tanh`` of a linear map of the
    controller output (the paper does not say; bounded keys as those reimplementations), the
    write gates ``alpha`` a linear map of it. The controller also reads the previous step's
    read vectors, as in the Neural Turing Machine.

    Input: the paper feeds raw 20x20 Omniglot pixels, flattened. Here the images pass through
    ``encoder`` (Conv-4 in the configs, trained end to end with the memory), so MANN is
    compared with the other few-shot methods on one backbone and exports an encoder like
    them; a ``keras.layers.Flatten`` encoder reproduces the paper's raw-pixel input.

    Reads meta-batches ``support_image`` / ``support_label`` / ``query_image`` /
    ``query_label`` (:mod:`tfless.data.episodes`) and reports ``loss`` and the query
    ``accuracy``.

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      ways: N, the label inputs and outputs (episodes with fewer ways use the first N).
      controller_units: LSTM units (200).
      memory_slots: memory rows (128).
      memory_width: memory columns, the key size (40).
      read_heads: read heads, each also writing (4).
      gamma: usage decay (0.95).
      sequence_loss: train on every step's prediction (True, the paper) or on the queries.
      shuffle_support: present the support set in a random order (True, the paper) or in
        the sampler's class-major order (deterministic: no random draw in the step).
    """

    input_keys = EPISODE_KEYS

    def __init__(
        self,
        encoder: keras.Model,
        ways: int = 5,
        controller_units: int = 200,
        memory_slots: int = 128,
        memory_width: int = 40,
        read_heads: int = 4,
        gamma: float = 0.95,
        sequence_loss: bool = True,
        shuffle_support: bool = True,
        name: str = "mann",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        for key, value in dict(
            ways=ways,
            controller_units=controller_units,
            memory_slots=memory_slots,
            memory_width=memory_width,
            read_heads=read_heads,
        ).items():
            if int(value) != value or value < 1:
                raise ValueError(f"MANN {key} must be a positive integer; got {value!r}.")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"MANN gamma (usage decay) must be in [0, 1]; got {gamma!r}.")
        if memory_slots < read_heads:
            raise ValueError(
                f"MANN needs memory_slots >= read_heads; got {memory_slots} < {read_heads}."
            )
        self.ways = int(ways)
        self.memory_slots = int(memory_slots)
        self.memory_width = int(memory_width)
        self.read_heads = int(read_heads)
        self.gamma = float(gamma)
        self.sequence_loss = bool(sequence_loss)
        self.shuffle_support = bool(shuffle_support)
        self.feature_dim = encoder_feature_dim(encoder, "MANN")
        self.controller = keras.layers.LSTMCell(int(controller_units), name="controller")
        self.head_params = keras.layers.Dense(
            self.read_heads * (self.memory_width + 1), name="head_params"
        )
        self.classifier = keras.layers.Dense(self.ways, name="classifier")
        reads = self.read_heads * self.memory_width
        self.controller.build((None, self.feature_dim + self.ways + reads))
        self.head_params.build((None, self.controller.units))
        self.classifier.build((None, self.controller.units + reads))
        self.built = True  # every variable exists: fit need not trace a symbolic call

    # ---------------------------------------------------------------- the recurrence
    def initial_state(self, batch) -> tuple:
        """``(h, c, memory, usage, read_weights, reads)`` before the first step."""
        zeros = tf.zeros(tf.stack([batch, self.controller.units]))
        memory = lru_memory.initial_state(
            batch, self.memory_slots, self.memory_width, self.read_heads
        )
        reads = tf.zeros(tf.stack([batch, self.read_heads * self.memory_width]))
        return (zeros, zeros, *memory, reads)

    def step(self, state: tuple, inputs, training: bool = False):
        """One time step: ``inputs`` ``[B, D + ways]`` = ``(x_t, y_{t-1})`` -> (state, logits)."""
        h, c, memory, usage, read_weights, reads = state
        out, (h, c) = self.controller(tf.concat([inputs, reads], -1), [h, c], training=training)
        params = self.head_params(out)
        split = self.read_heads * self.memory_width
        keys = tf.tanh(tf.reshape(params[:, :split], [-1, self.read_heads, self.memory_width]))
        new_reads, mem = lru_memory.lru_step(
            lru_memory.LRUState(memory, usage, read_weights), keys, params[:, split:], self.gamma
        )
        reads = tf.reshape(new_reads, [-1, split])
        logits = self.classifier(tf.concat([out, reads], -1))
        return (h, c, *mem, reads), logits

    def sequence_logits(self, support_image, support_label, query_image, training=False, seed=None):
        """Runs the episodes as sequences.

        Args:
          support_image: ``[E, N*K, H, W, C]``; support_label: int ``[E, N*K]``.
          query_image: ``[E, N*Q, H, W, C]``.
          seed: int ``[2]`` of the support order (default: the fixed evaluation order).

        Returns:
          ``(support_logits [E, N*K, ways], support_labels [E, N*K], query_logits
          [E, N*Q, ways])``, the support in the order it was presented.
        """
        support, query = embed_sets(self.encoder, [support_image, query_image], training)
        episodes, n_support = tf.shape(support)[0], support.shape[1]
        n_query = tf.shape(query)[1]
        order = presentation_order(episodes, n_support, seed, self.shuffle_support)
        support = tf.gather(support, order, batch_dims=1)
        labels = tf.gather(tf.cast(support_label, tf.int32), order, batch_dims=1)
        onehot = tf.one_hot(labels, self.ways)
        state = self.initial_state(episodes)
        previous = tf.zeros_like(onehot[:, 0])
        support_logits = []
        for t in range(n_support):
            state, logits = self.step(state, tf.concat([support[:, t], previous], -1), training)
            support_logits.append(logits)
            previous = onehot[:, t]
        # Every query continues the support sequence on its own: its own copy of the state.
        state = tuple(tf.repeat(s, n_query, axis=0) for s in state)
        inputs = tf.concat(
            [tf.reshape(query, [-1, query.shape[-1]]), tf.repeat(previous, n_query, axis=0)], -1
        )
        _, query_logits = self.step(state, inputs, training)
        query_logits = tf.reshape(query_logits, [episodes, n_query, self.ways])
        return tf.stack(support_logits, axis=1), labels, query_logits

    # ---------------------------------------------------------------- the contract
    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """Logits ``[E, N*Q, ways]`` of the queries of a meta-batch (the few-shot contract)."""
        ways = check_ways(ways, self.ways, "MANN")
        _, _, query_logits = self.sequence_logits(
            support_image, support_label, query_image, training=training
        )
        return query_logits[..., :ways]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        seed = self.step_seed() if training else None
        support_logits, support_labels, query_logits = self.sequence_logits(
            x["support_image"], x["support_label"], x["query_image"], training, seed
        )
        query_labels = tf.cast(x["query_label"], tf.int32)
        if self.sequence_loss:
            loss = episode_cross_entropy(
                tf.concat([support_labels, query_labels], 1),
                tf.concat([support_logits, query_logits], 1),
            )
        else:
            loss = episode_cross_entropy(query_labels, query_logits)
        self.accuracy_tracker.update_state(episode_accuracy(query_labels, query_logits))
        return loss
