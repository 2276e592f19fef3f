"""LSTM: gradients, sequence == loop of steps, c0 handling, parity with torch.nn.LSTM."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore.numpy import (
    LSTM_GATES,
    init_lstm,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)

NAMES = ["x", "h0", "Wx", "Wh", "b", "c0"]


def make_inputs(rng, B, T, D, H):
    params = init_lstm(D, H, rng)
    x = rng.normal(size=(B, T, D))  # (B, T, D)
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))  # nonzero initial state
    return x, h0, c0, params


def test_gate_order_constant():
    assert LSTM_GATES == ("i", "f", "g", "o")


def test_lstm_step_gradients(sizes, rng, check_gradients):
    B, T, D, H = sizes
    x, h0, c0, p = make_inputs(rng, B, T, D, H)
    args = (x[:, 0], h0, c0, p["Wx"], p["Wh"], p["b"])
    h_next, c_next, cache = lstm_step_forward(*args)
    dh_next, dc_next = rng.normal(size=h_next.shape), rng.normal(size=c_next.shape)
    grads = lstm_step_backward(dh_next, dc_next, cache)

    def both_states(*a):
        h_next, c_next, _ = lstm_step_forward(*a)
        return np.stack([h_next, c_next])  # (2, B, H)

    names = ["x", "h_prev", "c_prev", "Wx", "Wh", "b"]
    check_gradients(both_states, args, grads, np.stack([dh_next, dc_next]), names)


def test_lstm_sequence_gradients(sizes, rng, check_gradients):
    B, T, D, H = sizes
    x, h0, c0, p = make_inputs(rng, B, T, D, H)
    args = (x, h0, p["Wx"], p["Wh"], p["b"], c0)
    h, cache = lstm_forward(*args)
    dh = rng.normal(size=h.shape)
    grads = lstm_backward(dh, cache)
    check_gradients(lambda *a: lstm_forward(*a)[0], args, grads, dh, NAMES)


def test_lstm_sequence_equals_loop_of_steps(sizes, rng):
    B, T, D, H = sizes
    x, h0, c0, p = make_inputs(rng, B, T, D, H)
    h, cache = lstm_forward(x, h0, **p, c0=c0)

    h_prev, c_prev, step_caches, hs, cs = h0, c0, [], [], []
    for t in range(T):
        h_prev, c_prev, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, **p)
        hs.append(h_prev)
        cs.append(c_prev)
        step_caches.append(step_cache)
    np.testing.assert_allclose(h, np.stack(hs, axis=1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cache.c, np.stack(cs, axis=1), rtol=0, atol=1e-12)

    dh = rng.normal(size=h.shape)
    dx, dh0, dWx, dWh, db, dc0 = lstm_backward(dh, cache)
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    dx_loop = np.empty_like(x)
    sums = [0, 0, 0]
    for t in reversed(range(T)):
        dx_loop[:, t], dh_next, dc_next, *parameter_grads = lstm_step_backward(
            dh[:, t] + dh_next, dc_next, step_caches[t]
        )
        sums = [total + grad for total, grad in zip(sums, parameter_grads, strict=True)]
    for ours, desired in zip(
        [dx, dh0, dc0, dWx, dWh, db], [dx_loop, dh_next, dc_next, *sums], strict=True
    ):
        np.testing.assert_allclose(ours, desired, rtol=0, atol=1e-12)


def test_lstm_c0_none_means_zeros(rng):
    x, h0, _, p = make_inputs(rng, 2, 3, 4, 5)
    h_none, cache_none = lstm_forward(x, h0, **p)
    h_zero, cache_zero = lstm_forward(x, h0, **p, c0=np.zeros((2, 5)))
    np.testing.assert_array_equal(h_none, h_zero)
    dh = rng.normal(size=h_none.shape)
    grads_none = lstm_backward(dh, cache_none)
    grads_zero = lstm_backward(dh, cache_zero)
    assert grads_none[5].shape == (2, 5)
    assert np.abs(grads_none[5]).max() > 0  # dc0 is returned and is not trivially zero
    for a, b in zip(grads_none, grads_zero, strict=True):
        np.testing.assert_array_equal(a, b)


def test_lstm_c0_changes_the_output(rng):
    x, h0, c0, p = make_inputs(rng, 2, 3, 4, 5)
    assert not np.allclose(lstm_forward(x, h0, **p)[0], lstm_forward(x, h0, **p, c0=c0)[0])


def test_lstm_cache_keeps_gates_cell_and_tanh_of_cell(rng):
    x, h0, c0, p = make_inputs(rng, 2, 3, 4, 5)
    h, cache = lstm_forward(x, h0, **p, c0=c0)
    assert cache.gates.shape == (2, 3, 20)
    np.testing.assert_allclose(cache.tanh_c, np.tanh(cache.c), rtol=0, atol=1e-15)
    o = cache.gates[:, :, 15:]
    np.testing.assert_allclose(h, o * cache.tanh_c, rtol=0, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 4),
    D=st.integers(1, 4),
    H=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_lstm_matches_torch(B, T, D, H, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    reference = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    Wx = reference.weight_ih_l0.detach().numpy().T.copy()  # (D, 4H)
    Wh = reference.weight_hh_l0.detach().numpy().T.copy()  # (H, 4H)
    b = (reference.bias_ih_l0 + reference.bias_hh_l0).detach().numpy()  # (4H,)
    x, dh = rng.normal(size=(B, T, D)), rng.normal(size=(B, T, H))
    h0, c0 = rng.normal(size=(B, H)), rng.normal(size=(B, H))

    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0)
    dx, dh0, dWx, dWh, db, dc0 = lstm_backward(dh, cache)

    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)  # (1, B, H)
    c0_t = torch.tensor(c0[None], requires_grad=True)  # (1, B, H)
    h_t, (_, c_last) = reference(x_t, (h0_t, c0_t))
    (h_t * torch.tensor(dh)).sum().backward()
    close = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(h, h_t.detach().numpy(), **close)
    np.testing.assert_allclose(cache.c[:, -1], c_last[0].detach().numpy(), **close)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), **close)
    np.testing.assert_allclose(dh0, h0_t.grad[0].numpy(), **close)
    np.testing.assert_allclose(dc0, c0_t.grad[0].numpy(), **close)
    np.testing.assert_allclose(dWx, reference.weight_ih_l0.grad.numpy().T, **close)
    np.testing.assert_allclose(dWh, reference.weight_hh_l0.grad.numpy().T, **close)
    np.testing.assert_allclose(db, reference.bias_ih_l0.grad.numpy(), **close)


def test_init_lstm_shapes_and_bounds():
    params = init_lstm(3, 8, np.random.default_rng(0), np.float32)
    assert {k: v.shape for k, v in params.items()} == {"Wx": (3, 32), "Wh": (8, 32), "b": (32,)}
    for value in params.values():
        assert value.dtype == np.float32
        assert np.abs(value).max() <= 1 / np.sqrt(8)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        init_lstm(3, 8, 0)
