"""GRU in its two published forms: one step and a whole sequence, forward and backward.

Letters: B batch, T time steps, D input features, H hidden units. The three gates are stacked
along the last axis in PyTorch's order ``GRU_GATES = ("r", "z", "n")``: ``Wx`` (D, 3H),
``Wh`` (H, 3H), ``b`` (3H,). Both forms share the reset and update gates

.. math::

    r_t = \\sigma(x_t W_x^r + h_{t-1} W_h^r + b^r), \\qquad
    z_t = \\sigma(x_t W_x^z + h_{t-1} W_h^z + b^z)

and differ in where the reset gate acts and in which way the update gate points.

**Reset before the product** (the seed's equations; this update-gate sign is Chung et al.
2014's, while Cho et al. 2014 wrote :math:`h_t = z_t h_{t-1} + (1 - z_t) \\tilde h_t`), ``gru_*``:

.. math::

    \\tilde h_t = \\tanh\\left(x_t W_x^n + (r_t \\odot h_{t-1}) W_h^n + b^n\\right), \\qquad
    h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t

**Reset after the product** (PyTorch and cuDNN), ``gru_reset_after_*``, with a separate
hidden bias ``b_hn`` (H,) that cannot be folded into ``b`` because it is multiplied by r:

.. math::

    n_t = \\tanh\\left(x_t W_x^n + b^n + r_t \\odot (h_{t-1} W_h^n + b_{hn})\\right), \\qquad
    h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}

Mapping to ``torch.nn.GRU``: ``Wx = weight_ih.T``, ``Wh = weight_hh.T``,
``b[:2H] = b_ih[:2H] + b_hh[:2H]``, ``b[2H:] = b_ih[2H:]``, ``b_hn = b_hh[2H:]``.

The update gates point in opposite directions; :func:`flip_update_gate` converts exactly.
The reset placements are different functions: :math:`(r \\odot h) W = h\\,\\mathrm{diag}(r) W`
but :math:`r \\odot (h W) = h W \\mathrm{diag}(r)`, equal for every r only when W is diagonal.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncore.numpy.layers import sigmoid, sigmoid_in_place
from rnncore.numpy.rnn import _uniform_parameters
from rnncore.shapes import check_float_arrays, check_same_shape, check_shape

__all__ = [
    "GRU_GATES",
    "GRUStepCache",
    "GRUCache",
    "GRUResetAfterStepCache",
    "GRUResetAfterCache",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "gru_reset_after_step_forward",
    "gru_reset_after_step_backward",
    "gru_reset_after_forward",
    "gru_reset_after_backward",
    "init_gru",
    "flip_update_gate",
]

GRU_GATES = ("r", "z", "n")


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


def _check_gru_arguments(x, h_name, h, Wx, Wh, b, b_hn=None, sequence=False):
    """Validate a GRU's arguments; return the common dtype and the bound letters."""
    dtype = check_float_arrays(x=x, **{h_name: h}, Wx=Wx, Wh=Wh, b=b, b_hn=b_hn)
    dims = check_shape("x", x, "B, T, D" if sequence else "B, D")
    check_shape("Wh", Wh, "H, 3H", dims)
    check_shape("Wx", Wx, "D, 3H", dims)
    check_shape(h_name, h, "B, H", dims)
    check_shape("b", b, "3H", dims)
    if b_hn is not None:
        check_shape("b_hn", b_hn, "H", dims)
    return dtype, dims


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
    _, dims = _check_gru_arguments(x, "h_prev", h_prev, Wx, Wh, b)
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
    dtype, dims = _check_gru_arguments(x, "h0", h0, Wx, Wh, b, sequence=True)
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
    _, dims = _check_gru_arguments(x, "h_prev", h_prev, Wx, Wh, b, b_hn)
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
    dtype, dims = _check_gru_arguments(x, "h0", h0, Wx, Wh, b, b_hn, sequence=True)
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


# --- parameters -----------------------------------------------------------------------------


def init_gru(D, H, rng, dtype=np.float64, reset_after=False):
    """Random GRU parameters, uniform on :math:`(-1/\\sqrt{H}, 1/\\sqrt{H})` like PyTorch.

    Parameters
    ----------
    D : int
    H : int
    rng : numpy.random.Generator
    dtype : numpy dtype, default float64
    reset_after : bool, default False
        Also draw ``b_hn`` of shape (H,), for the ``gru_reset_after_*`` functions.

    Returns
    -------
    params : dict
        ``Wx`` of shape (D, 3H), ``Wh`` of shape (H, 3H), ``b`` of shape (3H,) (and ``b_hn``
        when ``reset_after``); gate order ``GRU_GATES``.
    """
    params = _uniform_parameters(D, H, 3, rng, dtype)
    if reset_after:
        bound = 1.0 / np.sqrt(H)
        params["b_hn"] = rng.uniform(-bound, bound, size=(H,)).astype(dtype)  # (H,)
    return params


def flip_update_gate(Wx, Wh, b):
    """Parameters whose update gate is the complement of the given one's.

    Since :math:`\\sigma(-a) = 1 - \\sigma(a)`, negating the z block of ``Wx``, ``Wh`` and
    ``b`` turns :math:`z` into :math:`z' = 1 - z` exactly, and nothing else changes. Hence a
    GRU written :math:`h = (1 - z) \\odot h_{prev} + z \\odot \\tilde h` with ``(Wx, Wh, b)``
    computes the same function as one written :math:`h = z' \\odot h_{prev} + (1 - z') \\odot
    \\tilde h` with ``flip_update_gate(Wx, Wh, b)``, in either reset placement (``b_hn``
    belongs to the n block and is unchanged). Applying it twice gives the original parameters.

    Parameters
    ----------
    Wx : ndarray of shape (D, 3H)
    Wh : ndarray of shape (H, 3H)
    b : ndarray of shape (3H,)

    Returns
    -------
    Wx, Wh, b : ndarrays of the same shapes
        New arrays; the arguments are not modified.
    """
    check_float_arrays(Wx=Wx, Wh=Wh, b=b)
    dims = check_shape("Wh", Wh, "H, 3H")
    check_shape("Wx", Wx, "D, 3H", dims)
    check_shape("b", b, "3H", dims)
    H = dims["H"]
    flipped = []
    for array in (Wx, Wh, b):
        copy = array.copy()
        copy[..., H : 2 * H] *= -1  # the z block
        flipped.append(copy)
    return tuple(flipped)
