"""The fully supervised Wide ResNet recipe that the semi-supervised CIFAR / SVHN / STL-10
tables share (FixMatch, arXiv:2001.07685, official code google-research/fixmatch; kept by
TorchSSL and by USB, arXiv:2208.07204, microsoft/Semi-supervised-learning).
"""

from __future__ import annotations

import ml_collections


def wrn_recipe(c: ml_collections.ConfigDict, dataset: str, backbone: str = "wrn28_2") -> None:
    """Sets the FixMatch protocol's network, optimizer and budget on ``c`` for ``dataset``.

    A Wide ResNet (``backbone``: ``wrn28_2``; ``wrn28_8`` for CIFAR-100, ``wrn37_2`` for
    STL-10) on the dataset's native size, labeled batch 64, SGD with Nesterov momentum 0.9,
    learning rate 0.03 with FixMatch's cosine decay ``cos(7 pi k / 16 K)`` and no warmup,
    EMA 0.999 of the weights for evaluation, 2^20 steps with an evaluation every 2^14.
    Weight decay (5e-4 in the protocol) is the method's (``method.kwargs.weight_decay``).
    """
    c.data.dataset = dataset
    c.model.backbone = backbone
    c.model.kwargs = ml_collections.ConfigDict()
    c.data.image_size = None
    c.data.channels = 3
    c.data.batch_size = 64
    c.data.eval_batch_size = 500
    c.data.shuffle_buffer = 50_000
    c.optimizer.name = "sgd"
    c.optimizer.learning_rate = 0.03
    c.optimizer.nesterov = True
    c.optimizer.schedule = "fixmatch_cosine"
    c.optimizer.warmup_steps = 0
    c.optimizer.ema = 0.999
    c.train.steps = 2**20
    c.train.eval_every = 2**14
