"""Learned augmentation vs heuristics on digits with 10 labels per class.

  python benchmarks/augment_learned.py [--steps 600] [--seeds 0] [--arms none,pad_crop,...]
      [--tanda_steps 300]

Every arm trains the digits ConvNet (32-64-128, Adam 2e-3 cosine, EMA 0.99, batch 50) on
the same 100 labeled 16x16 digits for the same number of optimizer steps through
``tfless.train.train_and_evaluate`` and reports test accuracy on the 540 test digits:

  none               no augmentation
  pad_crop           reflect pad-and-crop by 1/8, no flip (the heuristic baseline)
  randaugment        RandAugment(N, M) over the reference's 17 ops, (N, M) from the
                     launcher's sweep when ``--sweep`` names its JSON, else (2, 5)
  autoaugment        the policy searched on digits (configs/aa_search/digits_policy.json)
  tanda              a TANDA generator trained here on the 100 labeled images (labels unused)
  adv_aa             Adversarial AutoAugment (configs/adv_aa/digits.py, M = 8)
  uncertainty        uncertainty-based sampling (configs/uncertainty_sampling/digits.py)

Writes ``benchmarks/results/augment_learned.{json,md}``. The ``autoaugment``,
``randaugment`` and ``tanda`` views and the two methods are registered here when the
library does not register them yet.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

ARMS = ("none", "pad_crop", "randaugment", "autoaugment", "tanda", "adv_aa", "uncertainty")
DESCRIPTIONS = {
    "none": "no augmentation",
    "pad_crop": "pad-crop 1/8, no flip (heuristic)",
    "randaugment": "RandAugment(N, M), 17 ops",
    "autoaugment": "AutoAugment policy searched on digits",
    "tanda": "TANDA generator (L = 5)",
    "adv_aa": "Adversarial AutoAugment (M = 8)",
    "uncertainty": "uncertainty sampling (K = 4, L = 1)",
}


def _load_config(name: str, arg=None):
    from tfless.configs import load_config

    path = os.path.join(ROOT, "configs", name, "digits.py")
    return load_config(f"{path}:{arg}" if arg else path)


def _register():
    """Registers the learned-augmentation views/methods if the library does not yet."""
    from tfless import methods
    from tfless.augment import views
    from tfless.methods.augment import AUGMENT_METHODS

    for name, factory in (
        ("autoaugment", views.autoaugment),
        ("randaugment", views.randaugment),
        ("tanda", views.tanda),
    ):
        views.VIEWS.setdefault(name, views._strict(factory))
    for name, cls in AUGMENT_METHODS.items():
        methods.METHODS.setdefault(name, cls)


def _config(arm: str, steps: int, seed: int, ra: tuple, tanda_path: str):
    if arm == "adv_aa":
        c = _load_config("adv_aa")
    elif arm == "uncertainty":
        c = _load_config("uncertainty_sampling")
    else:
        c = _load_config("aa_search")
    with c.unlocked():
        c.train.steps = steps
        c.train.eval_every = steps
        c.train.seed = seed
        c.train.verbose = 0
        c.train.tensorboard = False
        if arm == "none":
            c.data.augment = "identity"
            c.data.augment_kwargs = {}
        elif arm == "pad_crop":
            c.data.augment = "flip_crop"
            c.data.augment_kwargs = {"flip": False, "pad_fraction": 0.125}
        elif arm == "randaugment":
            c.data.augment = "randaugment"
            c.data.augment_kwargs = {"num_layers": ra[0], "magnitude": float(ra[1])}
        elif arm == "tanda":
            c.data.augment = "tanda"
            c.data.augment_kwargs = {"path": tanda_path}
    return c


def child_table(args, ra, tanda_path) -> dict:
    """Test accuracy of ``ChildTrainer`` models (batch-norm momentum 0.9) per view arm.

    A cross-check of the trainer table: the same 100 labeled digits and test digits, the
    augmentation as a view function, 3 seeds, 600 steps.
    """
    import numpy as np
    import tensorflow as tf

    from tfless.augment import views
    from tfless.data import digits_arrays
    from tfless.methods.augment.child import ChildTrainer, reduced_digits

    data = reduced_digits(10, 300, image_size=16, seed=0)
    x_test, y_test = digits_arrays("test")
    x_test = np.clip(tf.image.resize(x_test, [16, 16], antialias=True).numpy(), 0.0, 1.0)
    data = dict(data, x_val=x_test, y_val=y_test)
    policy = os.path.join(ROOT, "configs", "aa_search", "digits_policy.json")
    arms = {
        "none": views.identity(),
        "pad_crop": views.flip_crop(flip=False, pad_fraction=0.125),
        "randaugment": views.randaugment(num_layers=ra[0], magnitude=float(ra[1])),
        "autoaugment": views.autoaugment(policy=policy),
    }
    if os.path.exists(tanda_path):
        arms["tanda"] = views.tanda(tanda_path)
    out = {}
    for arm, view in arms.items():
        child = ChildTrainer(
            data,
            lambda images, view=view: view(images)["image"],
            steps=args.steps,
            batch_size=50,
            learning_rate=2e-3,
            widths=(32, 64, 128),
            seed=0,
        )
        accs = [child(seed=s) for s in (0, 1, 2)]
        out[arm] = {"test_accuracy": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs))}
        print(f"child {arm}: {100 * np.mean(accs):.1f}%", flush=True)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--sweep", default="", help="randaugment_sweep.json of the launcher")
    parser.add_argument("--tanda_steps", type=int, default=300)
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument(
        "--child_only",
        action="store_true",
        help="only add the ChildTrainer cross-check to an existing augment_learned.json",
    )
    parser.add_argument("--tanda_path", default="", help="generator JSON for --child_only")
    args = parser.parse_args()
    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        raise SystemExit(f"unknown arm(s) {unknown}; expected some of {list(ARMS)}")
    seeds = [int(s) for s in args.seeds.split(",")]

    import numpy as np
    import tensorflow as tf

    from tfless.methods.augment import tanda
    from tfless.methods.augment.child import reduced_digits
    from tfless.methods.augment.randaugment_sweep import sweep_markdown
    from tfless.train import train_and_evaluate

    _register()
    ra, ra_source = (2, 5.0), "default (2, 5)"
    if args.sweep:
        rows = json.load(open(args.sweep))["rows"]
        best = max((r for r in rows if r["num_layers"] > 0), key=lambda r: r["val_accuracy"])
        ra = (int(best["num_layers"]), float(best["magnitude"]))
        ra_source = f"best non-zero cell of {os.path.relpath(args.sweep, ROOT)}"

    if args.child_only:
        path = os.path.join(args.out, "augment_learned.json")
        record = json.load(open(path))
        rec_ra = record["randaugment"]
        children = child_table(args, (rec_ra["num_layers"], rec_ra["magnitude"]), args.tanda_path)
        record["child_models"] = children
        with open(path, "w") as f:
            json.dump(record, f, indent=1)
        lines = [
            "",
            "Cross-check with `ChildTrainer` models (same data and ConvNet, batch-norm "
            f"momentum 0.9, constant Adam 2e-3, {args.steps} steps, no EMA, seeds 0-2):",
            "",
            "| arm | test accuracy % (mean +- std, 3 seeds) |",
            "| --- | --- |",
        ]
        for arm, r in children.items():
            lines.append(f"| {arm} | {100 * r['mean']:.1f} +- {100 * r['std']:.1f} |")
        with open(os.path.join(args.out, "augment_learned.md"), "a") as f:
            f.write("\n".join(lines) + "\n")
        print("\n".join(lines))
        return

    work = tempfile.mkdtemp(prefix="augment_learned_")
    tanda_path = os.path.join(work, "tanda_generator.json")
    tanda_seconds = None
    if "tanda" in arms:
        start = time.time()
        data = reduced_digits(10, 300, image_size=16, seed=0)
        generator, history = tanda.train_tanda(
            data["x_train"], steps=args.tanda_steps, sequence_length=5, seed=0, log=print
        )
        tanda.save_generator(tanda_path, generator, history=history)
        print(f"TANDA generator: {tanda_path}")
        tanda_seconds = time.time() - start
        probs = generator.tf_probabilities()
        top = np.argsort(-probs)[:5]
        names = tanda.transform_names(generator)
        print("TANDA first-step TFs:", [(names[i], round(float(probs[i]), 3)) for i in top])

    results = {}
    for arm in arms:
        accs, seconds = [], []
        for seed in seeds:
            config = _config(arm, args.steps, seed, ra, tanda_path)
            start = time.time()
            result = train_and_evaluate(config, os.path.join(work, f"{arm}_{seed}"))
            seconds.append(time.time() - start)
            accs.append(result.metrics["test_accuracy"])
            print(f"{arm} seed {seed}: {100 * accs[-1]:.1f}% in {seconds[-1]:.0f} s", flush=True)
        results[arm] = {
            "description": DESCRIPTIONS[arm],
            "test_accuracy": accs,
            "mean": float(np.mean(accs)),
            "std": float(np.std(accs)),
            "seconds": seconds,
        }
    record = {
        "steps": args.steps,
        "seeds": seeds,
        "labels_per_class": 10,
        "randaugment": {"num_layers": ra[0], "magnitude": ra[1], "source": ra_source},
        "tanda_steps": args.tanda_steps,
        "tanda_train_seconds": tanda_seconds,
        "results": results,
        "tensorflow": tf.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "augment_learned.json"), "w") as f:
        json.dump(record, f, indent=1)
    base = results.get("pad_crop", {}).get("mean")
    lines = [
        "# Learned augmentation on digits, 10 labels per class",
        "",
        f"{args.steps} optimizer steps per arm, batch 50, seeds {seeds} "
        f"({len(seeds)} seed{'s' if len(seeds) > 1 else ''}); test accuracy on 540 digits. "
        f"RandAugment (N, M) = {ra} ({ra_source}).",
        "",
        "| arm | augmentation | test accuracy % | vs pad-crop | train s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for arm, r in results.items():
        delta = f"{100 * (r['mean'] - base):+.1f}" if base is not None else ""
        spread = f" +- {100 * r['std']:.1f}" if len(seeds) > 1 else ""
        lines.append(
            f"| {arm} | {r['description']} | {100 * r['mean']:.1f}{spread} | {delta} | "
            f"{np.mean(r['seconds']):.0f} |"
        )
    lines.append("")
    if args.sweep:
        lines += [
            "RandAugment sweep (launcher ``--mode=randaugment_sweep``, validation accuracy % "
            "of child models on held-out training digits):",
            "",
            sweep_markdown(json.load(open(args.sweep))["rows"]),
        ]
        record["randaugment_sweep"] = json.load(open(args.sweep))
    with open(os.path.join(args.out, "augment_learned.json"), "w") as f:
        json.dump(record, f, indent=1)
    with open(os.path.join(args.out, "augment_learned.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
