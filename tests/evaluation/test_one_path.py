"""The trainer, ``tfless-eval`` and the zoo all evaluate through ``evaluate_encoder``.

(``tfless-eval`` and the trainer's self-supervised path are checked on a real run in
``test_cli_evaluate.py``.)
"""

import types

import ml_collections
import numpy as np
import pytest
import tensorflow as tf

from tfless import zoo
from tfless.evaluation import DEFAULTS
from tfless.train import trainer


def test_zoo_measure_uses_evaluate_encoder_with_the_shared_settings(record_evaluate_encoder):
    entry = zoo.get_entry("digits_supervised_convnet")
    with record_evaluate_encoder() as calls:
        metrics = zoo.measure(zoo.entry_path(entry), entry)
    (call,) = calls
    assert call.kwargs["settings"] is DEFAULTS and DEFAULTS.knn_k == 200
    assert sorted(call.args[3]) == ["accuracy", "few_label", "knn", "linear"]
    assert metrics == {k: round(call.result[k], 4) for k in zoo.MEASURED_METRICS}
    assert metrics == entry["metrics"]  # the registry records what measure() gives


@pytest.fixture
def run_data(digits):
    x, y, xt, yt = digits
    train = {"image": x, "label": y.astype(np.int32), "index": np.arange(len(y))}
    test = {"image": xt, "label": yt.astype(np.int32)}
    return types.SimpleNamespace(
        raw_train=tf.data.Dataset.from_tensor_slices(train),
        labeled_indices=np.arange(0, len(y), 5),
        test=tf.data.Dataset.from_tensor_slices(test).batch(128),
    )


def test_trainer_evaluates_a_classifier_through_evaluate_encoder(
    classifier, run_data, record_evaluate_encoder
):
    config = ml_collections.ConfigDict({"eval": {"protocols": ("knn",)}})
    with record_evaluate_encoder() as calls:
        chief = trainer.evaluate_run(classifier, run_data, config)
        worker = trainer.evaluate_run(classifier, run_data, config, chief=False)
        default = trainer.evaluate_run(classifier, run_data, ml_collections.ConfigDict())
    assert [c.args[3] for c in calls] == [("accuracy", "knn"), ("accuracy",), ("accuracy",)]
    assert [c.result for c in calls] == [chief, worker, default]
    # The kNN memory is the labeled subset; the test split is the run's batched one.
    images, labels = calls[0].args[1]
    assert len(labels) == len(run_data.labeled_indices) and calls[0].args[2] is run_data.test
    assert calls[1].args[1] is None
    logs = classifier.evaluate(run_data.test, verbose=0, return_dict=True)
    assert worker == {"test_accuracy": logs["accuracy"], "test_loss": logs["loss"]}
    assert chief["test_accuracy"] == worker["test_accuracy"] and chief["knn_accuracy"] > 0.5
    with pytest.raises(ValueError, match="Unknown eval.protocols"):
        trainer.evaluate_run(
            classifier, run_data, ml_collections.ConfigDict({"eval": {"protocols": ("umap",)}})
        )
