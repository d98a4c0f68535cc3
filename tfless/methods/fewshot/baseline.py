"""Baseline and Baseline++ (Chen et al. 2019): pre-train a classifier on the base classes,
then fit a new head on each episode's support features."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.losses import fewshot as fs
from tfless.methods.base import Method, encoder_feature_dim
from tfless.methods.fewshot.episodic import embed_sets

#: Baseline++'s scale factor: 2 up to this many classes, 10 above (the authors' code).
COSINE_SCALE_CLASSES = 200


def cosine_scale(num_classes: int) -> float:
    """Baseline++'s scale factor for a head of ``num_classes`` classes: 2, or 10 above 200."""
    return 2.0 if int(num_classes) <= COSINE_SCALE_CLASSES else 10.0


class CosineClassifier(keras.layers.Layer):
    """Baseline++'s head: ``scale * g_n * cos(x, v_n)``, no bias (the authors' ``distLinear``:
    a bias-free linear layer under weight normalisation with a learnable per-class norm
    ``g_n``, initialised at the norm of ``v_n``).

    Args:
      num_classes: N; scale: the scale factor.
    """

    def __init__(self, num_classes: int, scale: float, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.scale = float(scale)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        bound = 1.0 / dim**0.5
        init = keras.initializers.RandomUniform(-bound, bound)
        self.direction = self.add_weight(
            shape=(dim, self.num_classes), initializer=init, name="direction"
        )
        norms = keras.ops.sqrt(keras.ops.sum(keras.ops.square(self.direction), axis=0))
        self.gain = self.add_weight(
            shape=(self.num_classes,), initializer=keras.initializers.Constant(norms), name="gain"
        )

    def call(self, features):
        return fs.cosine_classifier_logits(features, self.direction, self.scale, self.gain)


class Baseline(Method):
    """Baseline: a softmax classifier on the base classes; at test time a new linear head on
    the frozen features, trained on the support set.

    Chen, Liu, Kira, Wang & Huang 2019, "A Closer Look at Few-shot Classification"
    (arXiv:1904.04232; official code wyharveychen/CloserLookFewShot). Pre-training: the
    encoder and a linear head (``cosine=False``) or Baseline++'s cosine head with a learnable
    per-class norm (:class:`BaselinePP`) trained with cross-entropy on ``{"image", "label"}``
    batches of the base classes (the paper: Adam 1e-3, batch 16). Test (``episode_logits``):
    the head is dropped; a new one for the episode's N classes is trained on the frozen
    support features for ``finetune_epochs`` epochs of mini-batches of
    ``finetune_batch_size``, SGD lr ``finetune_learning_rate`` with momentum 0.9, dampening
    0.9 and weight decay 1e-3 (the authors' code; :func:`tfless.losses.fewshot.fit_support_head`).
    ``full_finetune=True`` trains a copy of the encoder together with the new head (the same
    optimizer and budget), the option the paper discusses for domain shift.

    Reads ``image`` and ``label``; reports ``loss`` and ``accuracy`` (on the base classes).

    Args:
      encoder: the feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: base classes of the pre-training head.
      scale: Baseline++'s scale factor (None: 2 for at most 200 classes, 10 above).
      finetune_epochs, finetune_batch_size, finetune_learning_rate: the test-time head.
      full_finetune: fine-tune the encoder too at test time.
    """

    input_keys = ("image", "label")
    cosine = False

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        scale: float | None = None,
        finetune_epochs: int = 100,
        finetune_batch_size: int = 4,
        finetune_learning_rate: float = 0.01,
        full_finetune: bool = False,
        name: str = "baseline",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2; got {num_classes!r}.")
        if int(finetune_epochs) < 1 or int(finetune_batch_size) < 1:
            raise ValueError(
                "finetune_epochs and finetune_batch_size must be >= 1; got "
                f"{finetune_epochs!r} and {finetune_batch_size!r}."
            )
        if not finetune_learning_rate > 0:
            raise ValueError(f"finetune_learning_rate must be > 0; got {finetune_learning_rate!r}.")
        self.num_classes = int(num_classes)
        self.scale = cosine_scale(num_classes) if scale is None else float(scale)
        self.finetune_epochs = int(finetune_epochs)
        self.finetune_batch_size = int(finetune_batch_size)
        self.finetune_learning_rate = float(finetune_learning_rate)
        self.full_finetune = bool(full_finetune)
        encoder_feature_dim(encoder, type(self).__name__)
        if self.cosine:
            self.head = CosineClassifier(self.num_classes, self.scale, name="head")
        else:
            self.head = keras.layers.Dense(self.num_classes, name="head")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def fewshot_head(self) -> str | None:
        """The frozen-feature head the evaluation may run on cached features (None with
        ``full_finetune``, whose test episodes change the encoder)."""
        if self.full_finetune:
            return None
        return "baseline_pp" if self.cosine else "baseline"

    def logits(self, images, training: bool = False):
        """Base-class logits ``[B, num_classes]`` of images ``[B, H, W, C]``."""
        return self.head(self.encoder(images, training=training), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        logits = self.logits(x["image"], training=training)
        loss = keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(x["label"], logits, from_logits=True)
        )
        self.accuracy_tracker.update_state(x["label"], logits)
        return loss

    def head_options(self) -> dict:
        """Keyword arguments of :func:`tfless.losses.fewshot.fit_support_head` for this head."""
        return dict(
            cosine=self.cosine,
            # The new head has N <= 200 classes: scale 2, as in the authors' code.
            scale=cosine_scale(2),
            epochs=self.finetune_epochs,
            batch_size=self.finetune_batch_size,
            learning_rate=self.finetune_learning_rate,
        )

    def episode_logits(self, support_image, support_label, query_image, ways, training=False):
        """Query logits ``[E, N*Q, N]`` of a head (and, with ``full_finetune``, an encoder
        copy) trained on each episode's support set."""
        if self.full_finetune:
            return self._full_finetune_logits(support_image, support_label, query_image, ways)
        support, query = embed_sets(self.encoder, [support_image, query_image], False)
        ways = int(ways)
        params = fs.fit_support_head(support, support_label, ways, **self.head_options())
        return fs.head_logits(query, params, self.cosine, cosine_scale(2))

    def _full_finetune_logits(self, support_image, support_label, query_image, ways):
        """Per episode: a copy of the encoder and a new head trained together on the support
        set with the test-time recipe; returns the copy's query logits."""
        out = []
        for e in range(int(support_image.shape[0])):
            out.append(
                _finetune_episode(
                    self.encoder,
                    support_image[e],
                    support_label[e],
                    query_image[e],
                    int(ways),
                    self.head_options(),
                    seed=e,
                )
            )
        return tf.stack(out)


def _finetune_episode(encoder, support, labels, query, ways, options, seed):
    """One episode of full fine-tuning: SGD (momentum 0.9, dampening 0.9, weight decay 1e-3)
    on a clone of ``encoder`` and a new head; the query logits ``[Q, N]``."""
    clone = keras.models.clone_model(encoder)
    clone.set_weights(encoder.get_weights())
    keras.utils.set_random_seed(seed)
    head = (
        CosineClassifier(ways, options["scale"]) if options["cosine"] else keras.layers.Dense(ways)
    )
    head.build((None, clone.output_shape[-1]))
    optimizer = keras.optimizers.SGD(options["learning_rate"], momentum=0.9, weight_decay=1e-3)
    variables = clone.trainable_variables + head.trainable_variables
    size, batch = int(support.shape[0]), options["batch_size"]

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = head(clone(x, training=True))
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        optimizer.apply(tape.gradient(loss, variables), variables)

    rng = tf.random.Generator.from_seed(seed)
    for _ in range(options["epochs"]):
        order = tf.argsort(rng.uniform([size]))
        for start in range(0, size, batch):
            idx = order[start : start + batch]
            step(tf.gather(support, idx), tf.gather(tf.cast(labels, tf.int32), idx))
    return head(clone(query, training=False))


class BaselinePP(Baseline):
    """Baseline++: :class:`Baseline` with a cosine classifier (``scale * g_n * cos(x, v_n)``,
    a learnable per-class norm ``g_n``, no bias) in pre-training and at test time.

    Chen et al. 2019, "A Closer Look at Few-shot Classification" (arXiv:1904.04232, Sec. 3.2;
    ``distLinear`` in wyharveychen/CloserLookFewShot). The scale factor is 2, or 10 for more
    than 200 base classes (Omniglot), as in the authors' code.
    """

    cosine = True

    def __init__(self, encoder: keras.Model, num_classes: int, name: str = "baseline_pp", **kw):
        super().__init__(encoder, num_classes, name=name, **kw)
