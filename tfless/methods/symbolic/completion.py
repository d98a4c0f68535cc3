"""Equation completion: rank candidate subtrees for a blank with a trained verifier."""

from __future__ import annotations

import keras
import numpy as np

from tfless.data.symbolic_tables import example_arrays


class EquationCompletion(keras.Model):
    """Equation completion with a trained verifier (Arabshahi, Singh, Anandkumar, ICLR 2018,
    arXiv 1801.04342): every candidate fills the blank, the verifier scores each filled
    equation, and candidates are ranked by score. A problem counts as solved at ``k`` when
    a correct candidate (one that makes a true identity) is among the ``k`` best.

    Args:
      verifier: a trained :class:`TreeLSTMVerifier` or :class:`SequenceLSTMVerifier`.
      kind: ``"tree"`` (node tables) or ``"sequence"`` (token sequences): what it reads.
      size: ``max_nodes`` / ``max_len`` of its inputs (None: fitted to each problem).
    """

    def __init__(
        self,
        verifier: keras.Model,
        kind: str = "tree",
        size: int | None = None,
        name: str = "equation_completion",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.verifier, self.kind, self.size = verifier, kind, size

    def call(self, inputs, training=False):
        return self.verifier(inputs, training=False)

    def scores(self, problem) -> np.ndarray:
        """Verifier logits of a problem's filled equations ``[num_candidates]``."""
        arrays = example_arrays(problem.filled, self.kind, self.size)
        arrays.pop("label"), arrays.pop("target")
        return np.asarray(self(arrays))

    def top_k_accuracy(self, problems, ks=(1, 5)) -> dict:
        """``{"top1": .., "top5": ..}``: the fraction of problems with a correct candidate
        among the ``k`` best-scored."""
        hits = {k: 0 for k in ks}
        for problem in problems:
            order = np.argsort(-self.scores(problem), kind="stable")
            for k in ks:
                hits[k] += bool(np.asarray(problem.correct)[order[:k]].any())
        return {f"top{k}": hits[k] / max(1, len(problems)) for k in ks}
