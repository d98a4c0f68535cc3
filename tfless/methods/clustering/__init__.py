"""Clustering methods; ``CLUSTERING_METHODS`` is merged into ``tfless.methods.METHODS``."""

from tfless.methods.clustering.deepcluster import DeepCluster
from tfless.methods.clustering.deepcluster_callback import DeepClusterCallback

CLUSTERING_METHODS: dict = {
    "deepcluster": DeepCluster,
}

__all__ = ["CLUSTERING_METHODS", "DeepCluster", "DeepClusterCallback"]
