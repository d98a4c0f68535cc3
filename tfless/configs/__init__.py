"""Config schema builders shared by ``configs/<method>/<dataset>.py``, and :func:`load_config`.

A config file imports the builders of its family and sets the values of its paper::

    from tfless.configs import common, semi

    def get_config(arg=None):
        labels, smoke = common.parse_labels_arg(arg, default_labels=25)
        c = semi.semi_config("fixmatch", {...}, labels=labels, mu=7, unlabeled_views=...)
        semi.wrn_recipe(c, "cifar10")
        ...
        return common.locked(c)

Modules: ``common`` (arg parsing, the supervised digits schema every config starts from,
smoke sizes), ``supervised`` (the Wide ResNet recipe of the semi-supervised benchmarks),
``semi``, ``contrastive``, ``pretext``, ``augment``, ``fewshot``, ``sla``, ``transfer`` (BiT
and its HyperRule) (one builder per family).
Python callers load any config by path with ``load_config("configs/x/y.py:arg")``.
"""

from tfless.configs.loader import load_config

__all__ = ["load_config"]
