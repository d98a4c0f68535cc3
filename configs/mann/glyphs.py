"""MANN (Santoro et al. 2016, arXiv 1605.06065) on the built-in glyphs: N-way K-shot.

Command:
  tfless-train --config=configs/mann/glyphs.py:5way1shot --workdir=/tmp/tfless/mann_glyphs

Args (after the colon, comma-separated): ``<N>way<K>shot`` (default ``5way1shot``; the
training episodes have the test's N and K) and ``smoke`` (2 steps on tiny shapes, seconds;
exercised by tests/test_configs.py).

Metric: N-way K-shot accuracy on the novel (``test``) alphabets, mean over 600 episodes of
15 queries per class with a 95% confidence interval. Full run: not measured yet; the smoke
run finishes in seconds.

Recipe: Conv-4 (64 filters) on 28x28 glyphs feeds the LSTM controller (200 units) with LRUA
memory (128 x 40, 4 read heads, usage decay 0.95), the paper's sizes; Adam 1e-3, 16 episodes
per meta-batch, 2,000 steps. Each support example is presented as (x_t, y_{t-1}) in a random
order, each query after the support set without its label (see ``tfless.methods.MANN``).
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg)
    c = fewshot.fewshot_config(
        "mann", dict(ways=ways), ways=ways, shots=shots, episodes_per_batch=16
    )
    if smoke:
        fewshot.fewshot_smoke(c)
        c.method.kwargs.update(
            dict(controller_units=16, memory_slots=8, memory_width=8, read_heads=2)
        )
    return common.locked(c)
