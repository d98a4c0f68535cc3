"""Equation verification: the loss against NumPy, learning on held-out identities, baseline."""

import numpy as np
import pytest

from tfless.data.symbolic_check import parse_infix
from tfless.data.symbolic_generate import Example, depth_split, generate_identities
from tfless.data.symbolic_tables import example_arrays
from tfless.methods.symbolic import (
    SYMBOLIC_METHODS,
    SequenceEncoder,
    SequenceLSTMVerifier,
    TreeLSTMVerifier,
    build_tree_lstm,
    evaluate_symbolic,
    fit_symbolic,
)
from tfless.methods.symbolic.verification import side_states


def _examples():
    texts = ["sin(x)**2 + cos(x)**2 = 1", "sin(x) = cos(x)", "x*y = y*x", "x + 1 = x"]
    return [Example(parse_infix(t), label, "test") for t, label in zip(texts, [1, 0, 1, 0])]


@pytest.mark.parametrize("kind", ["tree", "sequence"])
def test_loss_is_binary_cross_entropy_of_the_dot_product_score(kind):
    if kind == "tree":
        method = TreeLSTMVerifier(build_tree_lstm(hidden=5, dropout=0.0))
    else:
        method = SequenceLSTMVerifier(SequenceEncoder(hidden=5))
    batch = example_arrays(_examples(), kind)
    logits = np.asarray(method(batch))
    method.bias.assign(0.3)
    if kind == "tree":
        lhs, rhs = (np.asarray(s) for s in side_states(method.encoder(batch), batch))
    else:
        lhs = np.asarray(method.encoder(batch["lhs_tokens"], batch["lhs_values"]))
        rhs = np.asarray(method.encoder(batch["rhs_tokens"], batch["rhs_values"]))
    ref_logits = (lhs * rhs).sum(-1) + 0.3
    np.testing.assert_allclose(np.asarray(method(batch)), ref_logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits + 0.3, ref_logits, rtol=1e-5, atol=1e-6)
    y = batch["label"]
    p = 1 / (1 + np.exp(-ref_logits))
    ref_loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = float(method.compute_loss(x=batch, training=False))
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    assert float(method.accuracy_tracker.result()) == np.mean((ref_logits > 0) == (y > 0))


def test_tree_lstm_verification_learns_on_held_out_identities():
    examples = generate_identities(100, depths=(1, 2, 3), seed=1, prove=False)
    split = depth_split(examples, "unseen_1to4", seed=1)
    method = TreeLSTMVerifier(build_tree_lstm(hidden=16, dropout=0.0, max_height=3, seed=1))
    history = fit_symbolic(method, split["train"], epochs=10, learning_rate=1e-2, seed=1)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    held_out = evaluate_symbolic(method, split["test_seen"])
    assert len(split["test_seen"]) == 120
    assert held_out["accuracy"] > 0.65, held_out  # chance is 0.5 (balanced classes)


def test_sequence_baseline_fits_its_training_identities():
    examples = generate_identities(20, depths=(1, 2), seed=0, prove=False)
    method = SequenceLSTMVerifier(SequenceEncoder(hidden=16))
    history = fit_symbolic(method, examples, kind="sequence", epochs=8, learning_rate=1e-2)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    assert evaluate_symbolic(method, examples, kind="sequence")["accuracy"] > 0.75


def test_registry_inputs_and_bad_calls():
    assert set(SYMBOLIC_METHODS) == {
        "tree_lstm_verifier",
        "sequence_lstm_verifier",
        "function_evaluator",
    }
    method = TreeLSTMVerifier(build_tree_lstm(hidden=4))
    with pytest.raises(ValueError, match=r"lacks \['lhs_root', 'rhs_root', 'label'\]"):
        method.check_inputs({k: 0 for k in ("symbol", "left", "right", "height", "value")})
    with pytest.raises(ValueError, match="fit_symbolic got no examples"):
        fit_symbolic(method, [])
    with pytest.raises(ValueError, match=r"kind='graph'; expected 'tree' or 'sequence'"):
        example_arrays(_examples(), "graph")
