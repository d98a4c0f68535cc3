"""A finite dataset of example dicts, as NumPy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf


def to_arrays(
    ds: tf.data.Dataset,
    keys: Sequence[str] = ("image", "label"),
    indices=None,
    batch_size: int = 1024,
) -> tuple[np.ndarray, ...]:
    """Reads a finite, unbatched dataset of dicts into one NumPy array per key.

    Args:
      ds: yields one example at a time as a dict holding at least ``keys`` (other keys,
        e.g. ``index``, are dropped before reading). A batched dataset must be
        ``unbatch()``-ed first.
      keys: the keys to read, in the order of the returned arrays.
      indices: optional int ``[M]`` positions of the examples to keep (in that order).
      batch_size: examples per read; a speed knob only, the arrays are the same.

    Returns:
      one array per key, ``[N, ...]`` (``[M, ...]`` with ``indices``), dtypes as in ``ds``.

    Raises:
      ValueError: the dataset's elements are not dicts, lack a key, or are none at all.
    """
    keys = tuple(keys)
    if not keys:
        raise ValueError("keys is empty; expected at least one key to read.")
    spec = ds.element_spec
    if not isinstance(spec, dict):
        raise ValueError(f"to_arrays reads datasets of dicts; got elements of {spec!r}.")
    missing = [k for k in keys if k not in spec]
    if missing:
        raise ValueError(f"dataset elements lack {missing}; they hold {sorted(spec)}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size!r}.")
    chunks = {k: [] for k in keys}
    selected = ds.map(lambda ex: {k: ex[k] for k in keys}).batch(batch_size)
    for batch in selected.as_numpy_iterator():
        for k in keys:
            chunks[k].append(batch[k])
    if not chunks[keys[0]]:
        raise ValueError("the dataset is empty; expected at least one example.")
    arrays = tuple(np.concatenate(chunks[k]) for k in keys)
    if indices is not None:
        indices = np.asarray(indices)
        arrays = tuple(a[indices] for a in arrays)
    return arrays
