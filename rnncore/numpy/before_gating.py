r"""Two answers to vanishing gradients that came before gating: leaky units and reservoirs.

**Leaky units** (Mozer, 1992; Jaeger et al., 2007) mix the old state into the new one with a
fixed leak rate :math:`\alpha \in (0, 1]`:

.. math::

    h_t = (1 - \alpha)\, h_{t-1} + \alpha \tanh(x_t W_x + h_{t-1} W_h + b),

so the Jacobian of one step is :math:`(1 - \alpha) I + \alpha\, \mathrm{diag}(1 - \tilde
h_t^2)\, W_h^\top` (row form: the gradient is multiplied on the right by its transpose), whose
identity part lets a gradient survive about :math:`1/\alpha` steps even where the tanh part
vanishes. :math:`\alpha = 1` is the vanilla RNN. A gated cell learns its own
:math:`\alpha`, per unit and per step; a leaky unit fixes it.

**Echo-state networks** (Jaeger, 2001) do not train the recurrence at all: a fixed random
*reservoir* :math:`h_t = \tanh(u_t w_{in} + h_{t-1} W_h)` with spectral radius below 1 keeps a
fading trace of its inputs, and only a linear read-out is fitted, by ridge regression. How far
back the trace reaches is the reservoir's *memory*: the squared correlation
:math:`r_k^2` between the input :math:`u_{t-k}` and the best linear read-out of it from
:math:`h_t`, for each delay :math:`k`.

Letters: B batch, T time steps, D input features, H hidden units, K delays.
"""

from __future__ import annotations

import numpy as np

from rnncore.shapes import check_float_arrays, check_shape

__all__ = ["leaky_rnn_forward", "leaky_gradient_norms", "reservoir_memory"]


def _check_leak(leak) -> float:
    leak = float(leak)
    if not 0.0 < leak <= 1.0:
        raise ValueError(f"leak must be in (0, 1], got {leak!r}")
    return leak


def leaky_rnn_forward(x, h0, Wx, Wh, b, leak):
    r"""Run a leaky tanh RNN over a sequence.

    .. math::

        h_t = (1 - \alpha)\, h_{t-1} + \alpha \tanh(x_t W_x + h_{t-1} W_h + b)

    Parameters
    ----------
    x : ndarray of shape (B, T, D)
    h0 : ndarray of shape (B, H)
    Wx : ndarray of shape (D, H)
    Wh : ndarray of shape (H, H)
    b : ndarray of shape (H,)
    leak : float in (0, 1]
        :math:`\alpha`; 1 gives :func:`rnncore.numpy.rnn.rnn_forward`'s states.

    Returns
    -------
    h : ndarray of shape (B, T, H)
        The state after every step.
    candidates : ndarray of shape (B, T, H)
        :math:`\tilde h_t = \tanh(x_t W_x + h_{t-1} W_h + b)`, for the Jacobians.
    """
    check_float_arrays(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b)
    dims = check_shape("x", x, "B, T, D")
    check_shape("Wh", Wh, "H, H", dims)
    check_shape("Wx", Wx, "D, H", dims)
    check_shape("h0", h0, "B, H", dims)
    check_shape("b", b, "H", dims)
    leak = _check_leak(leak)
    projected = x @ Wx + b  # (B, T, H)
    h = np.empty_like(projected)
    candidates = np.empty_like(projected)
    h_prev = h0
    for t in range(x.shape[1]):
        candidates[:, t] = np.tanh(projected[:, t] + h_prev @ Wh)  # (B, H)
        h[:, t] = (1.0 - leak) * h_prev + leak * candidates[:, t]
        h_prev = h[:, t]
    return h, candidates


def leaky_gradient_norms(Wh, candidates, leak, dh_last):
    r"""Mean norm of :math:`\partial L / \partial h_{T-k}` for k = 0 .. T - 1.

    Starting from :math:`g_T = \partial L / \partial h_T` = ``dh_last``, one step back is

    .. math::

        g_{t-1} = (1 - \alpha)\, g_t + \big(\alpha\, g_t \odot (1 - \tilde h_t^2)\big) W_h^\top.

    Parameters
    ----------
    Wh : ndarray of shape (H, H)
    candidates : ndarray of shape (B, T, H)
        From :func:`leaky_rnn_forward`.
    leak : float in (0, 1]
    dh_last : ndarray of shape (B, H)

    Returns
    -------
    norms : ndarray of shape (T,)
        ``norms[k]``: the mean over the batch of :math:`\lVert g_{T-k} \rVert`; ``norms[0]``
        is that of ``dh_last``.
    """
    check_float_arrays(Wh=Wh, candidates=candidates, dh_last=dh_last)
    dims = check_shape("candidates", candidates, "B, T, H")
    check_shape("Wh", Wh, "H, H", dims)
    check_shape("dh_last", dh_last, "B, H", dims)
    leak = _check_leak(leak)
    T = candidates.shape[1]
    norms = np.empty(T)
    g = dh_last
    for k in range(T):
        norms[k] = np.linalg.norm(g, axis=1).mean()
        t = T - 1 - k  # g holds dL/dh at step t (0-based); step back through step t
        g = (1.0 - leak) * g + (leak * g * (1.0 - candidates[:, t] ** 2)) @ Wh.T
    return norms


def reservoir_memory(
    hidden_size: int,
    spectral_radius: float,
    delays,
    rng: np.random.Generator,
    steps: int = 4000,
    washout: int = 200,
    ridge: float = 1e-6,
):
    r"""Memory of a random echo-state reservoir: :math:`r_k^2` for each delay k.

    The reservoir :math:`h_t = \tanh(u_t w_{in} + h_{t-1} W_h)` (H units, :math:`W_h` Gaussian,
    rescaled to ``spectral_radius``; :math:`w_{in}` uniform in (-0.1, 0.1)) reads i.i.d.
    inputs :math:`u_t \sim U(-1, 1)`. For each delay k a ridge read-out
    :math:`\hat u_{t-k} = h_t w_k + c_k` is fitted on the first half of the steps after the
    washout, and :math:`r_k^2`, the squared correlation of :math:`\hat u_{t-k}` with
    :math:`u_{t-k}`, is measured on the second half.

    Parameters
    ----------
    hidden_size : int
        H.
    spectral_radius : float > 0
    delays : sequence of int >= 0
        The K delays k.
    rng : numpy.random.Generator
    steps : int, default 4000
        Length of the input sequence.
    washout : int, default 200
        Initial steps left out while the reservoir forgets its zero start.
    ridge : float, default 1e-6
        The ridge penalty, times the trace of :math:`H^\top H / H`.

    Returns
    -------
    r2 : ndarray of shape (K,)
        Held-out :math:`r_k^2`, in [0, 1]; their sum over all delays is the memory
        capacity, at most H (Jaeger, 2001).
    """
    if not isinstance(hidden_size, int) or hidden_size < 1:
        raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
    if not spectral_radius > 0:
        raise ValueError(f"spectral_radius must be > 0, got {spectral_radius!r}")
    delays = [int(k) for k in delays]
    if not delays or min(delays) < 0:
        raise ValueError(f"delays must be non-negative integers, got {delays!r}")
    if steps - washout < 2 * (max(delays) + 2 * hidden_size):
        raise ValueError(
            f"steps = {steps} leaves too few after the washout ({washout}) and the longest "
            f"delay ({max(delays)}) to fit and test read-outs of {hidden_size} units"
        )
    H = hidden_size
    Wh = rng.standard_normal((H, H))
    Wh *= spectral_radius / np.max(np.abs(np.linalg.eigvals(Wh)))  # (H, H)
    w_in = rng.uniform(-0.1, 0.1, size=H)  # (H,)
    u = rng.uniform(-1.0, 1.0, size=steps)  # (steps,)
    states = np.empty((steps, H))
    h = np.zeros(H)
    for t in range(steps):
        h = np.tanh(u[t] * w_in + h @ Wh)
        states[t] = h
    r2 = np.empty(len(delays))
    start = washout + max(delays)
    half = start + (steps - start) // 2
    features = np.hstack([states, np.ones((steps, 1))])  # (steps, H + 1): the read-out's bias
    fit = features[start:half]
    penalty = ridge * np.trace(fit.T @ fit) / (H + 1)
    for index, k in enumerate(delays):
        target = u[start - k : half - k]
        weights = np.linalg.solve(fit.T @ fit + penalty * np.eye(H + 1), fit.T @ target)
        predicted = features[half:] @ weights
        truth = u[half - k : steps - k]
        r2[index] = np.corrcoef(predicted, truth)[0, 1] ** 2
    return r2
