import json
import os

import pytest
from absl import flags

from tfless import evaluation
from tfless.cli import evaluate as cli
from tfless.methods import Supervised

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def export_dir(trained_encoder, tmp_path_factory):
    from tfless.export import export_encoder

    method = Supervised(trained_encoder, num_classes=10)
    method.head.build((None, trained_encoder.output_shape[-1]))
    root = str(tmp_path_factory.mktemp("exports"))
    return export_encoder(method, root, "toy", verify=False, include_uint8=False).path


def test_eval_a_saved_model_export(export_dir, tmp_path):
    out = str(tmp_path / "out")
    res = cli.evaluate(
        saved_model=export_dir, protocols=["accuracy", "linear", "knn", "plot"], out=out
    )
    assert res["image_size"] == 8 and res["channels"] == 1 and res["num_test"] == 540
    assert res["linear_accuracy"] > 0.8 and res["knn_accuracy"] > 0.5
    assert 0 <= res["test_accuracy"] <= 1  # the export's 'logits' signature (head untrained)
    assert (
        json.load(open(os.path.join(out, "eval.json")))["linear_accuracy"] == res["linear_accuracy"]
    )
    assert "| knn_accuracy |" in open(os.path.join(out, "eval.md")).read()
    assert os.path.getsize(os.path.join(out, "embedding.png")) > 1000


def test_eval_a_training_run_through_flags(tmp_path, capsys, record_evaluate_encoder):
    from tfless.configs import load_config
    from tfless.train import train_and_evaluate

    config = load_config(os.path.join(ROOT, "configs", "rotation", "digits.py:smoke"))
    with config.unlocked():
        config.train.verbose = 0
        config.train.tensorboard = False
        config.eval.online_probe_examples = 400
    workdir = str(tmp_path / "run")
    with record_evaluate_encoder() as trainer_calls:
        result = train_and_evaluate(config, workdir)
    # The trainer's end-of-run metrics are evaluate_encoder's, with the default protocols
    # of a method without a classifier and the shared protocol settings.
    (call,) = trainer_calls
    assert call.args[0] is result.method and call.args[3] == ("knn", "linear")
    assert call.kwargs.get("settings", evaluation.DEFAULTS) == evaluation.DEFAULTS
    assert set(call.result) == {"knn_accuracy", "linear_accuracy", "linear_train_accuracy"}
    for key, value in call.result.items():
        assert result.metrics[key] == value, key
    assert 0.3 < result.metrics["linear_accuracy"] <= 1  # chance 0.1
    # The config's online linear probe ran through the trainer's callback hook.
    assert 0.3 < result.metrics["probe_accuracy"] <= 1  # chance 0.1
    out = str(tmp_path / "out")
    flags.FLAGS(["tfless-eval", f"--workdir={workdir}", "--protocol=linear,knn", f"--out={out}"])
    try:
        with record_evaluate_encoder() as cli_calls:
            cli.main(["tfless-eval"])
    finally:
        flags.FLAGS.unparse_flags()
    (call,) = cli_calls
    assert call.args[3] == ["linear", "knn"] and call.kwargs["settings"] == evaluation.DEFAULTS
    res = json.load(open(os.path.join(out, "eval.json")))
    assert res["knn_accuracy"] == call.result["knn_accuracy"]
    assert res["method"] == "rotation" and res["image_size"] == 24
    assert res["linear_accuracy"] > 0.5  # chance 0.1
    assert '"knn_accuracy"' in capsys.readouterr().out
    with pytest.raises(ValueError, match="classifier head"):
        cli.evaluate(workdir=workdir, protocols=["accuracy"])
    # --precise_bn: the probe then sees features normalized by the training images' own
    # statistics (the smoke run's 10 steps left the moving averages near their init).
    res_bn = cli.evaluate(workdir=workdir, protocols=["knn"], precise_bn=True)
    assert res_bn["precise_bn_layers"] == 3  # one per convnet block
    assert res_bn["knn_accuracy"] != pytest.approx(res["knn_accuracy"], abs=1e-9)


def test_eval_bad_input(export_dir, tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        cli.evaluate()
    with pytest.raises(ValueError, match="exactly one"):
        cli.evaluate(saved_model=export_dir, workdir=str(tmp_path))
    with pytest.raises(ValueError, match="Unknown protocol"):
        cli.evaluate(saved_model=export_dir, protocols=["linear", "umap"])
    with pytest.raises(ValueError, match="not a SavedModel"):
        cli.evaluate(saved_model=str(tmp_path))
    with pytest.raises(ValueError, match="precise_bn needs a training run"):
        cli.evaluate(saved_model=export_dir, precise_bn=True)
