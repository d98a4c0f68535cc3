"""Mean Teacher (Tarvainen & Valpola 2017)."""

from __future__ import annotations

import keras
from keras import ops

from tfless.layers.momentum import MomentumCopy
from tfless.losses.consistency import sigmoid_rampup, softmax_mse
from tfless.methods.semi.common import SemiMethod, view_list


class MeanTeacher(SemiMethod):
    """Mean Teacher: an EMA of the student predicts targets for a consistency loss.

    Tarvainen & Valpola 2017, "Mean teachers are better role models:
    Weight-averaged consistency targets improve semi-supervised deep learning
    results" (NeurIPS). The teacher's weights are an exponential moving average
    of the student's, updated after every optimizer step; the student sees one
    augmented view of an unlabeled image and the teacher another::

        loss = CE(labeled) + w(t) * mean_{b,c}(softmax(student(u1)) - softmax(teacher(u2)))^2
        w(t) = consistency_weight * exp(-5 (1 - t / rampup_steps)^2)

    Paper defaults (CIFAR-10 / SVHN, ConvLarge): EMA decay 0.99 during the
    ramp-up and 0.999 after it, capped early by ``1 - 1 / (step + 1)`` as in
    the authors' code; the MSE consistency on softmax outputs; the sigmoid
    ramp-up (80 epochs in the paper; set ``rampup_steps`` for your data);
    ``consistency_weight`` 100 (their CIFAR-10 setting; the MSE here is
    averaged over classes, as in their code).

    The teacher is a :class:`tfless.layers.momentum.MomentumCopy` of
    encoder + head, run in training mode with batch statistics (it receives its own
    noise, as in the paper). A teacher frozen the Keras way normalizes with moving
    statistics instead; on digits that made the student collapse (13% test accuracy).
    Evaluation uses the student; its own EMA for evaluation is the
    optimizer's ``use_ema``.

    Reads ``labeled.{image, label}`` and ``unlabeled.views`` (two or more weak views;
    views[0] goes to the student and views[1] to the teacher).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: number of classes.
      consistency_weight: maximum weight of the consistency loss.
      rampup_steps: length of the sigmoid ramp-up in steps (0 = none).
      ema_decay: teacher EMA decay after the ramp-up.
      ema_decay_rampup: teacher EMA decay during the ramp-up.
      weight_decay: coupled L2 coefficient on kernels (2e-4 in the paper's CIFAR runs).
    """

    unlabeled_keys = ("views",)

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        consistency_weight: float = 100.0,
        rampup_steps: int = 40000,
        ema_decay: float = 0.999,
        ema_decay_rampup: float = 0.99,
        weight_decay: float = 0.0,
        name: str = "mean_teacher",
        **kwargs,
    ):
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        for key, val in (("ema_decay", ema_decay), ("ema_decay_rampup", ema_decay_rampup)):
            if not 0.0 <= val < 1.0:
                raise ValueError(f"{key} must be in [0, 1); got {val!r}.")
        if consistency_weight < 0:
            raise ValueError(f"consistency_weight must be >= 0; got {consistency_weight!r}.")
        if rampup_steps < 0:
            raise ValueError(f"rampup_steps must be >= 0; got {rampup_steps!r}.")
        self.consistency_weight = float(consistency_weight)
        self.rampup_steps = int(rampup_steps)
        self.ema_decay = float(ema_decay)
        self.ema_decay_rampup = float(ema_decay_rampup)
        student = keras.Model(encoder.inputs, self.head(encoder.outputs[0]), name="student")
        self.teacher = MomentumCopy(
            student, decay=self.ema_decay, batch_stats_in_training=True, name="teacher"
        )
        self.consistency_weight_tracker = keras.metrics.Mean(name="consistency_weight")

    def teacher_decay(self, step):
        """Teacher EMA decay after optimizer step ``step`` (0-based, float32 scalar)."""
        decay = ops.where(step < float(self.rampup_steps), self.ema_decay_rampup, self.ema_decay)
        # Early on, average uniformly over the steps so far (the authors' code does too).
        return ops.minimum(decay, 1.0 - 1.0 / (step + 1.0))

    def semi_loss(self, labeled, unlabeled, training=True):
        views = view_list(unlabeled["views"])
        if len(views) < 2:
            raise ValueError(
                f"MeanTeacher needs >= 2 unlabeled views (student, teacher); got {len(views)}."
            )
        n_lab = ops.shape(labeled["image"])[0]
        logits = self.logits(ops.concatenate([labeled["image"], views[0]], axis=0), training)
        loss_x = self.track_labeled(labeled["label"], logits[:n_lab])
        teacher_probs = ops.stop_gradient(
            ops.softmax(self.teacher(views[1], training=training), axis=-1)
        )
        loss_u = softmax_mse(logits[n_lab:], teacher_probs)
        weight = self.consistency_weight * sigmoid_rampup(self.step(), self.rampup_steps)
        self.unlabeled_loss_tracker.update_state(loss_u)
        self.consistency_weight_tracker.update_state(weight)
        return loss_x + weight * loss_u

    def after_train_step(self, data) -> None:
        # optimizer.iterations already counts this step; the decay uses the pre-step count.
        self.teacher.update(self.teacher_decay(self.step() - 1.0))
