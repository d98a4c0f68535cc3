"""Matching Networks (Vinyals et al. 2016, arXiv:1606.04080) on the built-in glyphs.

Command:
  tfless-train --config=configs/matching_net/glyphs.py:5way1shot \
    --workdir=/tmp/tfless/matching_net_glyphs

Args (after the colon, comma-separated): ``5way1shot`` (default) or ``5way5shot``;
``fce`` adds the full-context embeddings; ``smoke`` (2 steps on tiny shapes).

Data: glyphs (28x28x1): training episodes from the 389 background classes, test episodes
from the 152 evaluation classes.

Metric: 5-way K-shot accuracy on the evaluation classes, 600 episodes of 15 queries per
class, 95% confidence interval (``fewshot_5way1shot_accuracy`` / ``_ci95``).

Recipe: the paper's Omniglot setting (no full-context embeddings, which the paper found did
not help on Omniglot): Conv-4 (64 filters), cosine attention, training episodes with the
test ways and shots and 15 queries; Adam 1e-3 (the paper does not give its optimizer; the
re-implementation of Chen et al. 2019 uses Adam 1e-3); 1,000 episodes.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    parts = [p for p in (arg or "").split(",") if p and p != "fce"]
    fce = "fce" in (arg or "").split(",")
    ways, shots, smoke = fewshot.parse_fewshot_arg(
        ",".join(parts), allowed=("5way1shot", "5way5shot")
    )
    c = fewshot.fewshot_config("matching_net", {"fce": fce}, ways=ways, shots=shots)
    c.train.steps = 1000
    c.train.eval_every = 500
    if smoke:
        fewshot.fewshot_smoke(c)
    return common.locked(c)
