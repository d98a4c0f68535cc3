"""MAML second order vs first order: time and peak memory per meta-step, and accuracy.

  python benchmarks/maml_orders.py [--steps 150] [--inner-steps 5] [--episodes 4]

Both variants meta-train the same learner (the digits ConvNet, widths 16-32, 8x8 inputs) on
5-way 1-shot episodes of the base digits 0-4 for ``--steps`` meta-steps (Adam 1e-3, inner lr
0.4), then adapt with 10 inner steps to 100 test episodes of the novel digits 5-9 (15 queries
per class; mean accuracy and 95% CI). Each variant runs in its own process so that its peak
resident memory (``ru_maxrss``) is its own; the time per meta-step excludes the first
(tracing) steps. ``measure(first_order, ...)`` is the per-variant function, for other
benchmarks to call. Writes ``benchmarks/results/maml_orders.{json,md}``.

``benchmarks/fewshot.py`` compares the two orders on glyphs with the Conv-4 and the
other few-shot methods, at the paper's 1 inner step; this one is the small digits learner at
``--inner-steps`` (5 by default), where second order's memory and time grow with the steps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(
    first_order: bool, steps: int = 150, inner_steps: int = 5, episodes: int = 4, seed: int = 0
) -> dict:
    """Meta-trains MAML (``first_order`` or second order) and returns its figures:
    ``ms_per_meta_step``, ``peak_rss_mb`` (of this process), ``accuracy`` and ``ci95`` on
    novel-class 5-way 1-shot episodes."""
    import resource
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, ROOT)
    from tfless.backbones import build_backbone
    from tfless.data import digits_arrays
    from tfless.data.episodes import EpisodeSampler
    from tfless.methods import MAML

    keras.utils.set_random_seed(seed)
    x, y = digits_arrays("train")
    base = y < 5
    train = EpisodeSampler(x[base], y[base], ways=5, shots=1, queries=15, seed=seed)
    novel = EpisodeSampler(x[~base], y[~base], ways=5, shots=1, queries=15, seed=seed + 1)
    encoder = build_backbone("convnet", (8, 8, 1), widths=(16, 32))
    method = MAML(encoder, ways=5, inner_steps=inner_steps, inner_lr=0.4, first_order=first_order)
    method.compile(optimizer=keras.optimizers.Adam(1e-3))
    data = train.dataset(episodes)
    warmup = 3
    method.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0)
    t0 = time.perf_counter()
    method.fit(data, steps_per_epoch=steps - warmup, epochs=1, verbose=0)
    dt = time.perf_counter() - t0
    logits_fn = tf.function(method.episode_logits)
    accs = []
    for b in range(10):
        batch = novel.meta_batch(b, 10)
        logits = logits_fn(batch["support_image"], batch["support_label"], batch["query_image"])
        accs += list(np.mean(np.argmax(logits, -1) == batch["query_label"], axis=1))
    accs = np.asarray(accs)
    return {
        "variant": "first order" if first_order else "second order",
        "meta_steps": steps,
        "inner_steps": inner_steps,
        "episodes_per_meta_step": episodes,
        "ms_per_meta_step": 1000 * dt / (steps - warmup),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "accuracy": float(accs.mean()),
        "ci95": float(1.96 * accs.std() / np.sqrt(len(accs))),
        "test_episodes": len(accs),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--inner-steps", type=int, default=5)
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    sizes = dict(steps=args.steps, inner_steps=args.inner_steps, episodes=args.episodes)
    if args.child:
        print(json.dumps(measure(args.child == "first", **sizes)))
        return
    rows = []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for variant in ("second", "first"):
        cmd = [sys.executable, __file__, "--child", variant]
        cmd += ["--steps", str(args.steps), "--inner-steps", str(args.inner_steps)]
        cmd += ["--episodes", str(args.episodes)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    lines = [
        "| variant | ms / meta-step | peak RSS (MB) | 5-way 1-shot novel accuracy |",
        "| --- | --- | --- | --- |",
    ]
    for r in rows:
        acc = f"{100 * r['accuracy']:.1f} +- {100 * r['ci95']:.1f}"
        lines.append(
            f"| {r['variant']} | {r['ms_per_meta_step']:.0f} | {r['peak_rss_mb']:.0f} | {acc} |"
        )
    table = "\n".join(lines)
    print(table)
    os.makedirs(args.out, exist_ok=True)
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), **sizes}
    with open(os.path.join(args.out, "maml_orders.json"), "w") as f:
        json.dump({"settings": meta, "rows": rows}, f, indent=2)
    with open(os.path.join(args.out, "maml_orders.md"), "w") as f:
        f.write(
            "# MAML: second order vs first order\n\n"
            f"Command: `python benchmarks/maml_orders.py --steps {args.steps} --inner-steps "
            f"{args.inner_steps} --episodes {args.episodes}`\n\n{table}\n"
        )


if __name__ == "__main__":
    main()
