"""Every tiny shape: the fast sequence functions equal a loop of the readable step functions.

The sequence functions work in place on strided views of their buffers. Some NumPy builds
compute particular in-place ufuncs wrongly on particular strides (NumPy 2.4's in-place
``negative`` on a (2, 1) gate block of a (2, 2, 4) array broke the LSTM at B=2, T=2, H=1), so
this sweeps all small B, T, H exhaustively rather than sampling them.
"""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

from rnncore.numpy import (
    gru_forward,
    gru_reset_after_forward,
    gru_reset_after_step_forward,
    gru_step_forward,
    lstm_forward,
    lstm_step_forward,
    rnn_forward,
    rnn_step_forward,
)

SHAPES = list(itertools.product([1, 2, 3], [1, 2, 3, 4], [1, 2], [1, 2, 3]))  # B, T, D, H


def _loop(step, x, state, *weights):
    """Run a step function over time; return the hidden states (B, T, H)."""
    outputs = []
    for t in range(x.shape[1]):
        result = step(x[:, t], *state, *weights)
        state = result[:-1]
        outputs.append(state[0])
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("B, T, D, H", SHAPES)
def test_sequence_equals_steps_for_every_small_shape(B, T, D, H):
    rng = np.random.default_rng(B * 1000 + T * 100 + D * 10 + H)
    x = rng.standard_normal((B, T, D))
    h0 = rng.standard_normal((B, H))
    c0 = rng.standard_normal((B, H))

    def weights(gates):
        return (
            rng.standard_normal((D, gates * H)),
            rng.standard_normal((H, gates * H)),
            rng.standard_normal(gates * H),
        )

    w1, w3, w4, b_hn = weights(1), weights(3), weights(4), rng.standard_normal(H)
    assert_allclose(rnn_forward(x, h0, *w1)[0], _loop(rnn_step_forward, x, (h0,), *w1), atol=1e-12)
    assert_allclose(
        lstm_forward(x, h0, *w4, c0=c0)[0], _loop(lstm_step_forward, x, (h0, c0), *w4), atol=1e-12
    )
    assert_allclose(gru_forward(x, h0, *w3)[0], _loop(gru_step_forward, x, (h0,), *w3), atol=1e-12)
    assert_allclose(
        gru_reset_after_forward(x, h0, *w3, b_hn)[0],
        _loop(gru_reset_after_step_forward, x, (h0,), *w3, b_hn),
        atol=1e-12,
    )
