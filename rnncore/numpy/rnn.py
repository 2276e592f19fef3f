"""Vanilla (Elman) RNN: one step and a whole sequence, forward and backward (BPTT).

Letters: B batch, T time steps, D input features, H hidden units. Row-vector maths:

.. math::

    h_t = \\tanh(x_t W_x + h_{t-1} W_h + b)

with ``Wx`` (D, H), ``Wh`` (H, H), ``b`` (H,). The step functions are the readable version;
the sequence functions compute the same numbers faster: the input projection of all time
steps is one matrix product, every buffer is allocated once, and only the recurrent product
``h_prev @ Wh`` (and its backward ``da_t @ Wh.T``) stays inside the loop over time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncore.numpy.layers import uniform_parameters
from rnncore.shapes import check_float_arrays, check_same_shape, check_shape

__all__ = [
    "RNNStepCache",
    "RNNCache",
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "init_rnn",
]


class RNNStepCache(NamedTuple):
    """What :func:`rnn_step_backward` needs from one forward step."""

    x: np.ndarray  # (B, D)
    h_prev: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    h_next: np.ndarray  # (B, H)


class RNNCache(NamedTuple):
    """What :func:`rnn_backward` needs from the forward pass over a sequence."""

    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    h: np.ndarray  # (B, T, H)


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One RNN step.

    .. math::

        h_{next} = \\tanh(x W_x + h_{prev} W_h + b)

    Parameters
    ----------
    x : ndarray of shape (B, D)
        Input at this time step.
    h_prev : ndarray of shape (B, H)
        Hidden state of the previous step.
    Wx : ndarray of shape (D, H)
        Input-to-hidden weights.
    Wh : ndarray of shape (H, H)
        Hidden-to-hidden weights.
    b : ndarray of shape (H,)
        Bias.

    Returns
    -------
    h_next : ndarray of shape (B, H)
        New hidden state.
    cache : RNNStepCache
        Values for :func:`rnn_step_backward`.
    """
    check_float_arrays(x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b)
    dims = check_shape("x", x, "B, D")
    check_shape("Wh", Wh, "H, H", dims)
    check_shape("Wx", Wx, "D, H", dims)
    check_shape("h_prev", h_prev, "B, H", dims)
    check_shape("b", b, "H", dims)
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)  # (B, H)
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)


def rnn_step_backward(dh_next, cache):
    """Backward pass of one RNN step.

    With :math:`a = x W_x + h_{prev} W_h + b` and :math:`\\tanh'(a) = 1 - h_{next}^2`:

    .. math::

        da = dh_{next} \\odot (1 - h_{next}^2), \\quad
        dx = da\\, W_x^\\top, \\quad dh_{prev} = da\\, W_h^\\top, \\quad
        dW_x = x^\\top da, \\quad dW_h = h_{prev}^\\top da, \\quad db = \\textstyle\\sum_B da

    Parameters
    ----------
    dh_next : ndarray of shape (B, H)
        Gradient of the loss with respect to ``h_next``.
    cache : RNNStepCache
        From :func:`rnn_step_forward`.

    Returns
    -------
    dx : ndarray of shape (B, D)
    dh_prev : ndarray of shape (B, H)
    dWx : ndarray of shape (D, H)
    dWh : ndarray of shape (H, H)
    db : ndarray of shape (H,)
    """
    x, h_prev, Wx, Wh, h_next = cache
    check_float_arrays(h_next=h_next, dh_next=dh_next)
    check_same_shape("dh_next", dh_next, "h_next", h_next)
    da = dh_next * (1 - h_next**2)  # (B, H)
    dx = da @ Wx.T  # (B, D)
    dh_prev = da @ Wh.T  # (B, H)
    dWx = x.T @ da  # (D, H)
    dWh = h_prev.T @ da  # (H, H)
    db = da.sum(axis=0)  # (H,)
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Run an RNN over a whole sequence.

    .. math::

        h_t = \\tanh(x_t W_x + h_{t-1} W_h + b), \\qquad t = 1, \\dots, T

    Equivalent to calling :func:`rnn_step_forward` on ``x[:, t]`` for each ``t``; the input
    projection ``x_t W_x + b`` of all time steps is computed first, as one matrix product.

    Parameters
    ----------
    x : ndarray of shape (B, T, D)
        Input sequence, batch first.
    h0 : ndarray of shape (B, H)
        Initial hidden state.
    Wx : ndarray of shape (D, H)
    Wh : ndarray of shape (H, H)
    b : ndarray of shape (H,)

    Returns
    -------
    h : ndarray of shape (B, T, H)
        Hidden state at every time step; ``h[:, -1]`` is the last one.
    cache : RNNCache
        Values for :func:`rnn_backward`.
    """
    dtype = check_float_arrays(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    dims = check_shape("x", x, "B, T, D")
    check_shape("Wh", Wh, "H, H", dims)
    check_shape("Wx", Wx, "D, H", dims)
    check_shape("h0", h0, "B, H", dims)
    check_shape("b", b, "H", dims)
    B, T, D, H = dims["B"], dims["T"], dims["D"], dims["H"]

    h = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    # h first holds the pre-activations: the input part of every step in one product.
    np.matmul(x.reshape(B * T, D), Wx, out=h.reshape(B * T, H))  # (B*T, H)
    h += b  # (B, T, H)
    recurrent = np.empty((B, H), dtype=dtype)  # (B, H), reused at every step
    h_prev = h0
    for t in range(T):
        h_t = h[:, t]  # (B, H), a view into h
        np.matmul(h_prev, Wh, out=recurrent)  # (B, H)
        h_t += recurrent
        np.tanh(h_t, out=h_t)
        h_prev = h_t
    return h, RNNCache(x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    """Backpropagation through time for :func:`rnn_forward`.

    ``dh[:, t]`` is the gradient that reaches ``h_t`` from the layers above; the gradient
    from the future, :math:`da_{t+1} W_h^\\top`, is added to it on the way back:

    .. math::

        da_t = \\left(dh_t + da_{t+1} W_h^\\top\\right) \\odot (1 - h_t^2), \\qquad
        dW_h = \\textstyle\\sum_t h_{t-1}^\\top da_t, \\quad
        dW_x = \\textstyle\\sum_t x_t^\\top da_t, \\quad
        dh_0 = da_1 W_h^\\top

    The sums over time are computed after the loop, each as one matrix product.

    Parameters
    ----------
    dh : ndarray of shape (B, T, H)
        Gradient of the loss with respect to every hidden state ``h``.
    cache : RNNCache
        From :func:`rnn_forward`.

    Returns
    -------
    dx : ndarray of shape (B, T, D)
    dh0 : ndarray of shape (B, H)
    dWx : ndarray of shape (D, H)
    dWh : ndarray of shape (H, H)
    db : ndarray of shape (H,)
    """
    x, h0, Wx, Wh, h = cache
    check_float_arrays(h=h, dh=dh)
    check_same_shape("dh", dh, "h", h)
    B, T, H = h.shape
    D = x.shape[2]

    # da starts as tanh'(a_t) = 1 - h_t^2 for all steps at once; the loop multiplies in dh_t.
    da = h * h  # (B, T, H)
    np.subtract(1, da, out=da)
    dh_next = np.zeros((B, H), dtype=h.dtype)  # (B, H), gradient arriving from step t + 1
    for t in reversed(range(T)):
        dh_next += dh[:, t]  # now the total gradient on h_t
        da_t = da[:, t]  # (B, H), a view into da
        da_t *= dh_next
        np.matmul(da_t, Wh.T, out=dh_next)  # (B, H), gradient on h_{t-1}
    dh0 = dh_next  # (B, H)

    h_prev_all = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (B, T, H)
    da_flat = da.reshape(B * T, H)  # (B*T, H)
    dx = (da_flat @ Wx.T).reshape(B, T, D)  # (B, T, D)
    dWx = x.reshape(B * T, D).T @ da_flat  # (D, H)
    dWh = h_prev_all.reshape(B * T, H).T @ da_flat  # (H, H)
    db = da_flat.sum(axis=0)  # (H,)
    return dx, dh0, dWx, dWh, db


def init_rnn(D, H, rng, dtype=np.float64):
    """Random RNN parameters, drawn like PyTorch's: uniform on :math:`(-1/\\sqrt{H}, 1/\\sqrt{H})`.

    Parameters
    ----------
    D : int
        Input features.
    H : int
        Hidden units.
    rng : numpy.random.Generator
        The only source of randomness, for example ``np.random.default_rng(0)``.
    dtype : numpy dtype, default float64

    Returns
    -------
    params : dict
        ``Wx`` of shape (D, H), ``Wh`` of shape (H, H), ``b`` of shape (H,).
    """
    return uniform_parameters(D, H, 1, rng, dtype)
