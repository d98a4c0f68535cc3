"""``tfless-augment-preview``: a PNG grid of an augmentation applied to sample images.

  tfless-augment-preview --policy=randaugment --dataset=synthetic --out=grid.png
  tfless-augment-preview --policy=weak_strong --dataset=digits --num_images=6 --out=ws.png

Each row is one image: the original first, then ``--num_samples`` draws of the
augmentation. Every column says what was applied: for RandAugment and the AutoAugment
policies each column is one draw of ops and magnitudes, applied to every image of the
column (geometric ops keep a random sign per image, marked ``+-``); FixMatch's
``weak_strong`` shows the weak view, then strong views whose RandAugment ops are named;
SimCLR's columns are its two views (the recipe is in the title). Images smaller than
``--size`` (the 8x8 digits) are upscaled by nearest-neighbour pixel repetition before
they are augmented, so that the ops have pixels to act on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

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
_SIZE = flags.DEFINE_integer(
    "size", 32, "Smallest image side shown: smaller images are upscaled (nearest) first."
)
_SEED = flags.DEFINE_integer("seed", 0, "Random seed.")

_GEOMETRIC = ("Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY")


@dataclasses.dataclass
class LabelledAugment:
    """An augmentation shown column by column, each column labelled with what it applied.

    Attributes:
      draw: ``draw(rng) -> [(label, fn)]``: the columns of one draw, each a batch function
        ``[N, H, W, C] -> [N, H, W, C]`` applied to every row, and its label.
      note: what the figure title adds (how the columns were drawn).
    """

    draw: Callable
    note: str = ""


def op_label(name: str, magnitude: float) -> str:
    """``"Rotate +-9"``, ``"Color 3"``, ``"Equalize"``: an op and its magnitude as shown."""
    if name in ("Identity", "AutoContrast", "Equalize", "Invert"):
        return name
    sign = "+-" if name in _GEOMETRIC else ""
    return f"{name} {sign}{magnitude:g}"


def _apply_ops(op_magnitudes, translate_fraction: float) -> Callable:
    """A batch function applying ``[(name, magnitude)]`` in order to every image."""
    from tfless.augment import ops

    def fn(images):
        for name, magnitude in op_magnitudes:
            images = ops.apply_op(images, name, magnitude, translate_fraction=translate_fraction)
        return images

    return fn


def _randaugment(num_layers: int, magnitude: float) -> LabelledAugment:
    from tfless.augment import ops, policies

    def draw(rng):
        chosen = [(str(n), magnitude) for n in rng.choice(policies.RANDAUGMENT_OPS, num_layers)]
        label = "\n".join(op_label(n, m) for n, m in chosen)
        return [(label, _apply_ops(chosen, ops.TRANSLATE_FRACTION))]

    note = f"RandAugment N={num_layers} M={magnitude:g}, one op draw per column"
    return LabelledAugment(draw, note)


def _policy(name: str) -> LabelledAugment:
    from tfless.augment import policies

    policy = policies.check_policy(name)
    fraction = policies.policy_translate_fraction(name)

    def draw(rng):
        index = int(rng.integers(len(policy)))
        sub = policy[index]
        lines = [f"{op_label(n, m)} p{p:g}" for n, p, m in sub]
        label = f"sub-policy {index}\n" + "\n".join(lines)
        return [(label, _apply_ops([(n, m) for n, _, m in sub], fraction))]

    note = f"AutoAugment {name} policy, one sub-policy per column, its ops always applied"
    return LabelledAugment(draw, note)


def _weak_strong(flip: bool) -> LabelledAugment:
    from tfless.augment import ops, policies

    weak_name = "crop 1/8" + (" + flip" if flip else "")

    def weak(images):
        images = ops.random_pad_crop(images, pad_fraction=0.125)
        return ops.random_flip_left_right(images) if flip else images

    def draw(rng):
        names = rng.choice(policies.FIXMATCH_OPS, 2)
        chosen = [(str(n), float(rng.integers(1, 10))) for n in names]
        strong_ops = _apply_ops(chosen, ops.FIXMATCH_TRANSLATE_FRACTION)

        def strong(images):
            return ops.cutout(strong_ops(weak(images)), size=0.5)

        label = "\n".join([f"strong: {weak_name}", *(op_label(n, m) for n, m in chosen)])
        return [(f"weak: {weak_name}", weak), (label + "\nCutout 1/2", strong)]

    note = "FixMatch weak_strong (strong: two ops, magnitude 1..9, then Cutout)"
    return LabelledAugment(draw, note)


def preview_figure(images, fn, num_samples: int = 4, title: str | None = None, seed: int = 0):
    """The preview as a matplotlib ``Figure``: per row an original and ``num_samples`` draws.

    Args:
      images: ``[N, H, W, C]`` float32 in [0, 1] (C = 1 or 3).
      fn: a :class:`LabelledAugment` (columns labelled with their ops), a batch
        augmentation ``[N, H, W, C] -> [N, H', W', C]``, or a view builder returning a dict
        of batches / ``{"views": (...)}``.
      num_samples: draws of ``fn``.
      title: figure title (a :class:`LabelledAugment` adds its note).
      seed: seed of the op draws of a :class:`LabelledAugment`.
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
    columns = _columns(images, fn, num_samples, seed)
    rows, cols = images.shape[0], len(columns)
    label_lines = max(label.count("\n") + 1 for label, _ in columns)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(1.3 * cols, 1.3 * rows + 0.25 + 0.13 * label_lines),
        squeeze=False,
        dpi=100,
    )
    for c, (label, batch) in enumerate(columns):
        batch = np.asarray(batch, np.float32)
        if batch.max() > 1.0:
            batch = batch / 255.0
        for r in range(rows):
            _show(axes[r][c], np.clip(batch[r], 0.0, 1.0))
            if r == 0:
                axes[r][c].set_title(label, fontsize=6)
    note = fn.note if isinstance(fn, LabelledAugment) else ""
    full_title = "\n".join(t for t in (title, note) if t)
    if full_title:
        fig.suptitle(full_title, fontsize=8)
    fig.tight_layout()
    return fig


def _show(ax, image) -> None:
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def preview_grid(
    images, fn, path: str, num_samples: int = 4, title: str | None = None, seed: int = 0
) -> str:
    """Writes :func:`preview_figure` as a PNG (parent directories are created).

    Returns:
      ``path``.
    """
    import matplotlib.pyplot as plt

    fig = preview_figure(images, fn, num_samples, title, seed)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def _columns(images, fn, num_samples: int, seed: int = 0) -> list:
    """``[(label, batch)]``: the originals, then every output batch of each draw of ``fn``."""
    import numpy as np

    columns = [("original", images)]
    if isinstance(fn, LabelledAugment):
        rng = np.random.default_rng(seed)
        for _ in range(num_samples):
            columns += [(label, np.asarray(f(images))) for label, f in fn.draw(rng)]
        return columns
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


def upscale(images, size: int):
    """``images`` ``[N, H, W, C]`` enlarged by the smallest integer factor that makes the
    shorter side at least ``size``, each pixel repeated (nearest neighbour); unchanged
    when it already is."""
    import numpy as np

    images = np.asarray(images)
    factor = -(-int(size) // min(images.shape[1:3]))
    if factor <= 1:
        return images
    return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)


def build_preview_fn(policy: str, magnitude: float = 9.0, num_layers: int = 2, flip=True):
    """The augmentation shown for ``--policy``: a :class:`LabelledAugment` (RandAugment,
    the AutoAugment policies, FixMatch's weak and strong views) or SimCLR's view builder."""
    from tfless.augment import policies, views

    if policy == "randaugment":
        return _randaugment(num_layers, magnitude)
    if policy in policies.POLICIES:
        return _policy(policy)
    if policy == "simclr":
        return views.VIEWS["simclr"](strength=0.5)
    if policy == "weak_strong":
        return _weak_strong(flip)
    raise ValueError(f"unknown preview policy {policy!r}; expected one of {PREVIEW_POLICIES}")


_SIMCLR_NOTE = "SimCLR views: resized crop, flip, colour jitter 0.5 (p 0.8), grayscale (p 0.2)"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    import numpy as np
    import tensorflow as tf

    from tfless.data import builtin_arrays

    if _NUM_IMAGES.value < 1:
        raise app.UsageError(f"--num_images must be >= 1, got {_NUM_IMAGES.value}")
    if _SIZE.value < 1:
        raise app.UsageError(f"--size must be >= 1, got {_SIZE.value}")
    tf.random.set_seed(_SEED.value)
    images, _ = builtin_arrays(_DATASET.value, "train")
    rng = np.random.default_rng(_SEED.value)
    pick = rng.choice(len(images), size=min(_NUM_IMAGES.value, len(images)), replace=False)
    original = images.shape[1]
    images = upscale(images[np.sort(pick)], _SIZE.value)
    title = f"{_POLICY.value} on {_DATASET.value}"
    if images.shape[1] != original:
        title += f" ({original} px upscaled to {images.shape[1]} px, nearest)"
    if _POLICY.value == "simclr":
        title += "\n" + _SIMCLR_NOTE
    # Digits change class under a horizontal flip, so their weak views do not flip.
    fn = build_preview_fn(
        _POLICY.value, _MAGNITUDE.value, _NUM_LAYERS.value, flip=_DATASET.value != "digits"
    )
    path = preview_grid(
        images, fn, _OUT.value, num_samples=_NUM_SAMPLES.value, title=title, seed=_SEED.value
    )
    print(f"wrote {path}")


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()
