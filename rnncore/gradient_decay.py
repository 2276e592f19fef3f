r"""How fast a gradient decays with distance in time, measured as one factor per step.

Chapters 5 (label ``ch-vanishing``) and 6 (``ch-lstm``) measure the mean norm
:math:`g_k = \lVert \partial L / \partial h_{T-k} \rVert` of the gradient k steps back and
summarise the curve by the geometric factor per step that fits it best from ``first_lag`` on:
the least-squares line :math:`\log g_k \approx a + s\,k` gives

.. math::

    \rho = e^{s}, \qquad g_{k+1} \approx \rho\, g_k,

so :math:`\rho < 1` is a vanishing gradient, :math:`\rho = 1` a constant one. The first lags
are skipped because the curve only settles into its geometric rate after a few steps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decay_rate"]


def decay_rate(norms, first_lag: int = 10) -> float:
    r"""The geometric factor per step of a gradient-norm curve, fitted from ``first_lag`` on.

    Parameters
    ----------
    norms : array-like of shape (K,)
        :math:`g_k` at lags k = 0, 1, ..., K - 1; finite and > 0.
    first_lag : int, default 10
        The first lag of the fit; at least two lags must remain (K >= first_lag + 2).

    Returns
    -------
    rate : float
        :math:`\rho = e^{s}`, with s the slope of :math:`\log g_k` against k.
    """
    norms = np.asarray(norms, dtype=np.float64)
    if isinstance(first_lag, bool) or not isinstance(first_lag, (int, np.integer)) or first_lag < 0:
        raise ValueError(f"first_lag must be an integer >= 0, got {first_lag!r}")
    if norms.ndim != 1 or norms.size < first_lag + 2:
        raise ValueError(
            f"norms must have shape (K,) with K >= first_lag + 2 = {first_lag + 2}, "
            f"got {norms.shape}"
        )
    tail = norms[first_lag:]  # (K - first_lag,)
    if not np.all(np.isfinite(tail)) or np.any(tail <= 0):
        raise ValueError(f"norms from lag {first_lag} on must be finite and > 0, got {tail}")
    lags = np.arange(first_lag, norms.size)  # (K - first_lag,)
    slope = np.polyfit(lags, np.log(tail), 1)[0]
    return float(np.exp(slope))
