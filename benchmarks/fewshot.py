"""Few-shot methods on the built-in glyphs: accuracy, meta-training time and memory.

  python benchmarks/fewshot.py [--episodes 150] [--test-episodes 600] [--slow-test-episodes 100]
  python benchmarks/fewshot.py --quick           # a one-minute sanity run
  python benchmarks/fewshot.py --methods protonet,maml --shots 1

Every row trains the same Conv-4 (``--width`` filters, max-pooled, flattened: 64-d features
at 28x28; the papers use 64 filters) from the same seed on the glyphs ``train`` alphabets
(389 base classes) and is tested on 5-way K-shot episodes of the ``test`` alphabets (152
novel classes; 15 queries per class, the same episodes for every row, accuracy with its 95%
confidence interval ``1.96 std / sqrt(episodes)``). One model per (method, K): it trains on
5-way K-shot episodes with 15 queries per class (the test setting).

Budget, the same for every method: ``--episodes`` training episodes, 2 per meta-batch, Adam
1e-3. Baseline and Baseline++ see the same images as plain batches: one batch per
meta-batch, of as many base images as its two episodes hold (``2 * 5 * (K + 15)``).
Method settings are the papers' where they fit the budget: MAML with 1 inner step (lr 0.4)
at training and 10 at test, second order (row ``maml``) and first order (``maml_fo``);
the Meta-learner LSTM with 12 (1-shot) / 8 (5-shot) updates; Matching Networks with
full-context embeddings; MANN with a 200-unit controller and 128 x 40 memory; SNAIL with its
few-shot architecture; Baseline / Baseline++ with a new head trained for 100 epochs on each
test episode's support features. Before testing, the batch-norm moving statistics are set to
those of 1,024 base images (one forward pass) for the methods that normalize with them.

Measured per row, each (method, K) in a process of its own: ``ms/episode``, the wall-clock
time of the meta-training steps after the first three (tracing) divided by their episodes
(per meta-step: twice that); ``peak RSS``, the process's ``resource.getrusage`` maximum
resident set size (``ru_maxrss``) at the end, TensorFlow and the glyphs arrays included, and
``training RSS``, its growth during training and testing over its value just before (the
method's own working memory). MAML's meta-test (10 inner steps per episode), the
Meta-learner LSTM's (8-12 updates) and SNAIL's (one sequence per query through its whole
network) are slow, so they are tested on ``--slow-test-episodes`` episodes (the table says
how many). The default budget (150 training episodes per row) is sized for about 20 minutes
on 2 shared CPU cores: SNAIL 5-shot (about 1.5 s per training episode here) and the
Meta-learner LSTM take most of it; the rows are written after each one, so an interrupted
run keeps what it measured.

Writes ``benchmarks/results/fewshot.{json,md}`` and ``fewshot.png`` (accuracy vs shots).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")

METHODS = (
    "protonet",
    "matching_net",
    "baseline",
    "baseline_pp",
    "maml",
    "maml_fo",
    "mann",
    "meta_lstm",
    "snail",
)
SLOW = ("maml", "maml_fo", "meta_lstm", "snail")
LABELS = {
    "protonet": "ProtoNet",
    "matching_net": "Matching Net (FCE)",
    "baseline": "Baseline",
    "baseline_pp": "Baseline++",
    "maml": "MAML (2nd order)",
    "maml_fo": "MAML (1st order)",
    "meta_lstm": "Meta-learner LSTM",
    "mann": "MANN",
    "snail": "SNAIL",
}
WAYS, QUERIES, PER_BATCH = 5, 15, 2


def _build(name: str, shots: int, width: int, num_classes: int):
    from tfless.backbones import build_backbone
    from tfless.methods import (
        MAML,
        MANN,
        SNAIL,
        Baseline,
        BaselinePP,
        MatchingNet,
        MetaLSTM,
        ProtoNet,
    )

    encoder = build_backbone("conv4", (28, 28, 1), width=width)
    builders = {
        "protonet": lambda: ProtoNet(encoder),
        "matching_net": lambda: MatchingNet(encoder),
        "baseline": lambda: Baseline(encoder, num_classes=num_classes),
        "baseline_pp": lambda: BaselinePP(encoder, num_classes=num_classes),
        "maml": lambda: MAML(encoder, ways=WAYS, inner_steps=1, inner_lr=0.4),
        "maml_fo": lambda: MAML(encoder, ways=WAYS, inner_steps=1, inner_lr=0.4, first_order=True),
        "meta_lstm": lambda: MetaLSTM(encoder, ways=WAYS, inner_steps=12 if shots == 1 else 8),
        "mann": lambda: MANN(encoder, ways=WAYS),
        "snail": lambda: SNAIL(encoder, ways=WAYS, shots=shots),
    }
    return builders[name]()


def _train_data(name: str, shots: int, x, y, seed: int):
    import tensorflow as tf

    from tfless.data.episodes import EpisodeSampler

    if name in ("baseline", "baseline_pp"):
        batch = PER_BATCH * WAYS * (shots + QUERIES)
        ds = tf.data.Dataset.from_tensor_slices({"image": x, "label": y})
        return ds.shuffle(len(y), seed=seed).repeat().batch(batch, drop_remainder=True)
    sampler = EpisodeSampler(x, y, ways=WAYS, shots=shots, queries=QUERIES, seed=seed)
    return sampler.dataset(PER_BATCH)


def measure(name: str, shots: int, episodes: int, test_episodes: int, width: int, seed=0):
    """Trains one method for ``episodes`` training episodes and tests it; the row's figures
    (``ms_per_episode``, ``peak_rss_mb``, ``training_rss_mb``, ``accuracy``, ``ci95``)."""
    import resource

    import keras
    import numpy as np

    sys.path.insert(0, ROOT)
    from tfless.data.glyphs import glyph_arrays
    from tfless.evaluation.fewshot import FewShotSettings, evaluate_fewshot
    from tfless.evaluation.finetuning import recompute_batch_norm

    def rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    x, y = glyph_arrays("train")
    x = x.astype(np.float32) / 255.0
    xt, yt = glyph_arrays("test")
    xt = xt.astype(np.float32) / 255.0
    keras.utils.set_random_seed(seed)
    method = _build(name, shots, width, int(y.max()) + 1)
    method.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)
    data = _train_data(name, shots, x, y, seed)
    steps = max(4, episodes // PER_BATCH)
    warmup = 3
    before = rss_mb()
    method.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0)
    t0 = time.perf_counter()
    hist = method.fit(data, steps_per_epoch=steps - warmup, epochs=1, verbose=0).history
    train_seconds = time.perf_counter() - t0
    recompute_batch_norm(method.encoder, x[np.random.default_rng(seed).permutation(len(y))])
    settings = FewShotSettings(ways=WAYS, shots=(shots,), episodes=test_episodes, heads=())
    t0 = time.perf_counter()
    result = evaluate_fewshot(method, xt, yt, settings)
    test_seconds = time.perf_counter() - t0
    prefix = f"fewshot_{WAYS}way{shots}shot"
    return {
        "method": name,
        "shots": shots,
        "train_episodes": steps * PER_BATCH,
        "final_train_loss": float(hist["loss"][-1]),
        "ms_per_episode": 1000 * train_seconds / ((steps - warmup) * PER_BATCH),
        "ms_per_meta_step": 1000 * train_seconds / (steps - warmup),
        "peak_rss_mb": rss_mb(),
        "training_rss_mb": rss_mb() - before,
        "accuracy": float(result[f"{prefix}_accuracy"]),
        "ci95": float(result[f"{prefix}_ci95"]),
        "test_episodes": test_episodes,
        "test_seconds": test_seconds,
    }


def _table(rows) -> str:
    lines = [
        "| method | 5-way 1-shot (%) | 5-way 5-shot (%) | test episodes | ms / episode (1-shot, "
        "5-shot) | peak RSS MB (1-shot, 5-shot) | training RSS MB (1-shot, 5-shot) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in METHODS:
        mine = {r["shots"]: r for r in rows if r["method"] == name}
        if not mine:
            continue

        def cell(key, fmt, mine=mine):
            return ", ".join(fmt.format(mine[k][key]) if k in mine else "-" for k in (1, 5))

        accs = [
            f"{100 * mine[k]['accuracy']:.1f} ± {100 * mine[k]['ci95']:.1f}" if k in mine else "-"
            for k in (1, 5)
        ]
        tests = sorted({r["test_episodes"] for r in mine.values()})
        lines.append(
            f"| {LABELS[name]} | {accs[0]} | {accs[1]} | {', '.join(map(str, tests))} | "
            f"{cell('ms_per_episode', '{:.0f}')} | {cell('peak_rss_mb', '{:.0f}')} | "
            f"{cell('training_rss_mb', '{:.0f}')} |"
        )
    return "\n".join(lines)


def _maml_table(rows) -> str:
    lines = [
        "| MAML | K | accuracy (%) | ms / meta-step (2 episodes) | peak RSS MB | training RSS MB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        if r["method"] in ("maml", "maml_fo"):
            lines.append(
                f"| {LABELS[r['method']]} | {r['shots']} | {100 * r['accuracy']:.1f} ± "
                f"{100 * r['ci95']:.1f} | {r['ms_per_meta_step']:.0f} | {r['peak_rss_mb']:.0f} "
                f"| {r['training_rss_mb']:.0f} |"
            )
    return "\n".join(lines)


def _plot(rows, path: str, title_extra: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name in METHODS:
        mine = sorted((r for r in rows if r["method"] == name), key=lambda r: r["shots"])
        if mine:
            ax.errorbar(
                [r["shots"] for r in mine],
                [100 * r["accuracy"] for r in mine],
                yerr=[100 * r["ci95"] for r in mine],
                marker="o",
                capsize=3,
                label=LABELS[name],
            )
    ax.axhline(100 / WAYS, color="gray", linestyle=":", label="chance")
    ax.set_xlabel("shots K (support images per class)")
    ax.set_ylabel("5-way accuracy on novel classes (%)")
    ax.set_xticks([1, 5])
    ax.set_title(f"Few-shot accuracy vs shots on glyphs test alphabets\n({title_extra})")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _child(args) -> dict:
    cmd = [sys.executable, __file__, "--child", f"{args[0]}:{args[1]}"]
    cmd += ["--episodes", str(args[2]), "--test-episodes", str(args[3]), "--width", str(args[4])]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{args[0]} {args[1]}-shot failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=150)
    parser.add_argument("--test-episodes", type=int, default=600)
    parser.add_argument("--slow-test-episodes", type=int, default=100)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--shots", default="1,5")
    parser.add_argument("--quick", action="store_true", help="a one-minute sanity run")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    if args.child:
        name, shots = args.child.split(":")
        row = measure(name, int(shots), args.episodes, args.test_episodes, args.width)
        print(json.dumps(row))
        return
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; expected some of {list(METHODS)}")
    shots_list = [int(k) for k in args.shots.split(",")]
    if args.quick:
        methods, shots_list = ["protonet", "maml"], [1]
        args.episodes, args.test_episodes, args.slow_test_episodes = 20, 50, 20
    rows, failed, start = [], [], time.time()
    for name in methods:
        for shots in shots_list:
            tests = args.slow_test_episodes if name in SLOW else args.test_episodes
            try:
                row = _child((name, shots, args.episodes, tests, args.width))
            except RuntimeError as e:  # the other rows still run and are written
                print(e, file=sys.stderr, flush=True)
                failed.append(f"{name}:{shots}")
                continue
            rows.append(row)
            print(
                f"{name:12s} {shots}-shot {100 * row['accuracy']:5.1f} ± {100 * row['ci95']:.1f}"
                f"  {row['ms_per_episode']:6.0f} ms/episode  {row['peak_rss_mb']:5.0f} MB"
                f"  ({time.time() - start:.0f} s)",
                flush=True,
            )
            _write(rows, failed, args, start)
    print(_table(rows))
    print(_maml_table(rows))
    if failed:
        sys.exit(f"failed rows: {failed}")


def _write(rows, failed, args, start) -> None:
    """Writes the JSON, markdown and plot of the rows so far (after every row)."""
    os.makedirs(args.out, exist_ok=True)
    command = "python benchmarks/fewshot.py" + (" --quick" if args.quick else "")
    if not args.quick:
        command += (
            f" --episodes {args.episodes} --test-episodes {args.test_episodes}"
            f" --slow-test-episodes {args.slow_test_episodes} --width {args.width}"
        )
    settings = {
        "command": command,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "train_episodes": args.episodes,
        "episodes_per_meta_batch": PER_BATCH,
        "test_episodes": args.test_episodes,
        "slow_test_episodes": args.slow_test_episodes,
        "conv4_width": args.width,
        "wall_seconds": round(time.time() - start, 1),
        "failed": failed,
    }
    name = "fewshot_quick" if args.quick else "fewshot"
    with open(os.path.join(args.out, f"{name}.json"), "w") as f:
        json.dump({"settings": settings, "rows": rows}, f, indent=2)
    budget = f"Conv-4 width {args.width}, {args.episodes} training episodes each"
    _plot(rows, os.path.join(args.out, f"{name}.png"), budget)
    with open(os.path.join(args.out, f"{name}.md"), "w") as f:
        f.write(
            "# Few-shot methods on glyphs\n\n"
            f"Command: `{command}` ({settings['wall_seconds']:.0f} s on {os.cpu_count()} "
            "shared CPU cores). Novel-class accuracy with 95% CI; see the script's docstring "
            f"for the protocol.\n\n{_table(rows)}\n\n## MAML: second vs first order\n\n"
            f"{_maml_table(rows)}\n\n![accuracy vs shots]({name}.png)\n"
        )


if __name__ == "__main__":
    main()
