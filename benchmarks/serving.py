"""Feature-extraction throughput and latency: Keras in process, reloaded SavedModel, REST.

  python benchmarks/serving.py [--min_seconds 2] [--backbones convnet:16x16x1,wrn28_2:32x32x3]

For each backbone an encoder is built (random weights: speed does not depend on
them), exported with :func:`tfless.export.export_encoder`, and timed at batch 1
and batch 256 through:

* ``keras_call``: ``encoder(x, training=False)`` (eager Keras call);
* ``keras_predict``: ``encoder.predict_on_batch(x)`` (Keras' compiled predict function);
* ``saved_model``: ``tf.saved_model.load(...).signatures['serving_default'](image=x)``;
* ``rest``: :class:`tfless.serving.FeatureClient` -> ``tfless-serve`` (a separate process
  on 127.0.0.1) -> the same SavedModel, JSON ``instances`` format;
* ``grpc``: the same server through gRPC ``PredictRequest``.

Each timing is the median over repeated calls after warm-up, the paths called in
turn (at least 5 rounds and ``--min_seconds`` per path). Writes
``benchmarks/results/serving.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PATHS = ("keras_call", "keras_predict", "saved_model", "rest", "grpc")
BATCHES = (1, 256)


def _time_interleaved(fns: dict, min_seconds: float, min_reps: int = 5, max_reps: int = 500):
    """Median and p90 latency of each callable, timed round-robin.

    Calling the paths in turn (rotating the order every round) spreads any load
    from other processes over all of them, so their ratios stay fair.
    """
    import numpy as np

    for fn in fns.values():  # warm-up: traces, connection set-up, caches
        fn()
        fn()
    names = list(fns)
    times = {name: [] for name in names}
    cpu = {name: [] for name in names}
    start = time.perf_counter()
    rounds = 0
    while rounds < max_reps and (
        rounds < min_reps or time.perf_counter() - start < min_seconds * len(names)
    ):
        order = names[rounds % len(names) :] + names[: rounds % len(names)]
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            fns[name]()
            cpu[name].append(time.process_time() - c0)
            times[name].append(time.perf_counter() - t0)
        rounds += 1
    return {
        name: {
            "reps": len(ts),
            "median_ms": float(np.median(ts) * 1e3),
            "p90_ms": float(np.percentile(ts, 90) * 1e3),
            "cpu_ms": float(np.median(cpu[name]) * 1e3),
        }
        for name, ts in times.items()
    }


def start_server(root: str, *flags: str, timeout: float = 120.0):
    """Starts ``tfless-serve --export_root=root FLAGS`` on free ports of 127.0.0.1.

    Returns (process, REST url, gRPC target or None once ``--port=-1`` turns gRPC off);
    the process's stdout stays open for the line it prints when it stops.
    """
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
    cmd = [
        sys.executable,
        "-m",
        "tfless.cli.serve",
        f"--export_root={root}",
        "--rest_api_port=0",
        "--port=0",
        "--exit_after_seconds=1800",
        *flags,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    match = re.search(r"REST on (http://[\d.]+:\d+)(?:, gRPC on ([\d.:]+))?;", line)
    if not match or time.monotonic() > deadline:
        proc.kill()
        raise RuntimeError(f"tfless-serve did not start: {line!r}")
    return proc, match.group(1), match.group(2)


def run(backbones, min_seconds: float) -> list[dict]:
    import keras
    import numpy as np
    import tensorflow as tf

    sys.path.insert(0, ROOT)
    from tfless import export, serving
    from tfless.backbones import build_backbone

    rows = []
    with tempfile.TemporaryDirectory(prefix="tfless-bench-") as root:
        encoders = {}
        for name, shape in backbones:
            keras.utils.set_random_seed(0)
            encoders[name] = (build_backbone(name, shape), shape)
            export.export_encoder(encoders[name][0], root, name, include_uint8=False)
        proc, url, grpc_target = start_server(root)
        try:
            for name, (encoder, shape) in encoders.items():
                loaded = tf.saved_model.load(os.path.join(root, name, "1"))
                signature = loaded.signatures["serving_default"]
                rest = serving.FeatureClient(url, name, batch_size=256, timeout=120)
                grpc = serving.FeatureClient(
                    grpc_target, name, protocol="grpc", batch_size=256, timeout=120
                )
                for batch in BATCHES:
                    x = np.random.default_rng(0).random((batch, *shape), dtype=np.float32)
                    ref = np.asarray(encoder(x, training=False))
                    fns = {
                        "keras_call": lambda x=x, e=encoder: np.asarray(e(x, training=False)),
                        "keras_predict": lambda x=x, e=encoder: e.predict_on_batch(x),
                        "saved_model": lambda x=x, s=signature: s(image=tf.constant(x))[
                            "feature_vector"
                        ].numpy(),
                        "rest": lambda x=x, c=rest: c.predict(x),
                        "grpc": lambda x=x, c=grpc: c.predict(x),
                    }
                    for fn in fns.values():
                        # Every path must return the same features before it is timed.
                        np.testing.assert_allclose(fn(), ref, atol=1e-4)
                    timings = _time_interleaved(fns, min_seconds)
                    for path, stats in timings.items():
                        stats.update(
                            backbone=name,
                            input_shape=list(shape),
                            batch=batch,
                            path=path,
                            images_per_s=batch / (stats["median_ms"] / 1e3),
                        )
                        rows.append(stats)
                        print(
                            f"{name:8s} batch {batch:3d} {path:13s} "
                            f"{stats['median_ms']:9.2f} ms  {stats['images_per_s']:9.1f} img/s",
                            flush=True,
                        )
                rest.close()
                grpc.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return rows


def _markdown(rows, meta) -> str:
    lines = [
        "# Serving benchmark",
        "",
        f"`{meta['command']}` on {meta['cpus']} CPUs, TensorFlow {meta['tensorflow']}, "
        f"{meta['date']}. Median latency of >= 5 calls (>= {meta['min_seconds']} s per path) "
        "after warm-up, the paths called in turn; throughput = batch / median latency. "
        "Ratios are throughput relative to "
        "`keras_call`, the eager Keras model in process. REST and gRPC go through "
        "`tfless-serve` in a separate process on 127.0.0.1.",
        "",
        f"1-minute load average before / after: {meta['load_average_1min'][0]} / "
        f"{meta['load_average_1min'][1]} (other jobs share the machine when it is above "
        f"{meta['cpus']}).",
        "",
        "`cpu ms` is the median CPU time of this process per call (all its threads): the "
        "work done, which other jobs on the machine do not inflate. For REST and gRPC it "
        "is the client's share only; the server's work runs in its own process.",
        "",
        "| backbone | input | batch | path | median ms | p90 ms | cpu ms | images/s "
        "| vs keras_call |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    base = {
        (r["backbone"], r["batch"]): r["images_per_s"] for r in rows if r["path"] == "keras_call"
    }
    for r in rows:
        ratio = r["images_per_s"] / base[(r["backbone"], r["batch"])]
        shape = "x".join(map(str, r["input_shape"]))
        lines.append(
            f"| {r['backbone']} | {shape} | {r['batch']} | {r['path']} | {r['median_ms']:.2f} | "
            f"{r['p90_ms']:.2f} | {r['cpu_ms']:.2f} | {r['images_per_s']:.1f} | {ratio:.2f}x |"
        )
    lines += [
        "",
        "Reloaded SavedModel vs the fastest Keras path in process (throughput ratio by wall "
        "time, and by CPU time per call):",
        "",
    ]
    for backbone, batch in base:
        group = {r["path"]: r for r in rows if (r["backbone"], r["batch"]) == (backbone, batch)}
        keras = [group["keras_call"], group["keras_predict"]]
        wall = min(k["median_ms"] for k in keras) / group["saved_model"]["median_ms"]
        cpu = min(k["cpu_ms"] for k in keras) / group["saved_model"]["cpu_ms"]
        verdict = "no slower" if max(wall, cpu) >= 0.95 else "SLOWER"
        lines.append(f"- {backbone}, batch {batch}: {wall:.2f}x wall, {cpu:.2f}x CPU ({verdict})")
    lines += [
        "",
        "REST sends every float as JSON text (about 11 characters per input value, 20 per "
        "output value); both ends write it from the array with one C-level format and the "
        "server reads a plain numeric batch with NumPy's parser, so no nested Python lists "
        "are built. Its cost still grows with the input size; gRPC sends the raw tensor "
        "bytes and stays the faster path for bulk feature extraction.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--min_seconds", type=float, default=2.0)
    parser.add_argument("--backbones", default="convnet:16x16x1,wrn28_2:32x32x3")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args()
    backbones = []
    for item in args.backbones.split(","):
        name, _, shape = item.partition(":")
        dims = tuple(int(d) for d in shape.split("x"))
        if len(dims) != 3:
            parser.error(f"--backbones items look like convnet:16x16x1; got {item!r}")
        backbones.append((name, dims))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    load_before = os.getloadavg()[0]
    rows = run(backbones, args.min_seconds)
    meta = {
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "command": "python benchmarks/serving.py " + " ".join(sys.argv[1:]),
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "min_seconds": args.min_seconds,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "serving.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=2)
    with open(os.path.join(args.out, "serving.md"), "w") as f:
        f.write(_markdown(rows, meta))
    print(_markdown(rows, meta))


if __name__ == "__main__":
    main()
