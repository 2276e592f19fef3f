"""Centred finite differences, to check analytic gradients, and the relative error.

In float64 with ``eps = 1e-6`` a correct backward pass agrees with the numerical gradient to a
relative error of about ``1e-9``; a wrong one is usually off by ``1e-2`` or more.
"""

from __future__ import annotations

import numpy as np

from rnncore.shapes import check_float_arrays, check_same_shape

__all__ = ["numerical_gradient", "relative_error"]


def numerical_gradient(f, x, dout, eps=1e-6):
    """Gradient of :math:`\\sum f(x) \\odot dout` with respect to ``x``, by centred differences.

    .. math::

        \\frac{\\partial}{\\partial x_k} \\sum f(x) \\odot dout \\approx
        \\frac{\\sum \\left(f(x + \\epsilon e_k) - f(x - \\epsilon e_k)\\right) \\odot dout}
        {2 \\epsilon}

    This is what a backward pass returns when ``dout`` is the upstream gradient, so the two can
    be compared directly. Each element costs two calls of ``f``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array (or a scalar loss).
    x : ndarray of floats, any shape
        The point; it is not modified (``f`` receives a perturbed copy).
    dout : ndarray of the shape of ``f(x)``, or a scalar for a scalar ``f``
        Upstream gradient.
    eps : float, default 1e-6
        Step.

    Returns
    -------
    grad : ndarray of the shape and dtype of ``x``
    """
    check_float_arrays(x=x)
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    dout = np.asarray(dout)
    point = x.copy()  # perturbed in place, one element at a time
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = point[index]
        point[index] = original + eps
        plus = np.asarray(f(point))
        point[index] = original - eps
        minus = np.asarray(f(point))
        point[index] = original
        check_same_shape("dout", dout, "f(x)", plus)
        grad[index] = np.sum((plus - minus) * dout) / (2 * eps)
    return grad


def relative_error(actual, expected):
    """Relative distance between two arrays, symmetric and safe when both are zero.

    .. math::

        \\frac{\\lVert a - e \\rVert}{\\max(\\lVert a \\rVert + \\lVert e \\rVert,\\ tiny)}

    Parameters
    ----------
    actual : ndarray (or scalar)
    expected : ndarray (or scalar) of the same shape

    Returns
    -------
    float
        0 for equal arrays, 1 when one is zero and the other is not.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    check_same_shape("actual", actual, "expected", expected)
    tiny = np.finfo(np.float64).tiny
    size = np.linalg.norm(actual) + np.linalg.norm(expected)
    return float(np.linalg.norm(actual - expected) / max(size, tiny))
