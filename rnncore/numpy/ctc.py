r"""Connectionist temporal classification (CTC): the loss, its gradient, and greedy decoding.

CTC lets a network that emits one distribution over ``V`` symbols per frame learn to transcribe
without frame-level alignments (Graves et al., 2006). One symbol, the *blank*, means "nothing
new here". A path :math:`\pi` of ``T`` symbols reads as a label sequence :math:`\mathcal{B}(\pi)`
after merging repeated symbols and then removing blanks (``a a - a b b -`` reads ``a a b``); the
probability of a label sequence ``l`` is the sum over every path that reads as it,

.. math::

    p(l \mid x) = \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=0}^{T-1} y_t(\pi_t),

with :math:`y_t = \mathrm{softmax}(a_t)` the frame's probabilities. The sum runs over
exponentially many paths; the forward-backward recursions below compute it in
:math:`O(T\,S)` on the labels extended with blanks, :math:`l' = (-, l_1, -, l_2, \dots, l_L, -)`.

Letters: T frames, V symbols (the blank included), L labels, S = 2L + 1 extended labels.
Everything is computed in log space (a product of 500 probabilities underflows float64), with
``-inf`` standing for log 0. The functions keep the dtype of ``log_probs``; float64 is the
default the course uses.
"""

from __future__ import annotations

import numpy as np

from rnncore.shapes import check_float_arrays, check_shape, format_shape

__all__ = [
    "extend_with_blanks",
    "ctc_forward",
    "ctc_backward",
    "ctc_greedy_decode",
]


def _check_blank(blank, V: int | None = None) -> int:
    """The blank as a Python int; a ValueError unless it is an integer in [0, V)."""
    if isinstance(blank, bool) or not isinstance(blank, int | np.integer):
        raise ValueError(f"blank must be an integer symbol index, got {type(blank).__name__}")
    blank = int(blank)
    if blank < 0 or (V is not None and blank >= V):
        bound = "" if V is None else f" < V = {V}"
        raise ValueError(f"blank must satisfy 0 <= blank{bound}, got {blank}")
    return blank


def _check_labels(labels, blank: int, V: int | None = None) -> np.ndarray:
    """A ValueError unless ``labels`` is a 1-D integer array of symbols other than the blank."""
    if not isinstance(labels, np.ndarray):
        raise ValueError(f"labels must be a NumPy integer array, got {type(labels).__name__}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a NumPy integer array, got dtype {labels.dtype}")
    check_shape("labels", labels, "L")
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be symbol indices >= 0, got {labels.min()}")
    if V is not None and labels.size and labels.max() >= V:
        raise ValueError(f"labels must be symbol indices < V = {V}, got {labels.max()}")
    if np.any(labels == blank):
        where = int(np.flatnonzero(labels == blank)[0])
        raise ValueError(
            f"labels must not contain the blank ({blank}), found at labels[{where}]: the blank "
            "is CTC's own symbol for 'no new label'"
        )
    return labels


def _check_log_probs(log_probs) -> np.dtype:
    """A ValueError unless ``log_probs`` (T, V) holds per-frame log-probabilities."""
    dtype = check_float_arrays(log_probs=log_probs)
    dims = check_shape("log_probs", log_probs, "T, V")
    if dims["T"] == 0 or dims["V"] < 2:
        raise ValueError(
            f"log_probs must have T >= 1 frames and V >= 2 symbols (a blank and a label), got "
            f"shape {format_shape(log_probs.shape)}"
        )
    if np.any(np.isnan(log_probs)) or np.any(log_probs == np.inf):
        raise ValueError("log_probs must not contain NaN or +inf (log 0 = -inf is allowed)")
    with np.errstate(divide="ignore"):
        totals = np.logaddexp.reduce(log_probs.astype(np.float64), axis=1)  # (T,)
    worst = int(np.argmax(np.abs(totals)))
    if abs(totals[worst]) > np.sqrt(np.finfo(dtype).eps) * 10:
        raise ValueError(
            "log_probs must be log-probabilities of each frame (the output of a log-softmax, "
            f"each row's logsumexp equal to 0); row {worst} has logsumexp {totals[worst]:.3g}"
        )
    return dtype


def _repeats(labels) -> int:
    """How many neighbours in ``labels`` are equal (each needs a blank between them)."""
    return int(np.sum(labels[1:] == labels[:-1]))


def _check_feasible(T: int, labels) -> None:
    L, repeats = labels.shape[0], _repeats(labels)
    if T < L + repeats:
        raise ValueError(
            f"T = {T} frames cannot hold the L = {L} labels: every label needs a frame, and "
            f"each of the {repeats} pair(s) of equal neighbours a blank frame between them, so "
            f"CTC needs T >= L + {repeats} = {L + repeats} (the probability is 0, the loss inf)"
        )


def extend_with_blanks(labels, blank):
    """The labels with a blank before, between and after them: :math:`l'` of length 2L + 1.

    .. math::

        l'_{2k} = \\text{blank}, \\qquad l'_{2k+1} = l_{k+1} \\qquad (k = 0, \\dots, L)

    Parameters
    ----------
    labels : ndarray of integers of shape (L,)
        Symbol indices, none of them the blank.
    blank : int
        Index of the blank symbol.

    Returns
    -------
    extended : ndarray of integers of shape (2L + 1,)
        A new array of the labels' dtype.
    """
    blank = _check_blank(blank)
    labels = _check_labels(labels, blank)
    L = labels.shape[0]
    extended = np.full(2 * L + 1, blank, dtype=labels.dtype)  # (S,)
    extended[1::2] = labels
    return extended


def _skip_allowed(extended, blank) -> np.ndarray:
    """``allowed[s]``: a path may jump from s - 2 to s (a label unlike the one two back)."""
    allowed = np.zeros(extended.shape[0], dtype=bool)  # (S,)
    allowed[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    return allowed


def _shift(values, by: int, fill):
    """``values`` moved ``by`` places to the right (positive) or left, ``fill`` where empty."""
    shifted = np.full_like(values, fill)
    if by > 0:
        shifted[by:] = values[:-by]
    else:
        shifted[:by] = values[-by:]
    return shifted


def _log_likelihood(log_alphas) -> np.generic:
    """:math:`\\log p = \\log(\\alpha_{T-1}(S-1) + \\alpha_{T-1}(S-2))` (S = 1: the one state)."""
    last = log_alphas[-1]  # (S,)
    return np.logaddexp.reduce(last[-2:]) if last.shape[0] > 1 else last[0]


def ctc_forward(log_probs, labels, blank):
    """CTC's negative log-likelihood of ``labels``, by the alpha (forward) recursion in log space.

    :math:`\\alpha_t(s)` is the probability of the frames 0..t along every path prefix that reads
    as :math:`l'_{0..s}` and is in state s at frame t; with :math:`y_t(k) = e^{log\\_probs[t, k]}`,

    .. math::

        \\alpha_0(0) = y_0(-), \\quad \\alpha_0(1) = y_0(l_1), \\quad \\alpha_0(s) = 0
        \\ (s \\ge 2),

        \\alpha_t(s) = y_t(l'_s) \\big(\\alpha_{t-1}(s) + \\alpha_{t-1}(s-1)
        + [l'_s \\ne - \\text{ and } l'_s \\ne l'_{s-2}]\\, \\alpha_{t-1}(s-2)\\big),

        p(l \\mid x) = \\alpha_{T-1}(S-1) + \\alpha_{T-1}(S-2), \\qquad nll = -\\log p(l \\mid x).

    The skip from s - 2 jumps over a blank; it is forbidden between equal labels, which a path
    can only tell apart with a blank between them. Each sum is a log-sum-exp (``np.logaddexp``),
    so that nothing underflows; ``-inf`` stands for log 0.

    Parameters
    ----------
    log_probs : ndarray of shape (T, V)
        Log-probabilities of the V symbols at each frame (a log-softmax of the logits).
    labels : ndarray of integers of shape (L,)
        The target symbols, without blanks; T >= L + (number of equal neighbours).
    blank : int
        Index of the blank symbol, in [0, V).

    Returns
    -------
    nll : scalar of the dtype of log_probs
        :math:`-\\log p(l \\mid x)`, what ``torch.nn.CTCLoss(reduction="sum")`` returns.
    log_alphas : ndarray of shape (T, S)
        :math:`\\log \\alpha_t(s)`, S = 2L + 1; ``-inf`` where s cannot be reached by frame t.
    """
    dtype = _check_log_probs(log_probs)
    T, V = log_probs.shape
    blank = _check_blank(blank, V)
    labels = _check_labels(labels, blank, V)
    _check_feasible(T, labels)
    extended = extend_with_blanks(labels, blank)  # (S,)
    S = extended.shape[0]
    skip = _skip_allowed(extended, blank)  # (S,)
    emit = log_probs[:, extended]  # (T, S), log y_t(l'_s)

    log_alphas = np.full((T, S), -np.inf, dtype=dtype)  # (T, S)
    log_alphas[0, : min(2, S)] = emit[0, : min(2, S)]
    for t in range(1, T):
        previous = log_alphas[t - 1]  # (S,)
        total = np.logaddexp(previous, _shift(previous, 1, -np.inf))  # (S,), stay or step
        total = np.where(skip, np.logaddexp(total, _shift(previous, 2, -np.inf)), total)
        log_alphas[t] = total + emit[t]
    nll = -_log_likelihood(log_alphas)
    return dtype.type(nll), log_alphas


def ctc_backward(log_probs, labels, blank, log_alphas):
    """The betas, and the gradient of ``ctc_forward``'s nll with respect to the frame logits.

    :math:`\\beta_t(s)` is the probability of the frames t+1..T-1 along every path suffix that
    completes the labels from state s at frame t (the frame t itself is in :math:`\\alpha`):

    .. math::

        \\beta_{T-1}(S-1) = \\beta_{T-1}(S-2) = 1, \\quad \\beta_{T-1}(s) = 0 \\text{ otherwise},

        \\beta_t(s) = \\sum_{s' \\in \\{s,\\, s+1,\\, s+2\\}} y_{t+1}(l'_{s'})\\,
        \\beta_{t+1}(s') \\quad (s + 2 \\text{ only when } l'_{s+2} \\ne -
        \\text{ and } l'_{s+2} \\ne l'_s),

    so that :math:`\\sum_s \\alpha_t(s) \\beta_t(s) = p(l \\mid x)` at every frame t. With
    ``log_probs = log_softmax(logits)`` and :math:`\\gamma_t(s) = \\alpha_t(s)\\beta_t(s) / p`,
    the posterior of being in state s at frame t,

    .. math::

        \\frac{\\partial\\, nll}{\\partial\\, logits_{t,k}} = y_t(k)
        - \\sum_{s:\\, l'_s = k} \\gamma_t(s).

    Parameters
    ----------
    log_probs : ndarray of shape (T, V)
        The log-softmax outputs given to :func:`ctc_forward`.
    labels : ndarray of integers of shape (L,)
    blank : int
    log_alphas : ndarray of shape (T, S)
        What :func:`ctc_forward` returned for these arguments.

    Returns
    -------
    log_betas : ndarray of shape (T, S)
        :math:`\\log \\beta_t(s)`; ``-inf`` where the labels cannot be completed from (t, s).
    dlogits : ndarray of shape (T, V)
        Gradient of the nll with respect to the logits whose log-softmax is ``log_probs``.
    """
    dtype = _check_log_probs(log_probs)
    T, V = log_probs.shape
    blank = _check_blank(blank, V)
    labels = _check_labels(labels, blank, V)
    _check_feasible(T, labels)
    check_float_arrays(log_probs=log_probs, log_alphas=log_alphas)
    extended = extend_with_blanks(labels, blank)  # (S,)
    S = extended.shape[0]
    check_shape("log_alphas", log_alphas, "T, S", {"T": T, "S": S})
    log_p = _log_likelihood(log_alphas)
    if not np.isfinite(log_p):
        raise ValueError(
            f"log_alphas give log p = {float(log_p):.3g}: pass the log_alphas that "
            "ctc_forward returned for these log_probs and labels"
        )
    skip = _skip_allowed(extended, blank)  # (S,)
    emit = log_probs[:, extended]  # (T, S), log y_t(l'_s)

    log_betas = np.full((T, S), -np.inf, dtype=dtype)  # (T, S)
    log_betas[T - 1, max(S - 2, 0) :] = 0
    for t in range(T - 2, -1, -1):
        ahead = log_betas[t + 1] + emit[t + 1]  # (S,), beta_{t+1}(s') y_{t+1}(l'_{s'})
        total = np.logaddexp(ahead, _shift(ahead, -1, -np.inf))  # (S,), stay or step
        skip_into = _shift(skip, -2, False)  # (S,), may s jump to s + 2
        total = np.where(skip_into, np.logaddexp(total, _shift(ahead, -2, -np.inf)), total)
        log_betas[t] = total

    posterior = np.exp(log_alphas + log_betas - log_p)  # (T, S), gamma_t(s)
    one_hot = (extended[:, None] == np.arange(V)[None, :]).astype(dtype)  # (S, V)
    occupancy = posterior @ one_hot  # (T, V), sum of gamma over the states of each symbol
    dlogits = np.exp(log_probs) - occupancy  # (T, V)
    return log_betas, dlogits.astype(dtype, copy=False)


def ctc_greedy_decode(log_probs, blank):
    """Best-path decoding: the most likely symbol at every frame, repeats merged, blanks removed.

    .. math::

        \\hat l = \\mathcal{B}(\\hat \\pi), \\qquad \\hat \\pi_t = \\arg\\max_k\\, log\\_probs[t, k]

    Merging comes first: ``a a - a`` reads ``a a`` (the blank separates two a's), and removing
    the blanks first would give ``a``. :math:`\\hat \\pi` is the most likely *path*; the most
    likely *label sequence* sums over paths and can differ (prefix beam search looks for it).

    Parameters
    ----------
    log_probs : ndarray of shape (T, V)
        Per-frame scores: log-probabilities, or any monotone function of them (logits).
    blank : int
        Index of the blank symbol, in [0, V).

    Returns
    -------
    list of int
        The decoded labels, of length at most T.
    """
    check_float_arrays(log_probs=log_probs)
    check_shape("log_probs", log_probs, "T, V")
    blank = _check_blank(blank, log_probs.shape[1])
    best = np.argmax(log_probs, axis=1)  # (T,), the best path
    new = np.ones(best.shape[0], dtype=bool)  # (T,), a symbol unlike the frame before
    new[1:] = best[1:] != best[:-1]
    return [int(symbol) for symbol in best[new] if symbol != blank]
