"""Training and evaluating the symbolic family with Keras ``fit`` on node-table batches.

The image trainer (``tfless.train``) reads image datasets from configs; this family's data
are generated equations, so it has this small Python entry point instead::

    from tfless.data.symbolic_generate import generate_identities, depth_split
    from tfless.methods.symbolic import TreeLSTMVerifier, build_tree_lstm, fit_symbolic

    split = depth_split(generate_identities(50), "train123_test4")
    verifier = TreeLSTMVerifier(build_tree_lstm())
    fit_symbolic(verifier, split["train"], epochs=5)
    evaluate_symbolic(verifier, split["test_unseen"])  # {"loss": .., "accuracy": ..}
"""

from __future__ import annotations

import keras
import numpy as np

from tfless.data.symbolic import MAX_ABS_NUMBER, UNARY_FUNCTIONS, sides
from tfless.data.symbolic_check import evaluate
from tfless.data.symbolic_tables import symbolic_dataset


def fit_symbolic(
    method,
    examples,
    kind: str = "tree",
    size: int | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    verbose: int = 0,
):
    """Compiles ``method`` with Adam(``learning_rate``) and fits it on ``examples``
    (shuffled each epoch); returns the Keras history. Adam at 1e-3 follows the PyTorch
    re-implementation ForoughA/recursiveMemNet; the MXNet notebook trains with batch 1 at
    1e-5, far too slow here, so batches of 32 are our choice.

    Raises:
      ValueError: no examples.
    """
    examples = list(examples)
    if not examples:
        raise ValueError("fit_symbolic got no examples to train on.")
    keras.utils.set_random_seed(seed)
    data = symbolic_dataset(examples, batch_size, kind, size, shuffle=True, seed=seed)
    method.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return method.fit(data, epochs=epochs, verbose=verbose, shuffle=False)


def evaluate_symbolic(
    method, examples, kind: str = "tree", size: int | None = None, batch_size: int = 64
) -> dict:
    """``method.evaluate`` on ``examples`` as a dict of its metrics (``loss``, ``accuracy``,
    ...); an empty list gives NaNs. An uncompiled method is compiled first (Adam)."""
    examples = list(examples)
    if not method.compiled:
        method.compile(optimizer=keras.optimizers.Adam())
    if not examples:
        return {m.name: float("nan") for m in method.metrics}
    data = symbolic_dataset(examples, batch_size, kind, size)
    return {k: float(v) for k, v in method.evaluate(data, verbose=0, return_dict=True).items()}


def _function_and_argument(example):
    lhs, _ = sides(example.tree)
    if lhs.symbol not in UNARY_FUNCTIONS:
        raise ValueError(
            f"The fitted-function baseline takes unary f(a) = b equations; got "
            f"{example.tree.prefix()!r}."
        )
    arg = complex(evaluate(lhs.children[0], {"x": np.zeros(1)})[0]).real
    return lhs.symbol, arg


class FittedFunctionBaseline:
    """The function-fitting baseline of function evaluation: one least-squares polynomial of
    ``degree`` per unary function, fitted to the training pairs ``(a, f(a))``, with no
    knowledge shared between functions. A function unseen in training predicts 0.

    Arabshahi, Singh, Anandkumar (ICLR 2018, arXiv 1801.04342) compare against a network
    fitted to input-output pairs alone; the paper does not fix its form, so a polynomial per
    function is our choice (fast, deterministic, and strong on smooth functions).
    """

    def __init__(self, degree: int = 5):
        self.degree = int(degree)
        self.coefficients = {}

    def fit(self, examples) -> FittedFunctionBaseline:
        by_function = {}
        for e in examples:
            f, a = _function_and_argument(e)
            by_function.setdefault(f, []).append((a, e.target))
        for f, pairs in by_function.items():
            a, b = np.asarray(pairs, np.float64).T
            deg = min(self.degree, len(a) - 1)
            self.coefficients[f] = np.polyfit(a, b, deg)
        return self

    def predict(self, examples) -> np.ndarray:
        out = []
        for e in examples:
            f, a = _function_and_argument(e)
            coef = self.coefficients.get(f)
            value = 0.0 if coef is None else float(np.polyval(coef, a))
            out.append(float(np.clip(value, -MAX_ABS_NUMBER, MAX_ABS_NUMBER)))
        return np.asarray(out)
