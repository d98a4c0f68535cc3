r"""Learned-augmentation searches on a reduced digits split, writing what they find.

  python -m tfless.cli.augment_search --mode=autoaugment --output_dir=DIR \
      [--num_policies=60] [--policies_per_update=4] [--child_steps=300] [--seed=0]
  python -m tfless.cli.augment_search --mode=randaugment_sweep --output_dir=DIR \
      [--grid_n=1,2,3] [--grid_m=1,3,5,7,9] [--repeats=1]
  python -m tfless.cli.augment_search --mode=tanda --output_dir=DIR [--tanda_steps=300]

Outputs in ``DIR``:
  autoaugment        ``policy.json`` (the final policy in the published format plus the
                     search history); use it with the ``autoaugment`` view
                     (``data.augment_kwargs.policy=DIR/policy.json``).
  randaugment_sweep  ``randaugment_sweep.json`` and ``randaugment_sweep.md`` (N x M table
                     of validation accuracy).
  tanda              ``tanda_generator.json``: the trained TF-sequence generator, used by
                     the ``tanda`` view (``data.augment_kwargs.path=...``).

Children are small ConvNets trained on ``--labels_per_class`` labeled 16x16 digits and
scored on ``--num_validation`` held-out training images (never the test split).
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from tfless.cli import _env  # noqa: F401  (before TensorFlow loads)
from tfless.cli._app import run_app

MODES = ("autoaugment", "randaugment_sweep", "tanda")

_MODE = flags.DEFINE_enum("mode", None, list(MODES), "Which search to run.")
_OUTPUT = flags.DEFINE_string("output_dir", None, "Directory for the results.")
_LPC = flags.DEFINE_integer("labels_per_class", 10, "Labeled child-training digits per class.")
_NUM_VAL = flags.DEFINE_integer("num_validation", 300, "Held-out training digits for rewards.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", 16, "Digit image side.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the split, the controller and the children.")
_CHILD_STEPS = flags.DEFINE_integer("child_steps", 300, "Optimizer steps per child model.")
_CHILD_BATCH = flags.DEFINE_integer("child_batch_size", 32, "Child batch size.")
_CHILD_LR = flags.DEFINE_float("child_learning_rate", 3e-3, "Child Adam learning rate.")
_NUM_POLICIES = flags.DEFINE_integer("num_policies", 60, "AutoAugment: policies sampled.")
_PER_UPDATE = flags.DEFINE_integer("policies_per_update", 4, "AutoAugment: per update.")
_CONTROLLER_LR = flags.DEFINE_float(
    "controller_learning_rate", 0.00035, "AutoAugment/TANDA: controller (generator) Adam lr."
)
_OPS = flags.DEFINE_list(
    "ops", None, "Op names to search over (default: the search's own list, all 16 ops)."
)
_TOP_K = flags.DEFINE_integer("top_k", 5, "AutoAugment: best policies concatenated.")
_GRID_N = flags.DEFINE_list("grid_n", ["1", "2", "3"], "RandAugment sweep: values of N.")
_GRID_M = flags.DEFINE_list("grid_m", ["1", "3", "5", "7", "9"], "RandAugment sweep: M.")
_REPEATS = flags.DEFINE_integer("repeats", 1, "RandAugment sweep: children per cell.")
_TANDA_STEPS = flags.DEFINE_integer("tanda_steps", 300, "TANDA: adversarial steps.")
_TANDA_LENGTH = flags.DEFINE_integer("tanda_length", 5, "TANDA: TFs per sequence.")
flags.mark_flags_as_required(["mode", "output_dir"])


def _log(line: str) -> None:
    print(line, flush=True)


def _write_json(path, record):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from tfless.methods.augment import child

    os.makedirs(_OUTPUT.value, exist_ok=True)
    data = child.reduced_digits(
        _LPC.value, _NUM_VAL.value, image_size=_IMAGE_SIZE.value, seed=_SEED.value
    )
    run = {"autoaugment": _autoaugment, "randaugment_sweep": _sweep, "tanda": _tanda}
    run[_MODE.value](data)


def _child_kwargs() -> dict:
    return dict(
        child_steps=_CHILD_STEPS.value,
        child_batch_size=_CHILD_BATCH.value,
        child_learning_rate=_CHILD_LR.value,
        seed=_SEED.value,
    )


def _autoaugment(data) -> None:
    from tfless.augment.policies import save_policy
    from tfless.augment.search_space import SearchSpace
    from tfless.methods.augment.autoaugment_search import autoaugment_search

    space = SearchSpace(ops=tuple(_OPS.value)) if _OPS.value else None
    result = autoaugment_search(
        data,
        space=space,
        num_policies=_NUM_POLICIES.value,
        policies_per_update=_PER_UPDATE.value,
        learning_rate=_CONTROLLER_LR.value,
        top_k=_TOP_K.value,
        log=_log,
        **_child_kwargs(),
    )
    path = os.path.join(_OUTPUT.value, "policy.json")
    save_policy(
        path,
        result.policy,
        source="tfless AutoAugment search on reduced digits",
        flags=_flag_record(),
        no_augmentation_reward=result.baseline_reward,
        best_rewards=sorted((h["reward"] for h in result.history), reverse=True)[:10],
        seconds=round(result.seconds, 1),
        history=result.history,
    )
    print(f"wrote {path}: {len(result.policy)} sub-policies in {result.seconds:.0f} s")


def _sweep(data) -> None:
    from tfless.methods.augment.randaugment_sweep import randaugment_sweep, sweep_markdown

    rows = randaugment_sweep(
        data,
        num_layers=[int(n) for n in _GRID_N.value],
        magnitudes=[float(m) for m in _GRID_M.value],
        repeats=_REPEATS.value,
        log=_log,
        **({"ops_list": tuple(_OPS.value)} if _OPS.value else {}),
        **_child_kwargs(),
    )
    _write_json(
        os.path.join(_OUTPUT.value, "randaugment_sweep.json"),
        {"rows": rows, "flags": _flag_record()},
    )
    best = rows[0]
    text = (
        "# RandAugment N x M sweep (validation accuracy %, reduced digits)\n\n"
        f"{sweep_markdown(rows)}\nBest: N={best['num_layers']}, M={best['magnitude']:g} "
        f"({100 * best['val_accuracy']:.1f}%).\n"
    )
    with open(os.path.join(_OUTPUT.value, "randaugment_sweep.md"), "w") as f:
        f.write(text)
    print(text)


def _tanda(data) -> None:
    from tfless.augment.tanda import TANDA_MAGNITUDES
    from tfless.methods.augment.tanda import save_generator, train_tanda

    # --ops replaces the default TF list's ops, each at the default list's magnitudes.
    transforms = [(n, float(m)) for n in _OPS.value for m in TANDA_MAGNITUDES]
    generator, history = train_tanda(
        data["x_train"],
        steps=_TANDA_STEPS.value,
        sequence_length=_TANDA_LENGTH.value,
        **({"transforms": transforms} if _OPS.value else {}),
        generator_learning_rate=_CONTROLLER_LR.value,
        seed=_SEED.value,
        log=_log,
    )
    path = os.path.join(_OUTPUT.value, "tanda_generator.json")
    save_generator(path, generator, history=history, flags=_flag_record())
    print(f"wrote {path}")


def _flag_record() -> dict:
    names = [
        f.name
        for f in (_MODE, _LPC, _NUM_VAL, _IMAGE_SIZE, _SEED, _CHILD_STEPS, _CHILD_BATCH, _CHILD_LR)
    ]
    names += [f.name for f in (_NUM_POLICIES, _PER_UPDATE, _CONTROLLER_LR, _TOP_K, _OPS)]
    names += [f.name for f in (_GRID_N, _GRID_M, _REPEATS, _TANDA_STEPS, _TANDA_LENGTH)]
    return {n: flags.FLAGS[n].value for n in names}


def run():
    """Console-script entry point."""
    run_app(main, __name__)


if __name__ == "__main__":
    run()
