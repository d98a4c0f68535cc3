"""Imbalanced SLA: the long-tailed split reaches the data, its distribution the loss weights."""

import numpy as np
import pytest

from tfless.configs import load_config
from tfless.data import pipelines
from tfless.losses.sla import class_balanced_weights
from tfless.train.build import build_method


def test_long_tailed_split_and_class_balanced_weights():
    config = load_config("configs/sla/digits.py:sla_sd,imbalance=10,balanced,smoke")
    data = pipelines.build_data(config.data, seed=0)
    counts = data.labeled_class_counts
    # Exponential profile: head class / tail class = 10 (up to rounding), decreasing.
    assert counts[0] / counts[-1] == pytest.approx(10, rel=0.15)
    assert np.all(np.diff(counts) <= 0) and data.num_labeled == counts.sum() < data.num_train
    method = build_method(config, data.image_shape, 10, label_counts=counts)
    expected = class_balanced_weights(counts / counts.sum())
    np.testing.assert_allclose(method.class_weights, expected, rtol=1e-6)
    assert method.class_weights[-1] > 5 * method.class_weights[0]


def test_bad_sla_config_args():
    with pytest.raises(ValueError, match=r"Unknown config arg 'slaa'.*'sla_sd'"):
        load_config("configs/sla/digits.py:slaa")
    with pytest.raises(ValueError, match=r"imbalance=R with R >= 1"):
        load_config("configs/sla/digits.py:imbalance=0.5")
    with pytest.raises(ValueError, match="not of 'baseline'"):
        load_config("configs/sla/digits.py:baseline,balanced")
