"""Supervised training on 10 labels per class with the AutoAugment policy searched on digits.

Commands:
  # 1. search (writes DIR/policy.json; about 8 minutes on 2 busy CPU cores):
  python -m tfless.cli.augment_search --mode=autoaugment --output_dir=/tmp/tfless/aa_search \
      --num_policies=60 --policies_per_update=4 --child_steps=300 \
      --controller_learning_rate=0.005
  # 2. train with it (the shipped digits_policy.json came from step 1 with seed 0):
  tfless-train --config=configs/aa_search/digits.py --workdir=/tmp/tfless/aa_search_digits \
      [--config.data.augment_kwargs.policy=/tmp/tfless/aa_search/policy.json]

Args (after the colon):
  (none)  100 labeled 16x16 digits, 1,000 steps. Expected: about 94-96% test accuracy
          (measured 95.4% at 600 steps, seed 0; see benchmarks/results/augment_learned.md,
          whose cross-check shows no augmentation at 96.0% once batch-norm statistics
          settle). About 3 minutes on 2 busy CPU cores.
  smoke   a few steps, finishes in seconds (exercised by tests/test_configs.py).

Search recipe (AutoAugment, Cubuk et al. 2019, scaled to digits): 5 sub-policies x 2 ops
over the 16 ops, 11 probability and 10 magnitude bins; children are small ConvNets trained
300 steps on the same 100 labeled digits and scored on 300 held-out training digits;
REINFORCE with a 0.95 moving-average baseline, entropy 1e-5; 60 policies in updates of 4
(the paper: 15,000 policies with PPO, lr 0.00035 -- raised to 0.005 here so that 15
updates can move the controller); the final policy concatenates the 5 best policies' 25
sub-policies. At this budget the search is close to random search: no sampled policy
scored above the no-augmentation child (95.3% validation), see ``best_rewards`` in
digits_policy.json.

Training recipe: the supervised digits recipe (small ConvNet, Adam 2e-3 cosine, EMA 0.99)
with the policy as the ``autoaugment`` view (needs ``VIEWS["autoaugment"]``, see
``tfless.augment.search.autoaugment``).
"""

import os

import ml_collections

POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_policy.json")


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    arg = arg or ""
    if arg not in ("", "smoke"):
        raise ValueError(f"Unknown config arg {arg!r}. Expected '' or 'smoke'.")
    c = ml_collections.ConfigDict()

    c.method = ml_collections.ConfigDict()
    c.method.name = "supervised"
    c.method.kwargs = ml_collections.ConfigDict({"label_smoothing": 0.0, "weight_decay": 0.0})

    c.model = ml_collections.ConfigDict()
    c.model.backbone = "convnet"
    c.model.kwargs = ml_collections.ConfigDict({"widths": (32, 64, 128)})

    c.data = ml_collections.ConfigDict()
    c.data.dataset = "digits"
    c.data.pipeline = "supervised"
    c.data.image_size = 16
    c.data.channels = 1
    c.data.batch_size = 50
    c.data.eval_batch_size = 540
    c.data.labels_per_class = 10
    c.data.split_seed = 0
    c.data.mu = 0
    c.data.augment = "autoaugment"
    c.data.augment_kwargs = ml_collections.ConfigDict({"policy": POLICY, "pad_fraction": 0.0})
    c.data.unlabeled_views = ""
    c.data.views_kwargs = ml_collections.ConfigDict()
    c.data.with_index = False
    c.data.shuffle_buffer = 2048
    c.data.data_dir = ml_collections.config_dict.placeholder(str)

    c.optimizer = ml_collections.ConfigDict()
    c.optimizer.name = "adam"
    c.optimizer.learning_rate = 2e-3
    c.optimizer.schedule = "cosine"
    c.optimizer.warmup_steps = 50
    c.optimizer.momentum = 0.9
    c.optimizer.nesterov = False
    c.optimizer.weight_decay = 0.0
    c.optimizer.ema = 0.99
    c.optimizer.clipnorm = ml_collections.config_dict.placeholder(float)

    c.train = ml_collections.ConfigDict()
    c.train.steps = 1000
    c.train.eval_every = 250
    c.train.seed = 0
    c.train.strategy = "none"
    c.train.jit_compile = False
    c.train.verbose = 1
    c.train.tensorboard = True
    c.train.keep_checkpoints = 2

    if arg == "smoke":
        c.train.steps = 10
        c.train.eval_every = 5
        c.optimizer.warmup_steps = 2
    c.lock()
    return c
