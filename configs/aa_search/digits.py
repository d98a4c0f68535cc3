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
``tfless.augment.views.autoaugment``).
"""

import os

from tfless.configs import augment, common

POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_policy.json")


def get_config(arg: str | None = None):
    smoke = common.parse_smoke_arg(arg)
    c = augment.augment_config(
        "supervised",
        {"label_smoothing": 0.0, "weight_decay": 0.0},
        augment="autoaugment",
        augment_kwargs={"policy": POLICY, "pad_fraction": 0.0},
    )
    if smoke:
        common.digits_smoke(c)
    return common.locked(c)
