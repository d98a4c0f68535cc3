"""MANN (Santoro et al. 2016, arXiv 1605.06065) on Omniglot: 5-way / 20-way, 1-shot / 5-shot.

Command:
  tfless-train --config=configs/mann/omniglot.py:5way1shot --workdir=/tmp/tfless/mann_omniglot

Args (after the colon, comma-separated): ``5way1shot`` (default), ``5way5shot``,
``20way1shot``, ``20way5shot``; ``smoke`` (2 steps on tiny shapes, seconds).

Data: TFDS ``omniglot`` (prepared beforehand), the Vinyals class split at 28x28 with the x4
rotated classes in training.

Metric: N-way K-shot accuracy on the test characters, 600 episodes of 15 queries per class,
95% confidence interval. Not measured here (no Omniglot on this machine). Published, not
measured: 82.8% (5-way 1-shot) and 94.9% (5-way 5-shot) for MANN without convolutions, as
the Matching Networks (arXiv 1606.04080) and MAML (arXiv 1703.03400) tables quote it; the
MANN paper itself reports per-instance accuracy on label-shuffled sequences of raw 20x20
pixels, a different protocol.

Recipe: the paper's controller and memory (LSTM 200, 128 x 40 memory, 4 read heads) on a
Conv-4 encoder trained end to end; Adam 1e-3, 16 episodes per meta-batch, 20,000 steps.
"""

from tfless.configs import common, fewshot

SETTINGS = ("5way1shot", "5way5shot", "20way1shot", "20way5shot")


def get_config(arg: str | None = None):
    ways, shots, smoke = fewshot.parse_fewshot_arg(arg, allowed=SETTINGS)
    c = fewshot.fewshot_config(
        "mann",
        dict(ways=ways),
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
                ways=c.data.ways, controller_units=16, memory_slots=8, memory_width=8, read_heads=2
            )
        )
    return common.locked(c)
