"""Fine-tuning an exported encoder vs its frozen probe, on the built-in digits.

  python benchmarks/finetune_export.py [--export DIR] [--epochs 10] [--no_reexport]

The encoder is the shipped zoo export ``digits_supervised_convnet`` (or ``--export``).
Besides the export as it is, the same weights are exported again with the current
:func:`tfless.export.export_encoder` (the encoder is rebuilt from the config recorded in
the export's metadata and its weights are copied by name), so the two rows differ only
in how the export was written. For each, on the 1,257 training / 540 test digits:

* ``frozen``: ``EncoderLayer(trainable=False)`` + ``Dense(10)``, Adam 1e-3 (the probe);
* ``SGD 0.01``, ``SGD 0.05``, ``Adam 1e-3``: ``EncoderLayer(trainable=True)`` + ``Dense(10)``
  trained end to end with ``keras.Model.fit`` (batch 32, ``--epochs`` epochs, seed 0);
* ``tfless-eval finetune 100%``: :func:`tfless.evaluation.finetune` on the export directory
  (the ``finetune`` protocol of ``tfless-eval``, all labels, its default settings).

Writes ``benchmarks/results/finetune_export.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
RUNS = (
    ("frozen", "Adam", 1e-3),
    ("SGD", "SGD", 1e-2),
    ("SGD", "SGD", 5e-2),
    ("Adam", "Adam", 1e-3),
)


def _digits():
    import numpy as np

    from tfless.data import load

    def arrays(split):
        ds = load("digits", split, image_size=(16, 16), channels=1)
        xs, ys = zip(*[(e["image"].numpy(), e["label"].numpy()) for e in ds], strict=True)
        return np.stack(xs), np.array(ys)

    return arrays("train"), arrays("test")


def reexport(export_dir: str, root: str) -> str:
    """The weights of ``export_dir`` exported again by the current exporter; returns its path."""
    import keras

    from tfless import export
    from tfless.backbones import build_backbone

    meta = export.read_metadata(export_dir)
    model = meta["config"]["model"]
    encoder = build_backbone(model["backbone"], meta["input"]["shape"], **model.get("kwargs", {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = keras.layers.TFSMLayer(export_dir, call_endpoint="serving_default")
    by_name = {w.name.split(":")[0]: w for w in saved.weights}
    for w in encoder.weights:
        w.assign(by_name["_".join(w.path.split("/")[-2:])])
    return export.export_encoder(encoder, root, meta["name"], include_uint8=False).path


def _fit(export_dir, train, test, kind, opt_name, lr, epochs) -> float:
    import keras

    from tfless.zoo import EncoderLayer

    keras.utils.set_random_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encoder = EncoderLayer(export_dir, trainable=kind != "frozen")
    model = keras.Sequential([keras.Input(train[0].shape[1:]), encoder, keras.layers.Dense(10)])
    model.compile(
        getattr(keras.optimizers, opt_name)(lr),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(*train, batch_size=32, epochs=epochs, verbose=0)
    return float(model.evaluate(*test, verbose=0)[1])


def measure(export_dir: str, epochs: int) -> dict:
    """``{run name: test accuracy}`` of one export."""
    from tfless.evaluation import finetune

    train, test = _digits()
    out = {}
    for kind, opt_name, lr in RUNS:
        name = "frozen probe (Adam 1e-3)" if kind == "frozen" else f"fine-tune {opt_name} {lr:g}"
        start = time.time()
        acc = _fit(export_dir, train, test, kind, opt_name, lr, epochs)
        out[name] = round(acc, 4) if acc == acc else float("nan")
        print(f"  {name}: {acc:.4f} ({time.time() - start:.0f} s)", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ft = finetune(export_dir, *train, *test, fractions=(1.0,))
    out["tfless-eval finetune 100%"] = round(ft["finetune_100%"], 4)
    print(f"  tfless-eval finetune 100%: {ft['finetune_100%']:.4f}", flush=True)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", default=None, help="export dir (default: the zoo's digits)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no_reexport", action="store_true")
    args = parser.parse_args()
    from tfless import zoo

    path = args.export or zoo.entry_path(zoo.get_entry("digits_supervised_convnet"))
    tmp = tempfile.mkdtemp(prefix="tfless-finetune-bench-")
    try:
        exports = {"as shipped": path}
        if not args.no_reexport:
            exports["re-exported by the current exporter"] = reexport(path, tmp)
        results = {}
        for label, export_dir in exports.items():
            print(f"{label}: {export_dir}", flush=True)
            results[label] = measure(export_dir, args.epochs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write(path, args.epochs, results)


def _write(path, epochs, results) -> None:
    os.makedirs(RESULTS, exist_ok=True)
    record = {"export": os.path.relpath(path, os.path.dirname(HERE)), "epochs": epochs}
    with open(os.path.join(RESULTS, "finetune_export.json"), "w") as f:
        json.dump({**record, "results": results}, f, indent=2)
    runs = list(next(iter(results.values())))
    lines = [
        f"# Fine-tuning vs frozen probe: {record['export']} on digits ({epochs} epochs, batch 32)",
        "",
        "Command: `" + " ".join(["python benchmarks/finetune_export.py", *sys.argv[1:]]) + "`",
        "",
        "| export | " + " | ".join(runs) + " |",
        "|---" * (len(runs) + 1) + "|",
    ]
    for label, row in results.items():
        lines.append(f"| {label} | " + " | ".join(f"{row[r]:.4f}" for r in runs) + " |")
    with open(os.path.join(RESULTS, "finetune_export.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
