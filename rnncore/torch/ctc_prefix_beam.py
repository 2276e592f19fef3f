r"""CTC prefix beam search: the most probable *labelling*, not the most probable path.

Greedy CTC decoding (:func:`rnncore.torch.decode.ctc_greedy_decode`) takes the best symbol of
every frame, the most probable single path. But a labelling :math:`l` is read from many paths,
and its probability is their sum,

.. math::

    p(l \mid x) = \sum_{\pi:\ \mathcal{B}(\pi) = l}\ \prod_{t=0}^{T-1} y_t(\pi_t),

so the best labelling can be one whose probability is spread over many paths, none of them the
best path. Prefix beam search (Graves, 2012; Hannun, 2017) walks through the frames keeping,
for each prefix :math:`\ell` of a labelling, two probabilities of the frames so far:
:math:`p_b(\ell)`, over paths that read as :math:`\ell` and end in a blank, and
:math:`p_{nb}(\ell)`, over those that end in :math:`\ell`'s last symbol. At frame t, with
:math:`p = p_b + p_{nb}` and :math:`y = y_t`,

.. math::

    p_b'(\ell) &\mathrel{+}= p(\ell)\, y(-) \\
    p_{nb}'(\ell) &\mathrel{+}= p_{nb}(\ell)\, y(\ell_{\mathrm{last}})
        && \text{(the last symbol repeated, merged)} \\
    p_{nb}'(\ell s) &\mathrel{+}= p(\ell)\, y(s) \quad (s \ne \ell_{\mathrm{last}}),
    \qquad p_{nb}'(\ell s) \mathrel{+}= p_b(\ell)\, y(s) \quad (s = \ell_{\mathrm{last}}),

and only the ``beam_width`` prefixes with the largest :math:`p_b + p_{nb}` survive each frame.
Without pruning (a beam as wide as the number of prefixes) these sums are exact, so the search
returns the exact most probable labelling; everything is done in log space.

Letters: B batch, T frames, V symbols (the blank included).
"""

from __future__ import annotations

import math

import torch

from rnncore.shapes import check_shape

__all__ = ["ctc_prefix_beam_search", "ctc_prefix_beam_decode"]

_NEG_INF = -math.inf


def _log_add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow; -inf stands for log 0."""
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    if a < b:
        a, b = b, a
    return a + math.log1p(math.exp(b - a))


def _check_common(beam_width, blank, V) -> None:
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
        raise ValueError(f"beam_width must be a positive integer, got {beam_width!r}")
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < V:
        raise ValueError(f"blank must be an integer in 0..V-1 = 0..{V - 1}, got {blank!r}")


def ctc_prefix_beam_search(
    log_probs: torch.Tensor,
    beam_width: int,
    blank: int = 0,
) -> list[tuple[tuple[int, ...], float]]:
    """The ``beam_width`` most probable labellings that the search keeps, best first.

    Parameters
    ----------
    log_probs : Tensor of shape (T, V)
        Per-frame log-probabilities (``log_softmax`` of the logits: the sums above need
        normalised distributions).
    beam_width : int
        Prefixes kept after each frame, >= 1.
    blank : int
        The blank symbol.

    Returns
    -------
    beams : list of (labelling, log_probability)
        At most ``beam_width`` pairs, sorted by log-probability, largest first; a labelling
        is a tuple of symbols (no blanks), its log-probability the log of the sum over every
        path that reads as it (exact when no prefix was ever pruned).
    """
    if not isinstance(log_probs, torch.Tensor):
        raise ValueError(f"log_probs must be a torch tensor, got {type(log_probs).__name__}")
    dims = check_shape("log_probs", log_probs, "T, V")
    V = dims["V"]
    _check_common(beam_width, blank, V)
    frames = log_probs.detach().to("cpu", torch.float64).tolist()  # T lists of V floats
    beams = {(): (0.0, _NEG_INF)}  # prefix -> (log p_b, log p_nb)
    for y in frames:
        following: dict[tuple[int, ...], list[float]] = {}

        def entry(prefix, following=following):
            return following.setdefault(prefix, [_NEG_INF, _NEG_INF])

        for prefix, (p_blank, p_symbol) in beams.items():
            p_total = _log_add(p_blank, p_symbol)
            stay = entry(prefix)
            stay[0] = _log_add(stay[0], p_total + y[blank])
            last = prefix[-1] if prefix else None
            for symbol in range(V):
                if symbol == blank:
                    continue
                extended = entry(prefix + (symbol,))
                if symbol == last:
                    # A repeat needs a blank in between to count as a new symbol ...
                    extended[1] = _log_add(extended[1], p_blank + y[symbol])
                    # ... without one it merges into the prefix's last symbol.
                    stay[1] = _log_add(stay[1], p_symbol + y[symbol])
                else:
                    extended[1] = _log_add(extended[1], p_total + y[symbol])
        # A repeat without a blank between creates prefixes of probability 0: drop them.
        reachable = [item for item in following.items() if _log_add(*item[1]) > _NEG_INF]
        ranked = sorted(reachable, key=lambda item: -_log_add(*item[1]))
        beams = {prefix: tuple(p) for prefix, p in ranked[:beam_width]}
    result = [(prefix, _log_add(*p)) for prefix, p in beams.items()]
    return sorted(result, key=lambda item: -item[1])


def ctc_prefix_beam_decode(
    log_probs: torch.Tensor,
    beam_width: int,
    blank: int = 0,
    lengths: torch.Tensor | None = None,
) -> list[list[int]]:
    """The best labelling of each row that :func:`ctc_prefix_beam_search` finds.

    The same interface as :func:`rnncore.torch.decode.ctc_greedy_decode`.

    Parameters
    ----------
    log_probs : Tensor of shape (B, T, V)
        Log-probabilities (normalised over V).
    beam_width : int
    blank : int
    lengths : LongTensor of shape (B,), optional
        Valid frames of each row; default T.

    Returns
    -------
    labels : list of B lists of int
    """
    if not isinstance(log_probs, torch.Tensor):
        raise ValueError(f"log_probs must be a torch tensor, got {type(log_probs).__name__}")
    dims = check_shape("log_probs", log_probs, "B, T, V")
    B, T = dims["B"], dims["T"]
    _check_common(beam_width, blank, dims["V"])
    if lengths is None:
        lengths_list = [T] * B
    else:
        check_shape("lengths", lengths, "B", {"B": B})
        lengths_list = [int(n) for n in lengths.tolist()]
        if any(not 0 <= n <= T for n in lengths_list):
            raise ValueError(f"lengths must be in 0..T = 0..{T}, got {lengths_list}")
    labels = []
    for row, length in zip(log_probs, lengths_list, strict=True):
        if length == 0:
            labels.append([])
            continue
        best, _ = ctc_prefix_beam_search(row[:length], beam_width, blank)[0]
        labels.append(list(best))
    return labels
