"""Mixed precision, fused steps and XLA per method; tfless vs plain Keras; the input pipeline.

  python benchmarks/performance.py [--steps 6] [--rounds 3] [--accuracy_seeds 3]

One process, interleaved rounds (:mod:`benchmarks._timing`), ratios only: this machine is
shared, so absolute images/s drift between minutes while ratios measured in the same
rounds hold. Four parts:

1. **Step variants per method** (supervised, FixMatch, SimCLR, MoCo on WRN-28-2 at
   32x32x3, and ProtoNet on Conv-4 episodes when the few-shot configs exist): images/s of
   ``float32``, ``mixed_bfloat16`` (``mixed_float16`` on a GPU), ``steps_per_execution=4``
   and ``jit_compile=True``, each as a ratio to the method's float32 step.
2. **tfless vs plain Keras:** the supervised step against the ``Sequential(backbone,
   Dense)`` + ``compile(loss=...)`` step a user would write, in both precisions.
3. **Input pipeline:** FixMatch's CIFAR-10 pipeline (64 labeled + 448 weak + 448
   RandAugment strong views at 32x32, mock CIFAR-10 images) in batches/s against the
   float32 FixMatch step on that batch (the model step removed from the pipeline timing).
4. **Accuracy:** the supervised digits config trained in float32 and in
   ``mixed_bfloat16`` over ``--accuracy_seeds`` seeds (test accuracy, mean and spread).

Writes ``benchmarks/results/performance.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

METHOD_CONFIGS = {
    "supervised": "supervised/digits.py",
    "fixmatch": "fixmatch/digits.py",
    "simclr": "simclr/digits.py",
    "moco": "moco/digits.py",
}
FEWSHOT_CONFIG = "protonet/glyphs.py"


def _low_precision() -> str:
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def _variants() -> dict:
    low = _low_precision()
    return {
        "float32": dict(precision="float32", steps_per_execution=1, jit_compile=False),
        low: dict(precision=low, steps_per_execution=1, jit_compile=False),
        "fused x4": dict(precision="float32", steps_per_execution=4, jit_compile=False),
        "xla": dict(precision="float32", steps_per_execution=1, jit_compile=True),
    }


def _config(spec: str, variant: dict, cifar_shape: bool):
    from tfless.configs import load_config

    config = load_config(os.path.join(ROOT, "configs", f"{spec}:smoke"))
    with config.unlocked():
        config.train.update(variant)
        if cifar_shape:
            config.data.image_size = 32
            config.data.channels = 3
            config.model.backbone = "wrn28_2"
            config.model.kwargs = {}
    return config


def _build(config):
    """Untrained method compiled as the variant says, with a few in-memory batches."""
    from _timing import build_for_timing

    from tfless.train.optimizers import make_optimizer
    from tfless.train.precision import loss_scaled

    method, ds, batch = build_for_timing(config)
    optimizer = loss_scaled(
        make_optimizer(config.optimizer, int(config.train.steps)), config.train.precision
    )
    method.compile(
        optimizer=optimizer,
        steps_per_execution=int(config.train.steps_per_execution),
        jit_compile=bool(config.train.jit_compile),
    )
    return method, ds, batch


def _time_calls(entries: dict, steps: int, rounds: int) -> dict:
    """Median seconds per training step of ``name -> (model, dataset, steps per call)``,
    timed in interleaved rounds (a call runs ``steps per call`` fused steps)."""
    from _timing import _sync

    runners = {}
    for name, (model, ds, per_call) in entries.items():
        model.make_train_function()
        it = iter(ds)
        for _ in range(2):
            logs = model.train_function(it)
        _sync(logs)
        runners[name] = (model.train_function, it, per_call)
    times = {name: [] for name in entries}
    for _ in range(rounds):
        for name, (fn, it, per_call) in runners.items():
            calls = max(1, steps // per_call)
            start = time.perf_counter()
            for _ in range(calls):
                logs = fn(it)
            _sync(logs)
            times[name].append((time.perf_counter() - start) / (calls * per_call))
    return {name: statistics.median(t) for name, t in times.items()}


def _plain_keras(batch, precision: str, spe: int = 1):
    """The ``Sequential(backbone, Dense)`` model a user would write instead of tfless."""
    import keras
    import tensorflow as tf

    from tfless.backbones import build_backbone
    from tfless.train.precision import dtype_policy

    with dtype_policy(precision):
        backbone = build_backbone("wrn28_2", tuple(batch["image"].shape[1:]))
    model = keras.Sequential([backbone, keras.layers.Dense(10, dtype="float32")])
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        steps_per_execution=spe,
        jit_compile=False,
    )
    ds = tf.data.Dataset.from_tensors((batch["image"], batch["label"])).repeat()
    model.fit(ds, steps_per_epoch=1, epochs=1, verbose=0)
    return model, ds


def step_variants(steps: int, rounds: int, methods=None) -> dict:
    """Part 1 and 2: every method x variant, and plain Keras, in the same rounds."""
    from _timing import count_images

    entries, images = {}, {}
    specs = dict(METHOD_CONFIGS)
    if os.path.exists(os.path.join(ROOT, "configs", FEWSHOT_CONFIG)):
        specs["protonet"] = FEWSHOT_CONFIG
    if methods:
        unknown = sorted(set(methods) - set(specs))
        if unknown:
            raise SystemExit(f"--methods: unknown {unknown}; expected some of {sorted(specs)}.")
        specs = {name: spec for name, spec in specs.items() if name in methods}
    for method, spec in specs.items():
        for variant, values in _variants().items():
            config = _config(spec, values, cifar_shape=method != "protonet")
            model, ds, batch = _build(config)
            entries[(method, variant)] = (model, ds, values["steps_per_execution"])
            images[method] = count_images(batch) or images.get(method, 0)
            if not images[method]:
                raise SystemExit(f"{method}: no image tensors found in its batch {list(batch)}.")
            print(f"built {method} / {variant}", flush=True)
            if method == "supervised" and variant in ("float32", _low_precision()):
                plain, pds = _plain_keras(batch, values["precision"])
                entries[("plain keras", variant)] = (plain, pds, 1)
                images["plain keras"] = images["supervised"]
    timed = _time_calls(entries, steps, rounds)
    table = {}
    for (method, variant), seconds in timed.items():
        table.setdefault(method, {})[variant] = images[method] / seconds
    return table


def input_pipeline(steps: int) -> dict:
    """Part 3: FixMatch's CIFAR-10 pipeline batches/s against its float32 step."""
    import tensorflow_datasets as tfds
    from _timing import count_images

    from tfless.configs import load_config
    from tfless.data import pipelines

    config = load_config(os.path.join(ROOT, "configs", "fixmatch", "cifar10.py"))
    with tfds.testing.mock_data(num_examples=2000):
        data = pipelines.build_data(config.data, seed=0)
        it = iter(data.train)
        batch = next(it)
        for _ in range(2):
            next(it)
        start = time.perf_counter()
        for _ in range(steps):
            next(it)
        pipeline = steps / (time.perf_counter() - start)
        model, ds, _ = _build(_config_for_pipeline_step(config))
    step = 1.0 / _time_calls({"fixmatch": (model, ds, 1)}, 2, 1)["fixmatch"]
    return {
        "images_per_batch": count_images(batch),
        "pipeline_batches_per_second": pipeline,
        "float32_steps_per_second": step,
        "ratio": pipeline / step,
    }


def _config_for_pipeline_step(config):
    with config.unlocked():
        config.train.precision = "float32"
        config.train.steps_per_execution = 1
        config.train.jit_compile = False
    return config


def accuracy(seeds: int) -> dict:
    """Part 4: supervised digits test accuracy in float32 and in the low precision."""
    from tfless.configs import load_config
    from tfless.train import train_and_evaluate

    out = {}
    for precision in ("float32", _low_precision()):
        accs = []
        for seed in range(seeds):
            config = load_config(os.path.join(ROOT, "configs", "supervised", "digits.py"))
            with config.unlocked():
                config.train.update(precision=precision, seed=seed, verbose=0, tensorboard=False)
            with tempfile.TemporaryDirectory() as workdir:
                accs.append(float(train_and_evaluate(config, workdir).metrics["test_accuracy"]))
            print(f"accuracy {precision} seed {seed}: {accs[-1]:.4f}", flush=True)
        out[precision] = {"accuracies": accs, "mean": statistics.mean(accs)}
    return out


def _markdown(result: dict) -> str:
    low = _low_precision()
    variants = list(_variants())
    lines = [
        "# Performance: precision, fused steps, XLA, input pipeline",
        "",
        f"`python benchmarks/performance.py --steps {result['steps']} --rounds "
        f"{result['rounds']} --accuracy_seeds {result['accuracy_seeds']}"
        + (f" --methods {result['methods']}" if result["methods"] else "")
        + "`; one process, "
        "interleaved rounds, medians; ratios to each method's float32 step.",
        "",
        "| method | float32 images/s | " + " | ".join(f"{v} (x)" for v in variants[1:]) + " |",
        "|---" * (len(variants) + 1) + "|",
    ]
    for method, row in result["steps_table"].items():
        base = row["float32"]
        if base <= 0:  # no images counted: nothing measured for this method
            dashes = " | ".join("-" for _ in variants[1:])
            lines.append(f"| {method} | not measured | {dashes} |")
            continue
        ratios = " | ".join(f"{row[v] / base:.2f}" if v in row else "-" for v in variants[1:])
        lines.append(f"| {method} | {base:.1f} | {ratios} |")
    sup, plain = result["steps_table"].get("supervised"), result["steps_table"].get("plain keras")
    if sup and plain:
        lines += [
            "",
            "tfless supervised step / plain Keras step: "
            f"float32 {sup['float32'] / plain['float32']:.2f}, {low} {sup[low] / plain[low]:.2f}.",
            "",
        ]
    p = result["pipeline"]
    if p:
        lines.append(
            f"FixMatch CIFAR-10 input pipeline ({p['images_per_batch']} images per batch): "
            f"{p['pipeline_batches_per_second']:.2f} batches/s vs the float32 step's "
            f"{p['float32_steps_per_second']:.3f} steps/s: **{p['ratio']:.1f}x**."
        )
    acc = result["accuracy"]
    if acc:
        lines += [
            "",
            "| precision | supervised digits test accuracy (per seed) | mean |",
            "|---|---|---|",
        ]
        for precision, row in acc.items():
            per_seed = ", ".join(f"{a:.4f}" for a in row["accuracies"])
            lines.append(f"| {precision} | {per_seed} | {row['mean']:.4f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6, help="steps timed per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--pipeline_batches", type=int, default=5, help="0 skips part 3")
    parser.add_argument("--accuracy_seeds", type=int, default=3, help="0 skips part 4")
    parser.add_argument(
        "--methods",
        default="",
        help="comma-separated subset of supervised,fixmatch,simclr,moco,protonet (default all)",
    )
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    result = {
        "steps": args.steps,
        "rounds": args.rounds,
        "accuracy_seeds": args.accuracy_seeds,
        "methods": args.methods,
        "steps_table": step_variants(
            args.steps, args.rounds, [m for m in args.methods.split(",") if m]
        ),
        "pipeline": input_pipeline(args.pipeline_batches) if args.pipeline_batches else {},
        "accuracy": accuracy(args.accuracy_seeds) if args.accuracy_seeds else {},
    }
    os.makedirs(args.out, exist_ok=True)
    # A run of some methods only does not overwrite the full table.
    stem = "performance" + ("_" + args.methods.replace(",", "_") if args.methods else "")
    with open(os.path.join(args.out, stem + ".json"), "w") as f:
        json.dump(result, f, indent=2)
    markdown = _markdown(result)
    with open(os.path.join(args.out, stem + ".md"), "w") as f:
        f.write(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
