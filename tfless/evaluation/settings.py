"""The parameters of the evaluation protocols, defined once.

The trainer's end-of-run evaluation, ``tfless-eval`` and the model zoo all use
:data:`DEFAULTS` unless a caller passes other settings, e.g.
``dataclasses.replace(DEFAULTS, knn_k=20)``.
"""

from __future__ import annotations

import dataclasses

#: Protocol names of :func:`tfless.evaluation.evaluate_encoder`.
PROTOCOLS = ("accuracy", "linear", "knn", "few_label", "finetune", "plot", "fewshot")


@dataclasses.dataclass(frozen=True)
class ProtocolSettings:
    """Parameters of the protocols run by :func:`tfless.evaluation.evaluate_encoder`.

    Attributes:
      knn_k: neighbours that vote in the weighted kNN, capped at the training-set size.
        200, the value of Wu, Xiong, Yu & Lin 2018, "Unsupervised Feature Learning via
        Non-Parametric Instance Discrimination" (arXiv:1805.01978, Sec. 3.4).
      knn_temperature: tau of the ``exp(s / tau)`` vote weights; 0.1, same paper.
      probe_c: inverse L2 strength (sklearn's ``C``) of the logistic-regression probe on
        standardised features; 1.0, sklearn's default, which standardisation makes
        suitable for encoders of any feature scale.
      probe_max_iter: L-BFGS iterations of the probe.
      few_label_per_class: labels per class of the few-label probes, one probe per
        entry (class-balanced, seeded). With all labels a probe on the digits saturates
        even for a random encoder; 10 per class tells encoders apart.
      finetune_fractions: label fractions of the fine-tuning protocol: 1%, 10% and 100%,
        as in Zhai, Oliver, Kolesnikov & Beyer 2019, "S4L: Self-Supervised
        Semi-Supervised Learning" (arXiv:1905.03670) and Chen et al. 2020, "A Simple
        Framework for Contrastive Learning of Visual Representations" (arXiv:2002.05709,
        Sec. 4.2).
      finetune_steps: Adam steps per fraction.
      finetune_batch_size: fine-tuning batch size (capped at the subset size).
      finetune_learning_rate: Adam learning rate of the fine-tuning.
      finetune_precise_bn: after fine-tuning, recompute batch-norm statistics on the
        labeled subset (see :func:`tfless.evaluation.finetuning.recompute_batch_norm`).
      fewshot_ways: N of the ``fewshot`` protocol's test episodes (5 in every paper).
      fewshot_shots: K values, one evaluation each (1 and 5 in every paper).
      fewshot_queries: query images per class (15, as in Chen et al. 2019, "A Closer Look
        at Few-shot Classification", arXiv:1904.04232, and the papers it re-implements).
      fewshot_episodes: episodes averaged (600, same papers).
      fewshot_heads: heads on frozen features (``protonet``, ``baseline``,
        ``baseline_pp``; see :mod:`tfless.evaluation.fewshot`).
      fewshot_rotations: the test classes' 90/180/270-degree rotations count as classes
        (Omniglot's protocol).
      seed: seed of the label subsets, the fine-tuned head, the t-SNE and the episodes.
      batch_size: images per forward pass (feature extraction, classifier accuracy).
    """

    knn_k: int = 200
    knn_temperature: float = 0.1
    probe_c: float = 1.0
    probe_max_iter: int = 1000
    few_label_per_class: tuple[int, ...] = (10,)
    finetune_fractions: tuple[float, ...] = (0.01, 0.1, 1.0)
    finetune_steps: int = 300
    finetune_batch_size: int = 64
    finetune_learning_rate: float = 1e-3
    finetune_precise_bn: bool = True
    fewshot_ways: int = 5
    fewshot_shots: tuple[int, ...] = (1, 5)
    fewshot_queries: int = 15
    fewshot_episodes: int = 600
    fewshot_heads: tuple[str, ...] = ("protonet", "baseline", "baseline_pp")
    fewshot_rotations: bool = False
    seed: int = 0
    batch_size: int = 256

    def __post_init__(self):
        positive = {
            "knn_k": self.knn_k,
            "knn_temperature": self.knn_temperature,
            "probe_c": self.probe_c,
            "probe_max_iter": self.probe_max_iter,
            "finetune_steps": self.finetune_steps,
            "finetune_batch_size": self.finetune_batch_size,
            "finetune_learning_rate": self.finetune_learning_rate,
            "batch_size": self.batch_size,
        }
        bad = {k: v for k, v in positive.items() if not v > 0}
        if bad:
            raise ValueError(f"ProtocolSettings {bad} must be > 0.")
        if any(int(n) < 1 for n in self.few_label_per_class):
            raise ValueError(
                f"few_label_per_class must hold counts >= 1; got {self.few_label_per_class!r}."
            )
        if any(not 0 < f <= 1 for f in self.finetune_fractions):
            raise ValueError(
                f"finetune_fractions must lie in (0, 1]; got {self.finetune_fractions!r}."
            )


#: The protocols' published / documented parameters.
DEFAULTS = ProtocolSettings()
