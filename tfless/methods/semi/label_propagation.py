"""Label propagation for deep semi-supervised learning (Iscen et al. 2019)."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from tfless.data.arrays import to_arrays
from tfless.methods.semi.common import SemiMethod


class LabelPropagation(SemiMethod):
    """Network training on pseudo-labels diffused over a kNN graph of its own features.

    Iscen, Tolias, Avrithis & Chum 2019, "Label Propagation for Deep
    Semi-supervised Learning" (CVPR). Training alternates between

    * diffusion (between epochs, by :class:`LabelPropagationCallback`): features of
      every training image, a kNN graph, and label propagation solved by
      conjugate gradient (:func:`tfless.losses.consistency.label_diffusion`), giving a
      pseudo-label ``y_i``, a certainty ``w_i = 1 - H(z_i) / log C`` per example and
      class-balancing weights ``zeta_c`` (inverse class frequency);
    * an epoch of network training on the weighted loss::

        loss = mean_b(zeta_{y_b} CE(y_b, x_b)) + mean_b(w_b zeta_{yhat_b} CE(yhat_b, u_b))

    Before the first diffusion every certainty is 0, so the first epoch trains on
    the labeled examples only (the paper starts from a network trained on them).
    Paper defaults: ``k = 50`` neighbours, ``alpha = 0.99``, ``gamma = 3``, CG with
    20 iterations, features L2-normalised.

    The pseudo-labels are per training example, so the unlabeled batch must carry
    ``index`` (the example's position in the training split; the trainer adds it
    with ``data.with_index = True``). The graph covers the training split only, so
    ``data.unlabeled_extra_splits`` (e.g. STL-10's unlabelled split) cannot be used:
    the data pipeline refuses it together with ``with_index`` (which puts ``index``
    in the unlabeled batch).

    Reads ``labeled.{image, label}``, ``unlabeled.{<view_key>, index}`` and, if
    present, ``unlabeled.true_label`` (monitoring only; ``true_label < 0`` marks an
    image without a label, left out of ``pseudo_label_accuracy``).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      num_examples: size N of the training split that ``index`` points into.
      k: neighbours of the kNN graph.
      alpha: diffusion parameter in (0, 1).
      gamma: power of the affinities.
      max_iterations: conjugate-gradient iterations.
      view_key: key of the unlabeled view.
      weight_decay: coupled L2 coefficient on kernels (2e-4 in the paper).
    """

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        num_examples: int,
        k: int = 50,
        alpha: float = 0.99,
        gamma: float = 3.0,
        max_iterations: int = 20,
        view_key: str = "image",
        weight_decay: float = 0.0,
        name: str = "label_propagation",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        if int(num_examples) < 2:
            raise ValueError(f"num_examples must be >= 2; got {num_examples!r}.")
        if int(k) < 1:
            raise ValueError(f"k (neighbours) must be >= 1; got {k!r}.")
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
        if not gamma > 0:
            raise ValueError(f"gamma must be > 0; got {gamma!r}.")
        self.num_examples = int(num_examples)
        self.k = int(k)
        self.alpha = float(alpha)
        self.gamma = float(gamma)
        self.max_iterations = int(max_iterations)
        self.view_key = str(view_key)
        self.unlabeled_keys = (self.view_key, "index")
        n, c = self.num_examples, self.num_classes
        self.pseudo_labels = self.add_weight(
            shape=(n,), dtype="int32", initializer="zeros", trainable=False, name="pseudo_labels"
        )
        self.certainty = self.add_weight(
            shape=(n,), initializer="zeros", trainable=False, name="certainty"
        )
        self.class_weights = self.add_weight(
            shape=(c,), initializer="ones", trainable=False, name="class_weights"
        )
        self.pseudo_label_accuracy_tracker = keras.metrics.Mean(name="pseudo_label_accuracy")

    def set_pseudo_labels(self, pseudo_labels, certainty, class_weights) -> None:
        """Stores a diffusion's result (``[N]`` int, ``[N]`` float, ``[C]`` float)."""
        self.pseudo_labels.assign(np.asarray(pseudo_labels, np.int32))
        self.certainty.assign(np.asarray(certainty, np.float32))
        self.class_weights.assign(np.asarray(class_weights, np.float32))

    def semi_loss(self, labeled, unlabeled, training=True):
        n_lab = ops.shape(labeled["image"])[0]
        images = ops.concatenate([labeled["image"], unlabeled[self.view_key]], axis=0)
        logits = self.logits(images, training=training)
        labels = labeled["label"]
        logits_x, logits_u = logits[:n_lab], logits[n_lab:]
        self.track_labeled(labels, logits_x)
        xent_x = keras.losses.sparse_categorical_crossentropy(labels, logits_x, from_logits=True)
        loss_x = ops.mean(ops.take(self.class_weights, labels) * xent_x)

        index = ops.cast(unlabeled["index"], "int32")
        pseudo = ops.take(self.pseudo_labels, index)
        weight = ops.take(self.certainty, index) * ops.take(self.class_weights, pseudo)
        xent_u = keras.losses.sparse_categorical_crossentropy(pseudo, logits_u, from_logits=True)
        loss_u = ops.mean(weight * xent_u)
        self.unlabeled_loss_tracker.update_state(loss_u)
        if "true_label" in unlabeled:
            true_label = ops.cast(unlabeled["true_label"], "int32")
            correct = ops.cast(ops.equal(pseudo, true_label), "float32")
            # Images without a label (true_label -1, e.g. STL-10's unlabelled split) are
            # left out of the accuracy instead of counting as wrong.
            known = ops.cast(ops.greater_equal(true_label, 0), "float32")
            self.pseudo_label_accuracy_tracker.update_state(
                correct, sample_weight=ops.take(self.certainty, index) * known
            )
        return loss_x + loss_u

    def callbacks(self, data) -> list[keras.callbacks.Callback]:
        """The diffusion callback, built from the trainer's data (``raw_train``)."""
        from tfless.methods.semi.label_propagation_callback import LabelPropagationCallback

        images, labels = to_arrays(data.raw_train)
        labeled = np.arange(len(labels)) if data.labeled_indices is None else data.labeled_indices
        return [LabelPropagationCallback(images, labels, labeled)]
