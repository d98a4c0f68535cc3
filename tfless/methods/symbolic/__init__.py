"""Symbolic + numeric family: Tree-LSTMs over expression trees (arXiv 1801.04342).

``SYMBOLIC_METHODS[name]`` lists the trainable tasks. They read node tables or token
sequences of generated equations (:mod:`tfless.data.symbolic_tables`), not images, and train
with :func:`fit_symbolic` (a thin ``fit`` wrapper) rather than the image trainer.
"""

from tfless.methods.symbolic.completion import EquationCompletion
from tfless.methods.symbolic.function_evaluation import RELATIVE_TOLERANCE, FunctionEvaluator
from tfless.methods.symbolic.sequence import SequenceEncoder, SequenceLSTMVerifier
from tfless.methods.symbolic.training import (
    FittedFunctionBaseline,
    evaluate_symbolic,
    fit_symbolic,
)
from tfless.methods.symbolic.verification import TreeLSTMVerifier, build_tree_lstm

SYMBOLIC_METHODS = {
    "tree_lstm_verifier": TreeLSTMVerifier,
    "sequence_lstm_verifier": SequenceLSTMVerifier,
    "function_evaluator": FunctionEvaluator,
}

__all__ = [
    "RELATIVE_TOLERANCE",
    "SYMBOLIC_METHODS",
    "EquationCompletion",
    "FittedFunctionBaseline",
    "FunctionEvaluator",
    "SequenceEncoder",
    "SequenceLSTMVerifier",
    "TreeLSTMVerifier",
    "build_tree_lstm",
    "evaluate_symbolic",
    "fit_symbolic",
]
