"""AutoAugment search: child rewards, the search loop and the ``augment_search`` launcher."""

import json

import pytest
import tensorflow as tf

from tfless.augment import policies, search_space
from tfless.augment.search_space import SearchSpace
from tfless.methods.augment.autoaugment_search import autoaugment_search
from tfless.methods.augment.child import ChildTrainer


def test_child_reward_reflects_the_augmentation(tiny_digits):
    """Training on always-inverted digits scores far below plain training."""
    names = ("Identity", "Invert")

    def augment(images, op_table, prob_table, mag_table):
        rows = search_space.pick_subpolicies(
            (op_table, prob_table, mag_table), tf.zeros([tf.shape(images)[0]], tf.int32)
        )
        return search_space.apply_policy_tables(images, *rows, names)

    child = ChildTrainer(tiny_digits, augment, steps=60, widths=(8, 16))
    shape = [1, 1, 1]
    plain = child(tf.zeros(shape, tf.int32), tf.ones(shape), tf.zeros(shape))
    inverted = child(tf.ones(shape, tf.int32), tf.ones(shape), tf.zeros(shape))
    assert plain > 0.4 and inverted < plain - 0.2, (plain, inverted)


def test_autoaugment_search_end_to_end(tiny_digits):
    logs = []
    result = autoaugment_search(
        tiny_digits,
        num_policies=4,
        policies_per_update=2,
        top_k=2,
        child_steps=15,
        child_widths=(8, 16),
        controller_hidden=16,
        space=SearchSpace(ops=("Rotate", "Invert", "Contrast")),
        log=logs.append,
    )
    assert len(result.history) == 4 and len(logs) == 2
    assert all(0.0 <= h["reward"] <= 1.0 for h in result.history)
    assert len(result.policy) == 10
    best = sorted(result.history, key=lambda h: -h["reward"])[:2]
    assert result.policy == [sub for h in best for sub in h["policy"]]
    assert policies.check_policy(result.policy) == result.policy


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
    policy = policies.load_policy(str(tmp_path / "policy.json"))
    assert len(policy) == 5 and {n for sub in policy for n, _, _ in sub} <= {"Rotate", "Invert"}
    record = json.load(open(tmp_path / "policy.json"))
    assert len(record["history"]) == 2 and record["flags"]["num_policies"] == 2
    rows = json.load(open(tmp_path / "randaugment_sweep.json"))["rows"]
    assert len(rows) == 2
    assert "| 1 |" in (tmp_path / "randaugment_sweep.md").read_text()


def test_bad_input(tiny_digits):
    with pytest.raises(ValueError, match="top_k"):
        autoaugment_search(tiny_digits, num_policies=2, top_k=3)
