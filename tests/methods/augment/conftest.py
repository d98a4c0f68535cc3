"""Reduced digits splits shared by the augmentation-search tests."""

import pytest

from tfless.methods.augment.child import reduced_digits


@pytest.fixture(scope="module")
def tiny_digits():
    return reduced_digits(labels_per_class=10, num_validation=100, image_size=8)


@pytest.fixture(scope="module")
def digits8():
    return reduced_digits(labels_per_class=10, num_validation=20, image_size=8)["x_train"]
