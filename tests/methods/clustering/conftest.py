"""Shared fixtures of the clustering method tests."""

import pytest
import tensorflow as tf


@pytest.fixture(scope="session")
def mirrored():
    """Two-CPU MirroredStrategy with its own collective key range (see the contrastive conftest)."""
    cls = tf.distribute.MirroredStrategy
    old = cls._collective_key_base
    cls._collective_key_base = 6000
    try:
        return cls(["/cpu:0", "/cpu:1"])
    finally:
        cls._collective_key_base = old
