r"""``tfless-train``: train and evaluate a method from an ml_collections config.

  tfless-train --config=configs/supervised/digits.py[:arg] --workdir=DIR \
      [--config.train.steps=500] [--strategy=none|mirrored|multiworker|tpu] [--cpu_devices=2]

Starting the same command again after an interruption resumes from the last checkpoint.
A config whose ``mrgan.stages`` is set (``configs/mrgan/cifar_da4.py:stages``) runs those
MR-GAN stages instead (``tfless.train.mrgan_stages``).
"""

from __future__ import annotations

import json

from absl import app, flags
from ml_collections import config_flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import fail, run_app

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


@flags.validator("config")
def _config_loads(config) -> bool:
    # A config file that is missing or refuses its arg is otherwise only reported, with a
    # traceback, when the trainer first reads a field; checked with the flags it is a
    # usage error, before TensorFlow loads. ml_collections puts the file's traceback in
    # the message: its last line says what went wrong.
    try:
        return config.train is not None
    except (OSError, ValueError, KeyError) as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        fail(f"--config: {lines[-1] if lines else type(e).__name__}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from tfless.train import ConfigError, split_cpu, train_and_evaluate
    from tfless.train.guards import NonFiniteLoss

    if _CPU_DEVICES.value:
        split_cpu(_CPU_DEVICES.value)
    if _mrgan_stages(_CONFIG.value):
        print(json.dumps(_run_mrgan_stages(_CONFIG.value), indent=2, sort_keys=True))
        return
    try:
        result = train_and_evaluate(_CONFIG.value, _WORKDIR.value, strategy=_STRATEGY.value)
    except ConfigError as e:
        # Config, data and workdir mistakes surface before the first step: one line, status 2.
        fail(str(e))
    except NonFiniteLoss as e:
        # The run diverged: the message names the step and loss and the checkpoint kept.
        fail(str(e), status=1)
    print(json.dumps(result.metrics, indent=2, sort_keys=True))


def _mrgan_stages(config) -> tuple:
    """The MR-GAN stages a config asks for (``mrgan.stages``), else ``()``."""
    section = config.get("mrgan")
    return tuple(section.get("stages") or ()) if section is not None else ()


def _run_mrgan_stages(config) -> dict:
    """MR-GAN stages (:func:`tfless.train.mrgan_stages.run_stages_from_config`); a folder
    or settings mistake is one error line and status 2, before any training."""
    from tfless.methods.generative.mrgan import StageError
    from tfless.train.mrgan_stages import run_stages_from_config

    if _STRATEGY.value not in (None, "none") or _CPU_DEVICES.value:
        fail("MR-GAN stages train on one device; drop --strategy and --cpu_devices.")
    try:
        return run_stages_from_config(config, _WORKDIR.value, _mrgan_stages(config))
    except StageError as e:
        fail(str(e))


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()
