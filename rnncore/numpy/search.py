r"""Decoding a sequence model token by token: greedy decoding and beam search, in NumPy.

The model is seen only through a step function,
``step_fn(token, state) -> (log_probs, new_state)``: given the last token (an int) and the
state, the log-probabilities (V,) of the next token and the state after it. Both searches
start from ``bos`` (fed first, never part of the result) and stop a sequence once it produces
``eos`` (which is part of the result) or after ``max_len`` tokens.

Beam search keeps the ``beam_size`` best hypotheses by the length-normalised score

.. math::

    \mathrm{score}(y_{1..n}) = \frac{\sum_{t=1}^{n} \log p(y_t \mid y_{<t})}{n^{\alpha}},

with ``alpha = length_penalty`` (0: the plain log-probability, which favours short sequences;
1: the mean log-probability per token). This is the plain :math:`n^\alpha` form, not GNMT's
:math:`((5 + n)/6)^\alpha`; n counts the produced tokens, ``eos`` included.

At every step each unfinished hypothesis is extended by every token; a finished hypothesis
(ending in ``eos``) is kept as it is, never extended, and competes with the extensions; the
``beam_size`` best by score survive (a stable sort: among equal scores the earlier one, in the
order beam rank then token index, stays first). The search stops when every hypothesis on the
beam is finished, or after ``max_len`` steps. With ``beam_size=1`` it is greedy decoding;
with a beam at least as large as the number of possible sequences it is exhaustive search.

The PyTorch versions, used by the chapters, are :func:`rnncore.torch.decode.greedy_decode` and
:func:`rnncore.torch.decode.beam_search`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["greedy_decode", "beam_search", "length_normalised"]


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _log_probs(step_fn: Callable, token: int, state) -> tuple[np.ndarray, Any]:
    result = step_fn(token, state)
    if not isinstance(result, tuple) or len(result) != 2:
        raise ValueError("step_fn(token, state) must return a tuple (log_probs, new_state)")
    log_probs, new_state = result
    log_probs = np.asarray(log_probs)
    if log_probs.ndim != 1 or log_probs.size == 0:
        raise ValueError(f"step_fn's log_probs must have shape (V,), got {log_probs.shape}")
    return log_probs, new_state


def length_normalised(log_prob: float, length: int, length_penalty: float) -> float:
    r"""The beam score :math:`\log p / n^{\alpha}` of a hypothesis of ``length`` tokens."""
    return float(log_prob) / float(length) ** float(length_penalty)


def greedy_decode(step_fn, start_state, bos, eos, max_len):
    """Pick the most likely token at every step, until ``eos`` or ``max_len`` tokens.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(token: int, state) -> (log_probs ndarray of shape (V,), new_state)``.
    start_state
        The state before ``bos`` (anything ``step_fn`` accepts).
    bos : int
        Fed first; not part of the result.
    eos : int
        Ends the sequence; part of the result.
    max_len : int
        Most tokens to produce, >= 1.

    Returns
    -------
    tokens : list of int
        The tokens chosen, ``eos`` included if produced; ties go to the lower index.
    log_prob : float
        The sum of the chosen tokens' log-probabilities.
    """
    max_len = _check_count("max_len", max_len)
    token, state, tokens, log_prob = int(bos), start_state, [], 0.0
    for _ in range(max_len):
        log_probs, state = _log_probs(step_fn, token, state)
        token = int(np.argmax(log_probs))
        log_prob += float(log_probs[token])
        tokens.append(token)
        if token == eos:
            break
    return tokens, log_prob


class Hypothesis(NamedTuple):
    """One sequence on the beam."""

    tokens: tuple  # the tokens produced so far
    log_prob: float  # their summed log-probability
    state: Any  # step_fn's state after the last token
    finished: bool  # the last token is eos

    def score(self, length_penalty: float) -> float:
        return length_normalised(self.log_prob, len(self.tokens), length_penalty)


def beam_search(step_fn, start_state, bos, eos, beam_size, max_len, length_penalty=0.0):
    r"""Keep the ``beam_size`` best hypotheses by length-normalised score at every step.

    Parameters
    ----------
    step_fn, start_state, bos, eos, max_len
        As for :func:`greedy_decode`.
    beam_size : int
        Hypotheses kept, >= 1.
    length_penalty : float, default 0.0
        :math:`\alpha` in :math:`\log p / n^\alpha`, >= 0.

    Returns
    -------
    list of (tokens, score)
        The final beam, best first: ``tokens`` a list of int (``eos`` included when
        finished), ``score`` the float :math:`\log p / n^\alpha`. Finished and unfinished
        (``max_len`` reached) hypotheses both appear.
    """
    beam_size = _check_count("beam_size", beam_size)
    max_len = _check_count("max_len", max_len)
    if not np.isfinite(length_penalty) or length_penalty < 0:
        raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")
    beam = [Hypothesis((), 0.0, start_state, False)]
    for _ in range(max_len):
        if all(hypothesis.finished for hypothesis in beam):
            break
        candidates = []
        for hypothesis in beam:
            if hypothesis.finished:
                candidates.append(hypothesis)  # kept as it is, never extended
                continue
            last = hypothesis.tokens[-1] if hypothesis.tokens else int(bos)
            log_probs, state = _log_probs(step_fn, last, hypothesis.state)
            for token, log_prob in enumerate(log_probs.tolist()):
                candidates.append(
                    Hypothesis(
                        hypothesis.tokens + (token,),
                        hypothesis.log_prob + log_prob,
                        state,
                        token == eos,
                    )
                )
        # sorted() is stable: ties keep beam rank, then token order (greedy's argmax order).
        ranked = sorted(candidates, key=lambda h: h.score(length_penalty), reverse=True)
        beam = ranked[:beam_size]
    return [(list(h.tokens), h.score(length_penalty)) for h in beam]
