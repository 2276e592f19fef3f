"""What both GRU forms share: the gate order, the argument checks, initialisation, and the
exact conversion between the two directions of the update gate."""

from __future__ import annotations

import numpy as np

from rnncore.numpy.layers import uniform_parameters
from rnncore.shapes import check_float_arrays, check_shape

__all__ = ["GRU_GATES", "check_gru_arguments", "init_gru", "flip_update_gate"]

GRU_GATES = ("r", "z", "n")


def check_gru_arguments(x, h_name, h, Wx, Wh, b, b_hn=None, sequence=False):
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
    params = uniform_parameters(D, H, 3, rng, dtype)
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
