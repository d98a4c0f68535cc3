"""MirroredStrategy on two logical CPUs computes what one device computes."""

import keras
import numpy as np

from tests.testing import run_mirrored_equivalence, tiny_encoder
from tfless.methods import Supervised


def test_two_devices_give_the_same_loss_and_update_as_one(mirrored_strategy):
    rng = np.random.RandomState(0)
    batch = {
        "image": rng.uniform(size=(16, 8, 8, 1)).astype("float32"),
        "label": rng.randint(0, 10, size=[16]).astype("int32"),
    }
    one, two, _, _ = run_mirrored_equivalence(
        lambda: Supervised(tiny_encoder(bn_synchronized=True), num_classes=10, weight_decay=5e-4),
        batch,
        mirrored_strategy,
        steps=3,
        optimizer_fn=lambda: keras.optimizers.SGD(0.1, momentum=0.9),
        keys=("xent", "loss"),
    )
    assert two.distribute_strategy.num_replicas_in_sync == 2
    assert one.distribute_strategy.num_replicas_in_sync == 1
