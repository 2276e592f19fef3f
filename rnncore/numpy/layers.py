"""Affine and temporal affine layers, embedding, and the activations the cells use.

Letters: B batch, T time steps, D input features, H hidden units, M output features,
V vocabulary size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnncore.shapes import check_float_arrays, check_shape

__all__ = [
    "AffineCache",
    "EmbeddingCache",
    "affine_forward",
    "affine_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "embedding_forward",
    "embedding_backward",
    "sigmoid",
    "sigmoid_in_place",
    "tanh",
    "softmax",
    "log_softmax",
    "uniform_parameters",
]


class AffineCache(NamedTuple):
    """What the affine backward passes need: the input and the weights."""

    x: np.ndarray  # (B, D) or (B, T, H)
    W: np.ndarray  # (D, M) or (H, M)


class EmbeddingCache(NamedTuple):
    """What :func:`embedding_backward` needs: the indices and the table (for its shape)."""

    indices: np.ndarray  # (B, T), integers in [0, V)
    W: np.ndarray  # (V, D)


def affine_forward(x, W, b):
    """Fully connected layer.

    .. math::

        out = x W + b

    Parameters
    ----------
    x : ndarray of shape (B, D)
    W : ndarray of shape (D, M)
    b : ndarray of shape (M,)

    Returns
    -------
    out : ndarray of shape (B, M)
    cache : AffineCache
    """
    check_float_arrays(x=x, W=W, b=b)
    dims = check_shape("x", x, "B, D")
    check_shape("W", W, "D, M", dims)
    check_shape("b", b, "M", dims)
    out = x @ W + b  # (B, M)
    return out, AffineCache(x, W)


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    .. math::

        dx = dout\\, W^\\top, \\quad dW = x^\\top dout, \\quad db = \\textstyle\\sum_B dout

    Parameters
    ----------
    dout : ndarray of shape (B, M)
    cache : AffineCache

    Returns
    -------
    dx : ndarray of shape (B, D)
    dW : ndarray of shape (D, M)
    db : ndarray of shape (M,)
    """
    x, W = cache
    check_float_arrays(x=x, dout=dout)
    check_shape("dout", dout, "B, M", {"B": x.shape[0], "M": W.shape[1]})
    dx = dout @ W.T  # (B, D)
    dW = x.T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dW, db


def temporal_affine_forward(x, W, b):
    """The same affine layer applied at every time step (for example hidden states to scores).

    .. math::

        out_t = x_t W + b, \\qquad t = 1, \\dots, T

    Parameters
    ----------
    x : ndarray of shape (B, T, H)
    W : ndarray of shape (H, M)
    b : ndarray of shape (M,)

    Returns
    -------
    out : ndarray of shape (B, T, M)
    cache : AffineCache
    """
    check_float_arrays(x=x, W=W, b=b)
    dims = check_shape("x", x, "B, T, H")
    check_shape("W", W, "H, M", dims)
    check_shape("b", b, "M", dims)
    out = x @ W + b  # (B, T, M)
    return out, AffineCache(x, W)


def temporal_affine_backward(dout, cache):
    """Backward pass of :func:`temporal_affine_forward`; parameter gradients sum over B and T.

    .. math::

        dx_t = dout_t W^\\top, \\quad dW = \\textstyle\\sum_{B, T} x_t^\\top dout_t, \\quad
        db = \\textstyle\\sum_{B, T} dout_t

    Parameters
    ----------
    dout : ndarray of shape (B, T, M)
    cache : AffineCache

    Returns
    -------
    dx : ndarray of shape (B, T, H)
    dW : ndarray of shape (H, M)
    db : ndarray of shape (M,)
    """
    x, W = cache
    check_float_arrays(x=x, dout=dout)
    B, T, H = x.shape
    M = W.shape[1]
    check_shape("dout", dout, "B, T, M", {"B": B, "T": T, "M": M})
    dx = dout @ W.T  # (B, T, H)
    dW = x.reshape(B * T, H).T @ dout.reshape(B * T, M)  # (H, M)
    db = dout.sum(axis=(0, 1))  # (M,)
    return dx, dW, db


def embedding_forward(indices, W):
    """Look up one row of ``W`` per index: ``out[b, t] = W[indices[b, t]]``.

    .. math::

        out_{b,t} = W_{\\,indices_{b,t}}

    Parameters
    ----------
    indices : ndarray of integers of shape (B, T)
        Token ids in ``[0, V)``.
    W : ndarray of shape (V, D)
        Embedding table, one row per token.

    Returns
    -------
    out : ndarray of shape (B, T, D)
    cache : EmbeddingCache
    """
    check_float_arrays(W=W)
    dims = check_shape("indices", indices, "B, T")
    check_shape("W", W, "V, D", dims)
    _check_indices("indices", indices, dims["V"])
    out = W[indices]  # (B, T, D)
    return out, EmbeddingCache(indices, W)


def embedding_backward(dout, cache):
    """Backward pass of :func:`embedding_forward`: add each ``dout[b, t]`` to row ``indices[b, t]``.

    .. math::

        dW_v = \\textstyle\\sum_{b, t \\,:\\, indices_{b,t} = v} dout_{b,t}

    A token that appears several times receives the sum of its gradients, which is why this
    uses ``np.add.at`` (unbuffered) and not ``dW[indices] += dout`` (last write wins).

    Parameters
    ----------
    dout : ndarray of shape (B, T, D)
    cache : EmbeddingCache

    Returns
    -------
    dW : ndarray of shape (V, D)
    """
    indices, W = cache
    check_float_arrays(W=W, dout=dout)
    V, D = W.shape
    check_shape("dout", dout, "B, T, D", {"B": indices.shape[0], "T": indices.shape[1], "D": D})
    dW = np.zeros_like(W)  # (V, D)
    np.add.at(dW, indices, dout)
    return dW


def sigmoid(x):
    """Logistic sigmoid.

    .. math::

        \\sigma(x) = \\frac{1}{1 + e^{-x}}

    For very negative ``x``, :math:`e^{-x}` overflows to ``inf`` and the result is exactly 0,
    the correct limit; the overflow warning is silenced for that reason.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    ndarray of the same shape and dtype
    """
    check_float_arrays(x=x)
    return sigmoid_in_place(np.array(x, copy=True))


def sigmoid_in_place(a):
    """Overwrite ``a`` with ``sigmoid(a)`` and return it (no allocation).

    The sequence functions use this on their own buffers, never on a caller's array.
    """
    with np.errstate(over="ignore"):  # exp(-a) = inf for a << 0 gives 1 / inf = 0, exact
        # Not np.negative(a, out=a): NumPy 2.4 computes it wrongly in place on some strided
        # views (a (2, 1) gate block of a (2, 2, 4) array), which multiply does not.
        np.multiply(a, -1, out=a)
        np.exp(a, out=a)
    a += 1
    np.divide(1, a, out=a)
    return a


def tanh(x):
    """Hyperbolic tangent, :math:`\\tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})`.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    ndarray of the same shape and dtype
    """
    check_float_arrays(x=x)
    return np.tanh(x)


def softmax(x, axis=-1):
    """Softmax along ``axis``, shifted by the maximum so that ``exp`` never overflows.

    .. math::

        \\mathrm{softmax}(x)_k = \\frac{e^{x_k - m}}{\\sum_j e^{x_j - m}}, \\qquad m = \\max_j x_j

    Parameters
    ----------
    x : ndarray of any shape
    axis : int, default -1

    Returns
    -------
    ndarray of the same shape and dtype; sums to one along ``axis``
    """
    check_float_arrays(x=x)
    shifted = x - x.max(axis=axis, keepdims=True)  # same shape as x
    exp = np.exp(shifted, out=shifted)
    exp /= exp.sum(axis=axis, keepdims=True)
    return exp


def log_softmax(x, axis=-1):
    """Logarithm of the softmax along ``axis``, by the log-sum-exp trick.

    .. math::

        \\log \\mathrm{softmax}(x)_k = x_k - m - \\log \\textstyle\\sum_j e^{x_j - m},
        \\qquad m = \\max_j x_j

    Parameters
    ----------
    x : ndarray of any shape
    axis : int, default -1

    Returns
    -------
    ndarray of the same shape and dtype
    """
    check_float_arrays(x=x)
    shifted = x - x.max(axis=axis, keepdims=True)  # same shape as x
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def _check_indices(name, indices, V):
    """Raise ValueError unless ``indices`` is an integer array with values in [0, V)."""
    if not isinstance(indices, np.ndarray) or not np.issubdtype(indices.dtype, np.integer):
        kind = indices.dtype if isinstance(indices, np.ndarray) else type(indices).__name__
        raise ValueError(f"{name} must be a NumPy integer array, got {kind}")
    if indices.size and (indices.min() < 0 or indices.max() >= V):
        raise ValueError(
            f"{name} must lie in [0, V) = [0, {V}), "
            f"got values from {indices.min()} to {indices.max()}"
        )


def uniform_parameters(D, H, gates, rng, dtype=np.float64):
    """A recurrent layer's ``Wx`` (D, G*H), ``Wh`` (H, G*H), ``b`` (G*H,), each uniform on
    (-1/sqrt(H), 1/sqrt(H)) as PyTorch draws them; ``gates`` is G (1 RNN, 4 LSTM, 3 GRU)."""
    for name, size in (("D", D), ("H", H)):
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")
    bound = 1.0 / np.sqrt(H)
    G = gates
    return {
        "Wx": rng.uniform(-bound, bound, size=(D, G * H)).astype(dtype),  # (D, G*H)
        "Wh": rng.uniform(-bound, bound, size=(H, G * H)).astype(dtype),  # (H, G*H)
        "b": rng.uniform(-bound, bound, size=(G * H,)).astype(dtype),  # (G*H,)
    }
