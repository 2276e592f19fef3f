"""Vanilla RNN: gradients, sequence == loop of steps, parity with torch.nn.RNN, initialiser."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore.numpy import (
    init_rnn,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)


def make_inputs(rng, B, T, D, H):
    params = init_rnn(D, H, rng)
    x = rng.normal(size=(B, T, D))  # (B, T, D)
    h0 = rng.normal(size=(B, H))  # (B, H), nonzero on purpose
    return x, h0, params


def test_rnn_step_gradients(sizes, rng, check_gradients):
    B, T, D, H = sizes
    x, h0, p = make_inputs(rng, B, T, D, H)
    args = (x[:, 0], h0, p["Wx"], p["Wh"], p["b"])
    h_next, cache = rnn_step_forward(*args)
    dh_next = rng.normal(size=h_next.shape)
    grads = rnn_step_backward(dh_next, cache)
    check_gradients(
        lambda *a: rnn_step_forward(*a)[0], args, grads, dh_next, ["x", "h_prev", "Wx", "Wh", "b"]
    )


def test_rnn_sequence_gradients(sizes, rng, check_gradients):
    B, T, D, H = sizes
    x, h0, p = make_inputs(rng, B, T, D, H)
    args = (x, h0, p["Wx"], p["Wh"], p["b"])
    h, cache = rnn_forward(*args)
    dh = rng.normal(size=h.shape)
    grads = rnn_backward(dh, cache)
    check_gradients(lambda *a: rnn_forward(*a)[0], args, grads, dh, ["x", "h0", "Wx", "Wh", "b"])


def test_rnn_sequence_equals_loop_of_steps(sizes, rng):
    B, T, D, H = sizes
    x, h0, p = make_inputs(rng, B, T, D, H)
    h, cache = rnn_forward(x, h0, **p)

    h_prev, step_caches, outputs = h0, [], []
    for t in range(T):
        h_prev, step_cache = rnn_step_forward(x[:, t], h_prev, **p)
        outputs.append(h_prev)
        step_caches.append(step_cache)
    np.testing.assert_allclose(h, np.stack(outputs, axis=1), rtol=0, atol=1e-12)

    dh = rng.normal(size=h.shape)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    dh_next = np.zeros((B, H))
    loop = {"dWx": 0, "dWh": 0, "db": 0}
    dx_loop = np.empty_like(x)
    for t in reversed(range(T)):
        dx_loop[:, t], dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(
            dh[:, t] + dh_next, step_caches[t]
        )
        loop["dWx"] = loop["dWx"] + dWx_t
        loop["dWh"] = loop["dWh"] + dWh_t
        loop["db"] = loop["db"] + db_t
    for ours, desired in [
        (dx, dx_loop),
        (dh0, dh_next),
        (dWx, loop["dWx"]),
        (dWh, loop["dWh"]),
        (db, loop["db"]),
    ]:
        np.testing.assert_allclose(ours, desired, rtol=0, atol=1e-12)


def test_rnn_last_state_depends_on_h0(rng):
    """The state is carried: a different h0 changes every later step (guards a dropped h0)."""
    x, h0, p = make_inputs(rng, 2, 4, 3, 5)
    h_a, _ = rnn_forward(x, h0, **p)
    h_b, _ = rnn_forward(x, np.zeros_like(h0), **p)
    assert np.all(np.abs(h_a - h_b).max(axis=(0, 2)) > 1e-6)


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 4),
    D=st.integers(1, 4),
    H=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_rnn_matches_torch(B, T, D, H, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    reference = torch.nn.RNN(D, H, batch_first=True, dtype=torch.float64)
    Wx = reference.weight_ih_l0.detach().numpy().T.copy()  # (D, H)
    Wh = reference.weight_hh_l0.detach().numpy().T.copy()  # (H, H)
    b = (reference.bias_ih_l0 + reference.bias_hh_l0).detach().numpy()  # (H,)
    x, h0, dh = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, T, H))

    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)

    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)  # (1, B, H)
    h_t, _ = reference(x_t, h0_t)
    (h_t * torch.tensor(dh)).sum().backward()
    close = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(h, h_t.detach().numpy(), **close)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), **close)
    np.testing.assert_allclose(dh0, h0_t.grad[0].numpy(), **close)
    np.testing.assert_allclose(dWx, reference.weight_ih_l0.grad.numpy().T, **close)
    np.testing.assert_allclose(dWh, reference.weight_hh_l0.grad.numpy().T, **close)
    np.testing.assert_allclose(db, reference.bias_ih_l0.grad.numpy(), **close)
    np.testing.assert_allclose(db, reference.bias_hh_l0.grad.numpy(), **close)


def test_init_rnn_shapes_bounds_and_seed():
    params = init_rnn(3, 16, np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {"Wx": (3, 16), "Wh": (16, 16), "b": (16,)}
    for value in params.values():
        assert value.dtype == np.float64
        assert np.abs(value).max() <= 1 / np.sqrt(16)
        assert np.abs(value).max() > 0.5 / np.sqrt(16)  # spread over the interval, not tiny
    again = init_rnn(3, 16, np.random.default_rng(0))
    other = init_rnn(3, 16, np.random.default_rng(1))
    for name in params:
        np.testing.assert_array_equal(params[name], again[name])
        assert not np.array_equal(params[name], other[name])
    assert init_rnn(3, 4, np.random.default_rng(0), np.float32)["Wh"].dtype == np.float32


@pytest.mark.parametrize(
    ("D", "H", "rng", "dtype", "match"),
    [
        (0, 4, np.random.default_rng(0), np.float64, "D must be a positive integer, got 0"),
        (3, 2.5, np.random.default_rng(0), np.float64, "H must be a positive integer, got 2.5"),
        (3, 4, 0, np.float64, "rng must be a numpy.random.Generator"),
        (3, 4, np.random.default_rng(0), np.int64, "dtype must be a floating-point dtype"),
    ],
)
def test_init_rnn_rejects_bad_arguments(D, H, rng, dtype, match):
    with pytest.raises(ValueError, match=match):
        init_rnn(D, H, rng, dtype)


def test_init_rnn_requires_rng():
    with pytest.raises(TypeError):
        init_rnn(3, 4)  # randomness only through an explicit rng
