r"""The GRU with the reset gate before the product (Chung et al., 2014), ``gru_*``:

.. math::

    \tilde h_t = \tanh\left(x_t W_x^n + (r_t \odot h_{t-1}) W_h^n + b^n\right), \qquad
    h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t

Gates stacked r, z, n: ``Wx`` (D, 3H), ``Wh`` (H, 3H), ``b`` (3H,).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncore.numpy.gru.common import check_gru_arguments
from rnncore.numpy.layers import sigmoid, sigmoid_in_place
from rnncore.shapes import check_float_arrays, check_same_shape

__all__ = [
    "GRUStepCache",
    "GRUCache",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
]


class GRUStepCache(NamedTuple):
    """What :func:`gru_step_backward` needs from one forward step."""

    x: np.ndarray  # (B, D)
    h_prev: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    gates: np.ndarray  # (B, 3H): r, z, h~ after their activations
    reset_h_prev: np.ndarray  # (B, H): r * h_prev, the input of the candidate's product


class GRUCache(NamedTuple):
    """What :func:`gru_backward` needs from the forward pass over a sequence."""

    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    gates: np.ndarray  # (B, T, 3H): r, z, h~
    reset_h_prev: np.ndarray  # (B, T, H): r_t * h_{t-1}
    h: np.ndarray  # (B, T, H)


# --- reset before the product (the seed's convention) ---------------------------------------


def gru_step_forward(x, h_prev, Wx, Wh, b):
    """One GRU step with the reset gate applied to ``h_prev`` before the product.

    .. math::

        r &= \\sigma(x W_x^r + h_{prev} W_h^r + b^r), \\quad
        z = \\sigma(x W_x^z + h_{prev} W_h^z + b^z) \\\\
        \\tilde h &= \\tanh\\left(x W_x^n + (r \\odot h_{prev}) W_h^n + b^n\\right), \\quad
        h_{next} = (1 - z) \\odot h_{prev} + z \\odot \\tilde h

    Parameters
    ----------
    x : ndarray of shape (B, D)
    h_prev : ndarray of shape (B, H)
    Wx : ndarray of shape (D, 3H)
        Input weights of the gates r, z, n, stacked along the columns.
    Wh : ndarray of shape (H, 3H)
    b : ndarray of shape (3H,)

    Returns
    -------
    h_next : ndarray of shape (B, H)
    cache : GRUStepCache
    """
    _, dims = check_gru_arguments(x, "h_prev", h_prev, Wx, Wh, b)
    H = dims["H"]
    a_x = x @ Wx + b  # (B, 3H)
    a_h = h_prev @ Wh[:, : 2 * H]  # (B, 2H)
    r = sigmoid(a_x[:, :H] + a_h[:, :H])  # (B, H)
    z = sigmoid(a_x[:, H : 2 * H] + a_h[:, H:])  # (B, H)
    reset_h_prev = r * h_prev  # (B, H)
    candidate = np.tanh(a_x[:, 2 * H :] + reset_h_prev @ Wh[:, 2 * H :])  # (B, H)
    h_next = (1 - z) * h_prev + z * candidate  # (B, H)
    gates = np.concatenate([r, z, candidate], axis=1)  # (B, 3H)
    return h_next, GRUStepCache(x, h_prev, Wx, Wh, gates, reset_h_prev)


def gru_step_backward(dh_next, cache):
    """Backward pass of :func:`gru_step_forward`.

    .. math::

        da^n &= dh_{next} \\odot z \\odot (1 - \\tilde h^2), \\quad
        da^z = dh_{next} \\odot (\\tilde h - h_{prev}) \\odot z (1 - z) \\\\
        d(r \\odot h_{prev}) &= da^n\\, (W_h^n)^\\top, \\quad
        da^r = d(r \\odot h_{prev}) \\odot h_{prev} \\odot r (1 - r) \\\\
        dh_{prev} &= dh_{next} \\odot (1 - z) + d(r \\odot h_{prev}) \\odot r
        + [da^r, da^z]\\, [W_h^r, W_h^z]^\\top \\\\
        dW_h^{r,z} &= h_{prev}^\\top [da^r, da^z], \\quad
        dW_h^n = (r \\odot h_{prev})^\\top da^n, \\quad dW_x = x^\\top da, \\quad
        db = \\textstyle\\sum_B da

    Parameters
    ----------
    dh_next : ndarray of shape (B, H)
    cache : GRUStepCache

    Returns
    -------
    dx : ndarray of shape (B, D)
    dh_prev : ndarray of shape (B, H)
    dWx : ndarray of shape (D, 3H)
    dWh : ndarray of shape (H, 3H)
    db : ndarray of shape (3H,)
    """
    x, h_prev, Wx, Wh, gates, reset_h_prev = cache
    check_float_arrays(h_prev=h_prev, dh_next=dh_next)
    check_same_shape("dh_next", dh_next, "h_next", h_prev)
    H = h_prev.shape[1]
    r, z, candidate = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]  # each (B, H)

    da_n = dh_next * z * (1 - candidate**2)  # (B, H)
    da_z = dh_next * (candidate - h_prev) * z * (1 - z)  # (B, H)
    d_reset_h_prev = da_n @ Wh[:, 2 * H :].T  # (B, H)
    da_r = d_reset_h_prev * h_prev * r * (1 - r)  # (B, H)
    da = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H)

    dh_prev = dh_next * (1 - z) + d_reset_h_prev * r + da[:, : 2 * H] @ Wh[:, : 2 * H].T
    dx = da @ Wx.T  # (B, D)
    dWx = x.T @ da  # (D, 3H)
    dWh = np.concatenate([h_prev.T @ da[:, : 2 * H], reset_h_prev.T @ da_n], axis=1)  # (H, 3H)
    db = da.sum(axis=0)  # (3H,)
    return dx, dh_prev, dWx, dWh, db


def gru_forward(x, h0, Wx, Wh, b):
    """Run the reset-before GRU of :func:`gru_step_forward` over a whole sequence.

    Parameters
    ----------
    x : ndarray of shape (B, T, D)
    h0 : ndarray of shape (B, H)
    Wx : ndarray of shape (D, 3H)
    Wh : ndarray of shape (H, 3H)
    b : ndarray of shape (3H,)

    Returns
    -------
    h : ndarray of shape (B, T, H)
    cache : GRUCache
    """
    dtype, dims = check_gru_arguments(x, "h0", h0, Wx, Wh, b, sequence=True)
    B, T, D, H = dims["B"], dims["T"], dims["D"], dims["H"]
    Wh_rz, Wh_n = Wh[:, : 2 * H], Wh[:, 2 * H :]  # (H, 2H), (H, H)

    gates = np.empty((B, T, 3 * H), dtype=dtype)  # (B, T, 3H)
    # gates first holds the input part of every step's pre-activations, in one product.
    np.matmul(x.reshape(B * T, D), Wx, out=gates.reshape(B * T, 3 * H))  # (B*T, 3H)
    gates += b
    reset_h_prev = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    h = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    recurrent = np.empty((B, 2 * H), dtype=dtype)  # (B, 2H), reused at every step
    h_prev = h0
    for t in range(T):
        rz, candidate = gates[:, t, : 2 * H], gates[:, t, 2 * H :]  # (B, 2H), (B, H)
        np.matmul(h_prev, Wh_rz, out=recurrent)
        rz += recurrent
        sigmoid_in_place(rz)
        r, z = rz[:, :H], rz[:, H:]  # (B, H), (B, H)
        np.multiply(r, h_prev, out=reset_h_prev[:, t])
        np.matmul(reset_h_prev[:, t], Wh_n, out=recurrent[:, :H])
        candidate += recurrent[:, :H]
        np.tanh(candidate, out=candidate)
        # h_t = (1 - z) h_prev + z h~ = h_prev + z (h~ - h_prev)
        np.subtract(candidate, h_prev, out=h[:, t])
        h[:, t] *= z
        h[:, t] += h_prev
        h_prev = h[:, t]
    return h, GRUCache(x, h0, Wx, Wh, gates, reset_h_prev, h)


def gru_backward(dh, cache):
    """Backpropagation through time for :func:`gru_forward`.

    Each step applies :func:`gru_step_backward` to ``dh[:, t]`` plus the gradient from step
    ``t + 1``; the factors that do not depend on the incoming gradient are computed for all
    steps before the loop, and the parameter gradients after it, as single matrix products.

    Parameters
    ----------
    dh : ndarray of shape (B, T, H)
    cache : GRUCache

    Returns
    -------
    dx : ndarray of shape (B, T, D)
    dh0 : ndarray of shape (B, H)
    dWx : ndarray of shape (D, 3H)
    dWh : ndarray of shape (H, 3H)
    db : ndarray of shape (3H,)
    """
    x, h0, Wx, Wh, gates, reset_h_prev, h = cache
    check_float_arrays(h=h, dh=dh)
    check_same_shape("dh", dh, "h", h)
    B, T, H = h.shape
    D = x.shape[2]
    Wh_rz, Wh_n = Wh[:, : 2 * H], Wh[:, 2 * H :]  # (H, 2H), (H, H)
    r, z, candidate = gates[:, :, :H], gates[:, :, H : 2 * H], gates[:, :, 2 * H :]
    h_prev_all = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (B, T, H)

    # da starts as the local factor of each gate: what multiplies d(r h_prev) for r,
    # and dh_t for z and n.
    da = np.empty((B, T, 3, H), dtype=h.dtype)  # (B, T, 3, H)
    np.multiply(h_prev_all, r * (1 - r), out=da[:, :, 0])
    np.multiply(candidate - h_prev_all, z * (1 - z), out=da[:, :, 1])
    np.multiply(z, 1 - candidate * candidate, out=da[:, :, 2])
    one_minus_z = 1 - z  # (B, T, H)

    da_flat = da.reshape(B, T, 3 * H)  # (B, T, 3H), the same memory as da
    dh_next = np.zeros((B, H), dtype=h.dtype)  # (B, H), gradient arriving from step t + 1
    d_reset_h_prev = np.empty((B, H), dtype=h.dtype)  # (B, H), reused at every step
    through_rz = np.empty((B, H), dtype=h.dtype)  # (B, H), reused at every step
    for t in reversed(range(T)):
        dh_next += dh[:, t]  # now the total gradient on h_t
        da[:, t, 1:] *= dh_next[:, None]  # da_z, da_n
        np.matmul(da[:, t, 2], Wh_n.T, out=d_reset_h_prev)
        da[:, t, 0] *= d_reset_h_prev  # da_r
        # gradient on h_{t-1}: direct path, through r * h_prev, through the gates r and z
        dh_next *= one_minus_z[:, t]
        d_reset_h_prev *= r[:, t]
        dh_next += d_reset_h_prev
        np.matmul(da_flat[:, t, : 2 * H], Wh_rz.T, out=through_rz)
        dh_next += through_rz
    dh0 = dh_next  # (B, H)

    da_2d = da.reshape(B * T, 3 * H)  # (B*T, 3H)
    dx = (da_2d @ Wx.T).reshape(B, T, D)  # (B, T, D)
    dWx = x.reshape(B * T, D).T @ da_2d  # (D, 3H)
    dWh = np.empty_like(Wh)  # (H, 3H)
    dWh[:, : 2 * H] = h_prev_all.reshape(B * T, H).T @ da_2d[:, : 2 * H]  # (H, 2H)
    dWh[:, 2 * H :] = reset_h_prev.reshape(B * T, H).T @ da_2d[:, 2 * H :]  # (H, H)
    db = da_2d.sum(axis=0)  # (3H,)
    return dx, dh0, dWx, dWh, db
