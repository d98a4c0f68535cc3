"""Batch-norm statistics for the final evaluation, and a check of the final accuracies.

Batch norm evaluates with exponential moving averages of the batch statistics
(momentum ``m``, 0.99 in Keras): after ``n`` steps the averages still hold ``m**n`` of
their initial values, and they follow the weights with a lag of about ``1 / (1 - m)``
steps. A short run therefore evaluates with statistics that do not match its weights,
all the more with an EMA of the weights (``optimizer.ema``), whose statistics were never
measured at all. On the built-in digits a 300-step supervised run reached training
accuracy 1.0 and test accuracy 9.6% (every test image given one class); the same
weights with statistics measured on training images score 99.4%.

So before the final evaluation the statistics are measured again on training images
("precise BN", Wu & Johnson 2021, "Rethinking 'Batch' in BatchNorm", arXiv:2105.07576)
with :func:`tfless.evaluation.finetuning.recompute_batch_norm`, as ``eval.recompute_bn``
says: ``"auto"`` (the default) when the run is shorter than :data:`AUTO_HORIZON` times
``1 / (1 - m)`` steps, ``true`` always, ``false`` never.
"""

from __future__ import annotations

import logging

import numpy as np

_logger = logging.getLogger(__name__)

#: ``"auto"`` recomputes the statistics of runs shorter than this many ``1 / (1 - m)``
#: (the averages' time constant): at 10, 1,000 steps for ``m = 0.99``, after which the
#: initial values weigh ``0.99**1000 < 1e-4`` and the lag is a tenth of the run. Measured
#: on the built-in digits (configs/supervised/digits.py, EMA 0.99 of the weights, seed 0,
#: ``train.steps`` changed, one evaluation at the end), test accuracy with the moving
#: averages -> with measured statistics: 150 steps 9.6% -> 98.9%, 300 steps 9.6% -> 99.3%,
#: 1,000 steps 99.1% -> 99.1%.
AUTO_HORIZON = 10
#: Training images measured (one forward pass), a seeded random subset of the training split.
NUM_IMAGES = 1024
#: A final training accuracy this far above the test accuracy is reported as suspect.
ACCURACY_GAP = 0.5

_MODES = {"auto": "auto", True: True, False: False, "true": True, "false": False}


def recompute_mode(config):
    """``config.eval.recompute_bn`` as ``"auto"``, True or False (absent: ``"auto"``).

    Raises:
      ValueError: for any other value, naming it.
    """
    ev = config.get("eval") if hasattr(config, "get") else None
    value = ev.get("recompute_bn", "auto") if ev is not None else "auto"
    key = value.lower() if isinstance(value, str) else value
    if isinstance(key, (bool, str)) and key in _MODES:
        return _MODES[key]
    raise ValueError(f"eval.recompute_bn must be 'auto', true or false; got {value!r}.")


def bn_momentum(model) -> float | None:
    """The largest moving-average momentum of ``model``'s trainable batch-norm layers
    (None when it has none)."""
    from tfless.layers.batchnorm import bn_layers

    momenta = [float(layer.momentum) for layer in bn_layers(model) if layer.trainable]
    return max(momenta) if momenta else None


def needs_recompute(steps: int, momentum: float | None, horizon: float = AUTO_HORIZON) -> bool:
    """Whether ``"auto"`` measures the statistics again after ``steps`` training steps:
    the model has batch norm and ``steps < horizon / (1 - momentum)``."""
    if momentum is None:
        return False
    return momentum >= 1 or steps < horizon / (1.0 - momentum)


def _training_images(data, config, seed: int):
    """Up to :data:`NUM_IMAGES` training images (at most ``data.eval_batch_size``, a batch
    known to fit in memory), drawn with ``seed`` from the first ``4 *`` that many examples
    of the split; the same images whatever TensorFlow's global seed."""
    import tensorflow as tf

    num = min(NUM_IMAGES, int(config.data.get("eval_batch_size") or NUM_IMAGES))
    pool = min(int(data.num_train), 4 * num)
    images = data.raw_train.map(lambda example: example["image"]).take(pool).batch(pool)
    images = tf.data.Dataset.get_single_element(images).numpy()
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.choice(len(images), size=min(num, len(images)), replace=False))]


def recompute_final_bn(method, data, config) -> bool:
    """Measures ``method``'s batch-norm statistics on training images if
    ``eval.recompute_bn`` asks for it (see the module docstring); returns whether it did.

    The images are a seeded random subset (``train.seed``) of the un-augmented training
    split (:func:`_training_images`), the same on every worker and on every call, so that
    a restored run (:func:`tfless.train.restore_method`) gets the statistics it was
    evaluated with.
    """
    from tfless.evaluation.finetuning import recompute_batch_norm
    from tfless.train.build import total_steps

    mode = recompute_mode(config)
    momentum = bn_momentum(method)
    steps = total_steps(config)
    if mode is False or momentum is None:
        return False
    if mode == "auto" and not needs_recompute(steps, momentum):
        return False
    if getattr(data, "raw_train", None) is None:
        _logger.warning("Batch-norm statistics not recomputed: the data has no training split.")
        return False
    images = _training_images(data, config, int(config.train.get("seed", 0)))
    recompute_batch_norm(method, images, max_images=len(images))
    limit = AUTO_HORIZON / (1.0 - momentum) if momentum < 1 else float("inf")
    why = (
        "eval.recompute_bn=true"
        if mode is True
        else f"auto: {steps} steps, fewer than {AUTO_HORIZON} / (1 - momentum {momentum:g}) "
        f"= {limit:.0f}"
    )
    _logger.warning(
        "Recomputed the batch-norm statistics on %d training images before the final "
        "evaluation (%s); the moving averages of a run this short lag its weights.",
        len(images),
        why,
    )
    return True


def accuracy_gap_warning(metrics: dict, gap: float = ACCURACY_GAP) -> str | None:
    """A warning (also logged) when the final training ``accuracy`` exceeds
    ``test_accuracy`` by more than ``gap``, else None."""
    train, test = metrics.get("accuracy"), metrics.get("test_accuracy")
    if train is None or test is None or not train - test > gap:
        return None
    message = (
        f"Final training accuracy {train:.3f} but test accuracy {test:.3f}: the evaluated "
        "model does not compute what was trained (batch-norm statistics that did not "
        "converge, set eval.recompute_bn=true), or it overfits its labels."
    )
    _logger.warning(message)
    return message
