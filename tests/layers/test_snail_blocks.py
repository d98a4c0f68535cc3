"""SNAIL's dense, TC and attention blocks: NumPy references and causality."""

import keras
import numpy as np
import pytest

from tfless.layers.snail_blocks import AttentionBlock, DenseBlock, TCBlock, tc_dilations


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _causal_conv(x, conv, dilation):
    """Kernel-2 causal dilated convolution: ``y[t] = W0 x[t - d] + W1 x[t] + b``."""
    kernel, bias = (np.asarray(w) for w in conv.weights)
    shifted = np.zeros_like(x)
    shifted[:, dilation:] = x[:, :-dilation]
    return shifted @ kernel[0] + x @ kernel[1] + bias


def test_dense_block_matches_numpy():
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype(np.float32)
    block = DenseBlock(dilation=2, filters=4)
    got = np.asarray(block(x))
    gated = np.tanh(_causal_conv(x, block.conv_f, 2)) * _sigmoid(_causal_conv(x, block.conv_g, 2))
    np.testing.assert_allclose(got, np.concatenate([x, gated], -1), rtol=1e-5, atol=1e-5)


def test_attention_block_matches_numpy():
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype(np.float32)
    block = AttentionBlock(key_size=4, value_size=2)
    got = np.asarray(block(x))

    def dense(layer):
        w, b = (np.asarray(v) for v in layer.weights)
        return x @ w + b

    logits = dense(block.query) @ dense(block.keys).transpose(0, 2, 1) / 2.0
    logits = np.where(np.tril(np.ones((5, 5), bool))[None], logits, -np.inf)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(
        got, np.concatenate([x, probs @ dense(block.values)], -1), rtol=1e-5, atol=1e-5
    )


def test_tc_dilations_cover_the_sequence():
    assert tc_dilations(2) == (2,)
    assert tc_dilations(6) == (2, 4, 8)
    assert tc_dilations(26) == (2, 4, 8, 16, 32)
    with pytest.raises(ValueError, match="got 1"):
        tc_dilations(1)


@pytest.mark.parametrize("block", ["tc", "attention"])
def test_blocks_are_causal(block):
    keras.utils.set_random_seed(0)
    layer = TCBlock(6, 4) if block == "tc" else AttentionBlock(4, 3)
    x = np.random.default_rng(2).normal(size=(1, 6, 3)).astype(np.float32)
    base = np.asarray(layer(x))
    for t in range(5):
        later = x.copy()
        later[:, t + 1 :] += 5.0
        out = np.asarray(layer(later))
        np.testing.assert_allclose(out[:, : t + 1], base[:, : t + 1], atol=1e-6)
        assert np.abs(out[:, t + 1 :] - base[:, t + 1 :]).max() > 1e-3  # later steps do change
