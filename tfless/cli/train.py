"""``tfless-train``: train and evaluate a method from an ml_collections config.

  tfless-train --config=configs/supervised/digits.py[:arg] --workdir=DIR \
      [--config.train.steps=500] [--strategy=none|mirrored|multiworker|tpu] [--cpu_devices=2]

Starting the same command again after an interruption resumes from the last checkpoint.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Path to a config file[:arg].")
_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory (checkpoints, logs, metrics).")
_STRATEGY = flags.DEFINE_enum(
    "strategy",
    None,
    ["none", "mirrored", "multiworker", "tpu"],
    "Distribution strategy; overrides config.train.strategy.",
)
_CPU_DEVICES = flags.DEFINE_integer(
    "cpu_devices", None, "Split the CPU into this many logical devices (for 'mirrored' on CPU)."
)
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from tfless.train import split_cpu, train_and_evaluate

    if _CPU_DEVICES.value:
        split_cpu(_CPU_DEVICES.value)
    config = _CONFIG.value
    result = train_and_evaluate(config, _WORKDIR.value, strategy=_STRATEGY.value)
    print(json.dumps(result.metrics, indent=2, sort_keys=True))


def run():
    app.run(main)


if __name__ == "__main__":
    run()
