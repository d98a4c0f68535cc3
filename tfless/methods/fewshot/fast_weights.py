"""Fast weights: an encoder and a linear head evaluated at given parameter tensors.

Optimization-based meta-learners (MAML, the Meta-learner LSTM) run the same network at
parameters that are *functions* of its variables: ``theta' = theta - alpha * grad``. Keras 3's
``stateless_call`` evaluates a built model at a list of tensors in place of its variables, so
any tfless backbone (Conv-4 included) serves as the learner without a hand-written
functional copy: gradients flow from the output back into those tensors, and through them
into the variables they were computed from (second derivatives included).

:class:`FastWeightLearner` holds the encoder and a ``[D, N]`` linear head and evaluates both at
a parameter list (:meth:`FastWeightLearner.logits`). Batch-norm moving statistics are passed in
and returned as tensors too (``state``), so a method decides whether they persist.
"""

from __future__ import annotations

import types

import keras
import tensorflow as tf

from tfless.layers.batchnorm import bn_layers
from tfless.losses import fewshot as fs
from tfless.methods.base import encoder_feature_dim, scale_for_replicas
from tfless.methods.fewshot.episodic import EpisodicMethod


def check_episode_batch_norm(encoder: keras.Model, method: str) -> None:
    """Refuses an encoder whose batch norm is synchronized across replicas.

    Episodic meta-learners normalize each episode with its own statistics; synchronized batch
    norm would pool the statistics of different episodes on different replicas.

    Raises:
      ValueError: naming the first synchronized layer.
    """
    for layer in bn_layers(encoder):
        if getattr(layer, "synchronized", False):
            raise ValueError(
                f"{method} normalizes every episode with its own batch statistics, but the "
                f"encoder's batch-norm layer {layer.name!r} is synchronized across replicas. "
                "Build the encoder with bn_synchronized=False (config: "
                "model.kwargs.bn_synchronized=False)."
            )


def _exact_moments(layer, inputs, mask):
    if mask is not None:
        return type(layer)._moments(layer, inputs, mask)
    mean = tf.reduce_mean(inputs, axis=layer._reduction_axes, keepdims=True)
    variance = tf.reduce_mean(tf.square(inputs - mean), axis=layer._reduction_axes, keepdims=True)
    return tf.squeeze(mean), tf.squeeze(variance)


def twice_differentiable_batch_norm(encoder: keras.Model) -> None:
    """Makes the batch statistics of ``encoder``'s batch-norm layers exact to second order.

    Keras' batch norm computes its statistics with ``tf.nn.moments``, which stops the gradient
    of the mean inside the variance. That leaves first derivatives exact (the variance's
    derivative with respect to its mean is zero) but drops a term of the second derivatives
    that second-order MAML differentiates through: its meta-gradient then disagrees with
    finite differences. The statistics are recomputed here with plain reductions (the same
    values); synchronized layers are left as they are.
    """
    for layer in bn_layers(encoder):
        if not getattr(layer, "synchronized", False):
            layer._moments = types.MethodType(_exact_moments, layer)


class FastWeightLearner(keras.layers.Layer):
    """An encoder ``[B, H, W, C] -> [B, D]`` and a linear head ``[D, ways]`` run at fast weights.

    Args:
      encoder: the built feature network.
      feature_dim: ``D``.
      ways: ``N``, the head's outputs (episode-local labels ``0 .. N-1``).
      adapt_batch_norm: whether batch-norm scales and offsets take part in the adaptation
        (:attr:`adapted`); when False they are meta-learned only.

    The parameter list is ``encoder.trainable_variables + [kernel, bias]``; ``state`` is
    ``encoder.non_trainable_variables`` (batch-norm moving statistics).
    """

    def __init__(self, encoder, feature_dim: int, ways: int, adapt_batch_norm: bool, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.ways = int(ways)
        self.kernel = self.add_weight(
            shape=(int(feature_dim), self.ways), initializer="glorot_uniform", name="kernel"
        )
        self.bias = self.add_weight(shape=(self.ways,), initializer="zeros", name="bias")
        norm_params = []
        for layer in bn_layers(encoder):
            norm_params += [w for w in (layer.gamma, layer.beta) if w is not None]
        self._num_encoder = len(encoder.trainable_variables)
        #: One flag per parameter: True for those the inner loop updates.
        self.adapted = [
            bool(adapt_batch_norm) or not any(v is w for w in norm_params)
            for v in encoder.trainable_variables
        ] + [True, True]
        self.built = True

    def parameter_variables(self) -> list:
        """The variables behind the parameter list, in its order."""
        return list(self.encoder.trainable_variables) + [self.kernel, self.bias]

    def parameters(self) -> list:
        """The current parameter values as tensors (reads of the variables, so gradients with
        respect to them reach the variables)."""
        return [tf.convert_to_tensor(v.value) for v in self.parameter_variables()]

    def initial_state(self) -> list:
        """The encoder's batch-norm moving statistics as tensors."""
        return [tf.convert_to_tensor(v.value) for v in self.encoder.non_trainable_variables]

    def reset_state(self) -> list:
        """Fresh moving statistics: means 0 and variances 1 (a new episode's learner)."""
        out = []
        for v in self.encoder.non_trainable_variables:
            fill = 1.0 if "variance" in v.path else 0.0
            out.append(tf.fill(tf.shape(v.value), tf.constant(fill, v.dtype)))
        return out

    def logits(self, params, state, images, training: bool):
        """``(logits [B, ways], new_state)`` of the learner at ``params`` and ``state``.

        ``training=True`` normalizes with the batch's statistics and returns the moving
        statistics updated by it; ``training=False`` normalizes with ``state``.
        """
        n = self._num_encoder
        features, new_state = self.encoder.stateless_call(
            params[:n], state, images, training=training
        )
        features = tf.cast(features, params[n].dtype)
        return tf.matmul(features, params[n]) + params[n + 1], list(new_state)

    def call(self, images, training=False):
        logits, _ = self.logits(self.parameters(), self.initial_state(), images, training)
        return logits


def check_ways(logits_ways: int, ways, method: str) -> None:
    """Refuses an episode whose N differs from the head's (a clear error, not a shape crash);
    ``ways`` may be None or a tensor, checked when its value is known while tracing."""
    ways = None if ways is None else tf.get_static_value(ways)
    if ways is not None and int(ways) != int(logits_ways):
        raise ValueError(
            f"{method} was built for {logits_ways}-way episodes (its head has {logits_ways} "
            f"outputs); got ways={ways}. Build the method with ways={ways}."
        )


class FastWeightMethod(EpisodicMethod):
    """Base of the episodic meta-learners that adapt a :class:`FastWeightLearner` per episode.

    A subclass implements :meth:`query_logits` for ONE episode; this class provides the
    meta-batch loop, the meta-gradient (accumulated episode by episode, so each episode's
    graph is freed after its gradient), ``train_step``, ``test_step``, ``compute_loss`` and
    :meth:`episode_logits`. Under ``tf.distribute`` each replica handles its share of the
    meta-batch's episodes; batch norm must not be synchronized across replicas.

    Args:
      encoder: the built feature network ``[B, H, W, C] -> [B, D]``.
      ways: N of the episodes (the head's outputs).
      adapt_batch_norm: whether batch-norm scales and offsets are adapted per episode.
      method: the name used in error messages.
      name: Keras model name.
    """

    def __init__(self, encoder, ways, adapt_batch_norm, method, name=None, **kwargs):
        super().__init__(encoder, name=name, **kwargs)
        check_episode_batch_norm(encoder, method)
        self._method = method
        self.ways = positive(ways, "ways", method)
        dim = encoder_feature_dim(encoder, method)
        dtype = encoder.trainable_variables[0].dtype if encoder.trainable_variables else None
        self.learner = FastWeightLearner(encoder, dim, self.ways, adapt_batch_norm, dtype=dtype)

    def build(self, input_shape=None):
        """Nothing to create: every variable exists once the subclass's constructor ends."""
        self.built = True

    def query_logits(self, support_image, support_label, query_image, training: bool):
        """Query logits ``[N*Q, N]`` of ONE episode after adapting to its support set.

        ``training=True``: the meta-training adaptation, differentiable as the method's
        meta-gradient needs; ``training=False``: the meta-test adaptation.
        """
        raise NotImplementedError

    def episode_logits(self, support_image, support_label, query_image, ways=None, training=False):
        """Query logits ``[E, N*Q, N]`` of a meta-batch, each episode adapted to its support
        set (the meta-test adaptation unless ``training``).

        The episodes run in a ``tf.map_fn`` loop, so a graph holds one episode's adaptation
        whatever the meta-batch size (a Python loop traced 20 episodes of 5 steps in ~30 s).
        """
        check_ways(self.ways, ways, self._method)
        dtype = self.learner.kernel.dtype
        support_image = tf.cast(support_image, dtype)
        query_image = tf.cast(query_image, dtype)

        def one(episode):
            s_img, s_lab, q_img = episode
            return self.query_logits(s_img, s_lab, q_img, training)

        return tf.map_fn(
            one,
            (support_image, tf.cast(support_label, tf.int32), query_image),
            fn_output_signature=tf.TensorSpec([query_image.shape[1], self.ways], dtype),
            parallel_iterations=1,
        )

    def meta_gradients(self, batch):
        """``(loss, accuracy, gradients)`` of one replica's meta-batch: the mean query loss
        over its episodes and its gradient with respect to :meth:`optimized_variables`
        (scaled for the replicas as :meth:`Method.train_step` scales losses).

        Episode by episode in a ``tf.while_loop``: each episode's gradient is taken inside the
        loop body and summed, so one episode's graph (and memory) is live at a time.
        """
        variables = self.optimized_variables()
        dtype = self.learner.kernel.dtype
        keys = ("support_image", "support_label", "query_image", "query_label")
        data = [tf.cast(batch[k], tf.int32 if "label" in k else dtype) for k in keys]
        episodes = tf.shape(data[0])[0]
        optimizer = getattr(self, "optimizer", None)  # None before compile

        def body(e, total, loss_sum, acc_sum):
            s_img, s_lab, q_img, q_lab = (tf.gather(x, e) for x in data)
            with tf.GradientTape() as tape:
                logits = self.query_logits(s_img, s_lab, q_img, True)
                loss = fs.episode_cross_entropy(q_lab, logits)
                scaled = scale_for_replicas(loss / tf.cast(episodes, loss.dtype))
                if optimizer is not None:
                    scaled = optimizer.scale_loss(scaled)
            grads = tape.gradient(scaled, variables)
            total = [t if g is None else t + g for t, g in zip(total, grads)]
            acc = tf.cast(fs.episode_accuracy(q_lab, logits), acc_sum.dtype)
            return e + 1, total, loss_sum + loss, acc_sum + acc

        start = (
            tf.constant(0),
            [tf.zeros_like(v.value) for v in variables],
            tf.zeros([], dtype),
            tf.zeros([], tf.float32),
        )
        _, total, loss_sum, acc_sum = tf.while_loop(
            lambda e, *_: e < episodes, body, start, parallel_iterations=1
        )
        count = tf.cast(episodes, dtype)
        return loss_sum / count, acc_sum / tf.cast(episodes, tf.float32), total

    def train_step(self, data):
        with self.seeded_step():
            loss, acc, grads = self.meta_gradients(data)
            self.optimizer.apply(grads, self.optimized_variables())
            # The adaptation runs stateless; one plain forward pass of the learned
            # initialization moves the encoder's batch-norm statistics, for export only.
            self.encoder(data["support_image"][0], training=True)
            self.loss_tracker.update_state(loss)
            self.accuracy_tracker.update_state(acc)
        return self.metrics_result()


def positive(value, name: str, method: str, kind=int):
    """``value`` as a ``kind`` if it is a positive number; else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{method} {name} must be a positive {kind.__name__}; got {value!r}.")
    if kind is int and int(value) != value:
        raise ValueError(f"{method} {name} must be a positive int; got {value!r}.")
    return kind(value)
