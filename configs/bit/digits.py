"""BiT transfer (Kolesnikov et al. 2020, arXiv:1912.11370) at toy scale: a small GroupNorm
ResNetV2 (``bit_tiny``) fine-tuned on the built-in digits with 1, 5 or 10 images per class,
or all of them, by the BiT-HyperRule.

Command (start the trunk from a tfless run of the same backbone, or a BiT .npz file; without
``model.init`` it trains from scratch, the reference a transfer must beat):
  tfless-train --config=configs/bit/digits.py:5shot --config.model.init=PRETRAINED_RUN_DIR \\
      --workdir=/tmp/tfless/bit_digits_5shot

Args (after the colon): ``1shot``, ``5shot`` (default), ``10shot`` or ``full``; ``smoke``
(6 steps; for tests).

Metric: test accuracy (540 digits) after the fixed schedule; see ``benchmarks/weak.py``
(transfer part) for measured 1 / 5 / 10-shot numbers of a glyphs-pre-trained trunk against
this trunk from scratch. Runtime: about a minute for the 500 few-shot steps on 2 CPU cores.

Recipe: the HyperRule for fewer than 20k examples (500 steps: warm-up 100, x0.1 at 200 /
300 / 400; SGD momentum 0.9, no weight decay, no MixUp), learning rate 0.003 at BiT's
batch 512 scaled to batch 32; digits at 16x16x1 with BiT's training crop (0.8 of the side,
resized back) and no flips (a flipped digit is another digit); a zero-initialized head.
"""

from tfless.configs import common, transfer
from tfless.train import hyperrule

SHOTS = {"1shot": 1, "5shot": 5, "10shot": 10, "full": None}


def get_config(arg: str | None = None):
    setting, smoke = common.parse_setting_arg(arg, SHOTS, default="5shot")
    shots = SHOTS[setting]
    n = shots * 10 if shots else 1_257  # training examples: the HyperRule's input
    c = transfer.bit_config("digits", shots, batch_size=32)
    # BiT's rate: 0.003 at batch 512, scaled to this batch.
    lr = hyperrule.BASE_LR * 32 / hyperrule.BATCH_SIZE
    transfer.set_hyperrule(c, hyperrule.hyperrule_schedule(n), hyperrule.hyperrule_mixup(n), lr)
    c.model.backbone = "bit_tiny"
    c.model.kwargs = {}
    common.set_augment(c, "bit_crop", {"flip": False, "crop_fraction": 0.8})
    if smoke:
        transfer.bit_smoke(c)
    return common.locked(c)
