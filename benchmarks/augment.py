"""RandAugment(2, 9) throughput: tfless vs keras.layers.RandAugment vs keras_cv RandAugment.

  python benchmarks/augment.py [--batch 256] [--size 32] [--iters 10] [--rounds 5]

All implementations run in one process on the same uint8 batch ``[256, 32, 32, 3]``, each
wrapped in a ``tf.function``; warm-up (tracing and the first calls) is excluded. Rounds
interleave the implementations so that a noisy, shared machine slows all of them alike;
the reported figure is the median over rounds of images/s, and each ratio is the median
over rounds of the per-round ratio. tfless is also measured inside
``tf.data`` (``map`` on the batched dataset with ``num_parallel_calls=AUTOTUNE``).

Per-image op choice: tfless and Keras core draw ops per image; keras_cv draws them per
image as well (its layer vectorizes over the batch). Settings: tfless
``RandAugment(2, 9)`` (16 ops + Identity); Keras ``RandAugment(num_ops=2, factor=0.9)``;
keras_cv ``RandAugment(augmentations_per_image=2, magnitude=0.9, magnitude_stddev=0)``.

Writes ``benchmarks/results/augment.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)


def _time_calls(fn, x, iters):
    start = time.perf_counter()
    for _ in range(iters):
        out = fn(x)
    _ = out.numpy() if hasattr(out, "numpy") else out
    return (time.perf_counter() - start) / iters


def _time_dataset(dataset, iters):
    iterator = iter(dataset)
    for _ in range(3):  # warm-up fills the prefetch buffer and the parallel calls
        next(iterator)
    start = time.perf_counter()
    for _ in range(iters):
        out = next(iterator)
    _ = out.numpy()
    return (time.perf_counter() - start) / iters


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "augment"))
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    from tfless.augment.policies import RandAugment

    rng = np.random.default_rng(0)
    images = tf.constant(
        rng.integers(0, 256, (args.batch, args.size, args.size, 3), dtype=np.uint8)
    )

    impls = {}
    tfless_ra = RandAugment(2, 9)
    impls["tfless"] = tf.function(tfless_ra)
    keras_layer = keras.layers.RandAugment(value_range=(0, 255), num_ops=2, factor=0.9)
    impls["keras"] = tf.function(lambda x: keras_layer(x, training=True))
    notes = []
    try:
        import keras_cv

        cv_layer = keras_cv.layers.RandAugment(
            value_range=(0, 255), augmentations_per_image=2, magnitude=0.9, magnitude_stddev=0.0
        )
        impls["keras_cv"] = tf.function(lambda x: cv_layer(x, training=True))
    except Exception as err:  # report honestly and carry on without it
        notes.append(f"keras_cv unavailable: {type(err).__name__}: {err}")

    dataset = (
        tf.data.Dataset.from_tensors(images)
        .repeat()
        .map(tfless_ra, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
        .prefetch(2)
    )

    for fn in impls.values():  # warm-up: trace and run a few times
        for _ in range(3):
            fn(images)
    times = {name: [] for name in impls}
    times["tfless (tf.data)"] = []
    for _ in range(args.rounds):
        for name, fn in impls.items():
            times[name].append(_time_calls(fn, images, args.iters))
        times["tfless (tf.data)"].append(_time_dataset(dataset, args.iters))

    rates = {name: args.batch / statistics.median(t) for name, t in times.items()}
    spread = {name: (args.batch / max(t), args.batch / min(t)) for name, t in times.items()}

    # Ratios per round (same load for all implementations), then the median over rounds.
    def round_ratio(name, other):
        return statistics.median(o / t for t, o in zip(times[name], times[other], strict=True))

    has_cv = "keras_cv" in times
    rows = []
    for name, rate in rates.items():
        rows.append(
            {
                "implementation": name,
                "images_per_s": round(rate, 1),
                "min_max_images_per_s": [round(v, 1) for v in spread[name]],
                "ratio_vs_keras_cv": round(round_ratio(name, "keras_cv"), 2) if has_cv else None,
                "ratio_vs_keras": round(round_ratio(name, "keras"), 2),
            }
        )
    result = {
        "benchmark": "RandAugment(2, 9) throughput",
        "batch": args.batch,
        "image_shape": [args.size, args.size, 3],
        "dtype": "uint8",
        "iters_per_round": args.iters,
        "rounds": args.rounds,
        "cpu_count": os.cpu_count(),
        "load_average_1_5_15min_at_end": [round(v, 2) for v in os.getloadavg()],
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_cv": getattr(sys.modules.get("keras_cv"), "__version__", None),
        "command": "python benchmarks/augment.py " + " ".join(argv or sys.argv[1:]),
        "notes": notes,
        "results": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w") as f:
        json.dump(result, f, indent=2)
    lines = [
        f"# RandAugment(2, 9) throughput, batch {args.batch} x {args.size}x{args.size}x3 uint8",
        "",
        f"{os.cpu_count()} CPU cores, TF {tf.__version__}, Keras {keras.__version__}, "
        f"keras-cv {result['keras_cv']}; median of {args.rounds} interleaved rounds of "
        f"{args.iters} calls, warm-up excluded; ratios are medians of per-round ratios. "
        f"Load average at the end (1/5/15 min): {result['load_average_1_5_15min_at_end']}. "
        f"Command: `{result['command'].strip()}`",
        "",
        "| implementation | images/s (median) | min..max | vs keras-cv | vs Keras core |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lo, hi = row["min_max_images_per_s"]
        ratio_cv = f"{row['ratio_vs_keras_cv']:.2f}x" if row["ratio_vs_keras_cv"] else "n/a"
        lines.append(
            f"| {row['implementation']} | {row['images_per_s']:,.0f} | {lo:,.0f}..{hi:,.0f} | "
            f"{ratio_cv} | {row['ratio_vs_keras']:.2f}x |"
        )
    lines += [f"\nNote: {n}" for n in notes]
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
