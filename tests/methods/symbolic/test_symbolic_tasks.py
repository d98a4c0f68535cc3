"""Function evaluation, the fitted-function baseline and equation completion."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfless.data.symbolic_generate import (
    CompletionProblem,
    Example,
    function_evaluations,
    generate_identities,
)
from tfless.data.symbolic_tables import example_arrays
from tfless.methods.symbolic import (
    EquationCompletion,
    FittedFunctionBaseline,
    FunctionEvaluator,
    build_tree_lstm,
    evaluate_symbolic,
    fit_symbolic,
)
from tfless.methods.symbolic.function_evaluation import relative_error


def _numeric(count, seed=0):
    examples = function_evaluations(
        count, seed=seed, encoding="raw", functions=("sin", "cos", "tanh"), negatives=False
    )
    return examples


def test_function_evaluator_loss_is_mse_and_accuracy_uses_relative_error():
    examples = _numeric(6)
    method = FunctionEvaluator(build_tree_lstm(hidden=4, dropout=0.0))
    batch = example_arrays(examples)
    pred = np.asarray(method(batch))
    loss = float(method.compute_loss(x=batch, training=False))
    assert loss == pytest.approx(np.mean((pred - batch["target"]) ** 2), rel=1e-5)
    err = np.abs(pred - batch["target"]) / np.abs(batch["target"])
    assert float(method.accuracy_tracker.result()) == pytest.approx(np.mean(err <= 1e-3))
    np.testing.assert_allclose(
        relative_error(np.array([1.001, 2.0]), np.array([1.0, -2.0])), [1e-3, 2.0], rtol=1e-6
    )
    assert float(relative_error(tf.constant(0.0), tf.constant(0.0))) == 0.0


def test_function_evaluator_learns():
    train, test = _numeric(160, seed=0), _numeric(60, seed=1)
    method = FunctionEvaluator(build_tree_lstm(hidden=16, dropout=0.0, max_height=1))
    before = evaluate_symbolic(method, test)["loss"]
    fit_symbolic(method, train, epochs=15, learning_rate=1e-2)
    after = evaluate_symbolic(method, test)["loss"]
    assert after < 0.3 * before, (before, after)


def test_fitted_function_baseline_recovers_polynomials_and_reads_decimal_trees():
    examples = function_evaluations(120, seed=0, functions=("sin",), negatives=False)
    baseline = FittedFunctionBaseline(degree=9).fit(examples)
    pred = baseline.predict(examples)
    targets = np.array([e.target for e in examples])
    assert np.mean(relative_error(pred, targets) <= 1e-3) > 0.9
    assert baseline.predict(_numeric(3))[
        [e.tree.children[0].symbol == "cos" for e in _numeric(3)]
    ].tolist() in ([], [0.0], [0.0, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="takes unary f\\(a\\) = b equations"):
        baseline.fit(function_evaluations(2, functions=("Add",)))


class _FixedScores(keras.Model):
    """A stand-in verifier whose score is the candidate's node count (known ranking)."""

    def call(self, inputs, training=False):
        return tf.reduce_sum(tf.cast(inputs["symbol"] > 0, tf.float32), axis=1)


def test_completion_top_k_ranks_candidates_by_verifier_score():
    by_size = {}
    for e in generate_identities(3, depths=(3,), seed=0, prove=False):
        by_size.setdefault(e.tree.size, e.tree)
    sizes = sorted(by_size, reverse=True)[:4]  # distinct sizes: an unambiguous ranking
    trees = [by_size[n] for n in sizes]  # best-scored (largest) first
    assert len(trees) == 4
    filled = tuple(Example(t, False, "test") for t in trees)

    def problem(correct_index):
        correct = tuple(i == correct_index for i in range(len(trees)))
        return CompletionProblem(trees[0], (0,), tuple(trees), filled, correct, correct_index)

    completion = EquationCompletion(_FixedScores(name="fixed_scores"))
    problems = [problem(0), problem(2), problem(3)]
    result = completion.top_k_accuracy(problems, ks=(1, 3))
    assert result == {"top1": 1 / 3, "top3": 2 / 3}
