"""The README's commands and Python snippets run as written and print what they say."""

import json
import pathlib
import re
import shlex
import sys

import keras
import numpy as np
import pytest
from absl import flags
from PIL import Image

from tfless.data import digits_arrays

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    """The text of the README section ``## title`` (up to the next ``## ``)."""
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.DOTALL)


def run_snippet(code: str, capsys) -> str:
    exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    return capsys.readouterr().out


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+\.\d+", text)]


def test_training_runs_python_snippet_prints_a_learned_accuracy(tmp_path, capsys):
    (code,) = blocks(section("Training runs"), "python")
    assert code.count('"/tmp/tfless/readme_smoke"') == 1
    out = run_snippet(code.replace("/tmp/tfless/readme_smoke", str(tmp_path / "run")), capsys)
    accuracy, name = out.split()[-2:]
    # Chance is 0.1 (ten digits); the comment says about 0.93.
    assert float(accuracy) > 0.8, out
    assert name == "convnet"


def test_own_model_python_snippet_trains_and_evaluates(capsys):
    (code,) = blocks(section("Your own data and model"), "python")
    # Tiny sizes for the test: 5 SimCLR steps instead of 100.
    assert code.count("steps_per_epoch=100") == 1
    out = run_snippet(code.replace("steps_per_epoch=100", "steps_per_epoch=5"), capsys)
    knn, linear = numbers(out.strip().splitlines()[-1])
    assert knn > 0.5 and linear > 0.5, out  # chance: 0.1


def _digit_folder(root: pathlib.Path, classes: int = 4, per_class: int = 12) -> str:
    """``root/<digit>/<i>.png``: real 8x8 digits, a folder dataset as a user would have."""
    images, labels = digits_arrays("train")
    for c in range(classes):
        (root / f"digit_{c}").mkdir(parents=True)
        for i, image in enumerate(images[labels == c][:per_class]):
            pixels = (image[..., 0] * 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(root / f"digit_{c}" / f"{i}.png")
    return str(root)


def test_own_data_command_trains_on_a_folder_in_process(tmp_path, cli_module, monkeypatch):
    (command,) = blocks(section("Your own data and model"), "bash")
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[0] == "tfless-train"
    photos = _digit_folder(tmp_path / "photos")
    workdir = tmp_path / "run"
    argv = [
        a.replace("/path/to/photos", photos).replace("/tmp/tfless/photos", str(workdir))
        for a in argv
    ]
    assert f"--config.data.dataset=folder:{photos}" in argv
    # Tiny sizes for the test, and a label split so the manifest records its hash.
    argv += [
        "--config.train.steps=2",
        "--config.train.eval_every=2",
        "--config.optimizer.warmup_steps=1",
    ]
    argv += ["--config.data.labels_per_class=3", "--config.train.verbose=0"]
    # ml_collections defines the --config.* override flags from sys.argv at import.
    monkeypatch.setattr(sys, "argv", argv)
    with cli_module("train") as module:
        flags.FLAGS(argv)
        module.main(argv[:1])
    manifest = json.loads((workdir / "manifest.json").read_text())
    assert manifest["config"]["data"]["dataset"] == f"folder:{photos}"
    assert manifest["num_classes"] == 4 and manifest["image_shape"] == [32, 32, 3]
    assert manifest["num_labeled"] == 12 and re.fullmatch(r"[0-9a-f]{16}", manifest["split_hash"])
    assert 0.0 <= json.loads((workdir / "metrics.json").read_text())["test_accuracy"] <= 1.0


@pytest.mark.parametrize("name", ["tfless.data.load", "tfless.export.export_encoder"])
def test_the_section_names_public_functions(name):
    import importlib

    module, attr = name.rsplit(".", 1)
    assert name in section("Your own data and model")
    assert callable(getattr(importlib.import_module(module), attr))


def test_fine_tune_snippet_trains_the_shipped_encoder_with_adam(capsys):
    (code,) = blocks(section("Evaluate, export, serve"), "python")
    # Two epochs instead of ten keep the test short; the comment says about 0.99.
    assert code.count("epochs=10") == 1
    # A fixed seed: the head's initialisation and the batch order otherwise come from
    # whatever random state earlier tests in the same worker left behind.
    keras.utils.set_random_seed(0)
    out = run_snippet(code.replace("epochs=10", "epochs=2"), capsys)
    assert numbers(out)[-1] > 0.9, out  # chance: 0.1
