"""BiT-HyperRule checked against its definition (schedule, MixUp, resolution, few-shot sets)."""

import numpy as np
import pytest

from tfless.train import hyperrule as H


def test_schedule_table_by_dataset_size():
    assert H.hyperrule_schedule(1) == H.hyperrule_schedule(19_999) == (100, 200, 300, 400, 500)
    assert (
        H.hyperrule_schedule(20_000)
        == H.hyperrule_schedule(499_999)
        == (500, 3000, 6000, 9000, 10_000)
    )
    assert H.hyperrule_schedule(500_000) == (500, 6000, 12_000, 18_000, 20_000)
    assert H.hyperrule_steps(50) == 500 and H.hyperrule_steps(10**6) == 20_000
    # The two larger schedules decay at 30/60/90% of the run.
    for n in (20_000, 500_000):
        *_, end = points = H.hyperrule_schedule(n)
        assert [p / end for p in points[1:4]] == [0.3, 0.6, 0.9]


def _definition(step, points, base=0.003):
    """Warm-up linear from 0 to ``base`` over points[0] steps, then /10 after each decay."""
    if step < points[0]:
        return base * step / points[0]
    lr = base
    for s in points[1:-1]:
        if s < step:
            lr /= 10
    return lr


@pytest.mark.parametrize("n", [1000, 50_000, 2_000_000])
def test_learning_rate_follows_the_definition_at_every_step(n):
    points = H.hyperrule_schedule(n)
    schedule = H.HyperRuleSchedule(n)
    steps = np.unique(
        np.concatenate(
            [
                np.arange(0, points[-1] + 2, max(1, points[-1] // 250)),
                np.array(points),
                np.array(points) + 1,
            ]
        )
    )
    ref = np.array([_definition(int(s), points) for s in steps])
    got_fn = np.array([H.hyperrule_lr(int(s), n) for s in steps])
    got_keras = np.asarray(schedule(steps))
    np.testing.assert_allclose(got_fn, ref, rtol=1e-12)
    np.testing.assert_allclose(got_keras, ref, rtol=1e-5, atol=1e-12)
    # Spot values: half-way through warm-up, and after the last decay.
    assert H.hyperrule_lr(points[0] // 2, n) == pytest.approx(0.0015)
    assert H.hyperrule_lr(points[-1] - 1, n) == pytest.approx(0.003e-3)
    opt = H.hyperrule_optimizer(n)
    assert opt.momentum == 0.9 and not opt.nesterov and opt.weight_decay is None


def test_mixup_and_resolution_rules():
    assert H.hyperrule_mixup(19_999) == 0.0 and H.hyperrule_mixup(20_000) == 0.1
    assert H.hyperrule_resolution(32) == (160, 128)
    assert H.hyperrule_resolution((95, 96)) == (160, 128)
    assert H.hyperrule_resolution((96, 96)) == (512, 480)  # the code's 512 -> 480
    with pytest.raises(ValueError, match="num_examples must be a positive integer; got 0"):
        H.hyperrule_schedule(0)


def test_fewshot_indices():
    labels = np.repeat(np.arange(4), 6)
    for shots in (1, 5):
        idx = H.fewshot_indices(labels, shots, seed=0)
        np.testing.assert_array_equal(np.bincount(labels[idx]), [shots] * 4)
        np.testing.assert_array_equal(idx, H.fewshot_indices(labels, shots, seed=0))
    with pytest.raises(ValueError, match="num_per_class=10 is larger"):
        H.fewshot_indices(labels, 10)
