"""Distribution strategies by name: none, mirrored, multiworker, tpu."""

from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("none", "mirrored", "multiworker", "tpu")


def split_cpu(num_devices: int) -> None:
    """Splits the host CPU into ``num_devices`` logical devices (for MirroredStrategy on CPU).

    Must run before TensorFlow initializes its runtime; raises ``RuntimeError`` otherwise.
    """
    if num_devices < 1:
        raise ValueError(f"num_devices must be >= 1; got {num_devices!r}.")
    # Listing logical devices initializes the runtime, after which the CPU can no longer
    # be split: configure first and look at the logical devices only when that fails.
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices
        )
    except RuntimeError as e:
        logical = tf.config.list_logical_devices("CPU")
        if len(logical) == num_devices:
            return
        raise RuntimeError(
            f"Cannot split the CPU into {num_devices} devices: TensorFlow is already initialized "
            f"with {len(logical)} logical CPU device(s). Split before any TF op runs."
        ) from e


_KEY_STRIDE = 10_000


def fresh_collective_keys() -> None:
    """Gives the next ``MirroredStrategy`` collective keys no earlier instance used.

    Every ``MirroredStrategy`` starts its collective group/instance keys from the class
    attribute ``_collective_key_base`` (0 in TF 2.21), so a second strategy in the same
    process reuses the first one's keys; collective all-reduces (synchronized batch norm,
    cross-replica gathers) of different shapes then abort with "Shape mismatch in the
    collective instance". Moving the base on for each new strategy avoids the clash.
    """
    tf.distribute.MirroredStrategy._collective_key_base += _KEY_STRIDE


def make_strategy(name: str, devices: list[str] | None = None) -> tf.distribute.Strategy:
    """Builds a ``tf.distribute`` strategy.

    Args:
      name: ``'none'`` (default strategy, one device), ``'mirrored'`` (all local GPUs, or
        all logical CPUs when there is no GPU, or ``devices``), ``'multiworker'``
        (``MultiWorkerMirroredStrategy`` configured by the ``TF_CONFIG`` environment
        variable), ``'tpu'`` (``TPUStrategy`` on the TPU found by the cluster resolver).
      devices: explicit device list for ``'mirrored'``.
    """
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}. Expected one of {list(STRATEGIES)}.")
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if devices is None and not tf.config.list_logical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        fresh_collective_keys()
        return tf.distribute.MirroredStrategy(devices)
    if name == "multiworker":
        tf_config = os.environ.get("TF_CONFIG")
        if not tf_config:
            raise ValueError(
                "strategy='multiworker' needs the TF_CONFIG environment variable "
                '(e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, '
                '"task": {"type": "worker", "index": 0}}); it is not set.'
            )
        try:
            parsed = json.loads(tf_config)
            parsed["cluster"]["worker"]
            parsed["task"]["index"]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(
                f"TF_CONFIG is not valid JSON with cluster.worker and task.index: {tf_config!r}"
            ) from e
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def is_multiworker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that writes checkpoints, logs and results."""
    if not is_multiworker(strategy):
        return True
    resolver = strategy.cluster_resolver
    return resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker"
        and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict()
    )


def worker_index(strategy: tf.distribute.Strategy) -> int:
    return int(strategy.cluster_resolver.task_id) if is_multiworker(strategy) else 0
