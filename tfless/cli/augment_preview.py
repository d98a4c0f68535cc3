"""``tfless-augment-preview``: a PNG grid of an augmentation applied to sample images.

  tfless-augment-preview --policy=randaugment --dataset=synthetic --out=grid.png
  tfless-augment-preview --policy=weak_strong --dataset=digits --num_images=6 --out=ws.png

Each row is one image: the original first, then ``--num_samples`` independent draws of
the augmentation (for view builders, every view of every draw, labelled).
"""

from __future__ import annotations

import os

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import run_app

PREVIEW_POLICIES = ("randaugment", "cifar10", "svhn", "imagenet", "simclr", "weak_strong")
PREVIEW_DATASETS = ("digits", "synthetic")

_POLICY = flags.DEFINE_enum("policy", "randaugment", PREVIEW_POLICIES, "Augmentation to show.")
_DATASET = flags.DEFINE_enum("dataset", "synthetic", PREVIEW_DATASETS, "Built-in dataset.")
_OUT = flags.DEFINE_string("out", "augment_preview.png", "Output PNG path.")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 8, "Number of source images (rows).")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 4, "Augmented draws per image.")
_MAGNITUDE = flags.DEFINE_float("magnitude", 9.0, "RandAugment magnitude (0..10).")
_NUM_LAYERS = flags.DEFINE_integer("num_layers", 2, "RandAugment number of ops.")
_SEED = flags.DEFINE_integer("seed", 0, "Random seed.")


def preview_grid(images, fn, path: str, num_samples: int = 4, title: str | None = None) -> str:
    """Writes a PNG grid: per row an original image and ``num_samples`` augmented draws.

    Args:
      images: ``[N, H, W, C]`` float32 in [0, 1] (C = 1 or 3).
      fn: batch augmentation ``[N, H, W, C] -> [N, H', W', C]`` or a view builder
        returning a dict of batches / ``{"views": (...)}``.
      path: output PNG path (parent directories are created).
      num_samples: independent calls of ``fn``.
      title: figure title.

    Returns:
      ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be [N, H, W, 1 or 3], got shape {images.shape}")
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    columns = _columns(images, fn, num_samples)
    rows, cols = images.shape[0], len(columns)
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.2 * cols, 1.2 * rows + 0.6), squeeze=False, dpi=100
    )
    for c, (label, batch) in enumerate(columns):
        batch = np.asarray(batch, np.float32)
        if batch.dtype == np.uint8 or batch.max() > 1.0:
            batch = batch / 255.0
        for r in range(rows):
            ax = axes[r][c]
            image = np.clip(batch[r], 0.0, 1.0)
            if image.shape[-1] == 1:
                ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            else:
                ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(label, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _columns(images, fn, num_samples: int) -> list:
    """``[(label, batch)]``: the originals, then every output batch of each call of ``fn``."""
    import numpy as np

    columns = [("original", images)]
    for draw in range(num_samples):
        out = fn(images)
        if not isinstance(out, dict):
            columns.append((f"#{draw + 1}", np.asarray(out)))
            continue
        for key, value in out.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            for i, v in enumerate(values):
                label = f"{key}[{i}]" if len(values) > 1 else key
                columns.append((f"{label} #{draw + 1}", np.asarray(v)))
    return columns


def build_preview_fn(policy: str, magnitude: float = 9.0, num_layers: int = 2, flip=True):
    """The augmentation shown for ``--policy``: a batch function or a view builder."""
    from tfless.augment import policies, views

    if policy == "randaugment":
        return policies.RandAugment(num_layers, magnitude)
    if policy in policies.POLICIES:
        return lambda x: policies.apply_policy(x, policy)
    if policy == "simclr":
        return views.VIEWS["simclr"](strength=0.5)
    if policy == "weak_strong":
        return views.VIEWS["weak_strong"](flip=flip)
    raise ValueError(f"unknown preview policy {policy!r}; expected one of {PREVIEW_POLICIES}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    import numpy as np
    import tensorflow as tf

    from tfless.data import builtin_arrays

    if _NUM_IMAGES.value < 1:
        raise app.UsageError(f"--num_images must be >= 1, got {_NUM_IMAGES.value}")
    tf.random.set_seed(_SEED.value)
    images, _ = builtin_arrays(_DATASET.value, "train")
    rng = np.random.default_rng(_SEED.value)
    pick = rng.choice(len(images), size=min(_NUM_IMAGES.value, len(images)), replace=False)
    # Digits change class under a horizontal flip, so their weak views do not flip.
    fn = build_preview_fn(
        _POLICY.value, _MAGNITUDE.value, _NUM_LAYERS.value, flip=_DATASET.value != "digits"
    )
    path = preview_grid(
        images[np.sort(pick)],
        fn,
        _OUT.value,
        num_samples=_NUM_SAMPLES.value,
        title=f"{_POLICY.value} on {_DATASET.value}",
    )
    print(f"wrote {path}")


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()
