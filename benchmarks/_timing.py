"""Throughput of training steps, measured in interleaved rounds (shared by the benchmarks).

The machine these benchmarks run on is shared and noisy, so one timing per method taken
right after its training run (minutes apart from the supervised reference) can be off by
several times. Here every method is built from its config (untrained: step time does not
depend on the weights), warmed up, and then timed in ``rounds`` rounds that visit all
methods in turn; each method's figure is the median over rounds, so slow spells hit all
methods alike and ratios to the supervised step are comparable. The step is the
method's compiled train function called directly (see
:func:`interleaved_seconds_per_step`).

The step is timed on a few batches drawn from the method's own input pipeline and held in
memory, so the figure is the model's training step (forward, backward, update, in-graph
work such as ReMixMatch's strong views or a pretext task's tiles) without the input
pipeline, which on 2 cores competes with training for the same CPUs.
"""

from __future__ import annotations

import statistics
import time


def count_images(batch) -> int:
    """Images in a batch: every ``image*`` / ``views*`` / ``*_image`` tensor (5-D views count
    K x B, and 5-D episode images ``[E, N*K, H, W, C]`` count E x N*K)."""
    total = 0
    if isinstance(batch, dict):
        for key, value in batch.items():
            if isinstance(value, (dict, list, tuple)):
                total += count_images(value)
            elif key.startswith(("image", "views")) or key.endswith("_image"):
                shape = value.shape
                total += int(shape[0]) * (int(shape[1]) if len(shape) == 5 else 1)
    elif isinstance(batch, (list, tuple)):
        total += sum(count_images({"image": v}) for v in batch)
    return total


def build_for_timing(config, num_batches: int = 4):
    """``(method, in_memory_dataset, first_batch)`` for ``config``, the method untrained."""
    import keras
    import tensorflow as tf

    from tfless.data import pipelines
    from tfless.train.build import build_method
    from tfless.train.optimizers import make_optimizer

    seed = int(config.train.get("seed", 0))
    keras.utils.set_random_seed(seed)
    data = pipelines.build_data(config.data, seed=seed)
    batches = list(data.train.take(num_batches))
    method = build_method(config, data.image_shape, data.info.num_classes, num_train=data.num_train)
    method.compile(optimizer=make_optimizer(config.optimizer, int(config.train.steps)))
    method.build_from_batch(batches[0])
    ds = tf.data.Dataset.from_tensor_slices(
        tf.nest.map_structure(lambda *xs: tf.stack(xs), *batches)
    ).repeat()
    return method, ds, batches[0]


def _sync(logs) -> None:
    """Waits for the step to finish by reading a value back."""
    import numpy as np

    value = logs.get("loss") if isinstance(logs, dict) else logs
    np.asarray(value)


def interleaved_seconds_per_step(entries: dict, steps: int = 20, rounds: int = 5) -> dict:
    """Median seconds per training step of each ``name -> (method, dataset)``.

    Each method's compiled train function (the one ``fit`` runs) is called directly on an
    iterator of its dataset: ``fit`` adds per-call overhead (epoch iterator, callbacks)
    that varied by 30% between identical calls here. Each method is warmed up (trace +
    3 steps), then timed for ``steps`` steps once per round, visiting the methods in
    turn in every round.

    Returns:
      ``name -> {"seconds_per_step": median, "rounds": [seconds per step of each round]}``.
    """
    if steps < 1 or rounds < 1:
        raise ValueError(f"steps and rounds must be >= 1; got {steps!r}, {rounds!r}.")
    runners = {}
    for name, (method, ds) in entries.items():
        method.make_train_function()
        fn = method.train_function
        it = iter(ds)
        for _ in range(3):
            logs = fn(it)
        _sync(logs)
        runners[name] = (fn, it)
    times = {name: [] for name in entries}
    for _ in range(rounds):
        for name, (fn, it) in runners.items():
            start = time.perf_counter()
            for _ in range(steps):
                logs = fn(it)
            _sync(logs)
            times[name].append((time.perf_counter() - start) / steps)
    return {
        name: {"seconds_per_step": statistics.median(t), "rounds": t} for name, t in times.items()
    }


def throughput_vs_supervised(
    configs: dict, supervised_config, steps: int = 20, rounds: int = 5, label: str = ""
) -> dict:
    """Each ``name -> config``'s training step against a supervised step on as many images.

    ``supervised_config(n)`` returns the supervised config at batch size ``n``; one is
    timed for every distinct images-per-step count, in the same interleaved rounds.

    Returns:
      ``name -> {images_per_step, images_per_second, supervised_images_per_second,
      throughput_ratio, rounds, supervised_rounds}``.
    """
    entries, per_step = {}, {}
    for name, config in configs.items():
        method, ds, batch = build_for_timing(config)
        entries[name] = (method, ds)
        per_step[name] = count_images(batch)
    for n in sorted(set(per_step.values())):
        method, ds, _ = build_for_timing(supervised_config(n))
        entries[f"supervised@{n}"] = (method, ds)
    timed = interleaved_seconds_per_step(entries, steps, rounds)
    out = {}
    for name, n in per_step.items():
        ips = n / timed[name]["seconds_per_step"]
        sup = n / timed[f"supervised@{n}"]["seconds_per_step"]
        out[name] = {
            "images_per_step": n,
            "images_per_second": ips,
            "supervised_images_per_second": sup,
            "throughput_ratio": ips / sup,
            "rounds": timed[name]["rounds"],
            "supervised_rounds": timed[f"supervised@{n}"]["rounds"],
        }
        print(f"throughput {name}: {ips:.0f} images/s, {ips / sup:.2f}x supervised", flush=True)
    return out
