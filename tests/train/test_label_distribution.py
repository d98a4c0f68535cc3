"""ReMixMatch's distribution alignment gets the labeled split's class frequencies."""

import os

import numpy as np

from tfless.configs import load_config
from tfless.data import to_arrays
from tfless.train.build import build_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_remixmatch_run_aligns_to_the_labeled_class_frequencies():
    config = load_config(f"{ROOT}/configs/remixmatch/digits.py:smoke")
    with config.unlocked():
        # Every label of the training split: classes of 110 to 115 examples, so the
        # frequencies differ from the uniform prior ReMixMatch otherwise starts from.
        config.data.labels_per_class = None
        config.data.image_size = 8
        config.model.kwargs.widths = (8, 16)
    run = build_run(config)
    _, labels = to_arrays(run.data.raw_train)
    expected = np.bincount(labels, minlength=10) / len(labels)
    assert len(labels) == 1131 and np.ptp(expected) > 0.004
    np.testing.assert_array_equal(run.data.labeled_class_counts, np.bincount(labels))
    assert run.method.fixed_p_data
    np.testing.assert_allclose(run.method.p_data.numpy(), expected, rtol=1e-6)
