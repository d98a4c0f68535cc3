"""The RandAugment N x M sweep and its markdown table."""

import pytest

from tfless.methods.augment.randaugment_sweep import randaugment_sweep, sweep_markdown


def test_randaugment_sweep_and_table(tiny_digits):
    rows = randaugment_sweep(
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
    table = sweep_markdown(rows)
    assert "no aug." in table and table.count("\n") == 5


def test_bad_input(tiny_digits):
    with pytest.raises(ValueError, match="magnitude"):
        randaugment_sweep(tiny_digits, magnitudes=(11,))
    with pytest.raises(ValueError, match="unknown augmentation op"):
        randaugment_sweep(tiny_digits, ops_list=("Blur",))
