"""Generative augmentation; ``GENERATIVE_METHODS`` is merged into ``tfless.methods.METHODS``.

:class:`NRM` is the Neural Rendering Model (semi-supervised, trained by ``tfless-train``);
:class:`CycleGAN` translates between two unpaired image domains (networks in
:mod:`tfless.backbones.cyclegan_nets`); :mod:`~tfless.methods.generative.mrgan` runs MR-GAN's
progressive stages (classifiers on real plus raw, then refined, synthetic images).
"""

from tfless.methods.generative.cyclegan import (
    ConstantThenLinearDecay,
    CycleGAN,
    CycleGANSamples,
    ImagePool,
    pool_query,
    sample_grid,
)
from tfless.methods.generative.mrgan import (
    STAGES,
    StageError,
    StageSettings,
    check_previous_stage,
    real_only_accuracy,
    run_stage,
)
from tfless.methods.generative.nrm import NRM

#: Methods the trainer builds from a config (``{"labeled", "unlabeled"}`` batches). CycleGAN
#: reads two-domain batches and is run by :mod:`~tfless.methods.generative.mrgan`.
GENERATIVE_METHODS: dict = {
    "nrm": NRM,
}

__all__ = [
    "GENERATIVE_METHODS",
    "STAGES",
    "ConstantThenLinearDecay",
    "CycleGAN",
    "CycleGANSamples",
    "ImagePool",
    "NRM",
    "StageError",
    "StageSettings",
    "check_previous_stage",
    "pool_query",
    "real_only_accuracy",
    "run_stage",
    "sample_grid",
]
