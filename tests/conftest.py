"""Test-wide setup: quiet TF logs, one intra-op thread, two logical CPU devices, the
session's MirroredStrategy.

The logical devices must be configured before TensorFlow initializes its
runtime, so this happens at import time of the conftest. The shared harness
(``run_method_learns``, ``run_mirrored_equivalence``, tiny builders) is
``tests/testing.py``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Two pytest-xdist workers share two cores; with TensorFlow's default intra-op pool (one
# thread per core) in each worker, and in the processes tests start, the cores are
# oversubscribed on small ops. One thread per op ran the few-shot, semi-supervised and
# precision tests 17% faster (106 s against 128 s, same machine, back to back).
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import tensorflow as tf

_cpus = tf.config.list_physical_devices("CPU")
if tf.config.get_logical_device_configuration(_cpus[0]) is None:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )


import contextlib  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402
from absl import flags  # noqa: E402
from absl.testing import flagsaver  # noqa: E402

from tfless.train.strategy import fresh_collective_keys, make_strategy  # noqa: E402

_CLI = "tfless.cli."


@pytest.fixture(scope="session")
def mirrored_strategy():
    """The one two-replica ``MirroredStrategy`` (over ``/cpu:0`` and ``/cpu:1``) of the session.

    Tests take this fixture instead of building their own: every ``MirroredStrategy``
    numbers its collective ops from the class-wide key base, so two instances in one
    process reuse each other's keys, and collectives of different shapes then abort
    ("Shape mismatch in the collective instance"). One instance hands out distinct keys
    for all its collectives. ``make_strategy`` moves the base on before building it (as
    it does for the trainer's strategies), and the base moves on again afterwards so no
    later strategy starts from this one's keys.
    """
    strategy = make_strategy("mirrored", ["/cpu:0", "/cpu:1"])
    fresh_collective_keys()
    return strategy


@contextlib.contextmanager
def _cli_module(name: str):
    """Imports ``tfless.cli.<name>`` with its own absl flags for the duration of a test.

    Each launcher defines its flags at import, as absl programs do; two launchers in one
    process would then clash on common names (``--dataset``, ``--out``). This sets aside
    the flags of every other imported launcher, imports the module fresh, restores flag
    values afterwards (``flagsaver``), and puts the set-aside flags back.
    """
    fv = flags.FLAGS
    module_name = _CLI + name
    saved = {}
    for flag_name in list(fv):
        owner = fv.find_module_defining_flag(flag_name)
        if owner and owner.startswith(_CLI) and flag_name not in saved:
            saved[flag_name] = (owner, fv[flag_name])
            delattr(fv, flag_name)
    sys.modules.pop(module_name, None)
    try:
        module = importlib.import_module(module_name)
        with flagsaver.flagsaver():
            yield module
    finally:
        for flag_name in list(fv):
            if fv.find_module_defining_flag(flag_name) == module_name:
                delattr(fv, flag_name)
        sys.modules.pop(module_name, None)
        for flag_name, (owner, flag) in saved.items():
            fv[flag_name] = flag
            fv.register_flag_by_module(owner, flag)


@pytest.fixture
def cli_module():
    """``with cli_module("augment_search") as module:`` imports a launcher in isolation."""
    return _cli_module
