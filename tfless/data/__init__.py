"""Datasets, label splits and synthetic data."""

from tfless.data.datasets import (
    BUILTIN_DATASETS,
    TFDS_DATASETS,
    DatasetInfo,
    available,
    builtin_arrays,
    digits_arrays,
    get_info,
    labels_of,
    load,
    mnist5k_arrays,
)
from tfless.data.splits import imbalanced_indices, labeled_unlabeled_split, select, split_hash

__all__ = [
    "BUILTIN_DATASETS",
    "TFDS_DATASETS",
    "DatasetInfo",
    "available",
    "builtin_arrays",
    "digits_arrays",
    "get_info",
    "imbalanced_indices",
    "labeled_unlabeled_split",
    "labels_of",
    "load",
    "mnist5k_arrays",
    "select",
    "split_hash",
]
