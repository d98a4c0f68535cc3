"""Datasets, label splits, synthetic data and the training input pipelines.

``tfless.data.pipelines.build_data`` turns ``config.data`` into the batched, augmented
training stream and the test batches (it applies the view builders of
``tfless.augment.views``).
"""

from tfless.data.arrays import to_arrays
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
from tfless.data.splits import (
    imbalanced_indices,
    labeled_unlabeled_split,
    select,
    split_hash,
    validate_labeled_split,
)

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
    "to_arrays",
    "validate_labeled_split",
]
