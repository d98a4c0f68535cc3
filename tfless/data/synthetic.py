"""Tiny synthetic image data for tests and smoke runs.

``shapes_arrays`` renders a 4-class dataset of 16x16 RGB images (filled square,
ring, horizontal bars, vertical bars) with random position, size, colour and
noise. Classes are distinguishable by shape only, so a model has to learn
something real (colour is uninformative), yet a tiny CNN separates them in a
few hundred steps.
"""

from __future__ import annotations

import numpy as np

SHAPES_SIZE = 16
SHAPES_CLASSES = ("square", "ring", "hbars", "vbars")


def _render(kind: int, rng: np.random.RandomState, size: int) -> np.ndarray:
    img = np.zeros([size, size], np.float32)
    s = rng.randint(size // 3, size // 2 + 2)
    y0 = rng.randint(0, size - s + 1)
    x0 = rng.randint(0, size - s + 1)
    patch = np.zeros([s, s], np.float32)
    if kind == 0:
        patch[:] = 1.0
    elif kind == 1:
        patch[:] = 1.0
        patch[1:-1, 1:-1] = 0.0
    elif kind == 2:
        patch[::2, :] = 1.0
    else:
        patch[:, ::2] = 1.0
    img[y0 : y0 + s, x0 : x0 + s] = patch
    return img


def shapes_arrays(
    split: str = "train", num_examples: int | None = None, size: int = SHAPES_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Renders the synthetic shapes dataset.

    Args:
      split: ``'train'`` (seed 0, 512 images) or ``'test'`` (seed 1, 256 images).
      num_examples: override the number of images.
      size: image side.

    Returns:
      ``(images float32 [N, size, size, 3] in [0, 1], labels int32 [N])``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"Unknown split {split!r} for 'synthetic'. Expected 'train' or 'test'.")
    seed = 0 if split == "train" else 1
    n = num_examples or (512 if split == "train" else 256)
    rng = np.random.RandomState(seed)
    labels = (np.arange(n) % len(SHAPES_CLASSES)).astype(np.int32)
    rng.shuffle(labels)
    images = np.empty([n, size, size, 3], np.float32)
    for i, k in enumerate(labels):
        mask = _render(int(k), rng, size)
        fg = rng.uniform(0.4, 1.0, size=3).astype(np.float32)
        bg = rng.uniform(0.0, 0.3, size=3).astype(np.float32)
        img = mask[..., None] * fg + (1 - mask[..., None]) * bg
        img += rng.normal(0, 0.03, size=img.shape).astype(np.float32)
        images[i] = np.clip(img, 0.0, 1.0)
    return images, labels
