r"""The GRU with the reset gate after the product (PyTorch and cuDNN), ``gru_reset_after_*``:

.. math::

    n_t = \tanh\left(x_t W_x^n + b^n + r_t \odot (h_{t-1} W_h^n + b_{hn})\right), \qquad
    h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

with a hidden bias ``b_hn`` (H,) that cannot be folded into ``b`` because r multiplies it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncore.numpy.gru.common import check_gru_arguments
from rnncore.numpy.layers import sigmoid, sigmoid_in_place
from rnncore.shapes import check_float_arrays, check_same_shape

__all__ = [
    "GRUResetAfterStepCache",
    "GRUResetAfterCache",
    "gru_reset_after_step_forward",
    "gru_reset_after_step_backward",
    "gru_reset_after_forward",
    "gru_reset_after_backward",
]


class GRUResetAfterStepCache(NamedTuple):
    """What :func:`gru_reset_after_step_backward` needs from one forward step."""

    x: np.ndarray  # (B, D)
    h_prev: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    gates: np.ndarray  # (B, 3H): r, z, n after their activations
    hidden_n: np.ndarray  # (B, H): h_prev @ Wh_n + b_hn, before the reset gate


class GRUResetAfterCache(NamedTuple):
    """What :func:`gru_reset_after_backward` needs from the forward pass over a sequence."""

    x: np.ndarray  # (B, T, D)
    h0: np.ndarray  # (B, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    gates: np.ndarray  # (B, T, 3H): r, z, n
    hidden_n: np.ndarray  # (B, T, H): h_{t-1} @ Wh_n + b_hn
    h: np.ndarray  # (B, T, H)


# --- reset after the product (PyTorch / cuDNN) ----------------------------------------------


def gru_reset_after_step_forward(x, h_prev, Wx, Wh, b, b_hn):
    """One GRU step in PyTorch's form: reset gate applied after the product.

    .. math::

        r &= \\sigma(x W_x^r + h_{prev} W_h^r + b^r), \\quad
        z = \\sigma(x W_x^z + h_{prev} W_h^z + b^z) \\\\
        n &= \\tanh\\left(x W_x^n + b^n + r \\odot (h_{prev} W_h^n + b_{hn})\\right), \\quad
        h_{next} = (1 - z) \\odot n + z \\odot h_{prev}

    Parameters
    ----------
    x : ndarray of shape (B, D)
    h_prev : ndarray of shape (B, H)
    Wx : ndarray of shape (D, 3H)
    Wh : ndarray of shape (H, 3H)
    b : ndarray of shape (3H,)
        ``b_ih + b_hh`` for r and z, ``b_ih`` for n.
    b_hn : ndarray of shape (H,)
        Hidden bias of n, inside the reset gate's product.

    Returns
    -------
    h_next : ndarray of shape (B, H)
    cache : GRUResetAfterStepCache
    """
    _, dims = check_gru_arguments(x, "h_prev", h_prev, Wx, Wh, b, b_hn)
    H = dims["H"]
    a_x = x @ Wx + b  # (B, 3H)
    a_h = h_prev @ Wh  # (B, 3H)
    r = sigmoid(a_x[:, :H] + a_h[:, :H])  # (B, H)
    z = sigmoid(a_x[:, H : 2 * H] + a_h[:, H : 2 * H])  # (B, H)
    hidden_n = a_h[:, 2 * H :] + b_hn  # (B, H)
    n = np.tanh(a_x[:, 2 * H :] + r * hidden_n)  # (B, H)
    h_next = (1 - z) * n + z * h_prev  # (B, H)
    gates = np.concatenate([r, z, n], axis=1)  # (B, 3H)
    return h_next, GRUResetAfterStepCache(x, h_prev, Wx, Wh, gates, hidden_n)


def gru_reset_after_step_backward(dh_next, cache):
    """Backward pass of :func:`gru_reset_after_step_forward`.

    With :math:`m = h_{prev} W_h^n + b_{hn}` (``hidden_n``):

    .. math::

        da^n &= dh_{next} \\odot (1 - z) \\odot (1 - n^2), \\quad
        da^z = dh_{next} \\odot (h_{prev} - n) \\odot z (1 - z), \\quad
        da^r = da^n \\odot m \\odot r (1 - r) \\\\
        dm &= da^n \\odot r, \\quad db_{hn} = \\textstyle\\sum_B dm, \\quad
        dh_{prev} = dh_{next} \\odot z + [da^r, da^z, dm]\\, W_h^\\top \\\\
        dW_h &= h_{prev}^\\top [da^r, da^z, dm], \\quad dW_x = x^\\top da, \\quad
        db = \\textstyle\\sum_B da

    Parameters
    ----------
    dh_next : ndarray of shape (B, H)
    cache : GRUResetAfterStepCache

    Returns
    -------
    dx : ndarray of shape (B, D)
    dh_prev : ndarray of shape (B, H)
    dWx : ndarray of shape (D, 3H)
    dWh : ndarray of shape (H, 3H)
    db : ndarray of shape (3H,)
    db_hn : ndarray of shape (H,)
    """
    x, h_prev, Wx, Wh, gates, hidden_n = cache
    check_float_arrays(h_prev=h_prev, dh_next=dh_next)
    check_same_shape("dh_next", dh_next, "h_next", h_prev)
    H = h_prev.shape[1]
    r, z, n = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H :]  # each (B, H)

    da_n = dh_next * (1 - z) * (1 - n**2)  # (B, H)
    da_z = dh_next * (h_prev - n) * z * (1 - z)  # (B, H)
    da_r = da_n * hidden_n * r * (1 - r)  # (B, H)
    d_hidden_n = da_n * r  # (B, H)
    da = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H), input side
    da_hidden = np.concatenate([da_r, da_z, d_hidden_n], axis=1)  # (B, 3H), hidden side

    dx = da @ Wx.T  # (B, D)
    dh_prev = dh_next * z + da_hidden @ Wh.T  # (B, H)
    dWx = x.T @ da  # (D, 3H)
    dWh = h_prev.T @ da_hidden  # (H, 3H)
    db = da.sum(axis=0)  # (3H,)
    db_hn = d_hidden_n.sum(axis=0)  # (H,)
    return dx, dh_prev, dWx, dWh, db, db_hn


def gru_reset_after_forward(x, h0, Wx, Wh, b, b_hn):
    """Run the reset-after GRU of :func:`gru_reset_after_step_forward` over a sequence.

    Parameters
    ----------
    x : ndarray of shape (B, T, D)
    h0 : ndarray of shape (B, H)
    Wx : ndarray of shape (D, 3H)
    Wh : ndarray of shape (H, 3H)
    b : ndarray of shape (3H,)
    b_hn : ndarray of shape (H,)

    Returns
    -------
    h : ndarray of shape (B, T, H)
    cache : GRUResetAfterCache
    """
    dtype, dims = check_gru_arguments(x, "h0", h0, Wx, Wh, b, b_hn, sequence=True)
    B, T, D, H = dims["B"], dims["T"], dims["D"], dims["H"]

    gates = np.empty((B, T, 3 * H), dtype=dtype)  # (B, T, 3H)
    # gates first holds the input part of every step's pre-activations, in one product.
    np.matmul(x.reshape(B * T, D), Wx, out=gates.reshape(B * T, 3 * H))  # (B*T, 3H)
    gates += b
    hidden_n = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    h = np.empty((B, T, H), dtype=dtype)  # (B, T, H)
    recurrent = np.empty((B, 3 * H), dtype=dtype)  # (B, 3H), reused at every step
    h_prev = h0
    for t in range(T):
        rz, n = gates[:, t, : 2 * H], gates[:, t, 2 * H :]  # (B, 2H), (B, H)
        np.matmul(h_prev, Wh, out=recurrent)
        rz += recurrent[:, : 2 * H]
        sigmoid_in_place(rz)
        r, z = rz[:, :H], rz[:, H:]  # (B, H), (B, H)
        np.add(recurrent[:, 2 * H :], b_hn, out=hidden_n[:, t])
        np.multiply(r, hidden_n[:, t], out=recurrent[:, 2 * H :])
        n += recurrent[:, 2 * H :]
        np.tanh(n, out=n)
        # h_t = (1 - z) n + z h_prev = n + z (h_prev - n)
        np.subtract(h_prev, n, out=h[:, t])
        h[:, t] *= z
        h[:, t] += n
        h_prev = h[:, t]
    return h, GRUResetAfterCache(x, h0, Wx, Wh, gates, hidden_n, h)


def gru_reset_after_backward(dh, cache):
    """Backpropagation through time for :func:`gru_reset_after_forward`.

    Every gate's gradient is ``dh_t`` times a factor known before the loop (see
    :func:`gru_reset_after_step_backward`), so the loop holds one element-wise product, the
    recurrent product with :math:`W_h^\\top` and the direct path :math:`dh_t \\odot z_t`.

    Parameters
    ----------
    dh : ndarray of shape (B, T, H)
    cache : GRUResetAfterCache

    Returns
    -------
    dx : ndarray of shape (B, T, D)
    dh0 : ndarray of shape (B, H)
    dWx : ndarray of shape (D, 3H)
    dWh : ndarray of shape (H, 3H)
    db : ndarray of shape (3H,)
    db_hn : ndarray of shape (H,)
    """
    x, h0, Wx, Wh, gates, hidden_n, h = cache
    check_float_arrays(h=h, dh=dh)
    check_same_shape("dh", dh, "h", h)
    B, T, H = h.shape
    D = x.shape[2]
    r, z, n = gates[:, :, :H], gates[:, :, H : 2 * H], gates[:, :, 2 * H :]  # each (B, T, H)
    h_prev_all = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (B, T, H)

    # da_hidden starts as the factor that multiplies dh_t for r, z and hidden_n. The passes
    # over whole contiguous arrays come first: they run faster than passes over gate blocks.
    da_hidden = np.subtract(1, gates)  # (B, T, 3H): 1 - r, 1 - z, 1 - n
    da_hidden *= gates  # r (1 - r) and z (1 - z); n's block is redone below
    da_r, da_z, d_hidden_n = (da_hidden[:, :, k * H : (k + 1) * H] for k in range(3))
    n_factor = n * n  # (B, T, H)
    np.subtract(1, n_factor, out=n_factor)
    n_factor *= 1 - z  # (1 - z)(1 - n^2): da_n = dh_t * n_factor
    da_r *= hidden_n
    da_r *= n_factor  # (1 - z)(1 - n^2) hidden_n r (1 - r)
    da_z *= h_prev_all - n  # (h_prev - n) z (1 - z)
    np.multiply(n_factor, r, out=d_hidden_n)  # (1 - z)(1 - n^2) r

    da_hidden_by_gate = da_hidden.reshape(B, T, 3, H)  # (B, T, 3, H), the same memory
    dh_total = np.empty((B, T, H), dtype=h.dtype)  # (B, T, H), total gradient on each h_t
    dh_next = np.zeros((B, H), dtype=h.dtype)  # (B, H), gradient arriving from step t + 1
    through_gates = np.empty((B, H), dtype=h.dtype)  # (B, H), reused at every step
    for t in reversed(range(T)):
        np.add(dh[:, t], dh_next, out=dh_total[:, t])
        da_hidden_by_gate[:, t] *= dh_total[:, t, None]  # da_r, da_z, d hidden_n
        np.multiply(dh_total[:, t], z[:, t], out=dh_next)
        np.matmul(da_hidden[:, t], Wh.T, out=through_gates)
        dh_next += through_gates  # gradient on h_{t-1}
    dh0 = dh_next  # (B, H)

    da_hidden_2d = da_hidden.reshape(B * T, 3 * H)  # (B*T, 3H)
    dWh = h_prev_all.reshape(B * T, H).T @ da_hidden_2d  # (H, 3H)
    db_hn = da_hidden_2d[:, 2 * H :].sum(axis=0)  # (H,)
    # The input side differs from the hidden side only in the n block (da_n, without the
    # factor r): with the hidden-side sums done, the same buffer becomes da, with no copy.
    da = da_hidden  # (B, T, 3H)
    np.multiply(dh_total, n_factor, out=da[:, :, 2 * H :])
    da_2d = da.reshape(B * T, 3 * H)  # (B*T, 3H)
    dx = (da_2d @ Wx.T).reshape(B, T, D)  # (B, T, D)
    dWx = x.reshape(B * T, D).T @ da_2d  # (D, 3H)
    db = da_2d.sum(axis=0)  # (3H,)
    return dx, dh0, dWx, dWh, db, db_hn
