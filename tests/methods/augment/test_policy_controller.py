"""The policy controller: REINFORCE updates, sampling and log-probabilities."""

import keras
import numpy as np
import tensorflow as tf

from tfless.augment.search_space import SearchSpace
from tfless.methods.augment.policy_controller import PolicyController, make_reinforce_update


def test_reinforce_raises_probability_of_rewarded_action():
    keras.utils.set_random_seed(0)
    controller = PolicyController(("op", "magnitude"), {"op": 4, "magnitude": 3}, 16)
    update = make_reinforce_update(controller, keras.optimizers.Adam(0.08), 0.0)

    def p_rewarded():
        actions = controller.sample(400, [7, 7]).numpy()
        return np.mean(actions[:, 0] == 2)

    before = p_rewarded()
    baseline = None
    for step in range(20):
        actions = controller.sample(16, [0, step])
        rewards = (actions[:, 0].numpy() == 2).astype(np.float32)
        baseline = rewards.mean() if baseline is None else 0.9 * baseline + 0.1 * rewards.mean()
        update(actions, tf.constant(rewards - baseline))
    after = p_rewarded()
    assert before < 0.45 and after > 0.8, (before, after)


def test_controller_log_prob_matches_sampling_and_is_deterministic():
    keras.utils.set_random_seed(1)
    space = SearchSpace(num_subpolicies=2)
    controller = PolicyController(space.decision_kinds, space.vocab_sizes, 8)
    a = controller.sample(3, [1, 2]).numpy()
    np.testing.assert_array_equal(a, controller.sample(3, [1, 2]).numpy())
    assert a.shape == (3, 12)
    assert a[:, 0::3].max() < len(space.ops) and a[:, 1::3].max() < 11 and a[:, 2::3].max() < 10
    log_prob, entropy = controller.log_prob(a)
    # Fresh controller: near-uniform, so log pi ~ -sum(log vocab) and entropy ~ sum(log vocab).
    uniform = 4 * (np.log(len(space.ops)) + np.log(11) + np.log(10))
    np.testing.assert_allclose(-log_prob.numpy(), uniform, rtol=0.1)
    np.testing.assert_allclose(entropy.numpy(), uniform, rtol=0.05)
