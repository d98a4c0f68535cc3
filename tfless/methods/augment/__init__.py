"""Learned augmentation methods; ``AUGMENT_METHODS`` is merged into ``tfless.methods.METHODS``.

Both read ``{"image", "label"}`` batches and augment on the device inside the step, because
the augmentation they apply depends on the current model.
"""

from tfless.methods.augment.uncertainty_sampling import UncertaintySampling

AUGMENT_METHODS: dict = {
    "uncertainty_sampling": UncertaintySampling,
}

__all__ = ["AUGMENT_METHODS", "UncertaintySampling"]
