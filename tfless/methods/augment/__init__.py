"""Learned augmentation; ``AUGMENT_METHODS`` is merged into ``tfless.methods.METHODS``.

The two methods read ``{"image", "label"}`` batches and augment on the device inside the
step, because the augmentation they apply depends on the current model. The searches
learn an augmentation before training and write it to a file that a view applies in the
data pipeline: AutoAugment's policy search (:mod:`~tfless.methods.augment.autoaugment_search`,
with the child models of :mod:`~tfless.methods.augment.child`), the RandAugment N x M sweep
(:mod:`~tfless.methods.augment.randaugment_sweep`) and TANDA
(:mod:`~tfless.methods.augment.tanda`). :class:`PolicyController` is the LSTM controller
they share.
"""

from tfless.methods.augment.adversarial_autoaugment import AdversarialAutoAugment
from tfless.methods.augment.autoaugment_search import SearchResult, autoaugment_search
from tfless.methods.augment.child import ChildTrainer, reduced_digits
from tfless.methods.augment.policy_controller import (
    PolicyController,
    make_reinforce_update,
    reinforce_loss,
)
from tfless.methods.augment.randaugment_sweep import randaugment_sweep, sweep_markdown
from tfless.methods.augment.tanda import (
    TandaGenerator,
    load_generator,
    save_generator,
    train_tanda,
)
from tfless.methods.augment.uncertainty_sampling import UncertaintySampling

AUGMENT_METHODS: dict = {
    "adversarial_autoaugment": AdversarialAutoAugment,
    "uncertainty_sampling": UncertaintySampling,
}

__all__ = [
    "AUGMENT_METHODS",
    "AdversarialAutoAugment",
    "ChildTrainer",
    "PolicyController",
    "SearchResult",
    "TandaGenerator",
    "UncertaintySampling",
    "autoaugment_search",
    "load_generator",
    "make_reinforce_update",
    "randaugment_sweep",
    "reduced_digits",
    "reinforce_loss",
    "save_generator",
    "sweep_markdown",
    "train_tanda",
]
