"""The sequence-LSTM baseline: each side read as its prefix token sequence."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfless.data.symbolic import VOCABULARY
from tfless.data.symbolic_tables import SEQUENCE_KEYS
from tfless.methods.base import Method
from tfless.methods.symbolic.verification import VerifierMixin


class SequenceEncoder(keras.layers.Layer):
    """Prefix tokens ``[B, T]`` (0 = padding) and raw number values ``[B, T]`` -> the LSTM's
    last state ``[B, hidden]``. A token's input is its embedding plus ``value * w`` (raw
    ``Number`` tokens carry their value; every other value is 0)."""

    def __init__(self, hidden: int = 50, seed: int = 0, name: str = "sequence_lstm", **kwargs):
        super().__init__(name=name, **kwargs)
        init = keras.initializers.GlorotUniform(seed=seed)
        self.embedding = keras.layers.Embedding(
            len(VOCABULARY) + 1, hidden, embeddings_initializer=init, mask_zero=True
        )
        self.value_weight = self.add_weight((hidden,), init, name="value_weight")
        self.lstm = keras.layers.LSTM(
            hidden,
            kernel_initializer=init,
            recurrent_initializer=keras.initializers.Orthogonal(seed),
        )

    def call(self, tokens, values, training=False):
        x = (
            self.embedding(tokens)
            + tf.cast(values, self.compute_dtype)[..., None] * self.value_weight
        )
        return self.lstm(x, mask=tokens > 0, training=training)


class SequenceLSTMVerifier(VerifierMixin, Method):
    """Equation verification baseline: a chain LSTM over each side's prefix serialization,
    scored like :class:`TreeLSTMVerifier` (``<h_lhs, h_rhs> + bias``, binary cross-entropy).

    The paper's "LSTM: Symbolic" baseline of "Combining Symbolic Expressions and Black-box
    Function Evaluations in Neural Programs" (Arabshahi, Singh, Anandkumar, ICLR 2018, arXiv
    1801.04342). The paper does not fix how the chain reads an equation; here both sides go
    through one shared LSTM, so the comparison isolates the encoder (our choice). Reads
    token sequences (:func:`tfless.data.symbolic_tables.token_sequences`) and ``label``.
    """

    input_keys = SEQUENCE_KEYS + ("label",)

    def __init__(self, encoder: SequenceEncoder, name: str = "sequence_lstm_verifier", **kwargs):
        super().__init__(encoder, name=name, **kwargs)
        self._init_verifier()

    def call(self, inputs, training=False):
        lhs = self.encoder(inputs["lhs_tokens"], inputs["lhs_values"], training=training)
        rhs = self.encoder(inputs["rhs_tokens"], inputs["rhs_values"], training=training)
        return self.score(lhs, rhs)
