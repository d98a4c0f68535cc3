"""Schema of the few-shot configs (episodic meta-learning and the pre-training baselines).

Episodic methods (Prototypical / Matching Networks, MAML, the Meta-learner LSTM, MANN, SNAIL)
train on meta-batches of N-way K-shot episodes drawn from the base classes
(``data.pipeline="episodes"``); Baseline / Baseline++ pre-train a classifier on plain
``{"image", "label"}`` batches of the same base classes (``data.episode_stream=False``). Both are
evaluated at the end of the run on N-way K-shot episodes of the novel classes, as the papers
do: the mean accuracy over ``fewshot.episodes`` episodes with a 95% confidence interval.

Fields this schema adds to :func:`tfless.configs.common.digits_base`:

``data.ways`` / ``data.shots`` / ``data.queries``
    N, K and Q of the *training* episodes (ProtoNet's miniImageNet recipe trains 30-way for a
    5-way test), read by the ``episodes`` pipeline.
``data.batch_size``
    episodes per meta-batch (E); images per batch with ``data.episode_stream=False``.
``data.episode_stream``
    False: plain ``{"image", "label"}`` batches of the base classes (Baseline pre-training).
``data.rotations``
    every class also yields its 90 / 180 / 270 degree rotations as new classes (Omniglot).
``fewshot.ways`` / ``fewshot.shots`` / ``fewshot.queries`` / ``fewshot.episodes``
    the *test* episodes: N-way K-shot with Q queries per class (15 in every paper), averaged
    over this many episodes (600 in Matching Networks, MAML and Chen et al. 2019).
``fewshot.split``
    the split holding the novel classes (``test``).
``fewshot.heads``
    extra heads on frozen features reported besides the method's own ``episode_logits``
    (``protonet``, ``baseline``, ``baseline_pp``; see :mod:`tfless.evaluation.fewshot`).
``fewshot.rotations``
    the novel classes' rotations count as test classes too (Omniglot's protocol).
``fewshot.seed``
    seed of the test episodes.

The ``fewshot`` section sits at the top level, beside ``eval``, so that a run choosing its
frozen-feature protocols (``eval.protocols``) keeps its few-shot test.
"""

from __future__ import annotations

import re

import ml_collections

from tfless.configs import common

#: Test episodes of every few-shot paper: 15 queries per class, 600 episodes.
TEST_QUERIES = 15
TEST_EPISODES = 600

_WAYSHOT = re.compile(r"^(?P<ways>\d+)way(?P<shots>\d+)shot$")


def parse_fewshot_arg(
    arg: str | None, default: str = "5way1shot", allowed: tuple[str, ...] | None = None
) -> tuple[int, int, bool]:
    """``'20way5shot,smoke'`` -> ``(20, 5, True)``; ValueError naming the bad part.

    Args:
      arg: comma-separated parts, each ``smoke`` or ``<N>way<K>shot``.
      default: the setting when ``arg`` names none.
      allowed: the settings a config supports (default: any N >= 2, K >= 1).
    """
    setting, smoke = default, False
    for part in filter(None, (arg or "").split(",")):
        if part == "smoke":
            smoke = True
        elif _WAYSHOT.match(part):
            setting = part
        else:
            raise ValueError(
                f"Unknown config arg {part!r}. Expected 'smoke' and/or '<N>way<K>shot' "
                "(e.g. '5way1shot')."
            )
    if allowed is not None and setting not in allowed:
        raise ValueError(f"Config arg {setting!r}: expected one of {list(allowed)}.")
    match = _WAYSHOT.match(setting)
    ways, shots = int(match["ways"]), int(match["shots"])
    if ways < 2 or shots < 1:
        raise ValueError(f"Config arg {setting!r}: expected N >= 2 ways and K >= 1 shots.")
    return ways, shots, smoke


def fewshot_config(
    method: str,
    kwargs: dict,
    *,
    ways: int = 5,
    shots: int = 1,
    train_ways: int | None = None,
    train_shots: int | None = None,
    train_queries: int = TEST_QUERIES,
    episodes_per_batch: int = 1,
    dataset: str = "glyphs",
    image_size: int = 28,
    channels: int = 1,
    rotations: bool = False,
    episode_stream: bool = True,
) -> ml_collections.ConfigDict:
    """An unlocked few-shot config: Conv-4 on ``dataset``, tested ``ways``-way ``shots``-shot.

    Args:
      method: a ``METHODS`` key; kwargs: its constructor kwargs.
      ways, shots: N and K of the test episodes on the novel classes.
      train_ways, train_shots, train_queries: the training episodes (default: the test
        ways and shots, 15 queries).
      episodes_per_batch: episodes per meta-batch (``data.batch_size``).
      dataset, image_size, channels: the data (default the built-in ``glyphs`` at 28x28x1).
      rotations: Omniglot's rotated classes in the training episodes.
      episode_stream: meta-batches of episodes (meta-learning), or False for plain batches
        of the base classes (Baseline pre-training; set ``data.batch_size`` to its image
        batch).

    Defaults elsewhere: Adam 1e-3 at a constant rate, no warmup, no weight EMA, no validation
    hold-out, 2,000 steps with a checkpoint every 500, Conv-4 with 64 filters.
    """
    c = common.digits_base()
    common.set_method(c, method, kwargs)
    c.model.backbone = "conv4"
    c.model.kwargs = ml_collections.ConfigDict({"width": 64})
    c.data.dataset = dataset
    c.data.pipeline = "episodes"
    c.data.episode_stream = bool(episode_stream)
    c.data.image_size = image_size
    c.data.channels = channels
    c.data.batch_size = episodes_per_batch
    c.data.eval_batch_size = 256
    c.data.val_size = 0
    c.data.ways = int(train_ways or ways)
    c.data.shots = int(train_shots or shots)
    c.data.queries = int(train_queries)
    c.data.rotations = bool(rotations)
    # A folder dataset's class lists (miniImageNet's train/val/test.csv of Ravi & Larochelle).
    c.data.class_split_dir = ml_collections.config_dict.placeholder(str)
    c.optimizer.update(learning_rate=1e-3, schedule="constant", warmup_steps=0, ema=0.0)
    c.train.steps = 2000
    c.train.eval_every = 500
    c.fewshot = ml_collections.ConfigDict()
    c.fewshot.ways = int(ways)
    c.fewshot.shots = int(shots)
    c.fewshot.queries = TEST_QUERIES
    c.fewshot.episodes = TEST_EPISODES
    c.fewshot.split = "test"
    c.fewshot.heads = ()
    c.fewshot.rotations = bool(rotations)
    c.fewshot.seed = 0
    # Frozen-feature probes of base-class labels say nothing about novel classes: the
    # few-shot test (`fewshot`) is the run's evaluation.
    c.eval.protocols = ()
    return c


def halve_every(c: ml_collections.ConfigDict, every: int, factor: float = 0.5) -> None:
    """A step schedule multiplying the learning rate by ``factor`` every ``every`` steps
    (ProtoNet: Adam 1e-3 halved every 2,000 episodes)."""
    steps = int(c.train.steps)
    boundaries = tuple(k * every / steps for k in range(1, -(-steps // every)))
    if not boundaries:  # a run shorter than one period keeps its rate
        return
    c.optimizer.schedule = "step"
    c.optimizer.boundaries = boundaries
    c.optimizer.factor = float(factor)


def fewshot_smoke(c: ml_collections.ConfigDict, steps: int = 2, episodes: int = 10) -> None:
    """Shrinks a few-shot run to seconds: ``steps`` steps on small episodes, a Conv-4 of width
    8, ``episodes`` test episodes with 5 queries per class."""
    c.train.steps = steps
    c.train.eval_every = steps
    c.optimizer.warmup_steps = 0
    c.model.kwargs.width = 8
    c.data.ways = min(c.data.ways, 5)
    c.data.shots = min(c.data.shots, 2)
    c.data.queries = min(c.data.queries, 3)
    if not c.data.episode_stream:
        c.data.batch_size = min(c.data.batch_size, 16)
    else:
        c.data.batch_size = 1
    c.fewshot.ways = min(c.fewshot.ways, 5)
    c.fewshot.queries = 5
    c.fewshot.episodes = episodes


def offline_smoke(c: ml_collections.ConfigDict, steps: int = 2) -> None:
    """:func:`fewshot_smoke` on the built-in ``glyphs`` at 28x28x1, for configs whose data
    (a miniImageNet folder) is not on the machine: the recipe runs, on data that is."""
    c.data.dataset = "glyphs"
    c.data.image_size = 28
    c.data.channels = 1
    c.data.class_split_dir = None
    fewshot_smoke(c, steps=steps)
