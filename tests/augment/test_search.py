"""AutoAugment search, the policy controller, policy files and the RandAugment sweep."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.augment import ops, policies, search


@pytest.fixture(scope="module")
def tiny_digits():
    return search.reduced_digits(labels_per_class=10, num_validation=100, image_size=8)


def test_reinforce_raises_probability_of_rewarded_action():
    keras.utils.set_random_seed(0)
    controller = search.PolicyController(("op", "magnitude"), {"op": 4, "magnitude": 3}, 16)
    update = search.make_reinforce_update(controller, keras.optimizers.Adam(0.08), 0.0)

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
    space = search.SearchSpace(num_subpolicies=2)
    controller = search.PolicyController(space.decision_kinds, space.vocab_sizes, 8)
    a = controller.sample(3, [1, 2]).numpy()
    np.testing.assert_array_equal(a, controller.sample(3, [1, 2]).numpy())
    assert a.shape == (3, 12)
    assert a[:, 0::3].max() < len(space.ops) and a[:, 1::3].max() < 11 and a[:, 2::3].max() < 10
    log_prob, entropy = controller.log_prob(a)
    # Fresh controller: near-uniform, so log pi ~ -sum(log vocab) and entropy ~ sum(log vocab).
    uniform = 4 * (np.log(len(space.ops)) + np.log(11) + np.log(10))
    np.testing.assert_allclose(-log_prob.numpy(), uniform, rtol=0.1)
    np.testing.assert_allclose(entropy.numpy(), uniform, rtol=0.05)


def test_decoded_policy_round_trips(tmp_path):
    space = search.SearchSpace()
    sizes = np.tile([len(space.ops), 11, 10], 10)
    actions = (np.random.RandomState(0).rand(30) * sizes).astype(int)
    policy = space.decode(actions)
    assert len(policy) == 5 and all(len(sub) == 2 for sub in policy)
    assert policy[0][0] == (space.ops[actions[0]], actions[1] / 10, float(actions[2]))
    assert policies.check_policy(policy) == policy
    path = str(tmp_path / "policy.json")
    search.save_policy(path, policy, note="test")
    assert json.load(open(path))["note"] == "test"
    loaded = search.load_policy(path)
    assert loaded == policy
    images = tf.random.uniform([4, 8, 8, 1])
    assert policies.apply_policy(images, loaded).shape == (4, 8, 8, 1)
    out = search.autoaugment(policy=path)(images)["image"]
    assert out.shape == (4, 8, 8, 1)


def test_policy_view_applies_the_policy():
    images = tf.random.uniform([6, 8, 8, 1])
    out = search.autoaugment(policy=[[("Invert", 1.0, 3.0)]])(images)["image"]
    np.testing.assert_allclose(out.numpy(), ops.apply_op(images, "Invert").numpy(), atol=1e-6)
    out = search.autoaugment(policy=[[("Invert", 0.0, 3.0)]])(images)["image"]
    np.testing.assert_allclose(out.numpy(), images.numpy(), atol=1e-6)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(3)
    ds = ds.map(search.autoaugment(policy=[[("Rotate", 0.5, 3), ("Invert", 0.5, 0)]]))
    assert next(iter(ds))["image"].shape == (3, 8, 8, 1)


def test_child_reward_reflects_the_augmentation(tiny_digits):
    """Training on always-inverted digits scores far below plain training."""
    names = ("Identity", "Invert")

    def augment(images, op_table, prob_table, mag_table):
        rows = search.pick_subpolicies(
            (op_table, prob_table, mag_table), tf.zeros([tf.shape(images)[0]], tf.int32)
        )
        return search.apply_policy_tables(images, *rows, names)

    child = search.ChildTrainer(tiny_digits, augment, steps=60, widths=(8, 16))
    shape = [1, 1, 1]
    plain = child(tf.zeros(shape, tf.int32), tf.ones(shape), tf.zeros(shape))
    inverted = child(tf.ones(shape, tf.int32), tf.ones(shape), tf.zeros(shape))
    assert plain > 0.4 and inverted < plain - 0.2, (plain, inverted)


def test_autoaugment_search_end_to_end(tiny_digits):
    logs = []
    result = search.autoaugment_search(
        tiny_digits,
        num_policies=4,
        policies_per_update=2,
        top_k=2,
        child_steps=15,
        child_widths=(8, 16),
        controller_hidden=16,
        space=search.SearchSpace(ops=("Rotate", "Invert", "Contrast")),
        log=logs.append,
    )
    assert len(result.history) == 4 and len(logs) == 2
    assert all(0.0 <= h["reward"] <= 1.0 for h in result.history)
    assert len(result.policy) == 10
    best = sorted(result.history, key=lambda h: -h["reward"])[:2]
    assert result.policy == [sub for h in best for sub in h["policy"]]
    assert policies.check_policy(result.policy) == result.policy


def test_randaugment_sweep_and_table(tiny_digits):
    rows = search.randaugment_sweep(
        tiny_digits,
        num_layers=(1, 2),
        magnitudes=(5,),
        ops_list=("Rotate", "Identity", "Brightness"),
        child_steps=10,
        child_widths=(8, 16),
    )
    assert {(r["num_layers"], r["magnitude"]) for r in rows} == {(0, 0.0), (1, 5.0), (2, 5.0)}
    accs = [r["val_accuracy"] for r in rows]
    assert accs == sorted(accs, reverse=True)
    table = search.sweep_markdown(rows)
    assert "no aug." in table and table.count("\n") == 5


def test_cli_writes_policy_and_sweep(tmp_path, cli_module):
    from absl import flags

    common = [
        f"--output_dir={tmp_path}",
        "--image_size=8",
        "--labels_per_class=3",
        "--num_validation=50",
        "--ops=Rotate,Invert",
        "--child_steps=3",
    ]
    argv = ["augment_search", "--mode=autoaugment", "--num_policies=2", "--top_k=1", *common]
    with cli_module("augment_search") as augment_search:
        flags.FLAGS(argv)
        augment_search.main(argv[:1])
        flags.FLAGS(
            ["augment_search", "--mode=randaugment_sweep", "--grid_n=1", "--grid_m=4", *common]
        )
        augment_search.main(argv[:1])
    policy = search.load_policy(str(tmp_path / "policy.json"))
    assert len(policy) == 5 and {n for sub in policy for n, _, _ in sub} <= {"Rotate", "Invert"}
    record = json.load(open(tmp_path / "policy.json"))
    assert len(record["history"]) == 2 and record["flags"]["num_policies"] == 2
    rows = json.load(open(tmp_path / "randaugment_sweep.json"))["rows"]
    assert len(rows) == 2
    assert "| 1 |" in (tmp_path / "randaugment_sweep.md").read_text()


def test_bad_input(tmp_path, tiny_digits):
    with pytest.raises(ValueError, match="non-empty list"):
        search.SearchSpace(ops=())
    with pytest.raises(ValueError, match="unknown augmentation op 'Warp'"):
        search.SearchSpace(ops=("Rotate", "Warp"))
    with pytest.raises(ValueError, match="num_subpolicies"):
        search.SearchSpace(num_subpolicies=0)
    with pytest.raises(ValueError, match="top_k"):
        search.autoaugment_search(tiny_digits, num_policies=2, top_k=3)
    with pytest.raises(ValueError, match="neither a known policy"):
        search.autoaugment(policy=str(tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"policy": [[["Rotate", 1.5, 3]]]}))
    with pytest.raises(ValueError, match="probability"):
        search.load_policy(str(bad))
    with pytest.raises(ValueError, match="magnitude"):
        search.randaugment_sweep(tiny_digits, magnitudes=(11,))
    with pytest.raises(ValueError, match="unknown augmentation op"):
        search.randaugment_sweep(tiny_digits, ops_list=("Blur",))
