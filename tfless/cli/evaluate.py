r"""``tfless-eval``: evaluate any encoder by the standard protocols.

  tfless-eval --saved_model=EXPORT_VERSION_DIR --dataset=digits \
      --protocol=linear,knn,few_label,finetune,plot --out=DIR
  tfless-eval --workdir=RUN_DIR --protocol=accuracy,linear,knn --out=DIR
  tfless-eval --zoo=glyphs_protonet_conv4 --protocol=fewshot

A training run (``--workdir``) is evaluated on the data it trained on, read from its
``manifest.json``: the dataset, its ``data_dir``, and the input size and channels; a
``--dataset`` naming another dataset is refused (usage error, status 2). A
``--saved_model`` is evaluated on ``--dataset`` (default ``digits``); a model zoo entry
(``--zoo=NAME``, its files checked against the registry's sha256 first) on ``--dataset``,
default the entry's own dataset.

The protocols are those of :func:`tfless.evaluation.evaluate_encoder`, with the
parameters of ``tfless.evaluation.DEFAULTS`` unless a flag changes them:
  accuracy   the model's own classifier (a method's head, or an export's ``logits``
             signature) on the test split; only for supervised / semi-supervised models.
  linear     linear probe on frozen features (logistic regression).
  knn        weighted kNN, cosine (default k=200, tau=0.1, Wu et al. 2018).
  few_label  the linear probe fit on N labels per class (default 10).
  finetune   encoder + Dense fine-tuned with 1% / 10% / 100% of the labels.
  plot       t-SNE of the test features coloured by class (PNG).
  fewshot    N-way K-shot accuracy (mean and 95% CI over episodes, 15 queries per class)
             on the test split's classes with ProtoNet / Baseline / Baseline++ heads on
             frozen features (``--fewshot_ways``, ``--fewshot_shots``,
             ``--fewshot_episodes``, ``--fewshot_heads``; e.g. ``--dataset=glyphs``,
             whose test classes are novel).

Writes ``<out>/eval.json``, ``<out>/eval.md`` and, with ``plot``, ``<out>/embedding.png``.
Without ``--out``, ``plot`` on a training run writes ``<workdir>/embedding_<dataset>.png``
and prints its path; on a ``--saved_model`` it needs ``--out`` (usage error, status 2).
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import fail, run_app
from tfless.evaluation.plots import embedding_title
from tfless.evaluation.settings import DEFAULTS, PROTOCOLS

_SAVED_MODEL = flags.DEFINE_string(
    "saved_model", None, "An export version directory (holding saved_model.pb)."
)
_WORKDIR = flags.DEFINE_string("workdir", None, "A tfless training run directory.")
_ZOO = flags.DEFINE_string(
    "zoo", None, "A shipped model zoo entry (see tfless-zoo list), verified before use."
)
_DATASET = flags.DEFINE_string(
    "dataset",
    None,
    "Dataset name (see tfless.data.available). Default: a run's own dataset (--workdir; "
    "another one is refused), a zoo entry's dataset (--zoo), digits for --saved_model.",
)
_PROTOCOL = flags.DEFINE_list("protocol", ["linear", "knn"], f"Some of {list(PROTOCOLS)}.")
_OUT = flags.DEFINE_string("out", None, "Output directory for the JSON, markdown and PNG.")
_IMAGE_SIZE = flags.DEFINE_integer(
    "image_size", None, "Resize images to this size (default: the run's or encoder's input size)."
)
_CHANNELS = flags.DEFINE_integer("channels", None, "1 or 3 (default: the run's or encoder's).")
_FINETUNE_STEPS = flags.DEFINE_integer(
    "finetune_steps", DEFAULTS.finetune_steps, "Adam steps per label fraction."
)
_KNN_K = flags.DEFINE_integer("knn_k", DEFAULTS.knn_k, "k of the kNN protocol.")
_KNN_T = flags.DEFINE_float(
    "knn_temperature", DEFAULTS.knn_temperature, "Temperature of the kNN votes."
)
_FEW_LABEL = flags.DEFINE_list(
    "few_label_per_class",
    [str(n) for n in DEFAULTS.few_label_per_class],
    "Labels per class of the few_label probes.",
)
_FEWSHOT_WAYS = flags.DEFINE_integer(
    "fewshot_ways", DEFAULTS.fewshot_ways, "N of the fewshot protocol's test episodes."
)
_FEWSHOT_SHOTS = flags.DEFINE_list(
    "fewshot_shots", [str(k) for k in DEFAULTS.fewshot_shots], "K values of the fewshot protocol."
)
_FEWSHOT_EPISODES = flags.DEFINE_integer(
    "fewshot_episodes", DEFAULTS.fewshot_episodes, "Test episodes of the fewshot protocol."
)
_FEWSHOT_HEADS = flags.DEFINE_list(
    "fewshot_heads",
    list(DEFAULTS.fewshot_heads),
    "Heads on frozen features of the fewshot protocol (protonet, baseline, baseline_pp).",
)
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")
_PRECISE_BN = flags.DEFINE_boolean(
    "precise_bn",
    False,
    "Recompute the encoder's batch-norm statistics on the training images (no labels) "
    "before the feature protocols; helps encoders pre-trained on patches (jigsaw, context "
    "prediction, CPC). Training runs only (a SavedModel's layers are out of reach).",
)


def _saved_model_spec(path: str) -> tuple[tuple, int | None]:
    """``((H, W, C) with None entries, feature size)`` of an export's ``serving_default``."""
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ValueError(
            f"--saved_model={path!r} is not a SavedModel directory (no saved_model.pb)."
        )
    signatures = tf.saved_model.load(path).signatures
    if "serving_default" not in signatures:
        raise ValueError(f"{path!r} has no serving_default signature; got {list(signatures)}.")
    spec = signatures["serving_default"].structured_input_signature[1]
    if "image" not in spec:
        raise ValueError(f"{path!r}: serving_default takes {sorted(spec)}; expected 'image'.")
    outputs = signatures["serving_default"].structured_outputs
    dim = outputs["feature_vector"].shape[-1] if "feature_vector" in outputs else None
    return tuple(spec["image"].shape[1:]), dim


#: The dataset of ``--saved_model`` evaluations when ``--dataset`` is not given.
DEFAULT_DATASET = "digits"


class DatasetMismatchError(ValueError):
    """``--dataset`` names another dataset than the one the ``--workdir`` run trained on."""


def _run_data(workdir: str, dataset: str | None) -> dict:
    """The data of the run in ``workdir`` from its manifest: ``dataset``, ``data_dir``,
    ``image_shape`` (None when the manifest has none) and the split hashes.

    Raises:
      DatasetMismatchError: if ``dataset`` is given and is not the run's dataset.
    """
    from tfless.train.manifest import read_manifest

    manifest = read_manifest(workdir)
    data = manifest.get("config", {}).get("data", {})
    run_dataset = data.get("dataset")
    if not run_dataset:
        raise ValueError(f"The manifest of {workdir!r} names no dataset (config.data.dataset).")
    if dataset is not None and dataset != run_dataset:
        raise DatasetMismatchError(
            f"--dataset={dataset!r} but the run in {workdir!r} trained on {run_dataset!r}; "
            f"drop --dataset to evaluate it on {run_dataset!r}."
        )
    shape = manifest.get("image_shape")
    return {
        "dataset": run_dataset,
        "data_dir": data.get("data_dir"),
        "image_shape": tuple(shape) if shape else None,
        "split_hash": manifest.get("split_hash"),
        "val_hash": manifest.get("val_hash"),
    }


def _source(saved_model: str | None, workdir: str | None, run: dict):
    """``(encoder, input shape, feature size, description)`` of the model to evaluate;
    a run's input shape and split hashes come from ``run`` (:func:`_run_data`)."""
    if saved_model is not None:
        shape, dim = _saved_model_spec(saved_model)
        return saved_model, shape, dim, {"saved_model": os.path.abspath(saved_model)}
    from tfless.evaluation import keras_encoder
    from tfless.train import restore_method

    method, config = restore_method(workdir)
    network = keras_encoder(method)
    info = {"workdir": os.path.abspath(workdir), "method": config.method.name}
    info.update(split_hash=run.get("split_hash"), val_hash=run.get("val_hash"))
    shape = run.get("image_shape") or tuple(network.input_shape[1:])
    return method, shape, network.output_shape[-1], info


def _zoo_source(name: str, dataset: str | None) -> tuple[str, str]:
    """``(export directory, dataset)`` of a shipped zoo entry, its files verified."""
    from tfless import zoo

    path = zoo.verify(name)["path"]
    return path, dataset or zoo.get_entry(name)["dataset"]


def _encoder_label(source: dict) -> str:
    """How a plot names the encoder: its method and run directory, or its SavedModel."""
    if "saved_model" in source:
        return f"SavedModel {os.path.basename(source['saved_model'].rstrip(os.sep))}"
    return f"{source['method']} ({os.path.basename(source['workdir'].rstrip(os.sep))})"


def _plot_path(protocols, out: str | None, workdir: str | None, dataset: str) -> str | None:
    """Where ``plot`` writes its PNG: ``<out>/embedding.png``, else into the training run.

    Without ``out``, a run's plot goes to ``<workdir>/embedding_<dataset>.png``; a
    SavedModel has no run directory, so there ``out`` is required.
    """
    if out:
        return os.path.join(out, "embedding.png")
    if "plot" not in protocols:
        return None
    if workdir is None:
        raise ValueError("--protocol=plot on a --saved_model writes a PNG; pass --out=DIR.")
    return os.path.join(workdir, f"embedding_{dataset}.png")


def _settings(knn_k, knn_temperature, finetune_steps, few_label_per_class):
    """The shared protocol settings with the flags' values."""
    import dataclasses

    return dataclasses.replace(
        DEFAULTS,
        knn_k=int(knn_k),
        knn_temperature=float(knn_temperature),
        finetune_steps=int(finetune_steps),
        few_label_per_class=tuple(int(n) for n in few_label_per_class),
    )


def evaluate(
    *,
    saved_model: str | None = None,
    workdir: str | None = None,
    dataset: str | None = None,
    protocols=("linear", "knn"),
    out: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    finetune_steps: int = DEFAULTS.finetune_steps,
    knn_k: int = DEFAULTS.knn_k,
    knn_temperature: float = DEFAULTS.knn_temperature,
    few_label_per_class=DEFAULTS.few_label_per_class,
    data_dir: str | None = None,
    precise_bn: bool = False,
    fewshot: dict | None = None,
    zoo: str | None = None,
) -> dict:
    """Runs the protocols on a SavedModel export or a training run; see the module doc.

    A run (``workdir``) is evaluated on its own dataset, ``data_dir`` and input size
    (from its manifest; ``image_size`` / ``channels`` still override the size); the
    probes fit on the dataset's whole training split and are scored on its test split.
    A SavedModel is evaluated on ``dataset`` (default :data:`DEFAULT_DATASET`); a zoo
    entry (``zoo``, verified against the registry first) on ``dataset``, default its own.
    ``fewshot`` overrides ``fewshot_*`` fields of the protocol settings (``ways``, ``shots``,
    ``episodes``, ``heads``, ...): the ``fewshot`` protocol's episodes on the test split.

    Returns:
      the results dict (also written to ``out`` when given).

    Raises:
      DatasetMismatchError: ``dataset`` is not the dataset the ``workdir`` run trained on.
      ValueError: for a missing/duplicated model source, an unknown protocol, ``plot``
        on a SavedModel without ``out``, or ``accuracy`` on a model without a classifier.
    """
    from tfless import evaluation as ev
    from tfless.data import load, to_arrays

    if sum(x is not None for x in (saved_model, workdir, zoo)) != 1:
        raise ValueError("Give exactly one of --saved_model, --workdir or --zoo.")
    if zoo is not None:
        saved_model, dataset = _zoo_source(zoo, dataset)
    if precise_bn and saved_model is not None:
        raise ValueError(
            "--precise_bn needs a training run (--workdir): a SavedModel's batch-norm "
            "statistics cannot be recomputed."
        )
    protocols = list(ev.check_protocols(protocols))
    run = _run_data(workdir, dataset) if workdir is not None else {}
    dataset = run.get("dataset") or dataset or DEFAULT_DATASET
    data_dir = data_dir or run.get("data_dir")
    plot_path = _plot_path(protocols, out, workdir, dataset)
    settings = _settings(knn_k, knn_temperature, finetune_steps, few_label_per_class)
    if fewshot:
        import dataclasses

        settings = dataclasses.replace(
            settings, **{f"fewshot_{k}": v for k, v in dict(fewshot).items()}
        )
    encoder, shape, dim, results = _source(saved_model, workdir, run)
    size = image_size or (shape[0] if shape[0] == shape[1] and shape[0] else None)
    if size is None:
        raise ValueError(f"The encoder's input size is {shape[:2]}; pass --image_size.")
    chans = channels or shape[2]
    # accuracy, plot and fewshot read the test split only: the training split is not loaded.
    needs_train = precise_bn or bool(set(protocols) - {"accuracy", "plot", "fewshot"})
    train, test = (
        to_arrays(load(dataset, split, image_size=size, channels=chans, data_dir=data_dir))
        if split == "test" or needs_train
        else None
        for split in ("train", "test")
    )
    results.update(dataset=dataset, protocols=protocols, image_size=int(size))
    results.update(channels=int(chans), num_test=len(test[1]))
    if train is not None:
        results["num_train"] = len(train[1])
    if dim is not None:
        results["feature_dim"] = int(dim)
    if out:
        os.makedirs(out, exist_ok=True)
    results.update(
        ev.evaluate_encoder(
            encoder,
            train,
            test,
            protocols,
            settings=settings,
            precise_bn=precise_bn,
            plot_path=plot_path,
            plot_title=embedding_title(_encoder_label(results), dataset),
        )
    )
    if out:
        ev.write_results(results, out, name="eval", title=f"tfless-eval on {dataset}")
    return results


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if "plot" in _PROTOCOL.value and not _OUT.value and _SAVED_MODEL.value and not _WORKDIR.value:
        fail("--protocol=plot on a --saved_model writes a PNG; pass --out=DIR.")
    from tfless.zoo import ChecksumError, ZooError

    try:
        results = _evaluate_from_flags()
    except (DatasetMismatchError, ZooError) as e:  # ZooError: unknown name, or a recipe
        fail(str(e))
    except ChecksumError as e:  # a tampered or incomplete entry: refused, not a usage error
        fail(str(e), status=1)
    print(json.dumps(results, indent=2, sort_keys=True))
    if "embedding_plot" in results:
        print(f"Wrote the embedding plot to {results['embedding_plot']}")


def _evaluate_from_flags() -> dict:
    return evaluate(
        saved_model=_SAVED_MODEL.value,
        workdir=_WORKDIR.value,
        dataset=_DATASET.value,
        protocols=_PROTOCOL.value,
        out=_OUT.value,
        image_size=_IMAGE_SIZE.value,
        channels=_CHANNELS.value,
        finetune_steps=_FINETUNE_STEPS.value,
        knn_k=_KNN_K.value,
        knn_temperature=_KNN_T.value,
        few_label_per_class=_FEW_LABEL.value,
        data_dir=_DATA_DIR.value,
        precise_bn=_PRECISE_BN.value,
        zoo=_ZOO.value,
        fewshot=dict(
            ways=_FEWSHOT_WAYS.value,
            shots=tuple(int(k) for k in _FEWSHOT_SHOTS.value),
            episodes=_FEWSHOT_EPISODES.value,
            heads=tuple(_FEWSHOT_HEADS.value),
        ),
    )


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()
