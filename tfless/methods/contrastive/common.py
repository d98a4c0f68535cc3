"""Cross-replica helpers shared by the contrastive methods."""

from __future__ import annotations

import tensorflow as tf


def replica_info():
    """``(context, num_replicas, replica_id)`` of the current replica.

    Outside ``strategy.run`` (e.g. while the trainer builds variables in the
    cross-replica context) there is nothing to gather: ``(None, 1, 0)``.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return None, 1, 0
    return ctx, ctx.num_replicas_in_sync, ctx.replica_id_in_sync_group


def gather(x, ctx=None):
    """Concatenates ``x`` ``[B, ...]`` from every replica in replica order (``[R*B, ...]``).

    Differentiable: the gradient of the gathered tensor reaches each replica's slice.
    """
    if ctx is None:
        ctx = replica_info()[0]
    if ctx is None:
        return x
    return ctx.all_gather(x, axis=0)


def step_number(method, training: bool):
    """The optimizer's iteration count while training (0 before compile and when not
    training): seeds the per-step randomness that every replica must draw alike."""
    if not training or getattr(method, "optimizer", None) is None:
        return 0
    return method.optimizer.iterations


def check_global_batch(local_batch: int | None, num_replicas: int, name: str, minimum: int = 2):
    """Raises ``ValueError`` when the global batch is known and smaller than ``minimum``."""
    if local_batch is None:
        return
    total = int(local_batch) * int(num_replicas)
    if total < minimum:
        raise ValueError(
            f"{name}: the global batch has {total} image(s); contrastive learning needs at "
            f"least {minimum} so every image has negatives. Increase batch_size."
        )


def two_views(x, name: str):
    """The ``views`` pair of a batch dict; raises ``ValueError`` naming what was found."""
    views = x.get("views") if isinstance(x, dict) else None
    if views is not None and not isinstance(views, (list, tuple)):
        # tf.data stacks a Python list of views into one [V, B, ...] tensor, and tf.distribute
        # then splits THAT along the view axis (replica 0 would get view 1 only). On one
        # replica the stacked form is unambiguous; with several it cannot be trusted.
        if len(views.shape) != 5 or replica_info()[1] > 1:
            raise ValueError(
                f"{name}: batch['views'] must be a tuple of [B, H, W, C] tensors; got one "
                f"tensor of shape {views.shape}. Return a tuple (not a list) of views from the "
                f"tf.data map function: tf.data stacks lists, and tf.distribute would then "
                f"split the view axis across replicas."
            )
        views = tf.unstack(views, axis=0) if views.shape[0] is not None else None
    if views is None or len(views) < 2:
        keys = sorted(x) if isinstance(x, dict) else type(x).__name__
        raise ValueError(
            f"{name} reads batch['views'] = (view1, view2) (two augmented views of each image); "
            f"got batch keys {keys}. Use data.augment = 'simclr' (or another two-view builder)."
        )
    return views[0], views[1]


def batch_images(inputs):
    """Images of a batch for ``call``: ``image``, else the first of ``views``, else ``inputs``."""
    if isinstance(inputs, dict):
        if "image" in inputs:
            return inputs["image"]
        if "views" in inputs:
            return inputs["views"][0]
    return inputs


def shared_encoder_at(encoder, input_shape, name: str | None = None):
    """The same layers (same weights) as functional ``encoder``, re-wired for ``input_shape``.

    PIRL's jigsaw tiles and CPC's patches go through the image encoder at a
    smaller size; Keras functional models check their declared input shape, so
    the graph is re-applied to a new ``Input`` with every layer reused.
    """
    import keras

    inputs = keras.Input(tuple(int(d) for d in input_shape), name="patch")
    model = keras.models.clone_model(
        encoder, input_tensors=inputs, clone_function=lambda layer: layer
    )
    if name is not None:
        model.name = name
    model.feature_dim = int(model.output.shape[-1])
    return model
