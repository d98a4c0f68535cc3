"""PIRL: pretext-invariant representation learning with a jigsaw transform and a memory bank."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from tfless.layers.memory_bank import MemoryBank
from tfless.losses.contrastive import (
    check_temperature,
    l2_normalize,
    nce_log_partition,
    pirl_nce,
)
from tfless.methods.base import Method, encoder_feature_dim
from tfless.methods.contrastive.common import (
    batch_images,
    gather,
    replica_info,
    shared_encoder_at,
    step_number,
    two_views,
)


def jigsaw_tiles(images, seed, grid: int = 3, tile_size: int | None = None):
    """Cuts each image into a ``grid x grid`` set of cells, takes a randomly placed
    ``tile_size`` crop in every cell, and shuffles the tiles with a random permutation.

    Args:
      images: ``[B, H, W, C]``.
      seed: ``[2]`` int seed of the jitter and the permutations.
      grid: cells per side (3 in PIRL, after Noroozi & Favaro 2016).
      tile_size: side of the crops; default ``round(cell * 64 / 75)`` (PIRL's 64 px of a
        75 px cell).

    Returns:
      ``(tiles [B, grid*grid, t, t, C], permutation [B, grid*grid])``, where tile ``j``
      is cell ``permutation[:, j]`` (cells in row-major order).
    """
    b = tf.shape(images)[0]
    h, w, c = images.shape[1], images.shape[2], images.shape[3]
    cell = min(h, w) // grid
    t = tile_size or max(1, round(cell * 64 / 75))
    n = grid * grid
    cells = tf.reshape(images[:, : cell * grid, : cell * grid], [b, grid, cell, grid, cell, c])
    cells = tf.reshape(tf.transpose(cells, [0, 1, 3, 2, 4, 5]), [b * n, cell, cell, c])
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    off_y = tf.random.stateless_uniform([b * n], s[0], 0, cell - t + 1, dtype=tf.int32)
    off_x = tf.random.stateless_uniform([b * n], s[1], 0, cell - t + 1, dtype=tf.int32)
    tiles = tf.gather(cells, off_y[:, None] + tf.range(t)[None], axis=1, batch_dims=1)
    tiles = tf.gather(tiles, off_x[:, None] + tf.range(t)[None], axis=2, batch_dims=1)
    tiles = tf.reshape(tiles, [b, n, t, t, c])
    perm = tf.argsort(tf.random.stateless_uniform([b, n], s[2]), axis=1)
    return tf.gather(tiles, perm, axis=1, batch_dims=1), perm


class PIRL(Method):
    """Pretext-Invariant Representation Learning (Misra & van der Maaten, CVPR 2020,
    arXiv:1912.01991), with the jigsaw pretext transform.

    The image representation ``f(v_I)`` is the encoder's pooled feature through a
    linear layer to 128-d. The transformed image ``v_It`` is a jigsaw puzzle: 3x3
    tiles (random crops inside each cell), shuffled by a random permutation,
    each encoded by the SAME encoder (siamese), projected to 128-d, concatenated
    in the shuffled order and projected to 128-d: ``g(v_It)``. A memory bank
    holds an EMA (0.5) of ``f`` for every training example. The loss (Eq. 5) is

        lambda * L_NCE(m_I, g(v_It)) + (1 - lambda) * L_NCE(m_I, f(v_I))

    with lambda = 0.5, temperature 0.07 and N = 32000 negatives drawn from the
    memory bank (Sec. 3.2-4.1); ``L_NCE`` is
    :func:`tfless.losses.contrastive.pirl_nce`. The normalization constant Z of
    the NCE probabilities is estimated by Monte Carlo from the step's negatives,
    ``Z ~ N_data * mean_j exp(s(f, m_j) / tau)`` (Wu et al. 2018, Eq. 8), every
    step (``z_estimate="batch"``, averaged over replicas). Wu et al. freeze the
    first estimate; ``z_estimate="fixed"`` does that in closed form
    (``log Z = log N_data + 1 / (2 D tau^2)``: the first batch meets a bank of
    random unit vectors), but on small data the representations then collapse
    (measured on digits: every ``f`` converges to one direction), so the
    per-step estimate is the default.

    The tiles share the encoder's layers, batch norm included (as in the paper):
    in training each pass normalizes with its own batch statistics, but the
    moving averages used at evaluation mix tile and full-image statistics, so
    recompute them on full images before probing (``tfless-eval --precise_bn``,
    as ``benchmarks/selfsup.py`` does).

    The bank refreshes an entry once per epoch, so on small budgets PIRL needs
    epochs more than steps: on MNIST-5k at 500 steps its kNN accuracy is below
    a random-init encoder's at batch 64 and well above it at batch 256
    (configs/pirl/digits.py).

    Distribution: the bank is a per-replica variable updated with the
    representations and indices of the whole global batch (gathered), so every
    copy is the same; negatives are sampled with a seed from the step number,
    so every replica draws the same rows.

    Reads ``index`` and ``image`` (or ``views``: ``views[0]`` is ``v_I`` and
    ``views[1]`` the image the puzzle is cut from). Needs ``with_index=True`` data.

    Args:
      encoder: functional feature network ``[B, H, W, C] -> [B, D]`` (it also
        encodes the tiles, at the tile size).
      num_data: number of training examples (memory-bank rows).
      projection_dim: representation size (128).
      num_negatives: N negatives per step from the memory bank.
      temperature: tau > 0.
      loss_weight: lambda in [0, 1].
      bank_momentum: EMA weight of the old memory-bank entry (0.5).
      grid: jigsaw cells per side (3).
      tile_size: jigsaw crop size (default ``round(cell * 64 / 75)``).
      z_estimate: ``"batch"`` (Monte Carlo each step) or ``"fixed"`` (first-batch value).
      seed: seed of the bank, the jigsaw and the negative sampling.
    """

    input_keys = ("index", "image|views")

    def __init__(
        self,
        encoder: keras.Model,
        num_data: int,
        projection_dim: int = 128,
        num_negatives: int = 32000,
        temperature: float = 0.07,
        loss_weight: float = 0.5,
        bank_momentum: float = 0.5,
        grid: int = 3,
        tile_size: int | None = None,
        z_estimate: str = "batch",
        seed: int = 0,
        name: str = "pirl",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        self.temperature = check_temperature(temperature)
        if not 0.0 <= loss_weight <= 1.0:
            raise ValueError(f"PIRL loss_weight (lambda) must be in [0, 1]; got {loss_weight!r}.")
        if int(num_negatives) < 1:
            raise ValueError(f"PIRL num_negatives must be >= 1; got {num_negatives!r}.")
        h, w, c = (int(d) for d in encoder.input.shape[1:])
        cell = min(h, w) // int(grid)
        tile = int(tile_size or max(1, round(cell * 64 / 75)))
        if int(grid) < 2 or cell < 2 or not 1 <= tile <= cell:
            raise ValueError(
                f"PIRL: a {h}x{w} image is too small for a {grid}x{grid} jigsaw grid with "
                f"tile_size={tile_size!r} (cells of {cell} px, tiles of {tile} px); need cells "
                f">= 2 px and 1 <= tile_size <= cell."
            )
        if z_estimate not in ("batch", "fixed"):
            raise ValueError(f"PIRL z_estimate must be 'batch' or 'fixed'; got {z_estimate!r}.")
        self.z_estimate = z_estimate
        self.num_data = int(num_data)
        self.projection_dim = int(projection_dim)
        self.num_negatives = int(num_negatives)
        self.loss_weight = float(loss_weight)
        self.grid, self.tile_size, self.seed = int(grid), tile, int(seed)
        self.log_z = math.log(self.num_data) + 1.0 / (
            2.0 * self.projection_dim * self.temperature**2
        )
        self.tile_encoder = shared_encoder_at(encoder, (tile, tile, c), name="tile_encoder")
        feature_dim = encoder_feature_dim(encoder, "PIRL")
        self.f_head = keras.layers.Dense(self.projection_dim, name="f_head")
        self.tile_head = keras.layers.Dense(self.projection_dim, name="tile_head")
        self.g_head = keras.layers.Dense(self.projection_dim, name="g_head")
        self.f_head.build((None, feature_dim))
        self.tile_head.build((None, feature_dim))
        self.g_head.build((None, self.grid**2 * self.projection_dim))
        self.bank = MemoryBank(self.num_data, self.projection_dim, bank_momentum, seed=self.seed)
        self.nce_jigsaw = keras.metrics.Mean(name="nce_jigsaw")
        self.nce_image = keras.metrics.Mean(name="nce_image")

    def call(self, inputs, training=False):
        return self.features(batch_images(inputs), training=training)

    def f(self, images, training=False):
        """``f(v_I)``: L2-normalized ``[B, projection_dim]``."""
        return l2_normalize(self.f_head(self.encoder(images, training=training)))

    def g(self, images, seed, training=False):
        """``g(v_It)``: L2-normalized ``[B, projection_dim]`` of the jigsaw of ``images``."""
        tiles, _ = jigsaw_tiles(images, seed, self.grid, self.tile_size)
        b, n = tf.shape(tiles)[0], self.grid**2
        flat = tf.reshape(tiles, [b * n, self.tile_size, self.tile_size, tiles.shape[-1]])
        z = self.tile_head(self.tile_encoder(flat, training=training))
        return l2_normalize(self.g_head(tf.reshape(z, [b, n * self.projection_dim])))

    def _inputs(self, x):
        if not isinstance(x, dict) or "index" not in x or not ({"image", "views"} & set(x)):
            keys = sorted(x) if isinstance(x, dict) else type(x).__name__
            raise ValueError(
                f"PIRL reads batch['index'] and batch['image'] (or batch['views']); load the "
                f"data with with_index=True. Got batch keys {keys}."
            )
        if "views" in x:
            image, puzzle_source = two_views(x, "PIRL")
            return image, puzzle_source, x["index"]
        return x["image"], x["image"], x["index"]

    def _loss(self, x, training, step=0):
        image, puzzle_source, index = self._inputs(x)
        index = tf.cast(index, tf.int32)
        _, _, replica_id = replica_info()
        step = tf.cast(step, tf.int64)
        seed = tf.stack([step, tf.cast(replica_id, tf.int64) + 1000 * self.seed])
        f = self.f(image, training=training)
        g = self.g(puzzle_source, seed, training=training)
        m = self.bank(index)
        # Same negatives on every replica: the seed depends on the step only.
        # Each example draws its own negatives, as the reference implementation does.
        negatives = tf.reshape(
            self.bank.sample(
                tf.shape(index)[0] * self.num_negatives,
                tf.stack([step, tf.cast(replica_id, tf.int64) + 7]),
            ),
            [-1, self.num_negatives, self.projection_dim],
        )
        log_z = self.log_z
        if self.z_estimate == "batch":
            scores = tf.einsum("bd,bmd->bm", tf.stop_gradient(f), negatives) / self.temperature
            log_z = nce_log_partition(scores, self.num_data)
            ctx = replica_info()[0]
            if ctx is not None:  # one constant for the global batch
                log_z = ctx.all_reduce("MEAN", log_z)
        kw = dict(temperature=self.temperature, num_data=self.num_data, log_z=log_z)
        nce_g = pirl_nce(m, g, negatives, **kw)
        nce_f = pirl_nce(m, f, negatives, **kw)
        loss = self.loss_weight * nce_g + (1.0 - self.loss_weight) * nce_f
        return loss, nce_g, nce_f, f, index

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The PIRL loss of a batch; the memory bank is updated after the step."""
        loss, nce_g, nce_f, f, index = self._loss(x, training, step_number(self, training))
        if training:
            self.nce_jigsaw.update_state(nce_g)
            self.nce_image.update_state(nce_f)
            self.keep_for_update(f=f, index=index)
        return loss

    def after_train_step(self, data) -> None:
        kept = self.kept_for_update()
        ctx = replica_info()[0]
        self.bank.update(gather(kept["index"], ctx), tf.stop_gradient(gather(kept["f"], ctx)))
