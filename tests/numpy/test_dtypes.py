"""Computation keeps the input dtype: float32 in, float32 out (values, gradients, caches)."""

import numpy as np
import pytest

import rnncore.numpy as rn


def float_results(value):
    """Every floating-point ndarray or NumPy scalar inside nested tuples, lists and dicts."""
    if isinstance(value, np.ndarray | np.generic):
        return [value] if np.issubdtype(value.dtype, np.floating) else []
    if isinstance(value, dict):
        return [a for item in value.values() for a in float_results(item)]
    if isinstance(value, tuple | list):
        return [a for item in value for a in float_results(item)]
    return []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_keep_the_input_dtype(public_call, dtype):
    name, build = public_call
    function, args = build(dtype)
    results = float_results(function(*args))
    if name == "relative_error":
        assert isinstance(function(*args), float)  # a plain number by design
        return
    if name in ("extend_with_blanks", "ctc_greedy_decode"):  # symbol indices by design
        assert not results
        return
    assert results, name
    for result in results:
        assert result.dtype == dtype, f"{name} returned {result.dtype} for {np.dtype(dtype)}"


@pytest.mark.parametrize("init", [rn.init_rnn, rn.init_lstm, rn.init_gru])
def test_initialisers_default_to_float64_and_accept_float32(init):
    for value in init(3, 4, np.random.default_rng(0)).values():
        assert value.dtype == np.float64
    for value in init(3, 4, np.random.default_rng(0), np.float32).values():
        assert value.dtype == np.float32


def test_float32_sequence_agrees_with_float64(rng):
    """Same maths in float32: results within float32 precision of the float64 ones."""
    params = rn.init_lstm(4, 8, rng)
    x, h0 = rng.normal(size=(3, 6, 4)), rng.normal(size=(3, 8))
    h64, cache64 = rn.lstm_forward(x, h0, **params)
    h32, cache32 = rn.lstm_forward(
        x.astype(np.float32),
        h0.astype(np.float32),
        **{k: v.astype(np.float32) for k, v in params.items()},
    )
    np.testing.assert_allclose(h32, h64, rtol=0, atol=1e-5)
    dh = rng.normal(size=h64.shape)
    for g32, g64 in zip(
        rn.lstm_backward(dh.astype(np.float32), cache32), rn.lstm_backward(dh, cache64), strict=True
    ):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=0, atol=1e-4)
