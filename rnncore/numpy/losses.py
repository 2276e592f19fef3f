"""Losses that return their value and their gradient: softmax cross-entropy over time, MSE.

Letters: B batch, T time steps, V vocabulary size.
"""

from __future__ import annotations

import numpy as np

from rnncore.numpy.layers import log_softmax
from rnncore.shapes import check_float_arrays, check_same_shape, check_shape, format_shape

__all__ = ["temporal_softmax_loss", "mse_loss"]


def temporal_softmax_loss(scores, targets, mask=None):
    """Mean cross-entropy (in nats) of a softmax over ``V`` classes at every unmasked step.

    With :math:`N = \\sum_{b,t} mask_{b,t}` and :math:`p = \\mathrm{softmax}(scores)`:

    .. math::

        L = -\\frac{1}{N} \\sum_{b,t} mask_{b,t} \\log p_{b,t,\\,targets_{b,t}}, \\qquad
        \\frac{\\partial L}{\\partial scores_{b,t,v}}
        = \\frac{mask_{b,t}}{N}\\left(p_{b,t,v} - [v = targets_{b,t}]\\right)

    The log-probabilities come from the log-sum-exp form, so large scores never overflow.

    Parameters
    ----------
    scores : ndarray of shape (B, T, V)
        Unnormalised log-probabilities.
    targets : ndarray of integers of shape (B, T)
        Correct class at each step, in ``[0, V)``.
    mask : ndarray of bool of shape (B, T), optional
        Which steps count (for example, not padding). ``None`` means all of them.

    Returns
    -------
    loss : scalar of the scores' dtype
    dscores : ndarray of shape (B, T, V)
    """
    dtype = check_float_arrays(scores=scores)
    dims = check_shape("scores", scores, "B, T, V")
    check_shape("targets", targets, "B, T", dims)
    if not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be a NumPy integer array, got {targets.dtype}")
    V = dims["V"]
    if targets.size and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(
            f"targets must lie in [0, V) = [0, {V}), "
            f"got values from {targets.min()} to {targets.max()}"
        )
    if mask is None:
        mask = np.ones(targets.shape, dtype=bool)  # (B, T)
    check_shape("mask", mask, "B, T", dims)
    if mask.dtype != bool:
        raise ValueError(f"mask must be a NumPy bool array, got {mask.dtype}")
    count = int(mask.sum())
    if count == 0:
        raise ValueError("mask must keep at least one position, got all False")

    log_probabilities = log_softmax(scores)  # (B, T, V)
    picked = np.take_along_axis(log_probabilities, targets[..., None], axis=-1)[..., 0]  # (B, T)
    loss = -picked[mask].sum() / dtype.type(count)

    dscores = np.exp(log_probabilities)  # (B, T, V), the probabilities
    B, T = targets.shape
    # Subtract the one-hot target; each (b, t) appears once, so fancy-index -= is safe.
    dscores[np.arange(B)[:, None], np.arange(T)[None, :], targets] -= 1
    dscores *= (mask / count).astype(dtype)[..., None]  # (B, T, V)
    return dtype.type(loss), dscores


def mse_loss(prediction, target):
    """Mean squared error over all elements, and its gradient.

    .. math::

        L = \\frac{1}{N} \\sum_k (prediction_k - target_k)^2, \\qquad
        \\frac{\\partial L}{\\partial prediction} = \\frac{2}{N}(prediction - target)

    Parameters
    ----------
    prediction : ndarray of any shape
    target : ndarray of the same shape and dtype

    Returns
    -------
    loss : scalar of the prediction's dtype
    dprediction : ndarray of the prediction's shape
    """
    dtype = check_float_arrays(prediction=prediction, target=target)
    check_same_shape("target", target, "prediction", prediction)
    if prediction.size == 0:
        raise ValueError(
            f"prediction must have at least one element, got shape {format_shape(prediction.shape)}"
        )
    difference = prediction - target  # same shape as prediction
    loss = np.mean(difference * difference)
    dprediction = difference * dtype.type(2 / prediction.size)  # same shape as prediction
    return dtype.type(loss), dprediction
