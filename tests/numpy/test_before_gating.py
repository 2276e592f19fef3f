"""Leaky units and echo-state reservoirs (rnncore.numpy.before_gating)."""

import numpy as np
import pytest
import torch

from rnncore.numpy.before_gating import leaky_gradient_norms, leaky_rnn_forward, reservoir_memory
from rnncore.numpy.rnn import init_rnn, rnn_forward


def case(B=3, T=7, D=2, H=4, seed=0):
    rng = np.random.default_rng(seed)
    params = init_rnn(D, H, rng)
    return rng.standard_normal((B, T, D)), rng.standard_normal((B, H)), params


def test_leak_one_is_the_vanilla_rnn():
    x, h0, params = case()
    h, _ = leaky_rnn_forward(x, h0, **params, leak=1.0)
    np.testing.assert_allclose(h, rnn_forward(x, h0, **params)[0], rtol=1e-12, atol=1e-12)


def test_a_small_leak_keeps_most_of_the_state():
    x, h0, params = case()
    h, candidates = leaky_rnn_forward(x, h0, **params, leak=0.1)
    np.testing.assert_allclose(h[:, 0], 0.9 * h0 + 0.1 * candidates[:, 0], rtol=1e-12)


@pytest.mark.parametrize("leak", [1.0, 0.3])
def test_gradient_norms_equal_autograd(leak):
    x, h0, params = case(T=6)
    rng = np.random.default_rng(1)
    dh_last = rng.standard_normal(h0.shape)
    _, candidates = leaky_rnn_forward(x, h0, **params, leak=leak)
    norms = leaky_gradient_norms(params["Wh"], candidates, leak, dh_last)

    Wx, Wh, b = (torch.tensor(params[k]) for k in ("Wx", "Wh", "b"))
    h_prev, states = torch.tensor(h0, requires_grad=True), []
    for t in range(x.shape[1]):
        candidate = torch.tanh(torch.tensor(x[:, t]) @ Wx + h_prev @ Wh + b)
        h_prev = (1 - leak) * h_prev + leak * candidate
        h_prev.retain_grad()
        states.append(h_prev)
    (states[-1] * torch.tensor(dh_last)).sum().backward()
    expected = [state.grad.norm(dim=1).mean().item() for state in reversed(states)]
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_a_leak_slows_the_decay_of_the_gradient():
    x, h0, params = case(T=40, H=8)
    dh_last = np.ones_like(h0)
    far = {}
    for leak in (1.0, 0.1):
        _, candidates = leaky_rnn_forward(x, h0, **params, leak=leak)
        far[leak] = leaky_gradient_norms(params["Wh"], candidates, leak, dh_last)[-1]
    assert far[0.1] > 100 * far[1.0]


def test_reservoir_memory_fades_with_the_delay_and_grows_with_the_radius():
    delays = range(0, 40, 4)
    short = reservoir_memory(30, 0.5, delays, np.random.default_rng(0))
    long = reservoir_memory(30, 0.95, delays, np.random.default_rng(0))
    assert short[0] > 0.99 and long[0] > 0.99  # the current input is read back exactly
    assert short[-1] < 0.05  # gone after 36 steps
    assert long.sum() > short.sum() + 1.0
    assert np.all((0 <= long) & (long <= 1))


def test_memory_capacity_is_at_most_the_number_of_units():
    r2 = reservoir_memory(10, 0.95, range(0, 60), np.random.default_rng(2))
    assert r2.sum() <= 10 + 0.5  # Jaeger's bound, up to held-out noise


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
        ({"spectral_radius": 0.0}, "spectral_radius must be > 0"),
        ({"delays": [-1]}, "delays must be non-negative"),
        ({"steps": 250}, "too few after the washout"),
    ],
)
def test_reservoir_errors_name_the_problem(kwargs, message):
    arguments = {"hidden_size": 20, "spectral_radius": 0.9, "delays": [0, 5]} | kwargs
    with pytest.raises(ValueError, match=message):
        reservoir_memory(**arguments, rng=np.random.default_rng(0))


def test_a_leak_outside_zero_one_is_refused():
    x, h0, params = case()
    with pytest.raises(ValueError, match="leak must be in"):
        leaky_rnn_forward(x, h0, **params, leak=0.0)
