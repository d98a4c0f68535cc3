"""The method contract shared by every tfless method.

A method is a ``keras.Model`` subclass that holds built sub-models and scalar
hyperparameters (never a config object), reads dict batches, and exposes
``encoder``: the network that gets exported. What a method declares to the trainer:

* :attr:`Method.input_keys`: the batch keys it reads, checked on the first batch
  before training starts (:meth:`Method.check_inputs`);
* :attr:`Method.has_classifier`: whether it evaluates its own classification head
  (``test_step`` reporting ``accuracy``; True for :class:`ClassifierMixin` methods);
* :meth:`Method.callbacks`: the Keras callbacks it needs during ``fit`` (DeepCluster's
  clustering, label propagation's diffusion), built from the trainer's data.

Most methods override :meth:`Method.compute_loss` only: it receives the whole batch
dict as ``x``, runs whatever forward passes the method needs, updates the method's
metric trackers and returns the replica-local mean loss. :meth:`Method.train_step`
turns that into one optimizer step that is correct under ``tf.distribute`` (the loss
is scaled so that gradients summed over replicas equal the gradient of the
global-batch mean), and then calls :meth:`Method.after_train_step` for updates that
follow the step (EMA teachers, MoCo's key encoder and queue, PIRL's memory bank).
Tensors of the step that such an update needs are handed over with
:meth:`Method.keep_for_update`.

Methods with several optimizers or meta-learning override ``train_step`` itself,
and keep the same return value: ``{tracker_name: value}``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import keras
import tensorflow as tf

from tfless.augment import rng

#: Folded into every step seed, so that a step's draws differ from the data pipeline's.
_STEP_STREAM = 0x5EED


def scale_for_replicas(loss):
    """Divides a replica-local mean loss by the number of replicas in sync.

    Summing the gradients of the scaled per-replica losses (what
    ``tf.distribute`` does) then gives the gradient of the global-batch mean. The
    loss is multiplied by ``1 / replicas`` in its own dtype, as Keras' ``fit`` scales
    losses, so the two agree bit for bit; with one replica it is returned unchanged.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1:
        return loss
    loss = tf.convert_to_tensor(loss)
    return loss * tf.cast(1.0 / replicas, loss.dtype)


def batch_key_paths(batch) -> list[str]:
    """The keys of a (nested) dict batch as ``/``-joined paths, sorted.

    ``{"labeled": {"image", "label"}, "unlabeled": {"image_weak"}}`` gives
    ``["labeled/image", "labeled/label", "unlabeled/image_weak"]``; a dict entry also
    counts as present itself (``"labeled"``).
    """
    paths = []
    for key, value in batch.items():
        paths.append(str(key))
        if isinstance(value, Mapping):
            paths += [f"{key}/{sub}" for sub in batch_key_paths(value)]
    return sorted(paths)


def missing_input_keys(batch, input_keys) -> list[str]:
    """The entries of ``input_keys`` that ``batch`` lacks (see :attr:`Method.input_keys`)."""
    present = set(batch_key_paths(batch)) if isinstance(batch, Mapping) else set()
    return [k for k in input_keys if not any(alt in present for alt in k.split("|"))]


def l2_weight_penalty(variables, weight_decay: float):
    """``weight_decay * sum(||W||^2) / 2`` over convolution and dense kernels.

    The coupled L2 weight decay of the WRN/FixMatch/MixMatch recipes (TF's
    ``tf.nn.l2_loss`` summed over kernels). Biases, BN scales and offsets are
    not decayed.
    """
    kernels = [v for v in variables if "kernel" in v.path or v.path.endswith("/w")]
    if not kernels or not weight_decay:
        return tf.constant(0.0)
    return weight_decay * tf.add_n([tf.reduce_sum(tf.square(v)) for v in kernels]) / 2.0


def encoder_feature_dim(encoder: keras.Model, method: str) -> int:
    """Size ``D`` of a built encoder's ``[B, D]`` features, to size a method's heads.

    Uses ``encoder.feature_dim`` when set, else the encoder's symbolic output, which a
    ``keras.Sequential`` without an ``Input`` only has once built. An unbuilt encoder is
    refused: heads and copies (MoCo's key network) are built from it at construction.

    Raises:
      ValueError: the encoder is not built, or its feature size cannot be read.
    """
    dim = getattr(encoder, "feature_dim", None)
    if dim is not None:
        return int(dim)
    if not encoder.built:
        raise ValueError(
            f"{method} needs a built encoder; {encoder.name!r} has no weights yet. Start it "
            "with keras.Input(shape=(H, W, C)) or call encoder.build((None, H, W, C)) first."
        )
    outputs = getattr(encoder, "outputs", None)
    if not outputs:
        raise ValueError(
            f"{method} cannot read the feature size of {encoder.name!r}; set "
            "encoder.feature_dim = D for an encoder with [B, D] outputs."
        )
    return int(outputs[0].shape[-1])


class _StepTensors:
    """Tensors of a step's loss kept for the update after it, per thread.

    ``MirroredStrategy`` traces each replica's step in its own thread, so each
    replica's tensors are kept apart by thread. A plain object rather than a dict
    attribute, so that neither Keras nor ``tf.train.Checkpoint`` tracks it: the
    checkpoint layout stays that of the method's variables alone.
    """

    __slots__ = ("by_thread",)

    def __init__(self):
        self.by_thread = {}

    def put(self, tensors: dict) -> None:
        self.by_thread[threading.get_ident()] = dict(tensors)

    def pop(self) -> dict:
        return self.by_thread.pop(threading.get_ident(), {})


class Method(keras.Model):
    """Base class of tfless methods.

    Args:
      encoder: the built feature network (``[B, H, W, C] -> [B, D]``); exported by
        :mod:`tfless.export`.
      name: Keras model name.

    Subclasses create their trackers with ``keras.metrics.Mean(name=...)`` and
    list them in :attr:`metrics` via attribute assignment; ``loss`` always exists.
    """

    #: Batch keys the method reads, checked on the first batch before training starts
    #: (:meth:`check_inputs`). A key of a nested dict is its ``/``-joined path
    #: (``"labeled/image"``); ``"a|b"`` accepts either key. Keys read only when present
    #: (monitoring labels such as ``true_label``) are not listed.
    input_keys: tuple[str, ...] = ("image",)

    #: True when the method evaluates its own classification head: ``test_step``
    #: reports ``accuracy`` and ``loss`` on ``{"image", "label"}`` batches, so the
    #: trainer validates with it and reports ``test_accuracy``.
    has_classifier: bool = False

    #: Why the training step cannot compile with XLA (``jit_compile=True``), in one line;
    #: None when it can. The trainer then trains without XLA and warns with this reason.
    xla_unsupported: str | None = None

    def __init__(self, encoder: keras.Model, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.encoder = encoder
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._step_tensors = _StepTensors()

    # ------------------------------------------------------------------ contract
    def check_inputs(self, batch) -> None:
        """Raises ``ValueError`` if ``batch`` lacks a key of :attr:`input_keys`.

        The message names the method, the missing keys and the keys the batch has.
        """
        missing = missing_input_keys(batch, self.input_keys)
        if missing:
            present = batch_key_paths(batch) if isinstance(batch, Mapping) else type(batch).__name__
            raise ValueError(
                f"{type(self).__name__} ({self.name!r}) reads batch keys "
                f"{list(self.input_keys)}; the batch lacks {missing}. It has {present}."
            )

    def callbacks(self, data) -> list[keras.callbacks.Callback]:
        """Keras callbacks the method needs during ``fit``; default none.

        Args:
          data: the trainer's data (:class:`tfless.data.pipelines.Data`: ``raw_train``,
            ``labeled_indices``, ``num_train``, ``test``).
        """
        return []

    # ------------------------------------------------------------- keras model api
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        **kwargs,
    ):
        """``keras.Model.compile`` with an optimizer only: the method owns its loss and metrics.

        The loss is :meth:`compute_loss` (or ``train_step``) and the metrics are the method's
        trackers (:attr:`metrics`), so ``loss``, ``loss_weights``, ``metrics`` and
        ``weighted_metrics`` are refused with a ``ValueError`` instead of being silently
        ignored. Other arguments (``jit_compile``, ``steps_per_execution``, ...) pass through.
        """
        given = dict(
            loss=loss, loss_weights=loss_weights, metrics=metrics, weighted_metrics=weighted_metrics
        )
        given = {k: v for k, v in given.items() if v is not None}
        if given:
            shown = ", ".join(f"{k}={v!r}" for k, v in given.items())
            raise ValueError(
                f"{type(self).__name__} computes its own loss and metrics (compute_loss / "
                f"train_step; it reports {[m.name for m in self.metrics]}), so compile() "
                f"takes no {shown}. Compile with an optimizer only, e.g. "
                "method.compile(optimizer=keras.optimizers.Adam(1e-3)); measure the encoder "
                "with tfless.evaluation.evaluate_encoder."
            )
        super().compile(optimizer=optimizer, **kwargs)

    def save(self, filepath, *args, **kwargs):
        """Refused, before anything is written: a method does not save as one Keras file.

        A method holds built sub-models (encoder, heads, teachers, queues) rather than a
        config, so it has no ``get_config`` to rebuild it from. Export the encoder with
        ``tfless.export.export_encoder`` (a verified SavedModel), save the encoder alone
        with ``method.encoder.save("encoder.keras")``, or keep every variable with
        ``method.save_weights("method.weights.h5")`` and load them into a method built the
        same way.

        Raises:
          NotImplementedError: always, naming those three ways.
        """
        raise NotImplementedError(
            f"{type(self).__name__}.save({filepath!r}): a tfless method holds built "
            "sub-models, not a config, so it cannot be saved as one Keras file (nothing was "
            "written). Export the trained encoder with tfless.export.export_encoder(method, "
            "root, name) (a SavedModel serving features, and logits for classifiers), save "
            "the encoder alone with method.encoder.save('encoder.keras'), or keep all "
            "variables with method.save_weights('method.weights.h5') and load them into a "
            "method built the same way."
        )

    # ------------------------------------------------------------------ training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Returns the replica-local mean loss of the batch dict ``x``.

        Subclasses must override this (or ``train_step``).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must override compute_loss or train_step."
        )

    def optimized_variables(self) -> list:
        """The variables the optimizer updates: every trainable variable by default.

        A method whose momentum copy keeps trainable batch-norm layers (MoCo's key
        encoder normalizes with batch statistics) leaves that copy out here.
        """
        return self.trainable_variables

    def keep_for_update(self, **tensors) -> None:
        """Hands tensors of this step's :meth:`compute_loss` to :meth:`after_train_step`.

        MoCo keeps the step's keys for its queue, PIRL its representations for the
        memory bank: computed once, in the loss, and used after the optimizer update.
        """
        self._step_tensors.put(tensors)

    def kept_for_update(self) -> dict:
        """Returns (and forgets) what :meth:`keep_for_update` kept in this step."""
        return self._step_tensors.pop()

    def after_train_step(self, data) -> None:
        """Hook run after the optimizer update (EMA teachers, queues). Default: nothing."""
        return None

    def step_seed(self) -> tf.Tensor:
        """int64 ``[2]`` seed of the random draws of the current training step.

        Made of the run's seed (``tf.random.set_seed``, which the trainer sets from
        ``train.seed``; TensorFlow's default graph seed when none is set), the optimizer's
        step count and, with several replicas, the replica id. A run resumed from a
        checkpoint therefore draws at step ``n`` what the uninterrupted run drew there, and
        each replica still draws its own numbers for its own examples.
        """
        run_seed = tf.compat.v1.random.get_seed(_STEP_STREAM)[0]
        optimizer = getattr(self, "optimizer", None)  # None before compile
        step = 0 if optimizer is None else optimizer.iterations
        seed = tf.stack([tf.constant(run_seed, tf.int64), tf.cast(step, tf.int64)])
        # The data pipeline seeds its batches with (run seed, batch index) too.
        seed = tf.random.experimental.stateless_fold_in(seed, _STEP_STREAM)
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            replica = tf.cast(ctx.replica_id_in_sync_group, tf.int64)
            seed = tf.random.experimental.stateless_fold_in(seed, replica)
        return seed

    def seeded_step(self):
        """Context making every :mod:`tfless.augment.rng` draw traced inside it stateless,
        seeded by :meth:`step_seed`; ``train_step`` runs inside it (overrides should too)."""
        return rng.seeded(self.step_seed())

    def train_step(self, data):
        with self.seeded_step():
            with tf.GradientTape() as tape:
                loss = self.compute_loss(x=data, training=True)
                scaled = scale_for_replicas(loss)
                if self.optimizer is not None:
                    scaled = self.optimizer.scale_loss(scaled)
            variables = self.optimized_variables()
            grads = tape.gradient(scaled, variables)
            self.optimizer.apply(grads, variables)
            self.loss_tracker.update_state(loss)
            self.after_train_step(data)
        return self.metrics_result()

    def metrics_result(self) -> dict:
        return {m.name: m.result() for m in self.metrics}

    # ---------------------------------------------------------------- evaluation
    def feature_encoder(self) -> keras.Model:
        """The network whose features are evaluated and exported: ``[B, H, W, C] -> [B, D]``.

        :attr:`encoder` itself for most methods. A method whose paper evaluates
        something else on whole images (CPC: the encoder over the patch grid,
        mean-pooled) returns that model, sharing the encoder's weights.
        """
        return self.encoder

    def features(self, images, training: bool = False):
        """Features ``[B, D]`` of images ``[B, H, W, C]`` in [0, 1] (:meth:`feature_encoder`)."""
        return self.feature_encoder()(images, training=training)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            inputs = inputs["image"]
        return self.features(inputs, training=training)

    def build_from_batch(self, batch) -> None:
        """Creates every variable by running one loss computation on ``batch``.

        Used by the trainer (inside the strategy scope) before restoring a
        checkpoint or running a custom distributed loop.
        """
        self.compute_loss(x=batch, training=False)
        for m in self.metrics:
            m.reset_state()


class ClassifierMixin:
    """Evaluation for methods that carry a classification head (``self.head``).

    ``test_step`` reports top-1 ``accuracy`` (``self.accuracy_tracker``) and
    cross-entropy ``loss`` on ``data['image']`` / ``data['label']``.
    """

    has_classifier = True

    def logits(self, images, training: bool = False):
        return self.head(self.encoder(images, training=training), training=training)

    def test_step(self, data):
        logits = self.logits(data["image"], training=False)
        labels = data["label"]
        loss = keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        )
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(labels, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_tracker.result()}
