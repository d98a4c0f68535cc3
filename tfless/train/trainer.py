"""``train_and_evaluate``: config -> strategy, data, backbone, method, optimizer, fit.

Under ``none``/``mirrored``/``tpu`` the method trains with ``keras.Model.fit``.
Under ``multiworker`` Keras 3.15's ``fit`` fails while building the model from a
distributed batch (keras-team/keras#20585), so the trainer runs
:func:`tfless.train.loop.distributed_fit` instead: the same ``train_step`` and
``test_step`` of the method called through ``strategy.run``, the same callbacks,
checkpoints and logs. Every method therefore works under every strategy.

A workdir holds:
  ``manifest.json``  resolved config, seeds, label-split hash, versions, git revision;
  ``checkpoints/``   ``tf.train.Checkpoint`` of method + optimizer + epoch (resume);
  ``tensorboard/``   TensorBoard logs;
  ``history.json``   per-epoch logs;
  ``metrics.json``   final metrics (written last: its presence means the run finished).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import platform
import subprocess
import time

import keras
import numpy as np
import tensorflow as tf

from tfless.backbones import build_backbone
from tfless.methods import get_method_class
from tfless.train import callbacks as cb
from tfless.train import pipelines
from tfless.train.optimizers import make_optimizer
from tfless.train.strategy import is_chief, is_multiworker, make_strategy, worker_index

MANIFEST = "manifest.json"
METRICS = "metrics.json"

# Config keys that may differ between an interrupted run and its resumption.
_RESUMABLE_KEYS = ("train.verbose",)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train_and_evaluate` returns.

    Attributes:
      metrics: final metrics (``test_accuracy`` for classifier methods, final training logs).
      method: the trained method (EMA weights in place when ``optimizer.ema`` > 0).
      manifest: the run manifest (also in ``workdir/manifest.json``).
      workdir: the run directory.
    """

    metrics: dict
    method: keras.Model
    manifest: dict
    workdir: str


# --------------------------------------------------------------------------- manifest
def _git_revision() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict:
    import tfless

    return {
        "tfless": tfless.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_to_dict(config) -> dict:
    """A JSON-safe plain dict of a ConfigDict (tuples become lists)."""
    return json.loads(
        json.dumps(config.to_dict() if hasattr(config, "to_dict") else config, default=list)
    )


def check_workdir(config, workdir: str) -> dict | None:
    """Returns the existing manifest of ``workdir`` (None if new).

    Raises:
      ValueError: if ``workdir`` holds a run with a different config, naming the keys.
    """
    path = os.path.join(workdir, MANIFEST)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        old = json.load(f)
    a = _flatten(old.get("config", {}))
    b = _flatten(config_to_dict(config))
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in _RESUMABLE_KEYS)
    if diff:
        shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in diff[:8])
        raise ValueError(
            f"workdir {workdir!r} holds a run with a different config ({shown}"
            f"{', ...' if len(diff) > 8 else ''}). Use a new workdir, or the same config to resume."
        )
    return old


# ------------------------------------------------------------------------ building
def build_method(
    config, image_shape, num_classes: int, num_replicas: int = 1, num_train: int | None = None
):
    """Builds backbone + method from ``config.model`` / ``config.method``.

    With more than one replica, batch norm is synchronized across replicas unless the
    config says otherwise (``model.kwargs.bn_synchronized``): the statistics are then
    those of the global batch, so a run computes the same function whatever the
    number of devices, and every replica keeps identical moving averages.

    Methods that keep one slot per training example (``num_data``: PIRL's memory bank,
    DeepCluster's assignments) get ``num_data = num_train`` when the config leaves it
    out; a config value that disagrees with the training split is refused here, before
    any step, instead of failing later on an out-of-range index.
    """
    cls = get_method_class(config.method.name)
    model_kwargs = dict(config.model.get("kwargs", {}) or {})
    if num_replicas > 1 and "bn_synchronized" not in model_kwargs:
        model_kwargs["bn_synchronized"] = True
    encoder = build_backbone(config.model.backbone, image_shape, **model_kwargs)
    kwargs = dict(config.method.get("kwargs", {}) or {})
    params = inspect.signature(cls.__init__).parameters
    accepts_var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    if "num_classes" in params and "num_classes" not in kwargs:
        kwargs["num_classes"] = num_classes
    if "num_data" in params and num_train is not None:
        if kwargs.get("num_data") is None:
            kwargs["num_data"] = int(num_train)
        elif int(kwargs["num_data"]) != int(num_train):
            raise ValueError(
                f"method.kwargs.num_data={kwargs['num_data']!r} but the training split of "
                f"{config.data.get('dataset')!r} has {num_train} examples; {config.method.name!r} "
                "keeps one slot per training example, so set num_data to "
                f"{num_train} or leave it out (it is then read from the data)."
            )
    unknown = [k for k in kwargs if k not in params and not accepts_var_kw]
    if unknown:
        raise ValueError(
            f"Method {config.method.name!r} does not accept {unknown}; expected some of "
            f"{[p for p in params if p not in ('self', 'encoder', 'name', 'kwargs')]}."
        )
    return cls(encoder=encoder, **kwargs)


def _example_batch(ds: tf.data.Dataset):
    return next(iter(ds.take(1)))


def total_steps(config) -> int:
    steps = int(config.train.steps)
    if steps < 1:
        raise ValueError(f"train.steps must be >= 1; got {steps!r}.")
    return steps


def _epochs(config) -> tuple[int, int]:
    steps = total_steps(config)
    per_epoch = int(config.train.get("eval_every") or steps)
    if per_epoch < 1:
        raise ValueError(f"train.eval_every must be >= 1; got {per_epoch!r}.")
    if steps % per_epoch:
        raise ValueError(
            f"train.steps={steps} must be a multiple of train.eval_every={per_epoch} so that "
            "a resumed run ends at the same step."
        )
    return steps // per_epoch, per_epoch


def _weights_digest(model) -> str:
    h = hashlib.sha256()
    for v in model.weights:
        h.update(np.ascontiguousarray(keras.ops.convert_to_numpy(v)).tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- main
def train_and_evaluate(
    config, workdir: str, *, strategy: str | tf.distribute.Strategy | None = None
) -> TrainResult:
    """Trains the method described by ``config`` and evaluates it; resumable.

    Args:
      config: a ``ConfigDict`` as produced by ``configs/<method>/<dataset>.py``.
      workdir: run directory. An interrupted run started again with the same config
        and workdir continues from its last checkpoint; a workdir holding a run with a
        different config is refused.
      strategy: a strategy name (none, mirrored, multiworker, tpu), a built
        ``tf.distribute.Strategy``, or None for ``config.train.strategy`` (default none).

    Returns:
      :class:`TrainResult`.
    """
    steps = total_steps(config)
    epochs, per_epoch = _epochs(config)
    if strategy is None or isinstance(strategy, str):
        strategy = make_strategy(strategy or config.train.get("strategy", "none"))
    chief = is_chief(strategy)
    os.makedirs(workdir, exist_ok=True)
    previous = check_workdir(config, workdir)
    seed = int(config.train.get("seed", 0))
    keras.utils.set_random_seed(seed)

    # The run's own directory on the chief; other workers write checkpoints to a
    # scratch directory, as MultiWorkerMirroredStrategy needs every worker to save.
    run_dir = workdir if chief else os.path.join(workdir, f".worker{worker_index(strategy)}")
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    epoch_var = None

    # Probe the checkpoint before building the data so that the stream skips
    # the batches the interrupted run already consumed.
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    initial_epoch = 0
    if latest:
        reader = tf.train.load_checkpoint(latest)
        initial_epoch = int(reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE"))

    data = pipelines.build_data(config.data, seed=seed, skip_batches=initial_epoch * per_epoch)
    example = _example_batch(data.train)
    pipelines.check_batch(example, data.image_shape)

    with strategy.scope():
        method = build_method(
            config,
            data.image_shape,
            data.info.num_classes,
            strategy.num_replicas_in_sync,
            num_train=data.num_train,
        )
        optimizer = make_optimizer(config.optimizer, steps)
        method.compile(
            optimizer=optimizer, jit_compile=bool(config.train.get("jit_compile", False))
        )
        method.build_from_batch(example)
        method.built = True
        optimizer.build(method.trainable_variables)
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        checkpoint = tf.train.Checkpoint(model=method, optimizer=optimizer, epoch=epoch_var)
    manager = tf.train.CheckpointManager(
        checkpoint, ckpt_dir, max_to_keep=int(config.train.get("keep_checkpoints", 2))
    )
    if latest:
        # Every worker restores the chief's checkpoint; each then saves to its own dir.
        checkpoint.restore(latest).assert_existing_objects_matched()

    manifest = {
        "config": config_to_dict(config),
        "seed": seed,
        "split_hash": data.split_hash,
        "num_labeled": data.num_labeled,
        "num_train": data.num_train,
        "image_shape": list(data.image_shape),
        "num_classes": data.info.num_classes,
        "versions": _versions(),
        "git_revision": _git_revision(),
        "strategy": type(strategy).__name__,
        "num_replicas": strategy.num_replicas_in_sync,
        "started": (previous or {}).get("started", time.strftime("%Y-%m-%dT%H:%M:%S%z")),
        "resumed_from_epoch": initial_epoch if latest else None,
        "hostname": platform.node(),
    }
    if chief:
        cb.write_json_atomic(os.path.join(workdir, MANIFEST), manifest)

    verbose = int(config.train.get("verbose", 1))
    # Method callbacks (clustering, label propagation, online probes) come first so the
    # logs they add reach the history and TensorBoard writers.
    callbacks = [*cb.extra_callbacks(method, data, config), cb.EpochCheckpoint(manager, epoch_var)]
    if optimizer.use_ema:
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=False))
    if chief:
        callbacks.append(cb.HistoryWriter(os.path.join(workdir, "history.json"), initial_epoch))
        if config.train.get("tensorboard", True):
            callbacks.append(
                keras.callbacks.TensorBoard(
                    os.path.join(workdir, "tensorboard"), update_freq="epoch"
                )
            )
    has_eval = (
        hasattr(method, "test_step") and getattr(method, "accuracy_tracker", None) is not None
    )

    history = {}
    if initial_epoch < epochs:
        if is_multiworker(strategy):
            from tfless.train.loop import distributed_fit

            history = distributed_fit(
                method,
                strategy,
                data.train,
                epochs=epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=per_epoch,
                validation_data=data.test if has_eval else None,
                callbacks=callbacks,
                verbose=verbose if chief else 0,
            )
        else:
            h = method.fit(
                data.train,
                epochs=epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=per_epoch,
                validation_data=data.test if has_eval else None,
                callbacks=callbacks,
                verbose=verbose,
            )
            history = h.history
    elif optimizer.use_ema:
        # A finished run restored from its checkpoint: put the EMA weights in place.
        optimizer.finalize_variable_values(method.trainable_variables)

    metrics = {k: float(v[-1]) for k, v in history.items() if len(v)}
    metrics["steps"] = int(optimizer.iterations.numpy())
    metrics["epochs"] = int(epoch_var.numpy())
    if has_eval:
        metrics.update(evaluate_accuracy(method, data.test, strategy))
    protocols = _protocols(config, has_eval)
    if protocols and chief:
        metrics.update(evaluate_features(method, data, protocols))
    metrics["weights_digest"] = _weights_digest(method)
    if chief:
        cb.write_json_atomic(os.path.join(workdir, METRICS), metrics)
    else:
        cb.write_json_atomic(os.path.join(run_dir, METRICS), metrics)
    return TrainResult(metrics=metrics, method=method, manifest=manifest, workdir=workdir)


def evaluate_accuracy(method, test: tf.data.Dataset, strategy=None) -> dict:
    """Top-1 accuracy and loss of a classifier method on the test split."""
    if strategy is not None and is_multiworker(strategy):
        from tfless.train.loop import distributed_evaluate

        logs = distributed_evaluate(method, strategy, test)
    else:
        logs = method.evaluate(test, verbose=0, return_dict=True)
    return {"test_accuracy": float(logs["accuracy"]), "test_loss": float(logs["loss"])}


FEATURE_PROTOCOLS = ("knn", "linear")


def _protocols(config, has_classifier: bool) -> tuple[str, ...]:
    """Frozen-feature protocols to run at the end: ``config.eval.protocols`` or a default.

    Methods without a classifier head (self-supervised) get kNN and a linear probe by
    default; classifiers get their own test accuracy only.
    """
    ev = config.get("eval") if hasattr(config, "get") else None
    chosen = ev.get("protocols") if ev is not None else None
    if chosen is None:
        return () if has_classifier else FEATURE_PROTOCOLS
    chosen = tuple(chosen)
    bad = [p for p in chosen if p not in FEATURE_PROTOCOLS]
    if bad:
        raise ValueError(
            f"Unknown eval.protocols {bad}. Expected some of {list(FEATURE_PROTOCOLS)}."
        )
    return chosen


def _arrays(ds: tf.data.Dataset, indices=None):
    images, labels = [], []
    for b in ds.map(lambda ex: (ex["image"], ex["label"])).batch(1024).as_numpy_iterator():
        images.append(b[0])
        labels.append(b[1])
    x, y = np.concatenate(images), np.concatenate(labels)
    return (x, y) if indices is None else (x[indices], y[indices])


def evaluate_features(method, data: pipelines.Data, protocols=FEATURE_PROTOCOLS) -> dict:
    """kNN (k=200, T=0.1) and linear-probe accuracy of the frozen encoder on the test split.

    The probe/kNN memory is the labeled training subset (all of it when all labels are used).
    """
    from tfless.evaluation import extract_features
    from tfless.evaluation.knn import knn_features
    from tfless.evaluation.linear_probe import linear_probe_features

    xtr, ytr = _arrays(data.raw_train, data.labeled_indices)
    xte, yte = _arrays(data.test.unbatch())
    encoder = method.feature_encoder()
    ftr = extract_features(encoder, xtr)
    fte = extract_features(encoder, xte)
    out = {}
    if "knn" in protocols:
        out.update(knn_features(ftr, ytr, fte, yte, k=min(200, len(ytr)), temperature=0.1))
    if "linear" in protocols:
        out.update(linear_probe_features(ftr, ytr, fte, yte))
    return out


def restore_method(workdir: str):
    """Rebuilds the method of a finished or interrupted run from its workdir.

    Returns:
      ``(method, config)``; the latest checkpoint's weights are loaded, with the EMA
      weights in place when the run used ``optimizer.ema``.
    """
    import ml_collections

    path = os.path.join(workdir, MANIFEST)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{workdir!r} is not a tfless run directory: no {MANIFEST}.")
    with open(path) as f:
        manifest = json.load(f)
    config = ml_collections.ConfigDict(manifest["config"])
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    if not latest:
        raise FileNotFoundError(f"No checkpoint in {os.path.join(workdir, 'checkpoints')!r}.")
    data = pipelines.build_data(config.data, seed=int(manifest.get("seed", 0)))
    method = build_method(
        config,
        tuple(manifest["image_shape"]),
        int(manifest["num_classes"]),
        num_train=data.num_train,
    )
    optimizer = make_optimizer(config.optimizer, total_steps(config))
    method.compile(optimizer=optimizer)
    method.build_from_batch(_example_batch(data.train))
    method.built = True
    optimizer.build(method.trainable_variables)
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    tf.train.Checkpoint(model=method, optimizer=optimizer, epoch=epoch).restore(
        latest
    ).assert_existing_objects_matched()
    if optimizer.use_ema:
        optimizer.finalize_variable_values(method.trainable_variables)
    return method, config
