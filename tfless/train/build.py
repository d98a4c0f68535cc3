"""Config -> data, backbone, method, optimizer and checkpoint: the one way a run is built.

:func:`build_run` serves both training (:func:`tfless.train.train_and_evaluate`) and
restoring a finished or interrupted run (:func:`tfless.train.restore_method`), so a
restored method has exactly the variables, optimizer slots and checkpoint layout of
the run that saved it.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging

import keras
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.data import episodes, pipelines
from tfless.methods import Method, get_method_class
from tfless.train import precision as precision_lib
from tfless.train.init_weights import read_init
from tfless.train.optimizers import make_optimizer


@dataclasses.dataclass
class Run:
    """A built run, every variable created.

    Attributes:
      data: the run's data (training stream, test split, dataset info).
      method: the compiled method, built from the first training batch.
      optimizer: its optimizer, built for all of the method's trainable variables.
      epoch: the finished-epoch counter saved with the checkpoint.
      checkpoint: ``tf.train.Checkpoint`` of ``model``, ``optimizer`` and ``epoch``.
    """

    data: pipelines.Data
    method: Method
    optimizer: keras.optimizers.Optimizer
    epoch: tf.Variable
    checkpoint: tf.train.Checkpoint


def total_steps(config) -> int:
    """``config.train.steps``; raises ``ValueError`` when it is below 1."""
    steps = int(config.train.steps)
    if steps < 1:
        raise ValueError(f"train.steps must be >= 1; got {steps!r}.")
    return steps


def steps_per_execution(config) -> int:
    """``config.train.steps_per_execution`` (default 1): training steps fused into one call.

    Raises ``ValueError`` below 1, or when it does not divide ``train.eval_every`` and
    ``train.log_every`` (an evaluation or a TensorBoard point would fall inside a fused
    call, where Keras cannot stop).
    """
    value = config.train.get("steps_per_execution", 1)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"train.steps_per_execution must be an integer >= 1; got {value!r}.")
    for key in ("eval_every", "log_every"):
        every = config.train.get(key)
        if value > 1 and every and int(every) % value:
            raise ValueError(
                f"train.steps_per_execution={value} must divide train.{key}={every}: Keras "
                f"runs {value} steps per call and reports only at the end of a call."
            )
    return value


def jit_compile(config, method: Method) -> bool:
    """``config.train.jit_compile``, unless the method's step cannot compile with XLA: then
    False, with a warning giving the method's one-line reason (``xla_unsupported``)."""
    wanted = bool(config.train.get("jit_compile", False))
    if wanted and method.xla_unsupported:
        logging.warning(
            "train.jit_compile: %s trains without XLA: %s.",
            type(method).__name__,
            method.xla_unsupported,
        )
        return False
    return wanted


def _num_data(
    config, kwargs: dict, num_train: int, key: str = "num_data", held_out: int = 0
) -> None:
    """Fills in or checks ``kwargs[key]`` (one slot per training example) against the split
    (``num_train`` examples left after a validation hold-out of ``held_out``)."""
    if kwargs.get(key) is None:
        kwargs[key] = int(num_train)
    elif int(kwargs[key]) != int(num_train):
        size = f"{num_train} examples"
        if held_out:
            size = (
                f"{num_train + held_out} examples, {num_train} after the validation hold-out "
                f"of {held_out} (data.val_size)"
            )
        raise ValueError(
            f"method.kwargs.{key}={kwargs[key]!r} but the training split of "
            f"{config.data.get('dataset')!r} has {size}; {config.method.name!r} "
            f"keeps one slot per training example, so set {key} to "
            f"{num_train} or leave it out (it is then read from the data)."
        )


def build_method(
    config,
    image_shape,
    num_classes: int,
    num_replicas: int = 1,
    num_train: int | None = None,
    label_counts=None,
    num_held_out: int = 0,
) -> Method:
    """Builds backbone + method from ``config.model`` / ``config.method``.

    With more than one replica, batch norm is synchronized across replicas unless the
    config says otherwise (``model.kwargs.bn_synchronized``): the statistics are then
    those of the global batch, so a run computes the same function whatever the
    number of devices, and every replica keeps identical moving averages.

    Methods that keep one slot per training example (``num_data``: PIRL's memory bank,
    DeepCluster's assignments; ``num_examples``: label propagation's pseudo-labels) get
    it set to ``num_train`` when the config leaves it out; a config value that disagrees
    with the training split is refused here, before any step, instead of failing later on
    an out-of-range index.

    The backbone computes in ``config.train.precision`` (float32 features out); the method
    and its own layers are built in float32 (:mod:`tfless.train.precision`).

    Methods that take the labeled set's class distribution (``label_distribution``:
    ReMixMatch's distribution alignment) get ``label_counts`` (examples of each class in
    the labeled split) normalized, unless the config sets it.
    """
    cls = get_method_class(config.method.name)
    model_kwargs = dict(config.model.get("kwargs", {}) or {})
    if num_replicas > 1 and "bn_synchronized" not in model_kwargs:
        model_kwargs["bn_synchronized"] = True
    precision = precision_lib.check_precision(config.train.get("precision", "float32"))
    with precision_lib.dtype_policy(precision):
        encoder = build_backbone(config.model.backbone, image_shape, **model_kwargs)
    encoder = precision_lib.float32_features(encoder)
    kwargs = dict(config.method.get("kwargs", {}) or {})
    params = inspect.signature(cls.__init__).parameters
    accepts_var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    if "num_classes" in params and "num_classes" not in kwargs:
        kwargs["num_classes"] = num_classes
    for key in ("num_data", "num_examples"):
        if key in params and num_train is not None:
            _num_data(config, kwargs, num_train, key, num_held_out)
    if "label_distribution" in params and kwargs.get("label_distribution") is None:
        if label_counts is not None and sum(label_counts) > 0:
            total = float(sum(label_counts))
            kwargs["label_distribution"] = [float(n) / total for n in label_counts]
    unknown = [k for k in kwargs if k not in params and not accepts_var_kw]
    if unknown:
        raise ValueError(
            f"Method {config.method.name!r} does not accept {unknown}; expected some of "
            f"{[p for p in params if p not in ('self', 'encoder', 'name', 'kwargs')]}."
        )
    return cls(encoder=encoder, **kwargs)


def build_run(
    config,
    strategy: tf.distribute.Strategy | None = None,
    *,
    seed: int = 0,
    skip_batches: int = 0,
    init_weights: bool = False,
) -> Run:
    """Builds the data, method and optimizer of ``config``, ready to train or restore.

    The first training batch is checked (image shape, the method's
    :attr:`~tfless.methods.Method.input_keys`) before any variable exists; the method is
    then compiled and built from that batch and the optimizer built, all inside
    ``strategy``'s scope, so that a checkpoint restores into every variable.

    Args:
      config: the run's ``ConfigDict``.
      strategy: the distribution strategy (default: the current one).
      seed: seed of the data pipeline (shuffling, label split, augmentation).
      skip_batches: training batches to skip (those an interrupted run consumed).
      init_weights: load ``config.model.init`` into the encoder before the optimizer is
        built (:mod:`tfless.train.init_weights`); a fresh run does, a resumed or restored
        one does not (its checkpoint holds the weights).

    Returns:
      :class:`Run`.

    Raises:
      ValueError: for a batch the method cannot read, or a bad method config.
    """
    strategy = strategy or tf.distribute.get_strategy()
    init = read_init(config.model.get("init")) if init_weights else None
    if init is not None and init.kind == "run":
        keras.utils.set_random_seed(seed)  # restoring the source run drew random numbers
    data = pipelines.build_data(config.data, seed=seed, skip_batches=skip_batches)
    example = next(iter(data.train.take(1)))
    pipelines.check_batch(example, data.image_shape)
    if isinstance(example, dict) and "support_image" in example:
        episodes.check_episode_stream(example, strategy.num_replicas_in_sync)
    with strategy.scope():
        method = build_method(
            config,
            data.image_shape,
            data.info.num_classes,
            strategy.num_replicas_in_sync,
            num_train=data.num_train,
            label_counts=data.labeled_class_counts,
            num_held_out=data.num_val if data.val_source == "train" else 0,
        )
        method.check_inputs(example)
        optimizer = precision_lib.loss_scaled(
            make_optimizer(config.optimizer, total_steps(config)),
            config.train.get("precision", "float32"),
        )
        method.compile(
            optimizer=optimizer,
            jit_compile=jit_compile(config, method),
            steps_per_execution=steps_per_execution(config),
        )
        method.build_from_batch(example)
        method.built = True
        if init is not None:
            init.apply(method.encoder)
        optimizer.build(method.trainable_variables)
        epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        checkpoint = tf.train.Checkpoint(model=method, optimizer=optimizer, epoch=epoch)
    return Run(data, method, optimizer, epoch, checkpoint)
