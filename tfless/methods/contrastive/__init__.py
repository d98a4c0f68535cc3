"""Contrastive methods; ``CONTRASTIVE_METHODS`` is merged into ``tfless.methods.METHODS``."""

from tfless.methods.contrastive.simclr import SimCLR

CONTRASTIVE_METHODS: dict = {
    "simclr": SimCLR,
}

__all__ = ["CONTRASTIVE_METHODS", "SimCLR"]
