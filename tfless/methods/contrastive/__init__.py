"""Contrastive methods; ``CONTRASTIVE_METHODS`` is merged into ``tfless.methods.METHODS``."""

from tfless.methods.contrastive.amdim import AMDIM
from tfless.methods.contrastive.cpc import CPC
from tfless.methods.contrastive.moco import MoCo
from tfless.methods.contrastive.pirl import PIRL
from tfless.methods.contrastive.simclr import SimCLR

CONTRASTIVE_METHODS: dict = {
    "simclr": SimCLR,
    "moco": MoCo,
    "pirl": PIRL,
    "cpc": CPC,
    "amdim": AMDIM,
}

__all__ = ["AMDIM", "CONTRASTIVE_METHODS", "CPC", "PIRL", "MoCo", "SimCLR"]
