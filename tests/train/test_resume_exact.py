"""A run interrupted after a checkpoint and started again ends with the same weights as
an uninterrupted run: the data stream, its augmentation and the methods' own randomness
resume exactly where they were."""

import os
import shutil

import keras
import pytest
import tensorflow as tf

from tfless.augment import rng
from tfless.configs import load_config
from tfless.data import pipelines
from tfless.methods.base import Method
from tfless.train import train_and_evaluate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(spec, **overrides):
    c = load_config(f"{ROOT}/configs/{spec}")
    with c.unlocked():
        c.train.verbose, c.train.tensorboard = 0, False
        c.update_from_flattened_dict(overrides)
    return c


def test_mixed_unlabeled_stream_resumes_at_any_example():
    parts = [
        ("train", tf.data.Dataset.range(5), 5),
        ("extra", tf.data.Dataset.range(100, 113), None),
    ]
    whole = list(pipelines._mixed_stream(parts, 4, seed=1).take(60).as_numpy_iterator())
    assert set(whole) == set(range(5)) | set(range(100, 113))
    for start in (1, 17, 40):
        rest = pipelines._mixed_stream(parts, 4, seed=1, start=start)
        assert list(rest.take(20).as_numpy_iterator()) == whole[start : start + 20]


def _as_if_killed_after_first_epoch(finished: str, workdir: str) -> None:
    """Copies the finished run ``finished`` to ``workdir`` as a run killed right after its
    first checkpoint had been written: that checkpoint is the newest, no final metrics."""
    shutil.copytree(finished, workdir)
    directory = os.path.join(workdir, "checkpoints")
    first = sorted(
        {f.split(".")[0] for f in os.listdir(directory) if f.startswith("ckpt-")},
        key=lambda name: int(name.split("-")[1]),
    )[0]
    for f in os.listdir(directory):
        if f.startswith("ckpt-") and f.split(".")[0] != first:
            os.remove(os.path.join(directory, f))
    path = os.path.join(directory, first)
    tf.compat.v1.train.update_checkpoint_state(directory, path, [path])
    os.remove(os.path.join(workdir, "metrics.json"))


@pytest.mark.parametrize(
    "spec, overrides",
    [
        # Labeled and unlabeled streams, weak and strong views (RandAugment, Cutout).
        ("fixmatch/digits.py:smoke", {}),
        # SimCLR views, the key queue, the momentum encoder.
        ("moco/digits.py:smoke", {"data.batch_size": 8, "method.kwargs.queue_size": 16}),
        # Random in the step itself: MixUp pairs (shuffle) and coefficients (Beta).
        ("mixmatch/digits.py:smoke", {"data.batch_size": 4}),
    ],
)
def test_interrupted_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path, spec, overrides):
    c = _config(spec, **{"train.steps": 4, "train.eval_every": 2}, **overrides)
    with c.unlocked():
        c.train.keep_checkpoints = 2
        c.eval = c.get("eval") or {}
        c.eval.protocols, c.eval.recompute_bn = (), "false"
    uninterrupted = str(tmp_path / "uninterrupted")
    reference = train_and_evaluate(c, uninterrupted).metrics
    _as_if_killed_after_first_epoch(uninterrupted, str(tmp_path / "resumed"))
    keras.utils.set_random_seed(123)  # a new process starts from another global state
    resumed = train_and_evaluate(c, str(tmp_path / "resumed"))
    assert resumed.manifest["resumed_from_epoch"] == 1
    assert resumed.metrics["steps"] == reference["steps"] == 4
    assert resumed.metrics["weights_digest"] == reference["weights_digest"]


class _Draws(Method):
    """Keeps the draws of its last step (Beta, normal, shuffle, categorical) in a variable."""

    def __init__(self):
        super().__init__(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        self.drawn = self.add_weight(shape=(12,), initializer="zeros", trainable=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        order = tf.cast(rng.shuffle(tf.range(3)), tf.float32)
        picks = tf.cast(rng.categorical(tf.zeros([1, 5]), 3)[0], tf.float32)
        self.drawn.assign(tf.concat([rng.beta([3], 0.5), rng.normal([3]), order, picks], 0))
        return tf.reduce_mean(self.encoder(x["image"]) ** 2)


def _draws_per_step(steps, start=0, extra_global_draws=0):
    keras.utils.set_random_seed(7)  # the run's seed, as the trainer sets it
    tf.random.uniform([extra_global_draws])  # other stateful draws do not matter
    method = _Draws()
    method.compile(optimizer=keras.optimizers.SGD(0.1))
    method.optimizer.build(method.trainable_variables)
    method.optimizer.iterations.assign(start)
    drawn = []
    keep = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: drawn.append(method.drawn.numpy().copy())
    )
    data = tf.data.Dataset.from_tensors({"image": tf.ones([4, 2])}).repeat()
    method.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[keep])
    return drawn


def test_a_steps_draws_depend_on_the_run_seed_and_step_only():
    whole = _draws_per_step(3)
    assert not any((a == b).all() for a, b in zip(whole, whole[1:]))
    resumed = _draws_per_step(1, start=2, extra_global_draws=5)
    assert (resumed[0] == whole[2]).all()


def test_replicas_draw_their_own_numbers_in_a_step(mirrored_strategy):
    seeds = mirrored_strategy.run(_Draws.step_seed, args=(_Draws(),))
    a, b = (s.numpy() for s in mirrored_strategy.experimental_local_results(seeds))
    assert (a != b).any()
