"""LARS: layer-wise adaptive rate scaling (You, Gitman & Ginsburg 2017), as SimCLR uses it."""

from __future__ import annotations

import keras
from keras import ops

#: Variables whose name contains one of these get neither weight decay nor the trust
#: ratio (SimCLR excludes batch norm and biases; Chen et al. 2020, Sec. B.1 / its code).
DEFAULT_EXCLUDE = ("bias", "gamma", "beta")


@keras.saving.register_keras_serializable(package="tfless")
class LARS(keras.optimizers.Optimizer):
    """SGD with momentum whose step for each weight tensor is scaled by a trust ratio.

    For a variable ``w`` with gradient ``g`` (Chen et al. 2020, SimCLR code base;
    You et al. 2017, arXiv:1708.03888)::

        g     <- g + weight_decay * w                  (coupled L2; not for excluded vars)
        ratio  = eeta * ||w|| / ||g||                  (1 when either norm is 0, or excluded)
        v     <- momentum * v + learning_rate * ratio * g
        w     <- w - v            (nesterov: w - (momentum * v + learning_rate * ratio * g))

    Batch-norm parameters and biases (1-D variables, or names containing
    ``exclude``) get neither the weight decay nor the adaptation, as in SimCLR.
    SimCLR's recipe: learning rate ``0.3 * batch / 256`` (4.8 at batch 4096),
    momentum 0.9, weight decay 1e-6, eeta 0.001, linear warmup (10 epochs) then
    cosine decay (Sec. B.1).

    Args:
      learning_rate: float or schedule (0.3: SimCLR at batch 256).
      momentum: heavy-ball momentum in [0, 1).
      weight_decay: coupled L2 coefficient (added to the gradient before the ratio).
      eeta: trust coefficient.
      nesterov: Nesterov momentum.
      exclude: name fragments of variables that skip decay and adaptation.
      **kwargs: other ``keras.optimizers.Optimizer`` arguments (``clipnorm``,
        ``use_ema``...). ``exclude_from_weight_decay`` also works and adds to ``exclude``
        for the decay.
    """

    def __init__(
        self,
        learning_rate=0.3,
        momentum: float = 0.9,
        weight_decay: float | None = 1e-6,
        eeta: float = 0.001,
        nesterov: bool = False,
        exclude=DEFAULT_EXCLUDE,
        name: str = "lars",
        **kwargs,
    ):
        # The base class's weight decay is decoupled; LARS's is coupled, so it is kept here.
        kwargs.pop("weight_decay", None)
        super().__init__(learning_rate=learning_rate, weight_decay=None, name=name, **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"LARS momentum must be in [0, 1); got {momentum!r}.")
        if weight_decay is not None and weight_decay < 0:
            raise ValueError(f"LARS weight_decay must be >= 0; got {weight_decay!r}.")
        if not eeta > 0:
            raise ValueError(f"LARS eeta must be > 0; got {eeta!r}.")
        self.momentum = float(momentum)
        self.lars_weight_decay = float(weight_decay or 0.0)
        self.eeta = float(eeta)
        self.nesterov = bool(nesterov)
        self.exclude = tuple(exclude or ())
        self.exclude_from_weight_decay(var_names=list(self.exclude) or None)

    def _excluded(self, variable) -> bool:
        return len(variable.shape) <= 1 or any(p in variable.path for p in self.exclude)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.velocities = [self.add_variable_from_reference(v, name="velocity") for v in var_list]
        self._adapt = [not self._excluded(v) for v in var_list]
        self._decay = [
            bool(self.lars_weight_decay) and a and self._use_weight_decay(v)
            for v, a in zip(var_list, self._adapt, strict=True)
        ]

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        if self._decay[i]:
            g = g + self.lars_weight_decay * variable
        if self._adapt[i]:
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            g_norm = ops.sqrt(ops.sum(ops.square(g)))
            ratio = ops.where(
                ops.logical_and(w_norm > 0, g_norm > 0),
                self.eeta * w_norm / ops.maximum(g_norm, 1e-12),
                ops.ones_like(w_norm),
            )
            lr = lr * ratio
        v = self.velocities[i]
        next_v = self.momentum * v + lr * g
        self.assign(v, next_v)
        update = self.momentum * next_v + lr * g if self.nesterov else next_v
        self.assign_sub(variable, update)

    def get_config(self):
        config = super().get_config()
        config.update(
            momentum=self.momentum,
            weight_decay=self.lars_weight_decay,
            eeta=self.eeta,
            nesterov=self.nesterov,
            exclude=list(self.exclude),
        )
        return config
