import json
import os
import shutil
import types
from unittest import mock

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


@pytest.fixture(scope="module")
def rotation_run(tmp_path_factory):
    """One rotation smoke run on digits, shared by the tests that evaluate it (they change
    copies): ``(workdir, TrainResult, the trainer's evaluate_encoder calls)``."""
    from tfless.configs import load_config
    from tfless.train import train_and_evaluate

    config = load_config(os.path.join(ROOT, "configs", "rotation", "digits.py:smoke"))
    with config.unlocked():
        config.train.verbose = 0
        config.train.tensorboard = False
        config.eval.online_probe_examples = 400
    workdir = str(tmp_path_factory.mktemp("rotation") / "run")
    real, calls = evaluation.evaluate_encoder, []

    def recording(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(types.SimpleNamespace(args=args, kwargs=kwargs, result=result))
        return result

    with mock.patch.object(evaluation, "evaluate_encoder", recording):
        result = train_and_evaluate(config, workdir)
    return workdir, result, calls


def test_eval_a_training_run_through_flags(rotation_run, tmp_path, capsys, record_evaluate_encoder):
    workdir, result, trainer_calls = rotation_run
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


def _exit_status(*args: str) -> int:
    """The status ``tfless-eval ARGS`` exits with (run in this process)."""
    flags.FLAGS(["tfless-eval", *args])
    try:
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["tfless-eval"])
    finally:
        flags.FLAGS.unparse_flags()
    return exit_info.value.code


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


def test_eval_a_run_on_its_own_dataset_and_refuse_another(rotation_run, tmp_path, capsys):
    workdir, _, _ = rotation_run
    # The run's manifest names its data: a copy of the run relabeled as trained on the
    # 4-class synthetic shapes (at the run's 24x24x1) is evaluated on them, not on digits.
    run = str(tmp_path / "synthetic_run")
    shutil.copytree(workdir, run)
    path = os.path.join(run, "manifest.json")
    manifest = json.load(open(path))
    assert manifest["val_source"] == "train" and manifest["num_val"] == 126
    manifest["config"]["data"]["dataset"] = "synthetic"
    with open(path, "w") as f:
        json.dump(manifest, f)
    res = cli.evaluate(workdir=run, protocols=["knn"])
    assert res["dataset"] == "synthetic" and res["num_test"] == 256 and res["num_train"] == 512
    assert (res["image_size"], res["channels"]) == (24, 1)
    assert res["val_hash"] == manifest["val_hash"] and res["split_hash"] is None
    assert cli._run_data(run, "synthetic")["dataset"] == "synthetic"  # the same is fine
    # Another --dataset is a usage error naming both datasets, on one line.
    assert _exit_status(f"--workdir={run}", "--dataset=digits", "--protocol=knn") == 2
    err = capsys.readouterr().err
    assert "--dataset='digits'" in err and "trained on 'synthetic'" in err
    assert err.strip().count("\n") == 0


def test_eval_a_zoo_entry_by_name_on_its_own_dataset(tmp_path, capsys):
    from tfless import zoo

    name = "digits_supervised_convnet"
    res = cli.evaluate(zoo=name, protocols=["accuracy"])
    assert res["dataset"] == "digits" and res["image_size"] == 16
    assert "num_train" not in res  # accuracy reads the test split only
    assert res["saved_model"] == zoo.entry_path(zoo.get_entry(name))
    assert round(res["test_accuracy"], 4) == zoo.get_entry(name)["metrics"]["test_accuracy"]
    with pytest.raises(ValueError, match="exactly one"):
        cli.evaluate(zoo=name, saved_model=str(tmp_path))
    # An unknown entry or a recipe without files: one error line naming it, status 2.
    for bad, words in (("nope", "No zoo entry 'nope'"), ("cifar10_supervised_wrn28_2", "recipe")):
        assert _exit_status(f"--zoo={bad}", "--protocol=knn") == 2
        assert words in capsys.readouterr().err
