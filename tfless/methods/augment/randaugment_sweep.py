"""The RandAugment (N, M) grid sweep scored by child models.

RandAugment (Cubuk, Zoph, Shlens, Le, "RandAugment: Practical automated data augmentation
with a reduced search space", NeurIPS 2020, https://arxiv.org/abs/1909.13719, Section 3):
a grid search over the number of ops N and the shared magnitude M, each cell scored by
the validation accuracy of a child model (:class:`tfless.methods.augment.child.ChildTrainer`)
trained with RandAugment(N, M). Use the best cell with the ``randaugment`` view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from tfless.augment import ops, rng
from tfless.augment.policies import RANDAUGMENT_OPS
from tfless.methods.augment.child import ChildTrainer


def randaugment_sweep(
    data: dict,
    num_layers=(1, 2, 3),
    magnitudes=(1, 3, 5, 7, 9),
    ops_list: Sequence[str] = RANDAUGMENT_OPS,
    repeats: int = 1,
    child_steps: int = 300,
    child_batch_size: int = 32,
    child_learning_rate: float = 3e-3,
    child_widths=(16, 32, 64),
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """RandAugment's grid search over N (ops per image) and M (shared magnitude).

    Every cell trains ``repeats`` children with RandAugment(N, M) over ``ops_list`` and
    records the mean validation accuracy; N = 0 (no augmentation) is included as the
    reference row.

    Returns:
      rows ``{"num_layers", "magnitude", "val_accuracy", "val_accuracies"}``, best first.
    """
    grid_n = sorted({int(n) for n in num_layers})
    if not grid_n or grid_n[0] < 0:
        raise ValueError(f"num_layers must be non-negative integers, got {num_layers!r}")
    mags = [float(m) for m in magnitudes]
    if not mags:
        raise ValueError("magnitudes must not be empty")
    for m in mags:
        ops.check_magnitude(m)
    names = list(dict.fromkeys(["Identity", *ops_list]))
    for name in names:
        ops.check_op_name(name)
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    # Identity stays a choice only if the user listed it: index 0 is reserved for "skip".
    choices = tf.constant([names.index(n) for n in ops_list], tf.int32)
    max_layers = max(grid_n)

    def augment(images, n, m):
        batch = tf.shape(images)[0]
        x = ops.to_float255(images)
        for layer in range(max_layers):
            pick = rng.uniform([batch], 0, len(ops_list), dtype=tf.int32)
            index = tf.where(layer < n, tf.gather(choices, pick), 0)
            x = ops.apply_per_image(x, index, tf.fill([batch], m), names, images.dtype == tf.uint8)
        return ops.from_float255(x, images.dtype)

    child = ChildTrainer(
        data,
        augment,
        steps=child_steps,
        batch_size=child_batch_size,
        learning_rate=child_learning_rate,
        widths=child_widths,
        seed=seed,
    )
    cells = [(0, 0.0)] if 0 not in grid_n else []
    cells += [(n, m) for n in grid_n for m in (mags if n > 0 else [0.0])]
    rows = []
    for n, m in cells:
        accs = [
            child(tf.constant(n), tf.constant(m, tf.float32), seed=seed + r)
            for r in range(int(repeats))
        ]
        rows.append(
            {
                "num_layers": n,
                "magnitude": m,
                "val_accuracy": float(np.mean(accs)),
                "val_accuracies": accs,
            }
        )
        if log:
            log(f"N={n} M={m:g}: val accuracy {np.mean(accs):.4f}")
    return sorted(rows, key=lambda r: -r["val_accuracy"])


def sweep_markdown(rows: list[dict]) -> str:
    """The sweep as a markdown N x M table of validation accuracy (%)."""
    ns = sorted({r["num_layers"] for r in rows})
    ms = sorted({r["magnitude"] for r in rows if r["num_layers"] > 0})
    acc = {(r["num_layers"], r["magnitude"]): r["val_accuracy"] for r in rows}
    lines = ["| N \\ M | " + " | ".join(f"{m:g}" for m in ms) + " |"]
    lines.append("| --- |" + " --- |" * len(ms))
    for n in ns:
        if n == 0:
            cells = [f"{100 * acc[(0, 0.0)]:.1f} (no aug.)"] + [""] * (len(ms) - 1)
        else:
            cells = [f"{100 * acc[(n, m)]:.1f}" if (n, m) in acc else "" for m in ms]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
