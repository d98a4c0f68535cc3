"""MR-GAN stages run from a config (``configs/mrgan/cifar_da4.py``): the config-reading side
of :mod:`tfless.methods.generative.mrgan`, kept out of the method package, whose classes and
functions never receive config objects."""

from __future__ import annotations

import dataclasses
import os

from tfless.data.synthetic_digits import folder_pair
from tfless.methods.generative.mrgan import (
    STAGES,
    StageError,
    StageSettings,
    check_previous_stage,
    real_only_accuracy,
    run_stage,
)
from tfless.train.callbacks import write_json_atomic


def settings_from_config(config) -> StageSettings:
    """The :class:`StageSettings` of a config's ``mrgan`` section (``train.seed`` as seed).

    Raises:
      ValueError: the section names a field :class:`StageSettings` does not have.
    """
    section = dict(config.mrgan)
    fields = {f.name for f in dataclasses.fields(StageSettings)}
    own = {"synthetic_dir", "max_synthetic", "stages"}
    unknown = sorted(set(section) - fields - own)
    if unknown:
        raise ValueError(f"Unknown mrgan settings {unknown}; expected some of {sorted(fields)}.")
    kwargs = {k: v for k, v in section.items() if k in fields}
    kwargs["classifier_widths"] = tuple(kwargs.get("classifier_widths", (32, 64, 128)))
    return StageSettings(**{**kwargs, "seed": int(config.train.get("seed", 0))})


def run_stages_from_config(config, workdir: str, stages=STAGES) -> dict:
    """Runs MR-GAN ``stages`` on a config's folders (e.g. ``configs/mrgan/cifar_da4.py``).

    The real domain is ``config.data.dataset`` (``'folder:/path'``), the synthetic one
    ``config.mrgan.synthetic_dir``; ``data.labels_per_class`` real labels per class,
    ``data.image_size`` x ``data.channels`` images. Running stage 0 also trains the
    real-only classifier and writes its accuracy to ``workdir/real_only.json``.

    Returns:
      ``{"real_only": accuracy (when stage 0 ran), "stage_<n>": metrics}``.

    Raises:
      StageError: before any training, for folders that are missing, empty or disagree
        on their classes, an unknown ``mrgan`` setting, stages out of order, or a first
        stage whose previous stage's files are not in ``workdir``.
    """
    dataset = str(config.data.dataset)
    if not dataset.startswith("folder:") or not config.mrgan.get("synthetic_dir"):
        raise StageError(
            "MR-GAN from a config reads two folders: data.dataset='folder:/real/images' and "
            f"mrgan.synthetic_dir='/rendered/images'; got {dataset!r} and "
            f"{config.mrgan.get('synthetic_dir')!r}."
        )
    stages = sorted(int(s) for s in stages)
    if not stages or stages != list(range(stages[0], stages[-1] + 1)):
        raise StageError(f"MR-GAN stages run in order without gaps; got {stages}.")
    # Refused before the folders are read: the first stage's inputs must exist.
    check_previous_stage(workdir, stages[0])
    try:  # a bad section or folder is the config's mistake, found before any training
        settings = settings_from_config(config)
        pair = folder_pair(
            config.mrgan.synthetic_dir,
            dataset[len("folder:") :],
            int(config.data.labels_per_class),
            image_size=int(config.data.image_size),
            channels=int(config.data.channels),
            seed=settings.seed,
            max_synthetic=config.mrgan.get("max_synthetic"),
        )
    except ValueError as e:
        raise StageError(str(e)) from e
    out = {}
    os.makedirs(workdir, exist_ok=True)
    for stage in stages:
        if stage == 0:
            out["real_only"] = real_only_accuracy(pair, settings)
            path = os.path.join(workdir, "real_only.json")
            write_json_atomic(path, {"test_accuracy": out["real_only"]})
        out[f"stage_{stage}"] = run_stage(stage, workdir, pair, settings)
    return out
