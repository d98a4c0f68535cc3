"""Training throughput (images/s) and peak memory of the supervised step.

  python benchmarks/train_throughput.py [--steps 30] [--batch 64]

Measures ``Supervised.train_step`` through ``fit`` for the digits ConvNet and WRN-28-2
on 32x32x3 inputs, with and without ``jit_compile``. Each configuration runs in its own
process so that its peak resident memory (``ru_maxrss``) is its own. Writes
``benchmarks/results/train_throughput.{json,md}``.
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
CASES = [
    ("convnet", False),
    ("convnet", True),
    ("wrn28_2", False),
    ("wrn28_2", True),
]


def _measure(backbone: str, jit: bool, steps: int, batch: int) -> dict:
    import resource
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, ROOT)
    from tfless.backbones import build_backbone
    from tfless.methods import Supervised

    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    x = rng.uniform(size=(batch, 32, 32, 3)).astype("float32")
    y = rng.randint(0, 10, size=[batch]).astype("int32")
    ds = tf.data.Dataset.from_tensors({"image": x, "label": y}).repeat()
    method = Supervised(build_backbone(backbone, (32, 32, 3)), 10)
    method.compile(
        optimizer=keras.optimizers.SGD(0.03, momentum=0.9, nesterov=True), jit_compile=jit
    )
    warmup = 5
    method.fit(ds, steps_per_epoch=warmup, epochs=1, verbose=0)
    t0 = time.perf_counter()
    method.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    dt = time.perf_counter() - t0
    return {
        "backbone": backbone,
        "jit_compile": jit,
        "batch": batch,
        "steps": steps,
        "images_per_s": steps * batch / dt,
        "ms_per_step": 1000 * dt / steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "params": int(method.encoder.count_params()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    if args.child:
        backbone, jit = args.child.split(":")
        print(json.dumps(_measure(backbone, jit == "1", args.steps, args.batch)))
        return
    rows = []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for backbone, jit in CASES:
        cmd = [sys.executable, __file__, f"--child={backbone}:{int(jit)}", f"--steps={args.steps}"]
        cmd.append(f"--batch={args.batch}")
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{backbone:8s} jit={str(jit):5s} {row['images_per_s']:9.1f} img/s "
            f"{row['ms_per_step']:8.1f} ms/step  peak {row['peak_rss_mb']:7.0f} MB"
        )
    for r in rows:
        base = next(b for b in rows if b["backbone"] == r["backbone"] and not b["jit_compile"])
        r["speedup_vs_no_jit"] = r["images_per_s"] / base["images_per_s"]
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "train_throughput.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
    lines = [
        "| backbone | jit_compile | images/s | ms/step | peak RSS MB | speed-up vs no jit |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backbone']} | {r['jit_compile']} | {r['images_per_s']:.1f} | "
            f"{r['ms_per_step']:.1f} | {r['peak_rss_mb']:.0f} | {r['speedup_vs_no_jit']:.2f}x |"
        )
    with open(os.path.join(args.out, "train_throughput.md"), "w") as f:
        f.write(f"Batch {args.batch}, 32x32x3, {meta['cpus']} CPUs, one run.\n\n")
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
