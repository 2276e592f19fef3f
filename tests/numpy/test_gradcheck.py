"""numerical_gradient and relative_error, including that they catch a wrong backward."""

import numpy as np
import pytest

from rnncore.numpy import (
    numerical_gradient,
    relative_error,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
)


def test_numerical_gradient_of_a_known_function(rng):
    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda v: v**3, x, dout)
    np.testing.assert_allclose(grad, 3 * x**2 * dout, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_of_a_scalar_function(rng):
    x = rng.normal(size=5)
    grad = numerical_gradient(lambda v: np.sum(np.sin(v)), x, 1.0)
    np.testing.assert_allclose(grad, np.cos(x), rtol=1e-8)


def test_numerical_gradient_leaves_x_unchanged(rng):
    x = rng.normal(size=(2, 3))
    before = x.copy()
    seen = []
    numerical_gradient(lambda v: seen.append(v is x) or v * 2, x, np.ones((2, 3)))
    np.testing.assert_array_equal(x, before)
    assert not any(seen)  # f receives a copy, never the caller's array


def test_numerical_gradient_rejects_a_wrong_dout_shape(rng):
    with pytest.raises(ValueError, match=r"dout must have the shape of f\(x\), \(2, 3\)"):
        numerical_gradient(lambda v: v * 2, rng.normal(size=(2, 3)), np.ones((3, 2)))


def test_relative_error_values():
    a = np.array([1.0, 2.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, np.zeros(3)) == 1.0
    assert relative_error(a, -a) == 1.0
    assert relative_error(a, a * (1 + 1e-6)) == pytest.approx(5e-7, rel=1e-3)
    assert isinstance(relative_error(a, a), float)
    with pytest.raises(
        ValueError, match=r"actual must have the shape of expected, \(4,\), got \(3,\)"
    ):
        relative_error(a, np.ones(4))


def test_gradient_check_catches_a_wrong_backward(rng):
    """A backward that forgets tanh' is far from the numerical gradient; the right one is not."""
    x, h0 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5))
    Wx, Wh, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 5)), rng.normal(size=5)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    dh = rng.normal(size=h.shape)
    numeric = numerical_gradient(lambda W: rnn_forward(x, h0, Wx, W, b)[0], Wh, dh)
    assert relative_error(rnn_backward(dh, cache)[3], numeric) < 1e-7

    def dWh_without_tanh_derivative():
        total, h_prev = np.zeros_like(Wh), h0
        for t in range(3):
            total += h_prev.T @ dh[:, t]
            h_prev, _ = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        return total

    assert relative_error(dWh_without_tanh_derivative(), numeric) > 1e-2
