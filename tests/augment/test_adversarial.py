"""Adversarial AutoAugment's pure pieces: reward normalisation, policy copies."""

import numpy as np
import tensorflow as tf

from tfless.augment import adversarial, ops
from tfless.augment.search_space import SearchSpace


def test_normalized_rewards():
    r = adversarial.normalized_rewards(np.array([1.0, 2.0, 3.0, 6.0], np.float32)).numpy()
    ref = (np.array([1, 2, 3, 6]) - 3.0) / np.std([1, 2, 3, 6])
    np.testing.assert_allclose(r, ref, rtol=1e-5)
    assert np.all(np.isfinite(adversarial.normalized_rewards(np.ones(3, np.float32))))


def test_copies_follow_their_policy():
    space = SearchSpace(ops=("Invert", "Rotate"), num_subpolicies=1, ops_per_subpolicy=1,
                        search_probability=False)  # fmt: skip
    images = tf.random.uniform([3, 8, 8, 1])
    # Policy 0 = Invert, policy 1 = Rotate at magnitude 0 (identity).
    tables = space.tables(np.array([[0, 4], [1, 0]]))
    out = adversarial.augment_with_policies(images, tables, space).numpy()
    assert out.shape == (6, 8, 8, 1)
    np.testing.assert_allclose(out[:3], ops.apply_op(images, "Invert").numpy(), atol=1e-6)
    np.testing.assert_allclose(out[3:], images.numpy(), atol=1e-6)
