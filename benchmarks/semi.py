"""Semi-supervised benchmark on digits: every method against labeled-only and all-labels.

  python benchmarks/semi.py [--steps 3000] [--seeds 0,1,2] [--labels 4] [--batch_size 32]
                            [--methods fixmatch,mixmatch,...] [--timing_steps 30]
                            [--out benchmarks/results]

Each run goes through ``tfless.train.train_and_evaluate`` with the method's
``configs/<method>/digits.py`` (convnet 32-64-128 on 16x16 digits, labeled batch 32,
Adam 2e-3 cosine, EMA 0.99), overriding only the step budget, the seed (``train.seed``
and ``data.split_seed``, so each seed also draws another labeled subset) and, for the
supervised references, the labels: ``configs/supervised/digits.py`` with the same
labeled batch and budget, (a) on the same ``--labels`` per class (labeled-only) and (b)
on all 1,257 labels. Reported: mean and standard deviation of test accuracy over seeds,
and the share of the labeled-only-to-all-labels gap each method closes,
``(acc - labeled_only) / (all_labels - labeled_only)``.

Throughput (``benchmarks/_timing.py``): after training, every method is built again
from its config and its training step is timed on in-memory batches of its own
pipeline, ``--timing_steps`` steps per round for ``--timing_rounds`` rounds that visit
all methods in turn (median per method), so slow spells of the shared machine hit all
methods alike. Images per step counts every image tensor in the batch (labeled + all
unlabeled views: FixMatch forwards 1 + 2 mu labeled-batch sizes), and the ratio is to
a supervised step over the same number of images (the supervised config with that batch
size), timed in the same rounds: 1.0 means the same time per forwarded image. ReMixMatch
also makes K strong views in-graph, which this count does not include; label
propagation's per-epoch diffusion (a callback) is not in the step. ``--timing_only``
re-times the methods of an existing ``semi.json`` without training.

Writes ``<out>/semi.json`` and ``<out>/semi.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from _timing import throughput_vs_supervised  # noqa: E402

METHODS = (
    "pseudo_label",
    "mean_teacher",
    "vat",
    "mixmatch",
    "remixmatch",
    "fixmatch",
    "label_propagation",
)


def load_config(name: str):
    from tfless.configs import load_config as load_config_file

    return load_config_file(os.path.join(ROOT, "configs", name, "digits.py"))


def make_config(name: str, steps: int, seed: int, labels, batch_size: int = 32):
    c = load_config("supervised" if name.startswith("supervised") else name)
    with c.unlocked():
        c.train.steps = steps
        c.train.eval_every = steps // 4 if steps % 4 == 0 else steps
        c.train.seed = seed
        c.train.verbose = 0
        c.train.tensorboard = False
        c.data.split_seed = seed
        c.data.batch_size = batch_size
        c.optimizer.warmup_steps = min(c.optimizer.warmup_steps, steps // 10)
        if name == "supervised_labeled":
            c.data.labels_per_class = labels
        elif name == "supervised_all":
            c.data.labels_per_class = None
        else:
            c.data.labels_per_class = labels
            # Ramp-ups are fractions of the configured budget: rescale them to this one.
            kw = c.method.kwargs
            for key in ("rampup_steps", "rampup_start", "rampup_end"):
                if key in kw:
                    kw[key] = int(kw[key] * steps / 3000)
        c.eval = {"protocols": ()}
    return c


def run_one(name, steps, seed, labels, batch_size=32):
    from tfless.train import train_and_evaluate

    config = make_config(name, steps, seed, labels, batch_size)
    workdir = tempfile.mkdtemp(prefix=f"semi_{name}_{seed}_")
    try:
        start = time.perf_counter()
        result = train_and_evaluate(config, workdir)
        train_seconds = time.perf_counter() - start
        row = {
            "name": name,
            "seed": seed,
            "test_accuracy": float(result.metrics["test_accuracy"]),
            "train_seconds": train_seconds,
        }
        for key in ("mask_rate", "pseudo_label_accuracy", "diffusion_accuracy"):
            if key in result.metrics:
                row[key] = float(result.metrics[key])
        return row
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def summarise(rows, names, timing):
    import numpy as np

    out = {}
    for name in names:
        accs = [r["test_accuracy"] for r in rows if r["name"] == name]
        if not accs:
            continue
        entry = {
            "accuracies": accs,
            "mean": float(np.mean(accs)),
            "std": float(np.std(accs)),
        }
        timed = timing.get("supervised_labeled" if name == "supervised_all" else name)
        if timed:
            entry.update(timed)
        for key in ("mask_rate", "pseudo_label_accuracy", "diffusion_accuracy"):
            vals = [r[key] for r in rows if r["name"] == name and key in r]
            if vals:
                entry[key] = float(np.mean(vals))
        out[name] = entry
    lo = out.get("supervised_labeled", {}).get("mean")
    hi = out.get("supervised_all", {}).get("mean")
    for entry in out.values():
        if lo is not None and hi is not None and hi > lo:
            entry["gap_closed"] = (entry["mean"] - lo) / (hi - lo)
    return out


def to_markdown(summary, args, failures) -> str:
    lines = [
        "# Semi-supervised methods on digits",
        "",
        f"Command: `python benchmarks/semi.py --steps {args.steps} --seeds {args.seeds} "
        f"--labels {args.labels} --batch_size {args.batch_size} "
        f"--timing_steps {args.timing_steps} --timing_rounds {args.timing_rounds}"
        + (f" --methods {args.methods}" if args.methods else "")
        + "`",
        "",
        f"Digits (1,257 train / 540 test), {args.labels} labels per class, convnet 32-64-128 at "
        f"16x16, labeled batch {args.batch_size}, {args.steps} steps for every run, "
        f"seeds {args.seeds}. "
        f"Host: {platform.machine()}, {os.cpu_count()} CPU cores (shared).",
        "",
        "| run | test accuracy (mean +- std) | gap closed | images/step | throughput ratio"
        " | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, e in summary.items():
        notes = []
        for key in ("mask_rate", "pseudo_label_accuracy", "diffusion_accuracy"):
            if key in e:
                notes.append(f"{key} {e[key]:.2f}")
        gap = f"{100 * e['gap_closed']:.0f}%" if "gap_closed" in e else ""
        ratio = f"{e['throughput_ratio']:.2f}" if "throughput_ratio" in e else ""
        lines.append(
            f"| {name} | {100 * e['mean']:.1f} +- {100 * e['std']:.1f} | {gap} | "
            f"{e.get('images_per_step', '')} | {ratio} | {', '.join(notes)} |"
        )
    if failures:
        lines += ["", "Failed runs:", ""] + [f"- {f}" for f in failures]
    lines += [
        "",
        "Gap closed: (acc - labeled-only) / (all labels - labeled-only). Throughput ratio: "
        "images/s of the method's training step over a supervised step on the same number "
        "of images (the supervised config at batch = the method's images/step), medians of "
        f"{args.timing_rounds} interleaved rounds of {args.timing_steps} steps on in-memory "
        "batches (benchmarks/_timing.py); images counted are every image tensor in the batch "
        "(ReMixMatch's in-graph strong views are not counted).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--labels", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--methods", default="")
    parser.add_argument("--timing_steps", type=int, default=20)
    parser.add_argument("--timing_rounds", type=int, default=5)
    parser.add_argument(
        "--timing_only", action="store_true", help="re-time the runs of an existing semi.json"
    )
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    methods = [m for m in args.methods.split(",") if m] or list(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; expected some of {list(METHODS)}.")
    names = ["supervised_labeled", "supervised_all"] + methods
    rows, failures, timing = [], [], {}
    if args.timing_only:
        with open(os.path.join(args.out, "semi.json")) as f:
            previous = json.load(f)
        rows, failures = previous["rows"], previous["failures"]
        for key in ("steps", "seeds", "labels", "batch_size", "methods"):
            setattr(args, key, previous["args"][key])
        names = list(dict.fromkeys(r["name"] for r in rows))
        seeds = []
    for seed in seeds:
        for name in names:
            try:
                row = run_one(name, args.steps, seed, args.labels, args.batch_size)
                rows.append(row)
                print(json.dumps(row), flush=True)
            except Exception as err:  # keep the table going; the failure is reported
                traceback.print_exc()
                failures.append(f"{name} seed {seed}: {type(err).__name__}: {err}")
            # Written after every run, so an interrupted benchmark keeps what it measured.
            write(args, rows, names, failures, timing)
    if args.timing_steps and args.timing_rounds:
        timing = measure_throughput(args, [n for n in names if n != "supervised_all"])
    print(write(args, rows, names, failures, timing))


def measure_throughput(args, names) -> dict:
    """Each method against the supervised config at a batch of as many images."""
    configs = {n: make_config(n, args.steps, 0, args.labels, args.batch_size) for n in names}
    return throughput_vs_supervised(
        configs,
        lambda n: make_config("supervised_all", args.steps, 0, args.labels, n),
        args.timing_steps,
        args.timing_rounds,
    )


def write(args, rows, names, failures, timing) -> str:
    summary = summarise(rows, names, timing)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "semi.json"), "w") as f:
        json.dump(
            {
                "args": vars(args),
                "rows": rows,
                "summary": summary,
                "timing": timing,
                "failures": failures,
            },
            f,
            indent=2,
        )
    text = to_markdown(summary, args, failures)
    with open(os.path.join(args.out, "semi.md"), "w") as f:
        f.write(text)
    return text


if __name__ == "__main__":
    main()
