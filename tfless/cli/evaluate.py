"""``tfless-eval``: evaluate any encoder by the standard protocols.

  tfless-eval --saved_model=EXPORT_VERSION_DIR --dataset=digits \
      --protocol=linear,knn,finetune,plot --out=DIR
  tfless-eval --workdir=RUN_DIR --dataset=digits --protocol=accuracy,linear,knn --out=DIR

Protocols:
  accuracy   the model's own classifier (a method's head, or an export's ``logits``
             signature) on the test split; only for supervised / semi-supervised models.
  linear     linear probe on frozen features (logistic regression).
  knn        weighted kNN, k=200, tau=0.1, cosine (Wu et al. 2018).
  finetune   encoder + Dense fine-tuned with 1% / 10% / 100% of the labels.
  plot       t-SNE of the test features coloured by class (PNG).

Writes ``<out>/eval.json``, ``<out>/eval.md`` and, with ``plot``, ``<out>/embedding.png``.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

PROTOCOLS = ("accuracy", "linear", "knn", "finetune", "plot")

_SAVED_MODEL = flags.DEFINE_string(
    "saved_model", None, "An export version directory (holding saved_model.pb)."
)
_WORKDIR = flags.DEFINE_string("workdir", None, "A tfless training run directory.")
_DATASET = flags.DEFINE_string("dataset", "digits", "Dataset name (see tfless.data.available).")
_PROTOCOL = flags.DEFINE_list("protocol", ["linear", "knn"], f"Some of {list(PROTOCOLS)}.")
_OUT = flags.DEFINE_string("out", None, "Output directory for the JSON, markdown and PNG.")
_IMAGE_SIZE = flags.DEFINE_integer(
    "image_size", None, "Resize images to this size (default: the encoder's input size)."
)
_CHANNELS = flags.DEFINE_integer("channels", None, "1 or 3 (default: the encoder's).")
_FINETUNE_STEPS = flags.DEFINE_integer("finetune_steps", 300, "Adam steps per label fraction.")
_KNN_K = flags.DEFINE_integer("knn_k", 200, "k of the kNN protocol.")
_KNN_T = flags.DEFINE_float("knn_temperature", 0.1, "Temperature of the kNN votes.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")
_PRECISE_BN = flags.DEFINE_boolean(
    "precise_bn",
    False,
    "Recompute the encoder's batch-norm statistics on the training images (no labels) "
    "before the feature protocols; helps encoders pre-trained on patches (jigsaw, context "
    "prediction, CPC). Training runs only (a SavedModel's layers are out of reach).",
)


def _arrays(dataset: str, split: str, image_size, channels, data_dir=None):
    import numpy as np

    from tfless.data import load

    ds = load(dataset, split, image_size=image_size, channels=channels, data_dir=data_dir)
    xs, ys = [], []
    for batch in ds.batch(1024).as_numpy_iterator():
        xs.append(batch["image"])
        ys.append(batch["label"])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def _saved_model_spec(path: str):
    """``(loaded, (H, W, C) or None entries)`` of an export's ``serving_default``."""
    import tensorflow as tf

    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise ValueError(
            f"--saved_model={path!r} is not a SavedModel directory (no saved_model.pb)."
        )
    loaded = tf.saved_model.load(path)
    if "serving_default" not in loaded.signatures:
        raise ValueError(
            f"{path!r} has no serving_default signature; got {list(loaded.signatures)}."
        )
    spec = loaded.signatures["serving_default"].structured_input_signature[1]
    if "image" not in spec:
        raise ValueError(f"{path!r}: serving_default takes {sorted(spec)}; expected 'image'.")
    return loaded, tuple(spec["image"].shape[1:])


def evaluate(
    *,
    saved_model: str | None = None,
    workdir: str | None = None,
    dataset: str = "digits",
    protocols=("linear", "knn"),
    out: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    finetune_steps: int = 300,
    knn_k: int = 200,
    knn_temperature: float = 0.1,
    data_dir: str | None = None,
    precise_bn: bool = False,
) -> dict:
    """Runs the protocols on a SavedModel export or a training run; see the module doc.

    ``precise_bn`` first sets the encoder's batch-norm moving statistics to those of the
    training images (:func:`tfless.evaluation.finetune.recompute_batch_norm`).

    Returns:
      the results dict (also written to ``out`` when given).

    Raises:
      ValueError: for a missing/duplicated model source, an unknown protocol, or
        ``accuracy`` on a model without a classifier.
    """
    import numpy as np

    from tfless import evaluation as ev

    if (saved_model is None) == (workdir is None):
        raise ValueError("Give exactly one of --saved_model or --workdir.")
    if precise_bn and saved_model is not None:
        raise ValueError(
            "--precise_bn needs a training run (--workdir): a SavedModel's batch-norm "
            "statistics cannot be recomputed."
        )
    protocols = [p.strip() for p in protocols if p.strip()]
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad or not protocols:
        raise ValueError(
            f"Unknown protocol(s) {bad or protocols}; expected some of {list(PROTOCOLS)}."
        )

    results: dict = {"dataset": dataset, "protocols": protocols}
    classifier = None
    if saved_model is not None:
        loaded, shape = _saved_model_spec(saved_model)
        encoder = saved_model
        results["saved_model"] = os.path.abspath(saved_model)
        if "logits" in loaded.signatures:
            sig = loaded.signatures["logits"]

            def classifier(images):
                return sig(image=images)["logits"]

    else:
        from tfless.train import restore_method

        method, config = restore_method(workdir)
        encoder = method.feature_encoder()
        shape = tuple(encoder.input_shape[1:])
        results["workdir"] = os.path.abspath(workdir)
        results["method"] = config.method.name
        if getattr(method, "head", None) is not None and hasattr(method, "logits"):
            classifier = method.logits
    if "accuracy" in protocols and classifier is None:
        raise ValueError(
            "--protocol=accuracy needs a model with a classifier head (supervised or "
            "semi-supervised methods, or an export with a 'logits' signature)."
        )
    size = image_size or (shape[0] if shape[0] == shape[1] and shape[0] else None)
    if size is None:
        raise ValueError(f"The encoder's input size is {shape[:2]}; pass --image_size.")
    chans = channels or shape[2]
    x, y = _arrays(dataset, "train", size, chans, data_dir)
    xt, yt = _arrays(dataset, "test", size, chans, data_dir)
    results.update({"image_size": int(size), "channels": int(chans)})
    results["num_train"], results["num_test"] = int(len(y)), int(len(yt))

    if "accuracy" in protocols:
        logits = np.concatenate(
            [np.asarray(classifier(xt[i : i + 256])) for i in range(0, len(xt), 256)]
        )
        results["accuracy"] = float(np.mean(logits.argmax(-1) == yt))
    feats = test_feats = None
    if precise_bn:
        from tfless.evaluation.finetune import recompute_batch_norm

        results["precise_bn_layers"] = recompute_batch_norm(encoder, x, max_images=len(x))
    if {"linear", "knn", "plot"} & set(protocols):
        feats, test_feats = ev.extract_features(encoder, x), ev.extract_features(encoder, xt)
        results["feature_dim"] = int(feats.shape[1])
    if "linear" in protocols:
        results.update(ev.linear_probe_features(feats, y, test_feats, yt))
    if "knn" in protocols:
        results.update(ev.knn_features(feats, y, test_feats, yt, knn_k, knn_temperature))
    if "finetune" in protocols:
        results.update(ev.finetune(encoder, x, y, xt, yt, steps=finetune_steps))
    if out:
        os.makedirs(out, exist_ok=True)
        if "plot" in protocols:
            results["embedding_plot"] = ev.embedding_plot(
                test_feats, yt, os.path.join(out, "embedding.png"), title=f"{dataset} test"
            )
        ev.write_results(results, out, name="eval", title=f"tfless-eval on {dataset}")
    return results


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    results = evaluate(
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
        data_dir=_DATA_DIR.value,
        precise_bn=_PRECISE_BN.value,
    )
    print(json.dumps(results, indent=2, sort_keys=True))


def run():
    app.run(main)


if __name__ == "__main__":
    run()
