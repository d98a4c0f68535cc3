"""Learned-policy search spaces, policy tables and files, and the ``autoaugment`` view."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import ops, policies, views
from tfless.augment.search_space import SearchSpace


def test_decoded_policy_round_trips(tmp_path):
    space = SearchSpace()
    sizes = np.tile([len(space.ops), 11, 10], 10)
    actions = (np.random.RandomState(0).rand(30) * sizes).astype(int)
    policy = space.decode(actions)
    assert len(policy) == 5 and all(len(sub) == 2 for sub in policy)
    assert policy[0][0] == (space.ops[actions[0]], actions[1] / 10, float(actions[2]))
    assert policies.check_policy(policy) == policy
    path = str(tmp_path / "policy.json")
    policies.save_policy(path, policy, note="test")
    assert json.load(open(path))["note"] == "test"
    loaded = policies.load_policy(path)
    assert loaded == policy
    images = tf.random.uniform([4, 8, 8, 1])
    assert policies.apply_policy(images, loaded).shape == (4, 8, 8, 1)
    out = views.autoaugment(policy=path)(images)["image"]
    assert out.shape == (4, 8, 8, 1)


def test_policy_view_applies_the_policy():
    images = tf.random.uniform([6, 8, 8, 1])
    out = views.autoaugment(policy=[[("Invert", 1.0, 3.0)]])(images)["image"]
    np.testing.assert_allclose(out.numpy(), ops.apply_op(images, "Invert").numpy(), atol=1e-6)
    out = views.autoaugment(policy=[[("Invert", 0.0, 3.0)]])(images)["image"]
    np.testing.assert_allclose(out.numpy(), images.numpy(), atol=1e-6)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(3)
    ds = ds.map(views.autoaugment(policy=[[("Rotate", 0.5, 3), ("Invert", 0.5, 0)]]))
    assert next(iter(ds))["image"].shape == (3, 8, 8, 1)


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="non-empty list"):
        SearchSpace(ops=())
    with pytest.raises(ValueError, match="unknown augmentation op 'Warp'"):
        SearchSpace(ops=("Rotate", "Warp"))
    with pytest.raises(ValueError, match="num_subpolicies"):
        SearchSpace(num_subpolicies=0)
    with pytest.raises(ValueError, match="neither a known policy"):
        views.autoaugment(policy=str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"policy": [[["Rotate", 1.5, 3]]]}))
    with pytest.raises(ValueError, match="probability"):
        policies.load_policy(str(bad))
