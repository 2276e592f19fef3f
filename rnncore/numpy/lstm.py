"""LSTM: one step and a whole sequence, forward and backward (BPTT).

Letters: B batch, T time steps, D input features, H hidden units. The four gates are stacked
along the last axis in PyTorch's order ``LSTM_GATES = ("i", "f", "g", "o")``: ``Wx`` (D, 4H),
``Wh`` (H, 4H), ``b`` (4H,), and block ``k`` of the columns belongs to gate ``LSTM_GATES[k]``.

.. math::

    a_t &= x_t W_x + h_{t-1} W_h + b \\quad = [a^i, a^f, a^g, a^o] \\\\
    i_t &= \\sigma(a^i), \\quad f_t = \\sigma(a^f), \\quad g_t = \\tanh(a^g), \\quad
    o_t = \\sigma(a^o) \\\\
    c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t \\\\
    h_t &= o_t \\odot \\tanh(c_t)

The step functions are the readable version; the sequence functions compute the same numbers
with one input projection for all time steps, buffers allocated once, and only the recurrent
product ``h_prev @ Wh`` (and its backward ``da_t @ Wh.T``) inside the loop over time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncore.numpy.layers import sigmoid, sigmoid_in_place, uniform_parameters
from rnncore.shapes import check_float_arrays, check_same_shape, check_shape

__all__ = [
    "LSTM_GATES",
    "LSTMStepCache",
    "LSTMCache",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "init_lstm",
]

LSTM_GATES = ("i", "f", "g", "o")


class LSTMStepCache(NamedTuple):
    """What :func:`lstm_step_backward` needs from one forward step."""

    x: np.ndarray  # (B, D)
    h_prev: np.ndarray  # (B, H)
    c_prev: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    gates: np.ndarray  # (B, 4H): i, f, g, o after their activations
    c_next: np.ndarray  # (B, H)
    tanh_c_next: np.ndarray  # (B, H)


class LSTMCache(NamedTuple):
    """What :func:`lstm_backward` needs from the forward pass over a sequence."""

    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    c0: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    gates: np.ndarray  # (B, T, 4H): i, f, g, o after their activations
    c: np.ndarray  # (B, T, H)
    tanh_c: np.ndarray  # (B, T, H)
    h: np.ndarray  # (B, T, H)


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step (equations in the module docstring).

    Parameters
    ----------
    x : ndarray of shape (B, D)
    h_prev : ndarray of shape (B, H)
    c_prev : ndarray of shape (B, H)
        Cell state of the previous step.
    Wx : ndarray of shape (D, 4H)
        Input weights of the gates i, f, g, o, stacked along the columns.
    Wh : ndarray of shape (H, 4H)
    b : ndarray of shape (4H,)

    Returns
    -------
    h_next : ndarray of shape (B, H)
    c_next : ndarray of shape (B, H)
    cache : LSTMStepCache
    """
    check_float_arrays(x=x, h_prev=h_prev, c_prev=c_prev, Wx=Wx, Wh=Wh, b=b)
    dims = check_shape("x", x, "B, D")
    check_shape("Wh", Wh, "H, 4H", dims)
    check_shape("Wx", Wx, "D, 4H", dims)
    check_shape("h_prev", h_prev, "B, H", dims)
    check_shape("c_prev", c_prev, "B, H", dims)
    check_shape("b", b, "4H", dims)
    H = dims["H"]

    a = x @ Wx + h_prev @ Wh + b  # (B, 4H)
    i = sigmoid(a[:, :H])  # (B, H)
    f = sigmoid(a[:, H : 2 * H])  # (B, H)
    g = np.tanh(a[:, 2 * H : 3 * H])  # (B, H)
    o = sigmoid(a[:, 3 * H :])  # (B, H)
    c_next = f * c_prev + i * g  # (B, H)
    tanh_c_next = np.tanh(c_next)  # (B, H)
    h_next = o * tanh_c_next  # (B, H)
    gates = np.concatenate([i, f, g, o], axis=1)  # (B, 4H)
    cache = LSTMStepCache(x, h_prev, c_prev, Wx, Wh, gates, c_next, tanh_c_next)
    return h_next, c_next, cache


def lstm_step_backward(dh_next, dc_next, cache):
    """Backward pass of one LSTM step.

    The cell state receives gradient both directly and through :math:`h = o \\odot \\tanh c`:

    .. math::

        dc &= dc_{next} + dh_{next} \\odot o \\odot (1 - \\tanh^2 c_{next}) \\\\
        da^i &= dc \\odot g \\odot i (1 - i), \\quad
        da^f = dc \\odot c_{prev} \\odot f (1 - f), \\\\
        da^g &= dc \\odot i \\odot (1 - g^2), \\quad
        da^o = dh_{next} \\odot \\tanh c_{next} \\odot o (1 - o) \\\\
        dc_{prev} &= dc \\odot f, \\quad dh_{prev} = da\\, W_h^\\top, \\quad dx = da\\, W_x^\\top,
        \\quad dW_x = x^\\top da, \\quad dW_h = h_{prev}^\\top da, \\quad db = \\textstyle\\sum_B da

    Parameters
    ----------
    dh_next : ndarray of shape (B, H)
    dc_next : ndarray of shape (B, H)
    cache : LSTMStepCache

    Returns
    -------
    dx : ndarray of shape (B, D)
    dh_prev : ndarray of shape (B, H)
    dc_prev : ndarray of shape (B, H)
    dWx : ndarray of shape (D, 4H)
    dWh : ndarray of shape (H, 4H)
    db : ndarray of shape (4H,)
    """
    x, h_prev, c_prev, Wx, Wh, gates, c_next, tanh_c_next = cache
    check_float_arrays(c_next=c_next, dh_next=dh_next, dc_next=dc_next)
    check_same_shape("dh_next", dh_next, "h_next", c_next)
    check_same_shape("dc_next", dc_next, "c_next", c_next)
    H = c_next.shape[1]
    i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))  # each (B, H)

    dc = dc_next + dh_next * o * (1 - tanh_c_next**2)  # (B, H)
    da_i = dc * g * i * (1 - i)  # (B, H)
    da_f = dc * c_prev * f * (1 - f)  # (B, H)
    da_g = dc * i * (1 - g**2)  # (B, H)
    da_o = dh_next * tanh_c_next * o * (1 - o)  # (B, H)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)  # (B, 4H)

    dx = da @ Wx.T  # (B, D)
    dh_prev = da @ Wh.T  # (B, H)
    dc_prev = dc * f  # (B, H)
    dWx = x.T @ da  # (D, 4H)
    dWh = h_prev.T @ da  # (H, 4H)
    db = da.sum(axis=0)  # (4H,)
    return dx, dh_prev, dc_prev, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    """Run an LSTM over a whole sequence.

    Equivalent to calling :func:`lstm_step_forward` on ``x[:, t]`` for each ``t``, starting
    from ``(h0, c0)``; the input projection :math:`x_t W_x + b` of all steps is one product.

    Parameters
    ----------
    x : ndarray of shape (B, T, D)
    h0 : ndarray of shape (B, H)
    Wx : ndarray of shape (D, 4H)
    Wh : ndarray of shape (H, 4H)
    b : ndarray of shape (4H,)
    c0 : ndarray of shape (B, H), optional
        Initial cell state; ``None`` means zeros.

    Returns
    -------
    h : ndarray of shape (B, T, H)
        Hidden state at every step. The cell states are in ``cache.c``.
    cache : LSTMCache
    """
    dtype = check_float_arrays(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, c0=c0)
    dims = check_shape("x", x, "B, T, D")
    check_shape("Wh", Wh, "H, 4H", dims)
    check_shape("Wx", Wx, "D, 4H", dims)
    check_shape("h0", h0, "B, H", dims)
    check_shape("b", b, "4H", dims)
    B, T, D, H = dims["B"], dims["T"], dims["D"], dims["H"]
    if c0 is None:
        c0 = np.zeros((B, H), dtype=dtype)  # (B, H)
    check_shape("c0", c0, "B, H", dims)

    gates = np.empty((B, T, 4 * H), dtype=dtype)  # (B, T, 4H)
    # gates first holds the pre-activations: the input part of every step in one product.
    np.matmul(x.reshape(B * T, D), Wx, out=gates.reshape(B * T, 4 * H))  # (B*T, 4H)
    gates += b
    c = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    tanh_c = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    h = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    recurrent = np.empty((B, 4 * H), dtype=dtype)  # (B, 4H), reused at every step
    input_times_cell = np.empty((B, H), dtype=dtype)  # (B, H), reused at every step
    h_prev, c_prev = h0, c0
    for t in range(T):
        a = gates[:, t]  # (B, 4H), a view into gates
        np.matmul(h_prev, Wh, out=recurrent)  # (B, 4H)
        a += recurrent
        sigmoid_in_place(a[:, : 2 * H])  # i and f
        np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])  # g
        sigmoid_in_place(a[:, 3 * H :])  # o
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        np.multiply(f, c_prev, out=c[:, t])
        np.multiply(i, g, out=input_times_cell)
        c[:, t] += input_times_cell
        np.tanh(c[:, t], out=tanh_c[:, t])
        np.multiply(o, tanh_c[:, t], out=h[:, t])
        h_prev, c_prev = h[:, t], c[:, t]
    return h, LSTMCache(x, h0, c0, Wx, Wh, gates, c, tanh_c, h)


def lstm_backward(dh, cache):
    """Backpropagation through time for :func:`lstm_forward`.

    At each step, from the last to the first, the gradients arriving from the future
    (:math:`dh_{t+1 \\to t} = da_{t+1} W_h^\\top` and :math:`dc_{t+1 \\to t} = dc_{t+1} \\odot
    f_{t+1}`) are added to ``dh[:, t]``, then the step's equations of
    :func:`lstm_step_backward` apply. Every factor that does not depend on the incoming
    gradient (:math:`g \\odot i(1 - i)`, :math:`c_{t-1} \\odot f(1 - f)`, ...) is computed for
    all steps at once before the loop; the parameter gradients are sums over time, each
    computed after the loop as one matrix product.

    Parameters
    ----------
    dh : ndarray of shape (B, T, H)
        Gradient of the loss with respect to every hidden state.
    cache : LSTMCache

    Returns
    -------
    dx : ndarray of shape (B, T, D)
    dh0 : ndarray of shape (B, H)
    dWx : ndarray of shape (D, 4H)
    dWh : ndarray of shape (H, 4H)
    db : ndarray of shape (4H,)
    dc0 : ndarray of shape (B, H)
    """
    x, h0, c0, Wx, Wh, gates, c, tanh_c, h = cache
    check_float_arrays(h=h, dh=dh)
    check_same_shape("dh", dh, "h", h)
    B, T, H = h.shape
    D = x.shape[2]
    i, f, g, o = (gates[:, :, k * H : (k + 1) * H] for k in range(4))  # each (B, T, H)
    c_prev_all = np.concatenate([c0[:, None], c[:, :-1]], axis=1)  # (B, T, H)

    # da starts as the local factor of each gate (what multiplies dc, or dh for o).
    da = np.empty((B, T, 4, H), dtype=h.dtype)  # (B, T, 4, H)
    np.multiply(g, i * (1 - i), out=da[:, :, 0])
    np.multiply(c_prev_all, f * (1 - f), out=da[:, :, 1])
    np.multiply(i, 1 - g * g, out=da[:, :, 2])
    np.multiply(tanh_c, o * (1 - o), out=da[:, :, 3])
    dc_from_dh = o * (1 - tanh_c * tanh_c)  # (B, T, H): dc_t / dh_t through h = o tanh(c)

    da_flat = da.reshape(B, T, 4 * H)  # (B, T, 4H), the same memory as da
    dh_next = np.zeros((B, H), dtype=h.dtype)  # (B, H), gradient arriving from step t + 1
    dc_next = np.zeros((B, H), dtype=h.dtype)  # (B, H)
    dc_through_h = np.empty((B, H), dtype=h.dtype)  # (B, H), reused at every step
    for t in reversed(range(T)):
        dh_next += dh[:, t]  # now the total gradient on h_t
        np.multiply(dh_next, dc_from_dh[:, t], out=dc_through_h)
        dc_next += dc_through_h  # now the total gradient on c_t
        da[:, t, :3] *= dc_next[:, None]  # da_i, da_f, da_g
        da[:, t, 3] *= dh_next  # da_o
        dc_next *= f[:, t]  # gradient on c_{t-1}
        np.matmul(da_flat[:, t], Wh.T, out=dh_next)  # (B, H), gradient on h_{t-1}
    dh0, dc0 = dh_next, dc_next  # (B, H), (B, H)

    h_prev_all = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (B, T, H)
    da_2d = da.reshape(B * T, 4 * H)  # (B*T, 4H)
    dx = (da_2d @ Wx.T).reshape(B, T, D)  # (B, T, D)
    dWx = x.reshape(B * T, D).T @ da_2d  # (D, 4H)
    dWh = h_prev_all.reshape(B * T, H).T @ da_2d  # (H, 4H)
    db = da_2d.sum(axis=0)  # (4H,)
    return dx, dh0, dWx, dWh, db, dc0


def init_lstm(D, H, rng, dtype=np.float64):
    """Random LSTM parameters, uniform on :math:`(-1/\\sqrt{H}, 1/\\sqrt{H})` like PyTorch.

    Parameters
    ----------
    D : int
    H : int
    rng : numpy.random.Generator
    dtype : numpy dtype, default float64

    Returns
    -------
    params : dict
        ``Wx`` of shape (D, 4H), ``Wh`` of shape (H, 4H), ``b`` of shape (4H,); gate order
        ``LSTM_GATES``.
    """
    return uniform_parameters(D, H, 4, rng, dtype)
