"""SNAIL (Mishra et al. 2018, arXiv 1707.03141) on Omniglot: 5-way / 20-way, 1-shot / 5-shot.

Command:
  tfless-train --config=configs/snail/omniglot.py:5way1shot --workdir=/tmp/tfless/snail_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot``; ``smoke`` (2 steps on tiny shapes, seconds).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28 with the x4
rotated classes in training.

Metric: N-way K-shot accuracy on the test characters, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no Omniglot on this machine). Published, not
measured: 99.07 / 99.78 (5-way 1-shot / 5-shot) and 97.64 / 99.36
(20-way 1-shot / 5-shot).

Recipe: the paper's Omniglot network: Conv-4 embedding (64 filters), then Attention(64, 32),
TC(128), Attention(256, 128), TC(128), Attention(512, 256) and a linear map to N logits;
Adam 1e-3, 16 episodes per meta-batch, 20,000 steps.
"""

from tfless.configs import common, fewshot

SETTINGS = ("5way1shot", "5way5shot", "20way1shot", "20way5shot")


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=SETTINGS)
    c = fewshot.fewshot_config(
        "snail",
        dict(ways=ways, shots=shots),
        ways=ways,
        shots=shots,
        episodes_per_batch=16,
        dataset="omniglot",
        rotations=True,
    )
    c.train.steps = 20000
    c.train.eval_every = 2000
    if smoke:
        fewshot.fewshot_smoke(c)
        # TFDS mock data (tests) has only a few images per character.
        c.data.shots = c.data.queries = c.fewshot.queries = 1
        c.method.kwargs.update(
            dict(
                ways=c.data.ways,
                shots=c.data.shots,
                architecture=(("attention", 8, 8), ("tc", 8), ("attention", 8, 8)),
            )
        )
    return common.locked(c)
