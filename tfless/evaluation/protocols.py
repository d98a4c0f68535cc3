"""``evaluate_encoder``: the one implementation of tfless's evaluation protocols.

The trainer's end-of-run evaluation (:mod:`tfless.train.trainer`), ``tfless-eval``
(:mod:`tfless.cli.evaluate`) and the model zoo's :func:`tfless.zoo.measure` all call
it, with the parameters of :data:`tfless.evaluation.DEFAULTS` unless they pass others.

Protocols and the metrics they report:
  ``accuracy``   the model's own classifier on ``test``: a method's ``test_step``
                 (``test_accuracy``, ``test_loss``) or an export's ``logits`` signature
                 (``test_accuracy``).
  ``linear``     logistic-regression probe on frozen features (``linear_accuracy``,
                 ``linear_train_accuracy``).
  ``knn``        weighted kNN on frozen features (``knn_accuracy``).
  ``few_label``  the probe fit on N labels per class of ``train``, for each N of
                 ``settings.few_label_per_class`` (``linear_<N>pc_accuracy``).
  ``finetune``   a copy of the encoder + a Dense layer trained end to end on fractions
                 of the labels (``finetune_<p>%``, ``finetune_labels_<p>%``).
  ``plot``       t-SNE of the test features coloured by class, saved as PNG
                 (``embedding_plot``: its path).
  ``fewshot``    N-way K-shot accuracy on ``test`` (novel classes): mean over episodes and
                 its 95% confidence interval, for heads on frozen features and a few-shot
                 method's own ``episode_logits`` (``fewshot_5way1shot_protonet_accuracy``,
                 ``..._ci95``, ...; see :mod:`tfless.evaluation.fewshot`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import tensorflow as tf

from tfless.data.arrays import to_arrays
from tfless.data.splits import labeled_unlabeled_split
from tfless.evaluation.features import extract_features, feature_fn, keras_encoder
from tfless.evaluation.fewshot import FewShotSettings, evaluate_fewshot
from tfless.evaluation.finetuning import finetune, recompute_batch_norm
from tfless.evaluation.knn import knn_features
from tfless.evaluation.linear_probe import linear_probe_features
from tfless.evaluation.plots import embedding_plot
from tfless.evaluation.settings import DEFAULTS, PROTOCOLS, ProtocolSettings

_FEATURE_PROTOCOLS = ("linear", "knn", "few_label", "plot")
# The export contract's classifier signature (written by tfless.export, which comes
# after evaluation on the dependency path and so is not imported here).
_LOGITS = "logits"


def check_protocols(protocols: Sequence[str]) -> tuple[str, ...]:
    """Stripped, de-duplicated protocol names, in order (a string is split at commas).

    Raises:
      ValueError: for an empty list or a name not in :data:`PROTOCOLS`.
    """
    if isinstance(protocols, str):
        protocols = protocols.split(",")
    names = tuple(dict.fromkeys(p.strip() for p in protocols if p.strip()))
    bad = [p for p in names if p not in PROTOCOLS]
    if bad or not names:
        raise ValueError(
            f"Unknown protocol(s) {bad or list(protocols)}; expected some of {list(PROTOCOLS)}."
        )
    return names


def _own_test_step(model) -> bool:
    # A tfless method says so (Method.has_classifier); another Keras model qualifies by
    # the same duck type: a test_step feeding an accuracy tracker.
    flag = getattr(model, "has_classifier", None)
    if isinstance(flag, bool):
        return flag
    return hasattr(model, "test_step") and getattr(model, "accuracy_tracker", None) is not None


def has_classifier(model) -> bool:
    """True when the ``accuracy`` protocol can run on ``model``: a method that evaluates
    its own classification head (``Method.has_classifier``: supervised and
    semi-supervised methods), or a loaded SavedModel export with a ``logits`` signature."""
    return _own_test_step(model) or _LOGITS in (getattr(model, "signatures", None) or {})


def _image_spec(ds: tf.data.Dataset, what: str) -> tf.TensorSpec:
    spec = ds.element_spec
    if not isinstance(spec, dict) or "image" not in spec or "label" not in spec:
        raise ValueError(f"{what} dataset must yield {{'image', 'label'}} dicts; got {spec!r}.")
    return spec["image"]


def _as_arrays(data, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images float32 [N, H, W, C], labels int64 [N])`` of a dataset or an array pair."""
    if isinstance(data, tf.data.Dataset):
        batched = _image_spec(data, what).shape.rank == 4
        x, y = to_arrays(data.unbatch() if batched else data)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise ValueError(
            f"{what} must be a tf.data.Dataset of {{'image', 'label'}} dicts or an "
            f"(images, labels) pair of arrays; got {type(data).__name__}."
        )
    x, y = np.asarray(x, np.float32), np.asarray(y).astype(np.int64).reshape(-1)
    if x.ndim != 4 or len(x) != len(y) or not len(y):
        raise ValueError(
            f"{what} images must be [N >= 1, H, W, C] with N labels; got images {x.shape} "
            f"and {len(y)} labels."
        )
    return x, y


def _batches(data, batch_size: int) -> tf.data.Dataset:
    """``data`` as a dataset of ``{"image", "label"}`` batches; batched datasets as given."""
    if isinstance(data, tf.data.Dataset) and _image_spec(data, "test").shape.rank == 4:
        return data
    if isinstance(data, tf.data.Dataset):
        return data.batch(batch_size)
    x, y = _as_arrays(data, "test")
    return tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).batch(batch_size)


def _accuracy(model, test, settings: ProtocolSettings, run_test_steps) -> dict:
    """The model's own test accuracy (and loss, for a method)."""
    if _own_test_step(model):
        ds = _batches(test, settings.batch_size)
        if run_test_steps is None:
            logs = model.evaluate(ds, verbose=0, return_dict=True)
        else:
            logs = run_test_steps(model, ds)
        return {"test_accuracy": float(logs["accuracy"]), "test_loss": float(logs["loss"])}
    signatures = getattr(model, "signatures", None) or {}
    if _LOGITS not in signatures:
        raise ValueError(
            f"The 'accuracy' protocol needs a model with a classifier head (a supervised or "
            f"semi-supervised method, or an export with a {_LOGITS!r} signature); got "
            f"{type(model).__name__}."
        )
    signature = signatures[_LOGITS]
    x, y = _as_arrays(test, "test")
    # Logits are one vector per image, like features: the same batched forward passes.
    logits = extract_features(
        lambda im: signature(image=tf.convert_to_tensor(im, tf.float32))[_LOGITS],
        x,
        settings.batch_size,
    )
    return {"test_accuracy": float(np.mean(logits.argmax(axis=1) == y))}


def _feature_protocols(fn, train, test, protocols, settings, plot_path, plot_title) -> dict:
    """linear / knn / few_label / plot on features computed once per split."""
    xt, yt = test
    s = settings
    ft = extract_features(fn, xt, s.batch_size)
    out = {}
    if {"linear", "knn", "few_label"} & set(protocols):
        x, y = train
        f = extract_features(fn, x, s.batch_size)
    if "linear" in protocols:
        out.update(linear_probe_features(f, y, ft, yt, s.probe_c, s.probe_max_iter))
    if "knn" in protocols:
        out.update(knn_features(f, y, ft, yt, s.knn_k, s.knn_temperature))
    if "few_label" in protocols:
        for n in s.few_label_per_class:
            idx = labeled_unlabeled_split(y, int(n), s.seed)[0]
            probe = linear_probe_features(f[idx], y[idx], ft, yt, s.probe_c, s.probe_max_iter)
            out[f"linear_{int(n)}pc_accuracy"] = probe["linear_accuracy"]
    if "plot" in protocols:
        out["embedding_plot"] = embedding_plot(ft, yt, plot_path, title=plot_title, seed=s.seed)
    return out


def _precise_bn(model, images) -> int:
    network = keras_encoder(model)
    if network is None:
        raise ValueError(
            f"precise_bn needs a Keras encoder; the batch-norm statistics of "
            f"{type(model).__name__} (e.g. a SavedModel) cannot be recomputed."
        )
    return recompute_batch_norm(network, images, max_images=len(images))


def _finetune(source, train, test, s: ProtocolSettings) -> dict:
    return finetune(
        source,
        *train,
        *test,
        fractions=s.finetune_fractions,
        steps=s.finetune_steps,
        batch_size=s.finetune_batch_size,
        learning_rate=s.finetune_learning_rate,
        seed=s.seed,
        precise_bn=s.finetune_precise_bn,
    )


def _load(encoder):
    """``(encoder, model)``: an export directory is loaded once (``model``) and kept as a
    path for fine-tuning, which reloads it as a trainable layer."""
    if isinstance(encoder, (str, os.PathLike)):
        path = os.fspath(encoder)
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise ValueError(f"{path!r} is not a SavedModel directory (no saved_model.pb).")
        return path, tf.saved_model.load(path)
    return encoder, encoder


def evaluate_encoder(
    encoder,
    train,
    test,
    protocols: Sequence[str] = ("linear", "knn"),
    *,
    settings: ProtocolSettings = DEFAULTS,
    precise_bn: bool = False,
    plot_path: str | None = None,
    plot_title: str = "",
    run_test_steps: Callable[..., Mapping] | None = None,
) -> dict:
    """Runs the evaluation ``protocols`` (see the module doc) on ``encoder``.

    Args:
      encoder: anything :func:`tfless.evaluation.feature_fn` accepts: a tfless method,
        a ``keras.Model``, a ``keras.layers.TFSMLayer``, a SavedModel export (loaded or
        its directory) or a callable ``images -> features``. ``accuracy`` needs a method
        with a classifier (:func:`has_classifier`) or an export with a ``logits``
        signature; ``finetune`` a method, a ``keras.Model`` or an export directory.
      train, test: each either a ``tf.data.Dataset`` of ``{"image", "label"}`` dicts
        (batched or not; other keys are ignored) or an ``(images, labels)`` pair of
        arrays; images float32 ``[N, H, W, C]`` in [0, 1], labels int ``[N]``. ``train``
        fits the probes, kNN memory and fine-tuning; ``test`` is where accuracy is
        measured. ``train`` may be None when only ``accuracy``, ``plot`` and ``fewshot``
        run. A method's own ``accuracy`` runs over ``test`` as batched (arrays and
        unbatched datasets are batched by ``settings.batch_size``).
      protocols: some of :data:`PROTOCOLS`.
      settings: protocol parameters (default :data:`tfless.evaluation.DEFAULTS`).
      precise_bn: before the feature protocols, set the encoder's batch-norm moving
        statistics to those of all ``train`` images, in place (no labels read; see
        :func:`tfless.evaluation.finetuning.recompute_batch_norm`). Keras encoders only.
      plot_path: where ``plot`` writes its PNG (required by ``plot``).
      plot_title: the plot's title.
      run_test_steps: ``(method, batched_test) -> logs`` with ``accuracy`` and ``loss``,
        running the method's ``test_step`` over the test set; default ``method.evaluate``.
        The multi-worker trainer passes its distributed loop.

    Returns:
      ``{metric: value}`` as listed in the module doc; with ``precise_bn`` also
      ``precise_bn_layers`` (the number of batch-norm layers updated).

    Raises:
      ValueError: for an unknown protocol, data of the wrong form, ``accuracy`` without
        a classifier, ``plot`` without ``plot_path``, or ``precise_bn`` on an encoder
        that is no Keras model.
    """
    protocols = check_protocols(protocols)
    if not isinstance(settings, ProtocolSettings):
        raise ValueError(f"settings must be a ProtocolSettings; got {type(settings).__name__}.")
    if "plot" in protocols and not plot_path:
        raise ValueError("The 'plot' protocol needs plot_path, the PNG to write.")
    source, model = _load(encoder)
    results = {}
    if "accuracy" in protocols:
        results.update(_accuracy(model, test, settings, run_test_steps))
    rest = [p for p in protocols if p != "accuracy"]
    if not rest and not precise_bn:
        return results
    # Only the t-SNE plot does without training data (it embeds the test features).
    if train is None and (precise_bn or set(rest) - {"plot", "fewshot"}):
        raise ValueError(f"train data is None; the protocols {rest} need it.")
    test = _as_arrays(test, "test")
    train = None if train is None else _as_arrays(train, "train")
    if precise_bn:
        results["precise_bn_layers"] = _precise_bn(model, train[0])
    if set(rest) & set(_FEATURE_PROTOCOLS):
        fn = feature_fn(model)
        results.update(_feature_protocols(fn, train, test, rest, settings, plot_path, plot_title))
    if "finetune" in rest:
        results.update(_finetune(source, train, test, settings))
    if "fewshot" in rest:
        results.update(evaluate_fewshot(model, *test, fewshot_settings(settings)))
    return results


def fewshot_settings(s: ProtocolSettings) -> FewShotSettings:
    """The ``fewshot`` protocol's episodes from the ``fewshot_*`` fields of ``s``."""
    return FewShotSettings(
        ways=s.fewshot_ways,
        shots=tuple(s.fewshot_shots),
        queries=s.fewshot_queries,
        episodes=s.fewshot_episodes,
        heads=tuple(s.fewshot_heads),
        rotations=s.fewshot_rotations,
        seed=s.seed,
    )
