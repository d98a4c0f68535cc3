"""Label propagation (Iscen et al. 2019) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/label_propagation/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/label_propagation_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (400 for the paper's 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2 (the paper: ConvLarge), labeled batch 64, unlabeled batch 64 with
``index``, SGD nesterov 0.03 with FixMatch's cosine, weight decay 5e-4, EMA 0.999, 2^20
steps; diffusion (k 50, alpha 0.99, gamma 3, 20 CG iterations) every 2,048 steps.

Published test error (shared/REFERENCE_NUMBERS.md): 12.69% with 4000 labels (paper, LP
alone; 10.61% with Mean Teacher).
Compute: 2^20 steps; the official FixMatch TF run takes about 4 GPU-days, TorchSSL about 16
h on 4 V100s (FixMatch); not runnable on the 2-core CPU machine (a WRN-28-2 step at batch 64
takes about 1 s on CPU per 64 images). Each diffusion embeds 50k images and runs a kNN
search (chunked, CPU): a few minutes.
"""

import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "_semi_base",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_semi_base.py"),
)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)


def get_config(arg: str | None = None):
    c, smoke = _base.semi_config(
        "cifar10",
        "label_propagation",
        {
            "num_examples": 50000,
            "k": 50,
            "alpha": 0.99,
            "gamma": 3.0,
            "max_iterations": 20,
            "weight_decay": 5e-4,
        },
        "flip_crop",
        views_kwargs={},
        mu=1,
        arg=arg,
        default_labels=400,
        with_index=True,
    )
    with c.unlocked():
        c.train.eval_every = 2**11
        if smoke:
            c.method.kwargs.num_examples = 2000  # tests/test_configs.py mocks 2,000 examples
            c.method.kwargs.k = 10
            c.train.eval_every = 1
    c.lock()
    return c
