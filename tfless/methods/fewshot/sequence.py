"""Episodes as sequences: the helpers MANN and SNAIL share.

Both read an episode as a sequence of (image features, label) pairs: the support set in a
shuffled order, with its labels, then each query on its own, whose label is never fed
(see :mod:`tfless.methods.fewshot.mann` and :mod:`tfless.methods.fewshot.snail`).
"""

from __future__ import annotations

import tensorflow as tf

#: Seed of the support order outside training, so that evaluation is deterministic.
EVAL_ORDER_SEED = (17, 5)


def check_ways(ways, max_ways: int, method: str):
    """``ways`` (an int, or a tensor whose value is known only when the graph runs), refused
    with a ValueError outside ``[2, max_ways]`` (the outputs of ``method``) when known."""
    static = tf.get_static_value(ways)
    if static is None:
        return ways
    ways = int(static)
    if not 2 <= ways <= max_ways:
        raise ValueError(
            f"{method} was built for at most {max_ways}-way episodes (its label inputs and "
            f"outputs have {max_ways} units); got ways={ways}. Build it with ways={ways} "
            "or evaluate with fewer ways."
        )
    return ways


def support_order(episodes, length: int, seed) -> tf.Tensor:
    """``[E, length]`` int32: one random permutation of the support rows per episode.

    Episodes are class-major; the paper protocols present their examples in a random
    order, so each episode is shuffled with a stateless draw from ``seed`` (int ``[2]``).
    """
    noise = tf.random.stateless_uniform(tf.stack([episodes, length]), seed=seed)
    return tf.argsort(noise, axis=-1, stable=True)


def presentation_order(episodes, length: int, seed=None, shuffle: bool = True) -> tf.Tensor:
    """``[E, length]`` int32: the order the support rows are presented in.

    ``shuffle=False``: the sampler's class-major order. Otherwise :func:`support_order` with
    ``seed``, or with the fixed :data:`EVAL_ORDER_SEED` when ``seed`` is None (evaluation).
    """
    if not shuffle:
        return tf.tile(tf.range(length, dtype=tf.int32)[None], tf.stack([episodes, 1]))
    return support_order(episodes, length, EVAL_ORDER_SEED if seed is None else seed)
