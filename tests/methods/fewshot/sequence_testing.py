"""Shared by the MANN and SNAIL tests: raw-pixel encoders and "learns on novel classes"."""

import keras
import numpy as np

from tfless.data import digits_arrays
from tfless.data.episodes import EpisodeSampler, episode_batch

BASE = 5  # digits 0-4 are the base classes, 5-9 the novel ones


def pixels() -> keras.Model:
    """The MANN paper's input: raw pixels of the 8x8 digits, flattened (64-d)."""
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])


def novel_accuracy_after_meta_training(method, *, ways: int, lr: float, steps: int) -> float:
    """Meta-trains ``method`` on ``ways``-way 2-shot episodes of digits 0-4 (8 per meta-batch,
    ``steps`` steps in 3 epochs, its loss must fall) and returns its query accuracy on 30
    ``ways``-way 2-shot episodes of the novel digits 5-9 (10 queries per class)."""
    x, y = digits_arrays("train")
    train = EpisodeSampler(x[y < BASE], y[y < BASE], ways=ways, shots=2, queries=5).dataset(8)
    method.compile(optimizer=keras.optimizers.Adam(lr), jit_compile=False)
    hist = method.fit(train, steps_per_epoch=steps // 3, epochs=3, verbose=0).history
    assert hist["loss"][-1] < hist["loss"][0], hist
    xt, yt = digits_arrays("test")
    novel = episode_batch(
        xt[yt >= BASE], yt[yt >= BASE], ways=ways, shots=2, queries=10, episodes=30, seed=1
    )
    logits = method.episode_logits(
        novel["support_image"], novel["support_label"], novel["query_image"], ways
    )
    return float(np.mean(np.argmax(logits, -1) == novel["query_label"]))
