"""Known wrong versions of the CTC exercise's functions (a07), recognised by name.

The catalogues work as those of :mod:`rnncore.grading.mistakes`: each :class:`Mistake`
computes, from a case's inputs, what a function with that one mistake returns, and the judge
names the mistakes that the student's output matches. The recursions below are written from
the equations, apart from :mod:`rnncore.numpy.ctc`, with switches for the mistakes; they work in
float64 and in log space (``-inf`` is log 0), except :func:`probability_space_nll`, which is the
mistake of working with probabilities.

Letters: T frames, V symbols (the blank included), L labels, S = 2L + 1.
"""

from __future__ import annotations

import numpy as np

from rnncore.grading.mistakes import Mistake

__all__ = [
    "extended_labels",
    "log_alphas_with",
    "log_likelihood_with",
    "log_betas_with",
    "dlogits_with",
    "probability_space_nll",
    "decode_with",
    "EXTEND_WITH_BLANKS_MISTAKES",
    "CTC_FORWARD_MISTAKES",
    "CTC_BACKWARD_MISTAKES",
    "CTC_GREEDY_DECODE_MISTAKES",
    "DECODE_STEPS",
    "UNDERFLOW",
]


def extended_labels(labels, blank) -> np.ndarray:
    """``(blank, l_1, blank, ..., l_L, blank)``, shape (2L + 1,)."""
    extended = [blank]
    for label in labels:
        extended += [int(label), blank]
    return np.array(extended, dtype=np.int64)


def _skips(extended, blank, skip_repeats=False) -> np.ndarray:
    """(S,) bool: may a path jump from s - 2 to s. ``skip_repeats``: also between equal labels."""
    allowed = np.zeros(len(extended), dtype=bool)
    for s in range(2, len(extended)):
        allowed[s] = extended[s] != blank and (skip_repeats or extended[s] != extended[s - 2])
    return allowed


def _right(values, by):
    """(S,) values moved ``by`` places towards larger s, -inf where nothing arrives."""
    moved = np.full(values.shape, -np.inf)
    moved[by:] = values[: len(values) - by]
    return moved


def _left(values, by):
    moved = np.full(values.shape, -np.inf)
    moved[: len(values) - by] = values[by:]
    return moved


def log_alphas_with(log_probs, labels, blank, skip_repeats=False, initial="right"):
    """log alpha (T, S) with switches.

    ``initial``: "right" (the leading blank and the first label), "blank only", "every state",
    or "no frame" (log alpha_0 = 0 for the two starting states: y_0 left out).
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    extended = extended_labels(labels, blank)
    S = len(extended)
    emit = log_probs[:, extended]  # (T, S)
    skip = _skips(extended, blank, skip_repeats)  # (S,)
    log_alphas = np.full((log_probs.shape[0], S), -np.inf)  # (T, S)
    start = min(2, S)
    if initial == "right":
        log_alphas[0, :start] = emit[0, :start]
    elif initial == "blank only":
        log_alphas[0, 0] = emit[0, 0]
    elif initial == "every state":
        log_alphas[0] = emit[0]
    elif initial == "no frame":
        log_alphas[0, :start] = 0.0
    else:
        raise KeyError(initial)
    for t in range(1, log_probs.shape[0]):
        previous = log_alphas[t - 1]
        total = np.logaddexp(previous, _right(previous, 1))
        total = np.where(skip, np.logaddexp(total, _right(previous, 2)), total)
        log_alphas[t] = total + emit[t]
    return log_alphas


def log_likelihood_with(log_alphas, final="both") -> float:
    """log p from the last alphas: "both" ends (right), "label only", "blank only" or "all"."""
    last = log_alphas[-1]
    if len(last) == 1 or final == "blank only":
        return float(last[-1])
    if final == "both":
        return float(np.logaddexp(last[-1], last[-2]))
    if final == "label only":
        return float(last[-2])
    if final == "all":
        return float(np.logaddexp.reduce(last))
    raise KeyError(final)


def log_betas_with(log_probs, labels, blank, skip_repeats=False, final="right", with_frame=False):
    """log beta (T, S), the frame t left out (the course's convention), with switches.

    ``final``: "right" (beta_{T-1} = 1 at the last label and the trailing blank), "blank only",
    or "every state". ``with_frame``: Graves's convention, beta_t(s) includes y_t(l'_s).
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    extended = extended_labels(labels, blank)
    S = len(extended)
    emit = log_probs[:, extended]  # (T, S)
    skip = _skips(extended, blank, skip_repeats)  # (S,), into s
    T = log_probs.shape[0]
    log_betas = np.full((T, S), -np.inf)  # (T, S)
    if final == "right":
        log_betas[T - 1, max(S - 2, 0) :] = 0.0
    elif final == "blank only":
        log_betas[T - 1, S - 1] = 0.0
    elif final == "every state":
        log_betas[T - 1] = 0.0
    else:
        raise KeyError(final)
    skip_from = np.zeros(S, dtype=bool)  # (S,), may s jump to s + 2
    skip_from[: S - 2] = skip[2:]
    for t in range(T - 2, -1, -1):
        ahead = log_betas[t + 1] + emit[t + 1]
        total = np.logaddexp(ahead, _left(ahead, 1))
        log_betas[t] = np.where(skip_from, np.logaddexp(total, _left(ahead, 2)), total)
    return log_betas + emit if with_frame else log_betas


def dlogits_with(log_probs, labels, blank, log_alphas, log_betas, wrt="logits"):
    """The gradient (T, V) of the nll with respect to the logits, or to the wrong variable.

    ``wrt``: "logits" (right), "probabilities" (dL/dy), "log probabilities" (dL/dlog y).
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    extended = extended_labels(labels, blank)
    log_p = log_likelihood_with(log_alphas)
    posterior = np.exp(log_alphas + log_betas - log_p)  # (T, S)
    occupancy = np.zeros(log_probs.shape)  # (T, V)
    for s, symbol in enumerate(extended):
        occupancy[:, symbol] += posterior[:, s]
    y = np.exp(log_probs)  # (T, V)
    if wrt == "logits":
        return y - occupancy
    if wrt == "log probabilities":
        return -occupancy
    if wrt == "probabilities":
        with np.errstate(divide="ignore", invalid="ignore"):
            return -occupancy / y
    raise KeyError(wrt)


def probability_space_nll(log_probs, labels, blank) -> float:
    """The nll by the alpha recursion on probabilities: inf once p underflows to 0."""
    extended = extended_labels(labels, blank)
    y = np.exp(np.asarray(log_probs, dtype=np.float64))[:, extended]  # (T, S)
    skip = _skips(extended, blank)
    alpha = np.zeros(len(extended))
    alpha[:2] = y[0, :2]
    for t in range(1, y.shape[0]):
        moved = np.concatenate([[0.0], alpha[:-1]])
        moved2 = np.where(skip, np.concatenate([[0.0, 0.0], alpha[:-2]]), 0.0)
        alpha = (alpha + moved + moved2) * y[t]
    p = alpha[-1] + (alpha[-2] if len(alpha) > 1 else 0.0)
    with np.errstate(divide="ignore"):
        return float(-np.log(p))


def decode_with(log_probs, blank, order="merge, then remove blanks") -> list:
    """Greedy decoding with the steps in ``order``, or with one of them missing."""
    path = [int(k) for k in np.argmax(log_probs, axis=1)]

    def merge(symbols):
        return [k for i, k in enumerate(symbols) if i == 0 or k != symbols[i - 1]]

    def remove(symbols):
        return [k for k in symbols if k != blank]

    if order == "merge, then remove blanks":
        return remove(merge(path))
    if order == "remove blanks, then merge":
        return merge(remove(path))
    if order == "remove blanks only":
        return remove(path)
    if order == "merge only":
        return merge(path)
    raise KeyError(order)


# --- extend_with_blanks(labels, blank) -> extended (2L + 1,) --------------------------------

_EXTENDED = (
    "l' puts a blank before, between and after the labels: for labels (a, b, c), "
    "l' = (-, a, -, b, -, c, -), 2L + 1 symbols, the labels at the odd positions."
)


def _extend(how):
    def predict(arrays, extra):
        labels, blank = arrays["labels"], arrays["blank"]
        extended = extended_labels(labels, blank)
        if how == "none":
            return {"extended": np.array(labels)}
        if how == "no trailing":
            return {"extended": extended[:-1]}
        if how == "no leading":
            return {"extended": extended[1:]}
        if how == "blank 0":
            return {"extended": extended_labels(labels, 0)}
        raise KeyError(how)

    return predict


EXTEND_WITH_BLANKS_MISTAKES = (
    Mistake(
        "blanks not inserted",
        "extended equals the labels. CTC's recursion runs over the labels with blanks: "
        + _EXTENDED,
        _extend("none"),
    ),
    Mistake(
        "trailing blank missing",
        "extended ends with the last label. A path may end in a blank after it: " + _EXTENDED,
        _extend("no trailing"),
    ),
    Mistake(
        "leading blank missing",
        "extended starts with the first label. A path may start with blanks: " + _EXTENDED,
        _extend("no leading"),
    ),
    Mistake(
        "blank taken as symbol 0",
        "extended holds 0 where the blanks go. The blank is the symbol `blank` you are given; "
        "it is not always 0.",
        _extend("blank 0"),
    ),
)


# --- ctc_forward(log_probs, labels, blank) -> (nll, log_alphas) -----------------------------

_SKIP = (
    "A path may jump from s - 2 to s (over the blank between them) only when l'_s is a label "
    "that differs from l'_{s-2}: between two equal labels the blank is required, since a a "
    "without a blank reads as one a."
)

_INITIAL = (
    "A path starts either with a blank or with the first label: log alpha_0(0) = "
    "log_probs[0, blank], log alpha_0(1) = log_probs[0, l_1], and -inf (log 0) for every other s."
)

_FINAL = (
    "A complete path ends either on the last label or on the trailing blank after it: "
    "p = alpha_{T-1}(S-1) + alpha_{T-1}(S-2), in log space np.logaddexp of the two."
)

UNDERFLOW = (
    "probabilities instead of log probabilities (underflow)",
    "nll is inf on a long input: the product of hundreds of frame probabilities is below "
    "1e-308 and underflows to 0 in float64, so log p = -inf. Keep everything in log space: "
    "add log probabilities instead of multiplying probabilities, and replace a + b by "
    "np.logaddexp(log a, log b).",
)


def _forward(only=None, final="both", **switches):
    def predict(arrays, extra):
        log_alphas = log_alphas_with(*arrays.values(), **switches)
        predicted = {"nll": np.float64(-log_likelihood_with(log_alphas, final))}
        if only != "nll":
            predicted["log_alphas"] = log_alphas
        return predicted

    return predict


def _underflow(arrays, extra):
    return {"nll": np.float64(probability_space_nll(*arrays.values()))}


def _alphas_as_probabilities(arrays, extra):
    log_alphas = log_alphas_with(*arrays.values())
    return {"log_alphas": np.exp(log_alphas)}


CTC_FORWARD_MISTAKES = (
    Mistake(
        "skip allowed between identical labels",
        "Your result matches a recursion that lets every label jump over the blank before it. "
        + _SKIP,
        _forward(skip_repeats=True),
    ),
    Mistake(*UNDERFLOW, _underflow),
    Mistake(
        "alphas returned as probabilities, not their logarithms",
        "log_alphas matches exp(log alpha): return the log alphas themselves (-inf for log 0).",
        _alphas_as_probabilities,
    ),
    Mistake(
        "the final sum missing the trailing blank",
        "nll matches -log alpha_{T-1}(S-2), the paths that end on the last label only. " + _FINAL,
        _forward(only="nll", final="label only"),
    ),
    Mistake(
        "the final sum missing the last label",
        "nll matches -log alpha_{T-1}(S-1), the paths that end on the trailing blank only. "
        + _FINAL,
        _forward(only="nll", final="blank only"),
    ),
    Mistake(
        "the final sum over every state",
        "nll matches -log sum_s alpha_{T-1}(s), which counts paths that stop before the last "
        "label. " + _FINAL,
        _forward(only="nll", final="all"),
    ),
    Mistake(
        "wrong initial states (only the leading blank)",
        "log_alphas matches a start in the leading blank alone, so no path starts with the "
        "first label. " + _INITIAL,
        _forward(initial="blank only"),
    ),
    Mistake(
        "wrong initial states (every state)",
        "log_alphas matches a start in every state s, so paths may skip the first labels. "
        + _INITIAL,
        _forward(initial="every state"),
    ),
    Mistake(
        "wrong initial states (the first frame left out)",
        "log_alphas matches log alpha_0 = 0 for the two starting states: the first frame's "
        "probabilities are missing. " + _INITIAL,
        _forward(initial="no frame"),
    ),
    Mistake(
        "log-likelihood instead of the negative log-likelihood",
        "nll matches +log p. The loss is nll = -log p, which is >= 0.",
        lambda arrays, extra: {
            "nll": np.float64(log_likelihood_with(log_alphas_with(*arrays.values())))
        },
    ),
)


# --- ctc_backward(log_probs, labels, blank, log_alphas) -> (log_betas, dlogits) --------------

_BETA = (
    "beta_t(s) is the probability of the frames after t that complete the labels from state s: "
    "log beta_{T-1} = 0 (log 1) at the last label and the trailing blank, -inf elsewhere, and "
    "beta_t(s) = sum over s' in {s, s+1, s+2 (same rule as the alphas' skip)} of "
    "y_{t+1}(l'_{s'}) beta_{t+1}(s')."
)

_LOGITS = (
    "log_probs = log_softmax(logits), and the loss's gradient with respect to the logits is "
    "dlogits[t, k] = y_t(k) - sum over the states s with l'_s = k of gamma_t(s), where "
    "y_t = exp(log_probs[t]) and gamma_t(s) = exp(log alpha_t(s) + log beta_t(s) - log p)."
)


def _betas(**switches):
    def predict(arrays, extra):
        log_probs, labels, blank, _ = arrays.values()
        return {"log_betas": log_betas_with(log_probs, labels, blank, **switches)}

    return predict


def _gradient(wrt="logits", sign=1.0):
    def predict(arrays, extra):
        log_probs, labels, blank, log_alphas = arrays.values()
        log_betas = log_betas_with(log_probs, labels, blank)
        dlogits = dlogits_with(log_probs, labels, blank, log_alphas, log_betas, wrt)
        return {"dlogits": sign * dlogits}

    return predict


CTC_BACKWARD_MISTAKES = (
    Mistake(
        "the gradient taken with respect to probabilities instead of logits",
        "dlogits matches -gamma / y, the gradient with respect to the probabilities y. The "
        "network outputs logits, and the softmax between them and y changes the gradient: "
        + _LOGITS,
        _gradient("probabilities"),
    ),
    Mistake(
        "the gradient taken with respect to log probabilities instead of logits",
        "dlogits matches -gamma summed per symbol, the gradient with respect to log_probs: "
        "the softmax's term y_t(k) is missing. " + _LOGITS,
        _gradient("log probabilities"),
    ),
    Mistake(
        "gradient of the log-likelihood instead of the loss",
        "dlogits has the opposite sign: it is the gradient of log p. The loss is -log p. "
        + _LOGITS,
        _gradient(sign=-1.0),
    ),
    Mistake(
        "skip allowed between identical labels",
        "log_betas matches a recursion that lets every label be reached by a jump over the "
        "blank before it. " + _SKIP,
        _betas(skip_repeats=True),
    ),
    Mistake(
        "betas include the current frame",
        "log_betas matches beta_t(s) y_t(l'_s) (Graves's convention). In this assignment the "
        "frame t belongs to alpha only, so that sum_s alpha_t(s) beta_t(s) = p at every t. "
        + _BETA,
        _betas(with_frame=True),
    ),
    Mistake(
        "wrong initial states of the betas (only the trailing blank)",
        "log_betas matches log beta_{T-1} = 0 at the trailing blank only, so no path may end "
        "on the last label. " + _BETA,
        _betas(final="blank only"),
    ),
    Mistake(
        "wrong initial states of the betas (every state)",
        "log_betas matches log beta_{T-1} = 0 for every state, which counts paths that stop "
        "before the last label. " + _BETA,
        _betas(final="every state"),
    ),
)


# --- ctc_greedy_decode(log_probs, blank) -> list of int ----------------------------------

DECODE_STEPS = (
    "Read the best path (argmax of every frame), merge repeated symbols, then remove the "
    "blanks: a a - a b reads a a b (the blank separates the two a's)."
)

CTC_GREEDY_DECODE_MISTAKES = (
    Mistake(
        "decoding that removes blanks before collapsing repeats",
        "Your result matches removing the blanks first: a a - a then reads a. Merge the "
        "repeats first; a blank between two equal labels keeps them apart. " + DECODE_STEPS,
        lambda arrays, extra: {
            "decoded": decode_with(*arrays.values(), "remove blanks, then merge")
        },
    ),
    Mistake(
        "repeats not collapsed",
        "Your result matches the best path without its blanks, repeats kept. " + DECODE_STEPS,
        lambda arrays, extra: {"decoded": decode_with(*arrays.values(), "remove blanks only")},
    ),
    Mistake(
        "blanks not removed",
        "Your result still holds the blank. " + DECODE_STEPS,
        lambda arrays, extra: {"decoded": decode_with(*arrays.values(), "merge only")},
    ),
    Mistake(
        "blank taken as symbol 0",
        "Your result matches decoding with 0 as the blank. The blank is the symbol `blank` you "
        "are given; it is not always 0.",
        lambda arrays, extra: {"decoded": decode_with(arrays["log_probs"], 0)},
    ),
)
