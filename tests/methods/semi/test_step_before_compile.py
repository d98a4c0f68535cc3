"""``SemiMethod.step()`` is 0 before ``compile`` and the optimizer's count after it."""

import keras
import numpy as np
import pytest

from tests.testing import tiny_encoder
from tfless.methods.semi import FixMatch, MeanTeacher, MixMatch


@pytest.mark.parametrize("cls", [FixMatch, MixMatch, MeanTeacher])
def test_step_is_zero_before_compile(cls):
    method = cls(tiny_encoder(), num_classes=10)
    assert not method.compiled
    step = method.step()
    assert step.dtype == "float32" and tuple(step.shape) == ()
    assert float(step) == 0.0


def test_step_follows_the_optimizer_after_compile():
    method = FixMatch(tiny_encoder(), num_classes=10)
    method.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    assert float(method.step()) == 0.0
    method.optimizer.iterations.assign(3)
    np.testing.assert_equal(float(method.step()), 3.0)
