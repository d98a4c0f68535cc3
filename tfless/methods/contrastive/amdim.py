"""AMDIM: augmented multiscale deep InfoMax."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.losses.contrastive import amdim_nce
from tfless.methods.base import Method
from tfless.methods.contrastive.common import (
    batch_images,
    check_global_batch,
    gather,
    replica_info,
    two_views,
)


def multiscale_outputs(encoder: keras.Model, local_layer: str | None = None):
    """``keras.Model``: images -> ``(middle map, final map)`` taken from ``encoder``'s graph.

    The final map is the input of the global pooling layer ``features`` (or the
    encoder output when it is already a map). The middle map is ``local_layer``'s
    output, by default the last 4-D activation with a larger spatial size than
    the final map.
    """
    features = (
        encoder.get_layer("features")
        if "features" in [layer.name for layer in encoder.layers]
        else encoder.layers[-1]
    )
    final = features.input if len(features.output.shape) == 2 else features.output
    if len(final.shape) != 4:
        raise ValueError(
            f"AMDIM needs an encoder whose last feature map is 4-D; got {final.shape} "
            f"before {features.name!r}."
        )
    if local_layer is None:
        candidates = [
            layer
            for layer in encoder.layers
            if len(getattr(layer, "output", tf.zeros(0)).shape) == 4
            and layer.output.shape[1] is not None
            and layer.output.shape[1] > final.shape[1]
        ]
        if not candidates:
            raise ValueError(
                f"AMDIM: encoder {encoder.name!r} has no feature map larger than its final "
                f"{final.shape[1]}x{final.shape[2]} map; pass local_layer or use larger images."
            )
        middle = candidates[-1].output
    else:
        middle = encoder.get_layer(local_layer).output
    return keras.Model(encoder.input, [middle, final], name="multiscale")


def _embedding(in_dim: int, out_dim: int, name: str) -> keras.Model:
    """AMDIM's per-location embedding: a residual 2-layer MLP ``W0 x + W2 relu(W1 x)``."""
    x = keras.Input((None, in_dim))
    h = keras.layers.Dense(out_dim, activation="relu")(x)
    out = keras.layers.Add()([keras.layers.Dense(out_dim)(h), keras.layers.Dense(out_dim)(x)])
    return keras.Model(x, out, name=name)


class AMDIM(Method):
    """Augmented Multiscale Deep InfoMax (Bachman, Hjelm & Buchwalter, NeurIPS 2019,
    arXiv:1906.00910).

    Two views of each image go through the encoder; three kinds of features are
    read from it: the global vector (the pooled final map: the paper's 1x1),
    the local vectors of the final map (the paper's 5x5) and of a larger middle
    map (the paper's 7x7), each through its own embedding (a residual MLP per
    location). The NCE objective maximizes mutual information between
    global(view A) and final-map locals(view B) ("1-5"), global(A) and middle
    locals(B) ("1-7"), and final-map locals(A) and final-map locals(B)
    ("5-5"), in both directions; negatives are the local vectors of every other
    image of the global batch (gathered from all replicas). Scores are
    tanh-clipped at c = 20 with a 5e-2 penalty on the squared raw scores
    (:func:`tfless.losses.contrastive.amdim_nce`).

    Paper defaults: embedding size 2560 (n_rkhs), clip 20; Adam lr 2e-4 with
    batch 200. Reads ``views`` = ``(view_a, view_b)``; ``label`` is ignored.

    Args:
      encoder: functional feature network with a 4-D map before its pooling.
      embedding_dim: size of the embedded features.
      clip: tanh clip c.
      reg_weight: weight of the squared-score penalty.
      local_layer: name of the encoder layer giving the middle map (default: the
        last map larger than the final one).
    """

    input_keys = ("views",)

    def __init__(
        self,
        encoder: keras.Model,
        embedding_dim: int = 2560,
        clip: float = 20.0,
        reg_weight: float = 5e-2,
        local_layer: str | None = None,
        name: str = "amdim",
        **kwargs,
    ):
        super().__init__(encoder, name=name, **kwargs)
        if not clip > 0:
            raise ValueError(f"AMDIM clip must be > 0; got {clip!r}.")
        self.clip, self.reg_weight = float(clip), float(reg_weight)
        self.multiscale = multiscale_outputs(encoder, local_layer)
        mid_dim, fin_dim = (int(t.shape[-1]) for t in self.multiscale.outputs)
        dim = int(embedding_dim)
        self.embed_global = _embedding(fin_dim, dim, "embed_global")
        self.embed_final = _embedding(fin_dim, dim, "embed_final")
        self.embed_middle = _embedding(mid_dim, dim, "embed_middle")
        self.nce_1_5 = keras.metrics.Mean(name="nce_1_5")
        self.nce_1_7 = keras.metrics.Mean(name="nce_1_7")
        self.nce_5_5 = keras.metrics.Mean(name="nce_5_5")
        self.score_reg = keras.metrics.Mean(name="score_reg")

    def call(self, inputs, training=False):
        return self.features(batch_images(inputs), training=training)

    def embed(self, images, training=False):
        """``(global [B, E], final locals [B, L5, E], middle locals [B, L7, E])``."""
        middle, final = self.multiscale(images, training=training)
        b = tf.shape(final)[0]
        g = self.embed_global(tf.reduce_mean(final, axis=[1, 2])[:, None], training=training)
        f5 = tf.reshape(final, [b, -1, final.shape[-1]])
        f7 = tf.reshape(middle, [b, -1, middle.shape[-1]])
        return (
            g[:, 0],
            self.embed_final(f5, training=training),
            self.embed_middle(f7, training=training),
        )

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        va, vb = two_views(x, "AMDIM")
        ctx, replicas, replica_id = replica_info()
        check_global_batch(va.shape[0], replicas, "AMDIM")
        local = tf.shape(va)[0]
        # One pass over both views so batch norm sees the same images for both.
        g, l5, l7 = self.embed(tf.concat([va, vb], axis=0), training=training)
        views = [(g[:local], l5[:local], l7[:local]), (g[local:], l5[local:], l7[local:])]
        offset = replica_id * local
        kw = dict(clip=self.clip, reg_weight=self.reg_weight, offset=offset)
        terms = {"1_5": [], "1_7": [], "5_5": []}
        regs = []
        for (ga, l5a, _), (_, l5b, l7b) in (views, views[::-1]):
            l5b_all, l7b_all = gather(l5b, ctx), gather(l7b, ctx)
            for key, anchors, targets in (
                ("1_5", ga, l5b_all),
                ("1_7", ga, l7b_all),
                ("5_5", l5a, l5b_all),
            ):
                nce, reg = amdim_nce(anchors, targets, **kw)
                terms[key].append(nce)
                regs.append(reg)
        means = {k: tf.add_n(v) / len(v) for k, v in terms.items()}
        reg = tf.add_n(regs) / len(regs)
        self.nce_1_5.update_state(means["1_5"])
        self.nce_1_7.update_state(means["1_7"])
        self.nce_5_5.update_state(means["5_5"])
        self.score_reg.update_state(reg)
        return (means["1_5"] + means["1_7"] + means["5_5"]) / 3.0 + reg
