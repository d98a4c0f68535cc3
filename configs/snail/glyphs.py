"""SNAIL (Mishra et al. 2018, arXiv 1707.03141) on the built-in glyphs: N-way K-shot.

Command:
  tfless-train --config=configs/snail/glyphs.py:5way1shot --workdir=/tmp/tfless/snail_glyphs

Args (after the colon, comma-separated): ``<N>way<K>shot`` (default ``5way1shot``; the
training episodes have the test's N and K) and ``smoke`` (2 steps on tiny shapes, seconds;
exercised by tests/test_configs.py).

Metric: N-way K-shot accuracy on the novel (``test``) alphabets, mean over 600 episodes of
15 queries per class with a 95% confidence interval. Full run: not measured yet. A short run
(``--config.train.steps=300 --config.data.batch_size=4 --config.fewshot.episodes=100``,
seed 0, 2026-11-30, about 1.5 min on 2 shared CPU cores) measured 37.3% +- 1.9 5-way 1-shot
(chance 20%). The smoke run finishes in seconds.

Recipe: the paper's few-shot network (Attention(64, 32), TC(128), Attention(256, 128),
TC(128), Attention(512, 256), then a linear map to N logits) over the sequence of the
support set (Conv-4 features and one-hot labels) and one query with a zero label; Adam
1e-3, 16 episodes per meta-batch, 2,000 steps.
"""

from tfless.configs import common, fewshot


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg)
    c = fewshot.fewshot_config(
        "snail", dict(ways=ways, shots=shots), ways=ways, shots=shots, episodes_per_batch=16
    )
    if smoke:
        fewshot.fewshot_smoke(c)
        c.method.kwargs.architecture = (("attention", 8, 8), ("tc", 8), ("attention", 8, 8))
    return common.locked(c)
