"""``model.init``: pre-trained weights for a run's encoder, loaded before its first step.

Transfer from the command line: ``--config.model.init=SOURCE`` starts the encoder from

* a **BiT weight file** (``*.npz``, e.g. ``BiT-M-R50x1.npz`` of "Big Transfer (BiT)",
  Kolesnikov et al. 2020, arXiv:1912.11370) into a ``bit_*`` backbone, by
  :func:`tfless.backbones.resnet_v2_gn.load_bit_npz` (every name and shape checked first;
  the file's pre-training head is left out: BiT fine-tunes a new, zero-initialized one);
* a **tfless run directory** (holding ``manifest.json`` and checkpoints), e.g. a
  self-supervised pre-training run: its encoder as the run evaluated it
  (:func:`tfless.train.restore_method`: the newest intact checkpoint, the EMA weights when
  the run kept them). The two backbones must have the same weights in the same order and
  shapes (same ``model.backbone`` and ``model.kwargs``).

Only a fresh run loads them: a resumed run continues from its own checkpoint. The weights
are in place before the optimizer is built, so an EMA of the weights starts from them.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np

from tfless.train.manifest import MANIFEST


def check_init(source: str | None) -> str | None:
    """``'npz'`` or ``'run'`` for a usable ``model.init``, None when it is unset.

    Raises:
      ValueError: naming the value, when it is neither an existing ``.npz`` file nor a
        directory holding a tfless run's ``manifest.json``.
    """
    if not source:
        return None
    source = str(source)
    if source.endswith(".npz") and os.path.isfile(source):
        return "npz"
    if os.path.isfile(os.path.join(source, MANIFEST)):
        return "run"
    raise ValueError(
        f"model.init={source!r} is neither a BiT .npz weight file nor a tfless run directory "
        f"(one holding {MANIFEST}); expected one of them, or no model.init."
    )


@dataclasses.dataclass(frozen=True)
class InitWeights:
    """``model.init`` read into memory (:func:`read_init`), to load with :meth:`apply`.

    Attributes:
      source: the ``model.init`` value.
      kind: ``'npz'`` or ``'run'``.
      weights: a run's encoder weights as ``(path, array)`` pairs (empty for ``'npz'``,
        whose file :func:`tfless.backbones.resnet_v2_gn.load_bit_npz` reads).
      encoder_name: the name of the run's encoder.
    """

    source: str
    kind: str
    weights: tuple = ()
    encoder_name: str = ""

    def apply(self, encoder: keras.Model) -> None:
        """Loads the weights into ``encoder``, in place, checking every shape first.

        Raises:
          ValueError: naming the weight and both shapes when they do not fit.
        """
        if self.kind == "npz":
            from tfless.backbones.resnet_v2_gn import bit_variable_names, load_bit_npz

            if not bit_variable_names(encoder):
                raise ValueError(
                    f"model.init={self.source!r} is a BiT weight file, which loads into a "
                    "bit_* backbone (a GroupNorm + weight-standardized ResNetV2); got "
                    f"{encoder.name!r}."
                )
            load_bit_npz(encoder, self.source)
        else:
            _assign(self, encoder)


def read_init(source: str | None) -> InitWeights | None:
    """Reads ``model.init`` (None when unset); a run's encoder is restored here, outside
    any distribution strategy's scope, and kept as arrays.

    Raises:
      ValueError: for a source :func:`check_init` refuses.
    """
    kind = check_init(source)
    if kind != "run":
        return None if kind is None else InitWeights(str(source), kind)
    from tfless.evaluation import keras_encoder
    from tfless.train.trainer import restore_method

    method, _ = restore_method(str(source))
    encoder = keras_encoder(method)
    weights = tuple((w.path, np.asarray(w.numpy())) for w in encoder.weights)
    return InitWeights(str(source), kind, weights, encoder.name)


def _assign(init: InitWeights, target: keras.Model) -> None:
    dst = target.weights
    if len(init.weights) != len(dst):
        raise ValueError(
            f"model.init={init.source!r}: its encoder {init.encoder_name!r} has "
            f"{len(init.weights)} weights, this run's {target.name!r} has {len(dst)}; the "
            "backbones must match (model.backbone, model.kwargs)."
        )
    for (path, value), d in zip(init.weights, dst):
        if tuple(value.shape) != tuple(d.shape):
            raise ValueError(
                f"model.init={init.source!r}: weight {path!r} has shape {tuple(value.shape)} "
                f"but this run's {d.path!r} has {tuple(d.shape)}; the backbones must match."
            )
    for (_, value), d in zip(init.weights, dst):
        d.assign(value.astype(d.dtype))
