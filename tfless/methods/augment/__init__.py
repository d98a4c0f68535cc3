"""Learned augmentation methods; ``AUGMENT_METHODS`` is merged into ``tfless.methods.METHODS``.

Both read ``{"image", "label"}`` batches and augment on the device inside the step, because
the augmentation they apply depends on the current model.
"""

from tfless.methods.augment.adversarial_autoaugment import AdversarialAutoAugment
from tfless.methods.augment.uncertainty_sampling import UncertaintySampling

AUGMENT_METHODS: dict = {
    "adversarial_autoaugment": AdversarialAutoAugment,
    "uncertainty_sampling": UncertaintySampling,
}

__all__ = ["AUGMENT_METHODS", "AdversarialAutoAugment", "UncertaintySampling"]
