"""Values that would train silently wrong are refused before any step; JSON stays JSON."""

import json
import math

import pytest

from tfless.configs import load_config
from tfless.train import train_and_evaluate
from tfless.train.callbacks import write_json_atomic


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("data.labels_per_class", 0, r"data.labels_per_class must be an integer >= 1.*got 0"),
        ("data.labels_per_class", -3, r"data.labels_per_class must be an integer >= 1.*got -3"),
        ("train.eval_every", 0, r"train.eval_every must be >= 1.*got 0"),
        ("optimizer.learning_rate", -0.01, r"learning_rate must be a finite number > 0.*-0.01"),
        ("optimizer.learning_rate", math.nan, r"learning_rate must be a finite number > 0.*nan"),
        ("optimizer.learning_rate", 0.0, r"learning_rate must be a finite number > 0.*0.0"),
        ("train.precision", "float16", r"train.precision='float16'.*mixed_bfloat16"),
        ("train.steps_per_execution", 0, r"steps_per_execution must be an integer >= 1.*got 0"),
        ("train.steps_per_execution", 7, r"steps_per_execution=7 must divide train.eval_every"),
    ],
)
def test_impossible_values_are_refused_before_training(tmp_path, key, value, message):
    config = load_config("configs/supervised/digits.py:smoke")
    section, name = key.split(".")
    with config.unlocked():
        config[section][name] = value
        config.train.tensorboard = False
        config.train.verbose = 0
    workdir = tmp_path / "run"
    with pytest.raises(ValueError, match=message):
        train_and_evaluate(config, str(workdir))
    assert not (workdir / "checkpoints").exists()


def test_non_finite_metrics_are_written_as_null(tmp_path):
    path = tmp_path / "metrics.json"
    write_json_atomic(str(path), {"loss": math.nan, "x": [1.0, math.inf], "ok": 0.5})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"loss": None, "x": [1.0, None], "ok": 0.5}


def test_setup_mistakes_are_config_errors_and_training_failures_are_not(tmp_path, monkeypatch):
    from tfless.train import ConfigError, trainer

    config = load_config("configs/supervised/digits.py:smoke")
    with config.unlocked():
        config.train.tensorboard, config.train.verbose = False, 0
        config.model.backbone = "no_such_backbone"
    with pytest.raises(ConfigError, match="no_such_backbone"):
        train_and_evaluate(config, str(tmp_path / "a"))

    def broken_fit(*args, **kwargs):
        raise ValueError("raised during training")

    monkeypatch.setattr(trainer, "_fit", broken_fit)
    config = load_config("configs/supervised/digits.py:smoke")
    with config.unlocked():
        config.train.tensorboard, config.train.verbose = False, 0
    with pytest.raises(ValueError, match="raised during training") as info:
        train_and_evaluate(config, str(tmp_path / "b"))
    assert not isinstance(info.value, ConfigError)
