"""Few-shot SLA on the built-in glyphs: Prototypical Networks on joint (class, rotation)
prototypes, with aggregated inference (Lee, Hwang & Shin, "Self-supervised Label
Augmentation via Input Transformations", ICML 2020, arXiv 1910.05872).

Command:
  tfless-train --config=configs/sla_protonet/glyphs.py:5way1shot \
    --workdir=/tmp/tfless/sla_protonet_glyphs

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot`` (the test
episodes; training episodes have the same shots); ``smoke`` (2 steps on tiny shapes).

Data: glyphs (608 character classes of 17 scripts, 28x28x1): training episodes from the 389
background classes, test episodes from the 152 evaluation classes.

Metric: 5-way K-shot accuracy (SLA+AG: each class's score is the average over the 4
rotations of the query's distance score to that class's prototype under the same rotation)
on the evaluation classes, 600 episodes of 15 queries per class, with its 95% confidence
interval (``fewshot_5way1shot_accuracy`` / ``_ci95`` in metrics.json). This config's own
run is not measured. ``python benchmarks/sla.py --only fewshot`` compares ProtoNet and
SLA-ProtoNet on a shorter budget (Conv-4 with 32 filters, 200 10-way training episodes, 3
seeds, 600 test episodes; benchmarks/results/sla.md): 5-way 1-shot 87.4 (ProtoNet) vs 95.8
(SLA+AG), 5-way 5-shot 96.7 vs 99.1 (2026-11-30).

Recipe: ``configs/protonet/glyphs.py`` with rotation label augmentation (``transforms``:
``rotation``, M = 4, the paper's few-shot set): Conv-4 (64 filters), Adam 1e-3 halved every
2,000 episodes, 20-way training episodes with 15 queries, 1,000 episodes one per step. Each
20-way episode becomes an 80-way joint episode and forwards 4x the images of a ProtoNet
step, so the run takes about four times as long as the ProtoNet config's.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=("5way1shot", "5way5shot"))
    kwargs = {"transforms": "rotation", "inference": "aggregated"}
    c = fewshot.fewshot_config("sla_protonet", kwargs, ways=ways, shots=shots, train_ways=20)
    c.train.steps = 1000
    c.train.eval_every = 500
    fewshot.halve_every(c, 2000)
    if smoke:
        fewshot.fewshot_smoke(c)
    return common.locked(c)
