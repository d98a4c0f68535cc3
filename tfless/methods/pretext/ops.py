"""In-graph input builders of the pretext tasks (rotations, jigsaw tiles, context patches, Lab).

Every function takes a batch of images float32 ``[B, H, W, C]`` in [0, 1] and
builds the pretext inputs and targets with TensorFlow ops, so they run inside
``train_step`` on each replica.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import tensorflow as tf

from tfless.augment import rng

# ----------------------------------------------------------------------- rotation


def rotate_all(images):
    """All four rotations of every image (Gidaris, Singh & Komodakis 2018).

    Args:
      images: ``[B, H, H, C]`` (square, so every rotation keeps the shape).

    Returns:
      ``(rotated [4B, H, H, C], labels int32 [4B])``; block ``r`` of ``B`` images is
      rotated by ``r * 90`` degrees counter-clockwise and labelled ``r``.
    """
    rotated = [tf.image.rot90(images, k) for k in range(4)]
    batch = tf.shape(images)[0]
    labels = tf.repeat(tf.range(4, dtype=tf.int32), batch)
    return tf.concat(rotated, 0), labels


# ------------------------------------------------------------------------- jigsaw


@functools.lru_cache(maxsize=8)
def maximal_hamming_permutations(num_permutations: int = 100, grid: int = 3, seed: int = 0):
    """The permutation set of Noroozi & Favaro 2016 (supplementary Algorithm 1, "maximal").

    Greedy selection among all ``(grid*grid)!`` permutations: the first is drawn at
    random (from ``seed``, so the set is deterministic); each next one is the
    remaining permutation with the largest Hamming distance summed over those already
    chosen (ties: the first in lexicographic order).

    Args:
      num_permutations: size of the set (the paper's default 100; at most ``(grid^2)!``).
      grid: tiles per side (3 in the paper).
      seed: seed of the first draw.

    Returns:
      int32 array ``[num_permutations, grid * grid]``; row ``p`` lists which source tile
      goes to each position.
    """
    n = grid * grid
    count = math.factorial(n)
    flat = itertools.chain.from_iterable(itertools.permutations(range(n)))
    candidates = np.fromiter(flat, dtype=np.int8, count=count * n).reshape(count, n)
    if not 1 <= num_permutations <= len(candidates):
        raise ValueError(
            f"num_permutations must be in [1, {len(candidates)}] for a {grid}x{grid} grid; "
            f"got {num_permutations!r}."
        )
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(len(candidates)))]
    available = np.ones(len(candidates), bool)
    available[chosen[0]] = False
    summed = np.zeros(len(candidates), np.int64)
    for _ in range(num_permutations - 1):
        last = candidates[chosen[-1]]
        # Column by column: much faster than a row-wise sum over a [9!, 9] boolean array.
        for j in range(n):
            summed += candidates[:, j] != last[j]
        score = np.where(available, summed, -1)
        nxt = int(np.argmax(score))
        chosen.append(nxt)
        available[nxt] = False
    return candidates[chosen].astype(np.int32)


def _gather_patches(images, top, left, size: int):
    """Crops ``[B, P, size, size, C]`` at integer corners ``top``/``left`` ``[B, P]``."""
    offs = tf.range(size, dtype=tf.int32)
    rows = top[..., None] + offs  # [B, P, size]
    cols = left[..., None] + offs
    batch = tf.shape(images)[0]
    num = tf.shape(top)[1]
    b = tf.broadcast_to(tf.range(batch)[:, None, None, None], [batch, num, size, size])
    r = tf.broadcast_to(rows[:, :, :, None], [batch, num, size, size])
    c = tf.broadcast_to(cols[:, :, None, :], [batch, num, size, size])
    return tf.gather_nd(images, tf.stack([b, r, c], -1))


def jigsaw_tile_size(image_size: int, grid: int = 3, tile_fraction: float = 64 / 75) -> tuple:
    """``(cell, tile)`` pixel sizes: the image is cut in ``grid`` cells per side and a
    ``tile``-pixel square is cropped at a random place in each (the gap and jitter of
    Noroozi & Favaro 2016: 64-pixel tiles in 75-pixel cells of a 225-pixel crop)."""
    cell = image_size // grid
    return cell, int(round(cell * tile_fraction))


def jigsaw_tiles(images, permutations, grid: int = 3, tile_fraction: float = 64 / 75, seed=None):
    """Shuffled jigsaw tiles with gaps and random jitter (Noroozi & Favaro 2016).

    Args:
      images: ``[B, H, W, C]``; the central ``grid*cell`` square is used.
      permutations: int32 ``[P, grid*grid]`` permutation set.
      grid: tiles per side.
      tile_fraction: tile side / cell side; ``1 - tile_fraction`` of the cell is the
        budget for the random jitter, which also leaves gaps between tiles.
      seed: optional stateless seed ``[2]`` (for tests); default :mod:`tfless.augment.rng`
        draws (stateless inside a training step).

    Returns:
      ``(tiles [B, grid*grid, t, t, C], labels int32 [B])``: ``tiles[b, i]`` is source tile
      ``permutations[labels[b], i]``.
    """
    h, w = int(images.shape[1]), int(images.shape[2])
    cell, tile = jigsaw_tile_size(min(h, w), grid, tile_fraction)
    n = grid * grid
    batch = tf.shape(images)[0]
    perms = tf.constant(permutations, tf.int32)
    if seed is None:
        jitter = rng.uniform([batch, n, 2], 0, cell - tile + 1, dtype=tf.int32)
        labels = rng.uniform([batch], 0, len(permutations), dtype=tf.int32)
    else:
        jitter = tf.random.stateless_uniform([batch, n, 2], seed, 0, cell - tile + 1, tf.int32)
        labels = tf.random.stateless_uniform(
            [batch], seed + 1, 0, len(permutations), dtype=tf.int32
        )
    y0, x0 = (h - grid * cell) // 2, (w - grid * cell) // 2
    grid_r = tf.constant([y0 + (i // grid) * cell for i in range(n)], tf.int32)
    grid_c = tf.constant([x0 + (i % grid) * cell for i in range(n)], tf.int32)
    tiles = _gather_patches(images, grid_r + jitter[..., 0], grid_c + jitter[..., 1], tile)
    order = tf.gather(perms, labels)  # [B, n]
    return tf.gather(tiles, order, batch_dims=1), labels


# ------------------------------------------------------------------ context patches

#: (row, col) offsets of the 8 neighbours in Doersch et al.'s label order (reading order).
NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def context_geometry(
    image_size: int, patch_size: int | None, gap_ratio: float, jitter_ratio: float
):
    """``(patch, gap, jitter)`` pixels; ``patch_size=None`` picks the largest patch whose
    3x3 arrangement with gaps and jitter fits in ``image_size``."""

    def parts(p):
        return p, int(round(gap_ratio * p)), int(round(jitter_ratio * p))

    def footprint(p):
        p, g, j = parts(p)
        return 3 * p + 2 * g + 2 * j

    if patch_size is None:
        patch_size = 1
        while footprint(patch_size + 1) <= image_size:
            patch_size += 1
    return parts(patch_size) + (footprint(patch_size),)


def context_pairs(images, patch: int, gap: int, jitter: int, seed=None):
    """Center patch and one random neighbour per image (Doersch, Gupta & Efros 2015).

    The 3x3 arrangement (patches of ``patch`` pixels, ``gap`` pixels apart) is placed
    at a random location; each patch is independently jittered by up to ``jitter``
    pixels, so the task cannot be solved by continuing lines across the boundary.

    Args:
      images: ``[B, H, W, C]``.
      patch, gap, jitter: pixels (see :func:`context_geometry`).
      seed: optional stateless seed ``[2]``.

    Returns:
      ``(center [B, p, p, C], neighbour [B, p, p, C], labels int32 [B] in [0, 8))``.
    """
    h, w = int(images.shape[1]), int(images.shape[2])
    step = patch + gap
    span = 3 * patch + 2 * gap + 2 * jitter
    batch = tf.shape(images)[0]

    def uniform(shape, hi, k):
        if seed is None:
            return rng.uniform(shape, 0, hi, dtype=tf.int32)
        return tf.random.stateless_uniform(shape, seed + k, 0, hi, dtype=tf.int32)

    origin = tf.stack([uniform([batch], h - span + 1, 0), uniform([batch], w - span + 1, 1)], -1)
    labels = uniform([batch], 8, 2)
    offsets = tf.gather(tf.constant(NEIGHBOURS, tf.int32), labels) + 1  # grid cell in [0, 3)
    cells = tf.stack([tf.ones([batch, 2], tf.int32), offsets], 1)  # [B, 2 patches, 2]
    corners = origin[:, None, :] + cells * step + uniform([batch, 2, 2], 2 * jitter + 1, 3)
    patches = _gather_patches(images, corners[..., 0], corners[..., 1], patch)
    return patches[:, 0], patches[:, 1], labels


def color_drop(patches, seed=None):
    """Chromatic-aberration defence of Doersch et al. 2015 ("color dropping"): keep one
    random colour channel per patch, replace the other two with Gaussian noise of 1/100
    of the kept channel's standard deviation. ``[N, p, p, 3] -> [N, p, p, 3]``."""
    n = tf.shape(patches)[0]
    if seed is None:
        keep = rng.uniform([n], 0, 3, dtype=tf.int32)
        noise = rng.normal(tf.shape(patches))
    else:
        keep = tf.random.stateless_uniform([n], seed, 0, 3, dtype=tf.int32)
        noise = tf.random.stateless_normal(tf.shape(patches), seed + 1)
    mask = tf.one_hot(keep, 3)[:, None, None, :]
    kept = tf.reduce_sum(patches * mask, -1, keepdims=True)
    std = tf.math.reduce_std(kept, axis=[1, 2, 3], keepdims=True)
    return patches * mask + (1.0 - mask) * (
        tf.reduce_mean(kept, [1, 2, 3], True) + noise * std / 100
    )


def color_project(patches):
    """The other defence of Doersch et al. 2015 ("projection"): remove the green-magenta
    axis ``(-1, 2, -1)/sqrt(6)`` of each pixel's colour, which carries most of the
    chromatic aberration. ``[N, p, p, 3] -> [N, p, p, 3]``."""
    axis = tf.constant([-1.0, 2.0, -1.0]) / tf.sqrt(6.0)
    return patches - tf.reduce_sum(patches * axis, -1, keepdims=True) * axis


# ------------------------------------------------------------------------ colour

_RGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    np.float32,
)
_WHITE_D65 = np.array([0.950456, 1.0, 1.088754], np.float32)


def rgb_to_lab(images):
    """sRGB in [0, 1] to CIE Lab (D65 white): ``[..., 3] -> [..., 3]``; L in [0, 100],
    a and b roughly in [-110, 110]."""
    images = tf.convert_to_tensor(images, tf.float32)
    linear = tf.where(
        images <= 0.04045,
        images / 12.92,
        tf.pow((tf.maximum(images, 0.04045) + 0.055) / 1.055, 2.4),
    )
    xyz = tf.tensordot(linear, tf.constant(_RGB_TO_XYZ.T), 1) / _WHITE_D65
    delta = 6.0 / 29.0
    f = tf.where(
        xyz > delta**3,
        tf.pow(tf.maximum(xyz, delta**3), 1.0 / 3.0),
        xyz / (3 * delta**2) + 4.0 / 29.0,
    )
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], -1)


def _rgb_to_lab_np(rgb):
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T.astype(np.float64) / _WHITE_D65
    delta = 6.0 / 29.0
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (3 * delta**2) + 4.0 / 29.0)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


@functools.lru_cache(maxsize=4)
def ab_gamut_bins(bin_size: float = 10.0, samples_per_channel: int = 64) -> np.ndarray:
    """Centres of the in-gamut ab bins: float32 ``[Q, 2]``.

    Zhang et al. 2016 quantise ab with grid size 10 and keep the Q=313 bins "in
    gamut"; their list (``pts_in_hull.npy``) comes from their own gamut computation,
    which the paper does not specify. Here a bin (centre at a multiple of
    ``bin_size``) is in gamut when some colour of a ``samples_per_channel``^3 grid of
    the sRGB cube falls in it; with the defaults that gives Q=261 bins spanning the
    same a in [-90, 100], b in [-110, 90] range as the paper's.
    """
    g = np.linspace(0.0, 1.0, samples_per_channel)
    rgb = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    ab = _rgb_to_lab_np(rgb)[:, 1:]
    cells = np.unique(np.round(ab / bin_size).astype(np.int64), axis=0)
    return (cells * bin_size).astype(np.float32)


def soft_encode_ab(ab, bins, neighbours: int = 5, sigma: float = 5.0):
    """Soft-encodes ab values on the bins (Zhang et al. 2016, Sec. 2.1): the ``neighbours``
    nearest bins get Gaussian(``sigma``) weights of their distance, normalised to 1.

    Args:
      ab: ``[..., 2]``.
      bins: ``[Q, 2]``.

    Returns:
      ``[..., Q]`` distributions.
    """
    bins = tf.convert_to_tensor(bins, tf.float32)
    flat = tf.reshape(ab, [-1, 2])
    d2 = tf.reduce_sum(tf.square(flat[:, None, :] - bins[None]), -1)  # [N, Q]
    neg, idx = tf.math.top_k(-d2, k=neighbours)
    w = tf.exp(neg / (2.0 * sigma**2))
    w = w / tf.reduce_sum(w, -1, keepdims=True)
    q = tf.shape(bins)[0]
    dense = tf.reduce_sum(tf.one_hot(idx, q) * w[..., None], 1)
    return tf.reshape(dense, tf.concat([tf.shape(ab)[:-1], [q]], 0))
