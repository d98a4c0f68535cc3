"""Test-wide setup: quiet TF logs and two logical CPU devices for MirroredStrategy tests.

The logical devices must be configured before TensorFlow initializes its
runtime, so this happens at import time of the conftest.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
if tf.config.get_logical_device_configuration(_cpus[0]) is None:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )


import pytest  # noqa: E402

from tfless.train.strategy import fresh_collective_keys  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_collective_keys():
    """Each test's MirroredStrategy gets collective keys no earlier test used (see
    :func:`tfless.train.strategy.fresh_collective_keys`)."""
    fresh_collective_keys()
    yield
