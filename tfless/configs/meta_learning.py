"""Config builders of the optimization-based meta-learners: MAML and the Meta-learner LSTM.

Both train and test on the same N-way episodes (the learner's head has N outputs), normalize
each episode with its own batch-norm statistics (never synchronized across replicas), and
take ``<N>way<K>shot``, ``smoke`` and (MAML) ``first_order`` as config args.
"""

from __future__ import annotations

from tfless.configs import common, fewshot


def _split_arg(arg: str | None, flag: str, allowed) -> tuple[int, int, bool, bool]:
    parts = [p for p in (arg or "").split(",") if p]
    flagged = flag in parts
    rest = ",".join(p for p in parts if p != flag)
    ways, shots, smoke = fewshot.parse_fewshot_arg(rest, allowed=allowed)
    return ways, shots, smoke, flagged


def _finish(c, smoke: bool, smoke_kwargs: dict, width: int, steps: int, class_split_dir):
    if class_split_dir:
        c.data.class_split_dir = class_split_dir
    c.model.kwargs.width = width
    c.model.kwargs.bn_synchronized = False  # each episode has its own statistics
    c.train.steps = steps
    c.train.eval_every = max(steps // 4, 1)
    if smoke:
        if c.data.dataset.startswith("folder:"):
            fewshot.offline_smoke(c)
        else:
            fewshot.fewshot_smoke(c)
        if c.data.dataset == "omniglot":
            # TFDS mock data has as few as 2 images per character: 1 shot + 1 query.
            c.data.shots = c.data.queries = c.fewshot.shots = c.fewshot.queries = 1
        c.method.kwargs.update(ways=c.data.ways, **smoke_kwargs)
        c.fewshot.ways = c.data.ways
    return common.locked(c)


def maml_config(
    arg: str | None,
    allowed,
    *,
    inner_steps: int,
    inner_lr: float,
    episodes_per_batch: int,
    steps: int,
    width: int = 64,
    train_queries: int | None = None,
    class_split_dir: str | None = None,
    **data,
):
    """A locked MAML config for ``arg`` (``<N>way<K>shot``, ``first_order``, ``smoke``).

    Args:
      allowed: the ``<N>way<K>shot`` settings the config supports.
      inner_steps, inner_lr: the meta-training adaptation (10 steps at meta-test).
      episodes_per_batch: episodes per meta-update; steps: meta-updates; width: Conv-4
        filters; train_queries: queries per class of the training episodes (default: the
        shots, as the official Omniglot code); class_split_dir: the folder of a folder
        dataset's class-split CSV files.
      **data: ``dataset``, ``image_size``, ``channels``, ``rotations`` of
        :func:`tfless.configs.fewshot.fewshot_config`.
    """
    ways, shots, smoke, first_order = _split_arg(arg, "first_order", allowed)
    kwargs = {
        "ways": ways,
        "inner_steps": inner_steps,
        "inner_lr": inner_lr,
        "test_inner_steps": 10,
        "first_order": first_order,
        # MAML++'s per-step batch-norm weights: --config.method.kwargs.per_step_batch_norm=True
        "per_step_batch_norm": False,
    }
    c = fewshot.fewshot_config(
        "maml",
        kwargs,
        ways=ways,
        shots=shots,
        train_queries=train_queries or shots,
        episodes_per_batch=episodes_per_batch,
        **data,
    )
    smoke_kwargs = {"inner_steps": 1, "test_inner_steps": 2}
    return _finish(c, smoke, smoke_kwargs, width, steps, class_split_dir)


def meta_lstm_config(
    arg: str | None,
    allowed,
    *,
    steps: int,
    width: int = 32,
    class_split_dir: str | None = None,
    **data,
):
    """A locked Meta-learner LSTM config for ``arg`` (``<N>way<K>shot``, ``smoke``): the
    paper's miniImageNet recipe (12 updates and Torch BN momentum 0.9 for 1-shot, 8 updates
    and 0.95 otherwise; one episode per meta-update, 15 queries, Adam 1e-3 with the gradient
    norm clipped at 0.25)."""
    ways, shots, smoke, _ = _split_arg(arg, "", allowed)
    one_shot = shots == 1
    kwargs = {
        "ways": ways,
        "inner_steps": 12 if one_shot else 8,
        "bn_momentum": 0.1 if one_shot else 0.05,
    }
    c = fewshot.fewshot_config("meta_lstm", kwargs, ways=ways, shots=shots, **data)
    c.optimizer.clipnorm = 0.25
    return _finish(c, smoke, {"inner_steps": 2}, width, steps, class_split_dir)
