"""MAML: model-agnostic meta-learning of an initialization (Finn et al. 2017)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfless.losses import fewshot as fs
from tfless.methods.fewshot.fast_weights import (
    FastWeightMethod,
    positive,
    twice_differentiable_batch_norm,
)


class MAML(FastWeightMethod):
    """Model-Agnostic Meta-Learning (Finn, Abbeel, Levine, ICML 2017, arXiv 1703.03400).

    MAML meta-learns the initialization ``theta`` of a learner (the encoder plus a linear head
    with ``ways`` outputs) such that a few gradient steps on an episode's support set give
    low loss on its query set. For each episode,
    ``theta_0 = theta``, ``theta_{s+1} = theta_s - inner_lr * grad L_support(theta_s)``; the
    meta-loss is the query cross-entropy at ``theta_{inner_steps}``, averaged over the
    meta-batch, and the optimizer (the paper: Adam 1e-3) updates ``theta``.

    Second-order MAML differentiates through the inner gradients (nested
    ``tf.GradientTape``\\ s); ``first_order=True`` stops them (the paper's first-order
    approximation, the official code's ``--stop_grad``), so the meta-gradient is the query
    gradient at the adapted parameters. Keras' batch-norm statistics are made exact to second
    order for this (:func:`~tfless.methods.fewshot.fast_weights.twice_differentiable_batch_norm`;
    ``tf.nn.moments`` drops a second-derivative term, as the official TF code's batch norm did).

    Defaults are the paper's Omniglot 5-way recipe (official code, cbfinn/maml ``main.py``):
    1 inner step with ``inner_lr=0.4`` at meta-training, 10 at meta-test
    (``test_inner_steps``, the paper's Section 5.2), 32 episodes per meta-batch. Omniglot 20-way:
    5 steps, 0.1, 16 episodes; miniImageNet: 5 steps, 0.01, 4 episodes, 32 filters.

    Batch norm, as the paper's code does (and as its author confirmed in cbfinn/maml#37): the
    learner always normalizes with the statistics of the current batch (the support set in the
    inner loop, the query set for the meta-loss), at meta-training *and* meta-test, so
    evaluation is transductive over the query set, and the batch-norm scales and offsets are
    meta-learned but not adapted in the inner loop (``adapt_batch_norm=False``; True adapts
    them too, as learn2learn does). The encoder's moving statistics are not used by MAML; they
    are updated from the meta-initialization on the support sets during meta-training only, so
    that the exported encoder has plausible statistics for frozen-feature evaluation.

    Per-step batch-norm weights (``per_step_batch_norm=True``), the "per-step batch
    normalization weights and biases" of Antoniou, Edwards & Storkey, "How to train your MAML"
    (MAML++, arXiv 1810.09502, Sec. 4): every inner step gets its own batch-norm scales and
    offsets. The forward pass at the parameters ``theta_s`` (``s`` inner steps taken) uses the
    ``s``-th set for ``s < inner_steps`` and the encoder's own scales and offsets from
    ``s = inner_steps`` on: at meta-training that is the query pass (MAML++'s code shares the
    last support step's set with it; a set of its own here, so the exported encoder carries the
    set the adapted learner is evaluated with), and at meta-test the extra steps beyond
    ``inner_steps`` and the query pass share it. All sets are meta-learned, none adapted in the
    inner loop (as MAML++; so ``adapt_batch_norm`` must stay False), and all start equal to the
    encoder's. The support steps' sets act on the query loss only through the inner
    gradients, so they get a meta-gradient from second-order MAML only (``first_order=True``
    leaves them at their start). Normalization still uses the current batch's statistics;
    MAML++'s per-step running statistics are not kept: learn2learn's ``MetaBatchNorm`` (adapted
    from the official MAML++ code) collects them but normalizes with the batch in every pass,
    at meta-test too, so they would never be read.

    Under ``tf.distribute`` each replica adapts its share of the meta-batch's episodes (see
    :class:`~tfless.methods.fewshot.fast_weights.FastWeightMethod`); the encoder's batch norm
    must not be synchronized (each episode has its own statistics).

    Args:
      encoder: the built feature network ``[B, H, W, C] -> [B, D]`` (Conv-4 in the paper).
      ways: N of the episodes (the head's outputs).
      inner_steps: gradient steps on the support set during meta-training.
      inner_lr: the inner step size alpha.
      test_inner_steps: steps in :meth:`episode_logits` (meta-test).
      first_order: first-order MAML (no second derivatives).
      adapt_batch_norm: adapt batch-norm scales and offsets in the inner loop.
      per_step_batch_norm: a set of batch-norm scales and offsets per inner step (MAML++).
      name: Keras model name.
    """

    def __init__(
        self,
        encoder: keras.Model,
        ways: int = 5,
        inner_steps: int = 1,
        inner_lr: float = 0.4,
        test_inner_steps: int = 10,
        first_order: bool = False,
        adapt_batch_norm: bool = False,
        per_step_batch_norm: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        if per_step_batch_norm and adapt_batch_norm:
            raise ValueError(
                "MAML per_step_batch_norm=True meta-learns one set of batch-norm scales and "
                "offsets per inner step and adapts none of them; got adapt_batch_norm=True too. "
                "Set one of them to False."
            )
        super().__init__(encoder, ways, adapt_batch_norm, "MAML", name=name, **kwargs)
        self.inner_steps = positive(inner_steps, "inner_steps", "MAML")
        self.inner_lr = positive(inner_lr, "inner_lr", "MAML", float)
        self.test_inner_steps = positive(test_inner_steps, "test_inner_steps", "MAML")
        self.first_order = bool(first_order)
        self.per_step_batch_norm = bool(per_step_batch_norm)
        twice_differentiable_batch_norm(encoder)
        #: ``{parameter index: [inner_steps, *shape] variable}`` of the per-step sets.
        self.step_norms = self._build_step_norms() if self.per_step_batch_norm else {}
        self.built = True

    def _build_step_norms(self) -> dict:
        """One ``[inner_steps, *shape]`` copy of every batch-norm scale and offset, starting
        at the encoder's values."""
        out = {}
        variables = self.learner.parameter_variables()
        for index, (v, adapted) in enumerate(zip(variables, self.learner.adapted)):
            if adapted:
                continue
            start = np.broadcast_to(v.numpy(), (self.inner_steps, *v.shape))
            out[index] = self.add_weight(
                shape=start.shape,
                initializer=keras.initializers.Constant(start.copy()),
                dtype=v.dtype,
                name="step_" + v.path.split("/")[-1],
            )
        return out

    def at_step(self, params, step: int) -> list:
        """``params`` with the batch-norm scales and offsets of the forward pass after
        ``step`` inner steps (unchanged without ``per_step_batch_norm``, or from
        ``step >= inner_steps`` on)."""
        if not self.step_norms or step >= self.inner_steps:
            return params
        norms = self.step_norms
        return [norms[i][step] if i in norms else p for i, p in enumerate(params)]

    def adapt(self, support_image, support_label, steps: int, *, second_order: bool = False):
        """Parameters adapted to one episode's support set by ``steps`` gradient steps.

        Args:
          support_image: ``[N*K, H, W, C]``; support_label: int ``[N*K]``.
          steps: inner gradient steps.
          second_order: keep the inner gradients differentiable (meta-training of
            second-order MAML); otherwise they are constants.

        Returns:
          the adapted parameter list (see
          :class:`~tfless.methods.fewshot.fast_weights.FastWeightLearner`).
        """
        learner = self.learner
        params = learner.parameters()
        state = learner.initial_state()
        for step in range(int(steps)):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(params)
                stepped = self.at_step(params, step)
                logits, _ = learner.logits(stepped, state, support_image, training=True)
                loss = fs.episode_cross_entropy(support_label, logits)
            # Parameters the step does not read (per-step batch norm) get zero gradients.
            grads = tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            if not second_order:
                grads = [tf.stop_gradient(g) for g in grads]
            params = [
                p - self.inner_lr * g if adapted else p
                for p, g, adapted in zip(params, grads, learner.adapted)
            ]
        return params

    def query_logits(self, support_image, support_label, query_image, training: bool):
        """Query logits after ``inner_steps`` (meta-training, second order unless
        ``first_order``) or ``test_inner_steps`` steps; batch statistics of the query set."""
        steps = self.inner_steps if training else self.test_inner_steps
        second_order = bool(training) and not self.first_order
        params = self.adapt(support_image, support_label, steps, second_order=second_order)
        logits, _ = self.learner.logits(
            self.at_step(params, steps), self.learner.initial_state(), query_image, training=True
        )
        return logits
