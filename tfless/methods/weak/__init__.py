"""Weak supervision and transfer: noisy labels, multi-tag labels, BiT fine-tuning.

* :class:`NoisyLabel`: a classifier trained on noisy labels with a noise-robust loss
  (bootstrapping, generalized and symmetric cross-entropy; :mod:`tfless.losses.noisy`).
* :class:`MultiTag`: hashtag-style multi-tag training (Mahajan et al. 2018).
* :class:`BiT`: BiT fine-tuning with a zero-initialized head and MixUp; the schedule is
  :mod:`tfless.train.hyperrule`.
"""

from tfless.methods.weak.bit import BiT
from tfless.methods.weak.multi_tag import MultiTag
from tfless.methods.weak.noisy_label import NoisyLabel

# Trained by the trainer (``method.name``; BiT with tfless.configs.transfer's HyperRule).
# MultiTag reads multi-hot tag targets, which the data pipeline does not build: it is
# used from Python (see the README).
WEAK_METHODS = {"noisy_label": NoisyLabel, "bit": BiT}

__all__ = ["WEAK_METHODS", "BiT", "MultiTag", "NoisyLabel"]
