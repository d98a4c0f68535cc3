"""Training: ``train_and_evaluate``, strategies, optimizers, callbacks."""

from tfless.train.optimizers import OPTIMIZERS, SCHEDULES, WarmupSchedule, make_optimizer
from tfless.train.strategy import STRATEGIES, make_strategy, split_cpu
from tfless.train.trainer import ConfigError, TrainResult, restore_method, train_and_evaluate

__all__ = [
    "ConfigError",
    "OPTIMIZERS",
    "SCHEDULES",
    "STRATEGIES",
    "TrainResult",
    "WarmupSchedule",
    "make_optimizer",
    "make_strategy",
    "restore_method",
    "split_cpu",
    "train_and_evaluate",
]
