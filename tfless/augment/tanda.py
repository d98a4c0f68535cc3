"""TANDA's transformation sequences as an augmentation: applying a trained generator.

Ratner, Ehrenberg, Hussain, Dunnmon, Re, "Learning to Compose Domain-Specific
Transformations for Data Augmentation", NeurIPS 2017, https://arxiv.org/abs/1709.01643.
A generator -- an LSTM over sequences of ``L`` user-given transformation functions (TFs) --
is trained against a discriminator (:mod:`tfless.methods.augment.tanda`); the trained
generator then augments training data. This module holds what applying it needs: the TF
list, applying one TF sequence per image, sampling sequences from saved LSTM weights
(:mod:`tfless.augment.policy_lstm`) and the generator file; the ``tanda`` view
(:func:`tfless.augment.views.tanda`) applies it in the data pipeline.

TFs here are ops of :mod:`tfless.augment.ops` at fixed magnitudes (TANDA's TFs are
"rotate by a small angle", "shear", "zoom" with fixed parameters); the default list is
the RandAugment paper's 14 ops at magnitudes 3, 6 and 9.

Generator file (JSON): ``{"transforms": [[op_name, magnitude], ...], "sequence_length": L,
"hidden": H, "weights": {"<model>/<weight name>": nested list, ...}, ...metadata}`` with the
weight names of :func:`tfless.augment.policy_lstm.weight_shapes` for the one kind ``"tf"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import numpy as np
import tensorflow as tf

from tfless.augment import ops, policy_lstm, rng
from tfless.augment.policies import RANDAUGMENT_PAPER_OPS

#: The fixed magnitudes of the default TFs.
TANDA_MAGNITUDES = (3.0, 6.0, 9.0)

#: TANDA's default TF list: the RandAugment paper ops at three fixed magnitudes.
DEFAULT_TRANSFORMS = tuple((name, m) for name in RANDAUGMENT_PAPER_OPS for m in TANDA_MAGNITUDES)

#: The decision kind of every step of a TANDA generator.
TF_KIND = "tf"


def check_transforms(transforms) -> tuple[tuple[str, float], ...]:
    """Validates a TF list of ``(op_name, magnitude)`` pairs.

    Raises:
      ValueError: empty list, malformed entries, unknown ops, magnitudes outside [0, 10].
    """
    if isinstance(transforms, str) or not transforms:
        raise ValueError(
            f"transforms must be a non-empty list of (op_name, magnitude), got {transforms!r}"
        )
    checked = []
    for i, entry in enumerate(transforms):
        if isinstance(entry, str) or len(entry) != 2:
            raise ValueError(f"transform {i} must be (op_name, magnitude), got {entry!r}")
        name, magnitude = entry
        ops.check_op_name(name)
        ops.check_magnitude(float(magnitude))
        checked.append((str(name), float(magnitude)))
    return tuple(checked)


class TransformSequences:
    """Applies a sequence of ``sequence_length`` TFs to every image; subclasses sample them.

    Subclasses implement :meth:`sample`: the trainable generator
    (:class:`tfless.methods.augment.tanda.TandaGenerator`) and :class:`FrozenGenerator`.

    Args:
      transforms: ``(op_name, magnitude)`` TFs.
      sequence_length: L, TFs applied in order to each image.
    """

    def __init__(self, transforms=DEFAULT_TRANSFORMS, sequence_length: int = 5):
        self.transforms = check_transforms(transforms)
        if int(sequence_length) != sequence_length or sequence_length < 1:
            raise ValueError(f"sequence_length must be a positive integer, got {sequence_length!r}")
        self.sequence_length = int(sequence_length)
        self.kinds = (TF_KIND,) * self.sequence_length
        self._names = ["Identity"] + sorted({n for n, _ in self.transforms} - {"Identity"})
        self._op_index = tf.constant([self._names.index(n) for n, _ in self.transforms], tf.int32)
        self._magnitude = tf.constant([m for _, m in self.transforms], tf.float32)

    def sample(self, n, seed) -> tf.Tensor:
        """``[n, L]`` TF indices from a stateless ``seed``."""
        raise NotImplementedError

    def apply(self, images, sequences) -> tf.Tensor:
        """Applies TF sequence ``sequences[b]`` ``[B, L]`` to image ``b`` of ``images``."""
        images = ops.check_images(images)
        x = ops.to_float255(images)
        for step in range(self.sequence_length):
            tf_index = sequences[:, step]
            x = ops.apply_per_image(
                x,
                tf.gather(self._op_index, tf_index),
                tf.gather(self._magnitude, tf_index),
                self._names,
                images.dtype == tf.uint8,
            )
        return ops.from_float255(x, images.dtype)

    def __call__(self, images) -> tf.Tensor:
        """Augments ``images [B, H, W, C]`` with freshly sampled sequences."""
        seed = rng.uniform([2], 0, 2**31 - 1, dtype=tf.int64)
        return self.apply(images, self.sample(tf.shape(images)[0], seed))


class FrozenGenerator(TransformSequences):
    """A trained TANDA generator with fixed weights: sampling and applying, no training.

    Args:
      transforms, sequence_length: as :class:`TransformSequences`.
      weights: weight name -> array (``policy_lstm.weight_shapes`` for kind ``"tf"``).
    """

    def __init__(self, transforms, sequence_length: int, weights: Mapping):
        super().__init__(transforms, sequence_length)
        arrays = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        missing = [k for k in ("lstm_bias", "start") if k not in arrays]
        if missing:
            raise ValueError(f"generator weights lack {missing}; got {sorted(arrays)}")
        hidden, embedding = arrays["lstm_bias"].shape[0] // 4, arrays["start"].shape[-1]
        sizes = {TF_KIND: len(self.transforms)}
        expected = policy_lstm.weight_shapes(self.kinds, sizes, hidden, embedding)
        for name, shape in expected.items():
            if name not in arrays or arrays[name].shape != shape:
                got = arrays[name].shape if name in arrays else "nothing"
                raise ValueError(f"generator weight {name!r}: expected shape {shape}, got {got}")
        self.hidden = int(hidden)
        self.weights = {name: tf.constant(arrays[name]) for name in expected}

    def sample(self, n, seed) -> tf.Tensor:
        """``[n, L]`` TF indices from a stateless ``seed`` (2 ints)."""
        return policy_lstm.sample(self.weights, self.kinds, n, seed)


def write_generator(path: str, transforms, sequence_length: int, hidden: int, weights, **metadata):
    """Writes a generator file (see the module docstring); ``weights`` maps path -> array."""
    record = {
        "transforms": [list(t) for t in transforms],
        "sequence_length": int(sequence_length),
        "hidden": int(hidden),
        "weights": {k: np.asarray(v).tolist() for k, v in weights.items()},
        **metadata,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)


def read_generator(path: str) -> dict:
    """Reads a generator file; its ``weights`` come back keyed by weight name (no model path).

    Raises:
      ValueError: the file is missing or lacks one of the generator entries.
    """
    if not os.path.exists(path):
        raise ValueError(f"TANDA generator file {path!r} does not exist")
    with open(path) as f:
        record = json.load(f)
    for key in ("transforms", "sequence_length", "hidden", "weights"):
        if key not in record:
            raise ValueError(f"{path!r} is not a TANDA generator file: no {key!r} entry")
    # Keys are the controller's variable paths, e.g. "policy_controller/lstm_kernel".
    weights = record["weights"]
    weights = {k.rsplit("/", 1)[-1]: np.asarray(v, np.float32) for k, v in weights.items()}
    return dict(record, transforms=[tuple(t) for t in record["transforms"]], weights=weights)
