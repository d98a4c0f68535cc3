"""tfless.configs.load_config: a config file by path, with or without its arg."""

import os
import re

import ml_collections
import pytest

from tfless.configs import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIGITS = "configs/supervised/digits.py"


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_a_path_relative_to_the_working_directory_gives_the_locked_default(in_root):
    config = load_config(DIGITS)
    assert isinstance(config, ml_collections.ConfigDict) and config.is_locked
    assert config.data.dataset == "digits" and config.train.steps == 2000
    assert config.data.labels_per_class is None


def test_the_arg_after_the_colon_reaches_get_config(in_root):
    config = load_config(f"{DIGITS}:labeled")
    assert config.data.labels_per_class == 4 and config.train.steps == 2000
    smoke = load_config("configs/fixmatch/cifar10.py:labels=4,smoke")
    assert smoke.data.labels_per_class == 4 and smoke.train.steps == 2


def test_an_absolute_path_works_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(os.path.join(ROOT, f"{DIGITS}:smoke"))
    assert config.train.steps == 20 and config.is_locked


def test_a_missing_file_is_named(in_root):
    with pytest.raises(FileNotFoundError, match=re.escape("'configs/supervised/nope.py'")):
        load_config("configs/supervised/nope.py:smoke")


def test_a_bad_arg_is_named_with_its_file(in_root):
    with pytest.raises(ValueError, match=re.escape(f"{DIGITS!r} rejected arg 'labels=3'")):
        load_config(f"{DIGITS}:labels=3")


def test_a_spec_that_is_not_a_python_file_is_refused():
    with pytest.raises(ValueError, match=re.escape("'configs/supervised/digits:smoke'")):
        load_config("configs/supervised/digits:smoke")


def test_a_file_without_get_config_or_returning_a_dict_is_refused(tmp_path):
    (tmp_path / "empty.py").write_text("VALUE = 1\n")
    with pytest.raises(ValueError, match="defines no get_config"):
        load_config(str(tmp_path / "empty.py"))
    (tmp_path / "plain.py").write_text("def get_config(arg=None):\n    return {'a': arg}\n")
    with pytest.raises(TypeError, match="returned dict, expected a ConfigDict"):
        load_config(f"{tmp_path / 'plain.py'}:x")
