"""Few-shot methods: episodic meta-learners and the pre-training baselines.

Every class follows :mod:`tfless.methods.base` and defines
``episode_logits(support_image, support_label, query_image, ways, training=False)`` ->
query logits ``[E, N*Q, N]``, which :mod:`tfless.evaluation.fewshot` turns into N-way
K-shot accuracy on novel classes.
"""

from __future__ import annotations

from tfless.methods.fewshot.baseline import Baseline, BaselinePP
from tfless.methods.fewshot.episodic import EpisodicMethod
from tfless.methods.fewshot.maml import MAML
from tfless.methods.fewshot.mann import MANN
from tfless.methods.fewshot.matching_net import MatchingNet
from tfless.methods.fewshot.meta_lstm import MetaLSTM
from tfless.methods.fewshot.protonet import ProtoNet
from tfless.methods.fewshot.snail import SNAIL

FEWSHOT_METHODS = {
    "protonet": ProtoNet,
    "matching_net": MatchingNet,
    "baseline": Baseline,
    "baseline_pp": BaselinePP,
    "mann": MANN,
    "snail": SNAIL,
    "maml": MAML,
    "meta_lstm": MetaLSTM,
}

__all__ = [
    "FEWSHOT_METHODS",
    "MAML",
    "MANN",
    "SNAIL",
    "Baseline",
    "BaselinePP",
    "EpisodicMethod",
    "MatchingNet",
    "MetaLSTM",
    "ProtoNet",
]
