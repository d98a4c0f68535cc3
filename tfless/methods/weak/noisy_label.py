"""Supervised training on noisy labels with a noise-robust loss."""

from __future__ import annotations

import keras

from tfless.losses import noisy
from tfless.methods.supervised import Supervised


class NoisyLabel(Supervised):
    """A classifier trained on (possibly noisy) labels with a noise-robust loss.

    :class:`tfless.methods.Supervised` with its cross-entropy replaced by the chosen loss
    (``loss="ce"`` trains exactly as ``Supervised`` does); the mean loss is reported as
    ``robust_loss``.

    ``loss`` is one of :data:`tfless.losses.noisy.ROBUST_LOSSES` with its paper's defaults:

    * ``"ce"``: plain softmax cross-entropy, the baseline the others are compared with;
    * ``"bootstrap_soft"`` (beta 0.95) and ``"bootstrap_hard"`` (beta 0.8): "Training Deep
      Neural Networks on Noisy Labels with Bootstrapping" (Reed et al., arXiv:1412.6596);
    * ``"gce"`` (q 0.7): "Generalized Cross Entropy Loss for Training Deep Neural Networks
      with Noisy Labels" (Zhang & Sabuncu, arXiv:1805.07836);
    * ``"sce"`` (alpha 0.1, beta 1.0 as the authors set for CIFAR-10; 0.01 / 1.0 for MNIST
      and 6.0 / 0.1 for CIFAR-100 in :data:`tfless.losses.noisy.SCE_PRESETS`): "Symmetric
      Cross Entropy for Robust Learning with Noisy Labels" (Wang et al., arXiv:1908.06112;
      official code YisenWang/symmetric_cross_entropy_for_noisy_labels).

    Reads ``image`` and ``label`` (the noisy label; apply noise with
    :mod:`tfless.data.noise` or ``data.label_noise``). A batch may also carry
    ``true_label`` (clean, for monitoring only): ``label_agreement`` then reports how often
    the training label is the clean one (it reads 0 when no batch carried ``true_label``).

    Args:
      encoder: feature network ``[B, H, W, C] -> [B, D]``.
      num_classes: classes of the linear head.
      loss: name of the robust loss.
      loss_kwargs: its keyword values (``beta``, ``q``, ``alpha``); None: the defaults above.
      weight_decay: coefficient of the L2 penalty ``wd * sum ||W||^2 / 2`` on kernels.
    """

    loss_metric_name = "robust_loss"

    def __init__(
        self,
        encoder: keras.Model,
        num_classes: int,
        loss: str = "sce",
        loss_kwargs: dict | None = None,
        weight_decay: float = 0.0,
        name: str = "noisy_label",
        **kwargs,
    ):
        if loss not in noisy.ROBUST_LOSSES:
            raise ValueError(f"Unknown loss {loss!r}. Expected one of {list(noisy.ROBUST_LOSSES)}.")
        super().__init__(encoder, num_classes, weight_decay=weight_decay, name=name, **kwargs)
        self.loss_name = loss
        # A config's ConfigDict becomes a plain dict of plain values.
        self.loss_kwargs = {str(k): float(v) for k, v in dict(loss_kwargs or {}).items()}
        # Fail at construction on a bad keyword or value, not at the first step.
        probe = keras.ops.zeros((1, self.num_classes))
        noisy.robust_loss(loss, keras.ops.one_hot([0], self.num_classes), probe, **self.loss_kwargs)
        self.agreement_tracker = keras.metrics.Mean(name="label_agreement")

    def example_losses(self, onehot, logits):
        """The robust loss of each example ``[B]`` (:func:`tfless.losses.noisy.robust_loss`)."""
        if self.loss_name == "ce":
            # Supervised's own cross-entropy, so the "ce" baseline is that method bit for bit.
            return super().example_losses(onehot, logits)
        return noisy.robust_loss(self.loss_name, onehot, logits, **self.loss_kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        if "true_label" in x:
            same = keras.ops.cast(keras.ops.equal(x["true_label"], x["label"]), "float32")
            self.agreement_tracker.update_state(keras.ops.mean(same))
        return loss
