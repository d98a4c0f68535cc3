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
  ``metrics.json``   final metrics (written last: its presence means the run finished);
  ``lock``           held by the one process training in the workdir (its PID and host).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import sys

import keras
import numpy as np
import tensorflow as tf

from tfless.train import callbacks as cb
from tfless.train import checkpoints as ckpts
from tfless.train import final_bn
from tfless.train.build import Run, build_run, steps_per_execution, total_steps
from tfless.train.guards import StopOnNonFinite
from tfless.train.init_weights import check_init
from tfless.train.manifest import MANIFEST, check_workdir, read_manifest, run_manifest
from tfless.train.precision import check_precision, uses_ema
from tfless.train.strategy import is_chief, is_multiworker, make_strategy, worker_index
from tfless.train.workdir_lock import WorkdirLock

METRICS = "metrics.json"


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


def _epochs(config) -> tuple[int, int]:
    steps = total_steps(config)
    every = config.train.get("eval_every")
    # None means one epoch of `steps`; 0 would silently mean no intermediate checkpoint.
    per_epoch = steps if every is None else int(every)
    if per_epoch < 1:
        raise ValueError(
            f"train.eval_every must be >= 1 (steps between evaluations and checkpoints); "
            f"got {every!r}."
        )
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


def _resume_point(workdir: str) -> tuple[str | None, int]:
    """``(latest checkpoint or None, epochs it finished)`` of the run in ``workdir``.

    The newest checkpoint that reads cleanly, whatever the state file says; damaged ones
    are skipped with a warning, and checkpoints of which none reads are refused
    (:func:`tfless.train.checkpoints.newest_intact`).
    """
    latest = ckpts.newest_intact(
        os.path.join(workdir, "checkpoints"), required=("epoch/.ATTRIBUTES/VARIABLE_VALUE",)
    )
    if not latest:
        return None, 0
    reader = tf.train.load_checkpoint(latest)
    return latest, int(reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE"))


class ConfigError(ValueError):
    """A config, data or workdir mistake found before the first training step.

    Raised by :func:`train_and_evaluate` with the message of the error behind it (a
    ``ValueError``, ``KeyError`` or ``FileNotFoundError`` of the setup), so a launcher
    can report it as a usage error while a failure during training keeps its traceback.
    """


@contextlib.contextmanager
def _as_config_error():
    try:
        yield
    except ConfigError:
        raise
    except (ValueError, KeyError, FileNotFoundError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        raise ConfigError(message) from e


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

    Only one process at a time trains in a workdir (the chief, under ``multiworker``):
    another one is refused with a :class:`ConfigError` naming the holder's PID and host
    (:class:`tfless.train.workdir_lock.WorkdirLock`; the lock of a process that died is
    free). A loss or weight that stops being finite ends the run with
    :class:`tfless.train.guards.NonFiniteLoss` before that state is checkpointed.

    Returns:
      :class:`TrainResult`.
    """
    with contextlib.ExitStack() as cleanup:
        return _train_and_evaluate(config, workdir, strategy, cleanup)


def _train_and_evaluate(config, workdir: str, strategy, cleanup: contextlib.ExitStack):
    """:func:`train_and_evaluate`; ``cleanup`` releases the workdir lock at the end."""
    # Everything before the first step: a mistake here is the config's, the data's or
    # the workdir's (ConfigError), not a failure of training.
    with _as_config_error():
        epochs, per_epoch = _epochs(config)
        final_bn.recompute_mode(config)  # a bad eval.recompute_bn fails before training
        check_precision(config.train.get("precision", "float32"))
        steps_per_execution(config)
        check_init(config.model.get("init"))  # a missing weight file fails before any work
        if strategy is None or isinstance(strategy, str):
            strategy = make_strategy(strategy or config.train.get("strategy", "none"))
        chief = is_chief(strategy)
        os.makedirs(workdir, exist_ok=True)
        if chief:
            # Other workers write to scratch directories and take no lock.
            cleanup.enter_context(WorkdirLock(workdir))
        previous = check_workdir(config, workdir)
        seed = int(config.train.get("seed", 0))
        keras.utils.set_random_seed(seed)
        # Probe the checkpoint before building the data so that the stream skips
        # the batches the interrupted run already consumed.
        latest, initial_epoch = _resume_point(workdir)
        run = build_run(
            config,
            strategy,
            seed=seed,
            skip_batches=initial_epoch * per_epoch,
            init_weights=not latest,
        )
        # The run's own directory on the chief; other workers write checkpoints to a
        # scratch directory, as MultiWorkerMirroredStrategy needs every worker to save.
        run_dir = workdir if chief else os.path.join(workdir, f".worker{worker_index(strategy)}")
        if latest and chief:
            # A damaged state file would make the manager lose track of the checkpoints.
            ckpts.repair_state(os.path.join(workdir, "checkpoints"), latest)
        manager = tf.train.CheckpointManager(
            run.checkpoint,
            os.path.join(run_dir, "checkpoints"),
            max_to_keep=int(config.train.get("keep_checkpoints", 2)),
        )
        if latest:
            # Every worker restores the chief's checkpoint; each then saves to its own dir.
            run.checkpoint.restore(latest).assert_existing_objects_matched()
        resumed_from = initial_epoch if latest else None
        manifest = run_manifest(config, run.data, strategy, seed, previous, resumed_from)
        if chief:
            cb.write_json_atomic(os.path.join(workdir, MANIFEST), manifest)

        callbacks = _callbacks(config, run, manager, workdir if chief else None, initial_epoch)
    verbose = progress_verbosity(int(config.train.get("verbose", 1))) if chief else 0
    history = _fit(run, strategy, callbacks, epochs, per_epoch, initial_epoch, verbose)
    metrics = _final_metrics(run, config, strategy, history, chief)
    cb.write_json_atomic(os.path.join(run_dir, METRICS), metrics)
    return TrainResult(metrics=metrics, method=run.method, manifest=manifest, workdir=workdir)


def progress_verbosity(verbose: int, stream=None) -> int:
    """Keras ``verbose`` for ``fit``: a progress bar (1) becomes one line per epoch (2)
    when ``stream`` (default ``sys.stdout``) is not a terminal, so a log file or CI
    output is not filled with redrawn bars."""
    stream = sys.stdout if stream is None else stream
    if verbose == 1 and not (hasattr(stream, "isatty") and stream.isatty()):
        return 2
    return verbose


def _callbacks(config, run: Run, manager, chief_workdir: str | None, initial_epoch: int) -> list:
    """Checkpointing, EMA swap, and on the chief (``chief_workdir`` set) history and
    TensorBoard writers, after the method's own callbacks and the online probe."""
    # The method's callbacks (clustering, label propagation) and the online probe come
    # first so the logs they add reach the history and TensorBoard writers.
    # The epoch's history row is written before its checkpoint: a run killed between the
    # two resumes from the previous checkpoint and rewrites the row, while the other order
    # would resume after an epoch whose row was never written.
    history = []
    if chief_workdir is not None:
        history = [cb.HistoryWriter(os.path.join(chief_workdir, "history.json"), initial_epoch)]
    callbacks = [
        # First, so that a NaN loss or weight stops the run before any callback uses it
        # and before the checkpoint saves it.
        StopOnNonFinite(manager),
        *cb.extra_callbacks(run.method, run.data, config),
        *history,
        cb.EpochCheckpoint(manager, run.epoch),
        cb.QuietInfoLogs(),
    ]
    if uses_ema(run.optimizer):
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=False))
    if chief_workdir is not None:
        if config.train.get("tensorboard", True):
            callbacks.append(
                cb.TensorBoardWriter(
                    os.path.join(chief_workdir, "tensorboard"),
                    config,
                    run.data.train,
                    log_every=config.train.get("log_every", cb.DEFAULT_LOG_EVERY),
                    initial_epoch=initial_epoch,
                )
            )
    return callbacks


def _fit(run: Run, strategy, callbacks, epochs, per_epoch, initial_epoch, verbose) -> dict:
    """Trains epochs ``initial_epoch..epochs``; returns the history (``{}`` if none was left).

    A classifier method is validated after every epoch on the validation split
    (``data.val_size``; never the test split, which :func:`evaluate_run` scores once at
    the end); without one there is no per-epoch validation.
    """
    method = run.method
    if initial_epoch >= epochs:
        if uses_ema(run.optimizer):
            # A finished run restored from its checkpoint: put the EMA weights in place.
            run.optimizer.finalize_variable_values(method.trainable_variables)
        return {}
    kwargs = dict(
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=per_epoch,
        validation_data=run.data.val if method.has_classifier else None,
        callbacks=callbacks,
        verbose=verbose,
    )
    if is_multiworker(strategy):
        from tfless.train.loop import distributed_fit

        spe = int(getattr(method, "steps_per_execution", 1) or 1)
        return distributed_fit(method, strategy, run.data.train, steps_per_execution=spe, **kwargs)
    # The tf.data stream is shuffled by the pipeline; Keras' own shuffle flag does not
    # apply to datasets and only warns.
    return method.fit(run.data.train, shuffle=False, **kwargs).history


def _final_metrics(run: Run, config, strategy, history: dict, chief: bool) -> dict:
    """The last epoch's logs, step and epoch counts, the test evaluation, the weights' digest."""
    metrics = {k: float(v[-1]) for k, v in history.items() if len(v)}
    metrics["steps"] = int(run.optimizer.iterations.numpy())
    metrics["epochs"] = int(run.epoch.numpy())
    metrics["bn_recomputed"] = final_bn.recompute_final_bn(run.method, run.data, config)
    metrics.update(evaluate_run(run.method, run.data, config, strategy, chief=chief))
    gap = final_bn.accuracy_gap_warning(metrics)
    if gap:
        metrics["warnings"] = [gap]
    metrics["weights_digest"] = _weights_digest(run.method)
    return metrics


# ------------------------------------------------------------------ evaluation
#: Frozen-feature protocols ``config.eval.protocols`` may name (see
#: :func:`tfless.evaluation.evaluate_encoder`); methods without a classifier get
#: :data:`DEFAULT_FEATURE_PROTOCOLS`.
FEATURE_PROTOCOLS = ("knn", "linear", "few_label", "finetune")
DEFAULT_FEATURE_PROTOCOLS = ("knn", "linear")


def _protocols(config, has_classifier: bool) -> tuple[str, ...]:
    """Frozen-feature protocols to run at the end: ``config.eval.protocols`` or a default.

    Methods without a classifier head (self-supervised) get kNN and a linear probe by
    default; classifiers get their own test accuracy only.
    """
    ev = config.get("eval") if hasattr(config, "get") else None
    chosen = ev.get("protocols") if ev is not None else None
    if chosen is None:
        return () if has_classifier else DEFAULT_FEATURE_PROTOCOLS
    chosen = tuple(chosen)
    bad = [p for p in chosen if p not in FEATURE_PROTOCOLS]
    if bad:
        raise ValueError(
            f"Unknown eval.protocols {bad}. Expected some of {list(FEATURE_PROTOCOLS)}."
        )
    return chosen


def evaluate_run(method, data, config, strategy=None, chief: bool = True) -> dict:
    """The end-of-run evaluation on the test split, by
    :func:`tfless.evaluation.evaluate_encoder` with its default protocol settings.

    A classifier method reports its own ``test_accuracy`` and ``test_loss`` on every
    worker (under ``multiworker`` through the distributed loop, which needs them all).
    The chief adds the frozen-feature protocols of :func:`_protocols`, fit on the
    labeled training subset (all of the training split when every label is used).
    """
    from tfless.data import to_arrays
    from tfless.evaluation import evaluate_encoder, has_classifier

    classifier = has_classifier(method)
    features = _protocols(config, classifier)
    protocols = (("accuracy",) if classifier else ()) + (features if chief else ())
    fewshot = fewshot_metrics(method, data, config) if chief else {}
    if not protocols:
        return fewshot
    train = to_arrays(data.raw_train, indices=data.labeled_indices) if chief and features else None
    run_test_steps = None
    if strategy is not None and is_multiworker(strategy):
        from tfless.train.loop import distributed_evaluate

        def run_test_steps(model, ds):
            return distributed_evaluate(model, strategy, ds)

    results = evaluate_encoder(method, train, data.test, protocols, run_test_steps=run_test_steps)
    return {**results, **fewshot}


def fewshot_metrics(method, data, config) -> dict:
    """N-way K-shot accuracy (mean and 95% CI) of a few-shot method (one with
    ``episode_logits``) on the novel classes of ``data.test`` (``data.val`` when
    ``config.fewshot.split`` is ``validation``), with the episodes of ``config.fewshot``
    (default: 5-way 1-shot, 15 queries, 600 episodes); ``{}`` for other methods.
    """
    if not callable(getattr(method, "episode_logits", None)):
        return {}
    from tfless.data import to_arrays
    from tfless.evaluation.fewshot import FewShotSettings, evaluate_fewshot

    fs = config.get("fewshot") or {}
    split = fs.get("split", "test")
    source = {"test": data.test, "validation": data.val}.get(split)
    if source is None:
        raise ValueError(
            f"fewshot.split={split!r}: expected 'test', or 'validation' with data.val_size set."
        )
    settings = FewShotSettings(
        ways=int(fs.get("ways", 5)),
        shots=(int(fs.get("shots", 1)),),
        queries=int(fs.get("queries", 15)),
        episodes=int(fs.get("episodes", 600)),
        heads=tuple(fs.get("heads", ())),
        rotations=bool(fs.get("rotations", False)),
        seed=int(fs.get("seed", 0)),
    )
    images, labels = to_arrays(source.unbatch())
    return evaluate_fewshot(method, images, labels, settings)


def restore_method(workdir: str):
    """Rebuilds the method of a finished or interrupted run from its workdir.

    The method is built as the run built it (:func:`tfless.train.build.build_run`,
    without a strategy), then the newest checkpoint that reads cleanly is loaded
    (:func:`tfless.train.checkpoints.newest_intact`), and the batch-norm statistics are
    measured again when the run's final evaluation measured them
    (:func:`tfless.train.final_bn.recompute_final_bn`).

    Returns:
      ``(method, config)``; the checkpoint's weights are loaded, with the EMA weights in
      place when the run used ``optimizer.ema``.
    """
    import ml_collections

    manifest = read_manifest(workdir)
    config = ml_collections.ConfigDict(manifest["config"])
    directory = os.path.join(workdir, "checkpoints")
    # The newest checkpoint that reads, before the data and the model are built.
    latest = ckpts.newest_intact(directory)
    if not latest:
        raise FileNotFoundError(f"No checkpoint in {directory!r}.")
    run = build_run(config, seed=int(manifest.get("seed", 0)))
    run.checkpoint.restore(latest).assert_existing_objects_matched()
    if uses_ema(run.optimizer):
        run.optimizer.finalize_variable_values(run.method.trainable_variables)
    # The statistics the run's final evaluation measured (the same images, the same rule).
    final_bn.recompute_final_bn(run.method, run.data, config)
    return run.method, config
