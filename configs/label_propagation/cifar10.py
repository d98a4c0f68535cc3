"""Label propagation (Iscen et al. 2019) on CIFAR-10: the paper's recipe.

Command (needs CIFAR-10 prepared for TFDS, and accelerators):
  tfless-train --config=configs/label_propagation/cifar10.py:labels=400 \
      --workdir=/tmp/tfless/label_propagation_cifar10 --strategy=mirrored

Args: ``labels=N`` labels per class (400 for the paper's 4000 labels; default 400);
``smoke`` a few steps on a tiny convnet (the config tests run it on TFDS mock data).

Recipe: WRN-28-2 (the paper: ConvLarge), labeled batch 64, unlabeled batch 64 with
``index``, SGD nesterov 0.03 with FixMatch's cosine, weight decay 5e-4, EMA 0.999, 2^20
steps; diffusion (k 50, alpha 0.99, gamma 3, 20 CG iterations) every 2,048 steps.
``num_examples`` (one pseudo-label slot per training image) is read from the data.

Published test error (not measured here): 12.69% with 4000 labels for label propagation
alone, 10.61% combined with Mean Teacher ("Label Propagation for Deep Semi-supervised
Learning", arXiv:1904.04717, CIFAR-10 comparison, ConvLarge).
Compute: 2^20 steps, about 4 GPU-days (official FixMatch TF code) or 16 h on 4 V100s (TorchSSL);
not runnable on the 2-core CPU machine (about 1 s per WRN-28-2 step of 64 images on CPU).
Each diffusion embeds 50k images and runs a kNN search (chunked, CPU): a few minutes.
"""

from tfless.configs import common, semi


def get_config(arg: str | None = None):
    labels, smoke = common.parse_labels_arg(arg, default_labels=400)
    c = semi.semi_config(
        "label_propagation",
        {
            "k": 50,
            "alpha": 0.99,
            "gamma": 3.0,
            "max_iterations": 20,
            "weight_decay": 5e-4,
        },
        labels=labels,
        mu=1,
        unlabeled_views="flip_crop",
        with_index=True,
    )
    semi.wrn_recipe(c, "cifar10")
    c.train.eval_every = 2**11
    if smoke:
        semi.smoke(c)
        c.method.kwargs.k = 10
    return common.locked(c)
