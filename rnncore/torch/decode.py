r"""Turning a model's scores into tokens: sampling, greedy and beam search, CTC decoding.

* :func:`sample_next` draws one token per row from ``softmax(logits / temperature)``,
  optionally restricted to the ``top_k`` highest scores and to the nucleus of mass ``top_p``;
* :func:`generate` runs a :class:`~rnncore.torch.models.CharLanguageModel` forward from a prefix,
  feeding each sampled token back in;
* :func:`greedy_decode` and :func:`beam_search` search over a generic ``step_fn(token, state)
  -> (log_probs (V,), new_state)``, so they work with any model, or with a hand-made table;
  :func:`language_model_beam_search` runs the beam search after a prefix read by a language
  model;
* :func:`ctc_greedy_decode` reads the best path of a CTC output: the most likely symbol at
  every step, repeats collapsed, blanks dropped.

The score of a sequence :math:`y_1 \dots y_n` is its log-probability
:math:`\sum_t \log p(y_t \mid y_{<t})`, in nats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import nn

from rnncore.shapes import check_shape

__all__ = [
    "sample_next",
    "nucleus_mask",
    "generate",
    "language_model_step_fn",
    "greedy_decode",
    "beam_search",
    "language_model_beam_search",
    "ctc_greedy_decode",
]

StepFn = Callable[[int, Any], tuple[torch.Tensor, Any]]


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_sampling(temperature, top_k, V: int, top_p=None) -> None:
    if not isinstance(temperature, int | float) or not (
        temperature > 0 and math.isfinite(temperature)
    ):
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    if top_k is not None and (
        not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= V
    ):
        raise ValueError(f"top_k must be None or an integer in 1..V = 1..{V}, got {top_k!r}")
    if top_p is not None and (
        not isinstance(top_p, int | float)
        or isinstance(top_p, bool)
        or not (0.0 < top_p <= 1.0)  # also False for NaN
    ):
        raise ValueError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def nucleus_mask(probabilities: torch.Tensor, top_p: float) -> torch.Tensor:
    r"""Which tokens of each row belong to its nucleus: the smallest set of mass >= ``top_p``.

    Sort a row's probabilities in decreasing order, :math:`p_{(1)} \ge p_{(2)} \ge \dots`;
    the nucleus is the first :math:`m` of them, with :math:`m` the smallest number such that
    :math:`\sum_{i \le m} p_{(i)} \ge p` (Holtzman et al., 2020). A token is kept when the mass
    of the tokens ranked before it is still below :math:`p`, so the most likely token is always
    kept. Among tokens of equal probability the sort decides which enter first.

    Parameters
    ----------
    probabilities : Tensor of shape (B, V)
        Rows of non-negative numbers summing to one.
    top_p : float
        :math:`p \in (0, 1]`; 1 keeps every token.

    Returns
    -------
    keep : BoolTensor of shape (B, V)
        True for the tokens of each row's nucleus.
    """
    if not isinstance(probabilities, torch.Tensor) or not probabilities.is_floating_point():
        raise ValueError("probabilities must be a floating-point torch tensor")
    check_shape("probabilities", probabilities, "B, V")
    _check_sampling(1.0, None, probabilities.shape[1], top_p)
    if top_p == 1.0:
        # Rounding in the cumulative sum could otherwise drop the tiniest tokens.
        return torch.ones_like(probabilities, dtype=torch.bool)
    sorted_probabilities, order = probabilities.sort(dim=1, descending=True)  # (B, V), (B, V)
    mass_before = sorted_probabilities.cumsum(dim=1) - sorted_probabilities  # (B, V)
    keep_sorted = mass_before < top_p  # (B, V), True for a prefix of each row
    return torch.zeros_like(keep_sorted).scatter(1, order, keep_sorted)  # (B, V)


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    r"""Draw one token per row from the tempered, optionally truncated, softmax of ``logits``.

    .. math::

        p_v \propto \exp(\ell_v / \tau) \text{ for the } k \text{ largest } \ell_v,
        \qquad p_v = 0 \text{ otherwise}

    A temperature below 1 sharpens the distribution (towards the argmax as it goes to 0);
    above 1 flattens it (towards uniform). The steps run in this order: temperature, top-k,
    then the nucleus (top-p) of what is left (:func:`nucleus_mask`), renormalised.

    Parameters
    ----------
    logits : Tensor of shape (B, V)
        Unnormalised scores.
    temperature : float
        :math:`\tau > 0`.
    top_k : int, optional
        Keep the k highest scores of each row, 1 <= k <= V (rows with ties at the k-th score
        keep every tied token).
    generator : torch.Generator, optional
        On the device of ``logits``; for reproducible draws.
    top_p : float, optional
        Nucleus sampling: keep the smallest set of most likely tokens whose tempered
        probability reaches ``top_p``, 0 < top_p <= 1 (1 or None: no restriction).

    Returns
    -------
    tokens : LongTensor of shape (B,)
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise ValueError("logits must be a floating-point torch tensor")
    check_shape("logits", logits, "B, V")
    V = logits.shape[1]
    _check_sampling(temperature, top_k, V, top_p)
    # Subtracting the row maximum first keeps the scaled scores <= 0: no overflow, however
    # small the temperature, and the argmax keeps score 0.
    scaled = (logits - logits.max(dim=1, keepdim=True).values) / temperature  # (B, V)
    if top_k is not None and top_k < V:
        kth_largest = scaled.topk(top_k, dim=1).values[:, -1:]  # (B, 1)
        scaled = scaled.masked_fill(scaled < kth_largest, float("-inf"))  # (B, V)
    probabilities = torch.softmax(scaled, dim=1)  # (B, V)
    if top_p is not None and top_p < 1.0:
        keep = nucleus_mask(probabilities, top_p)  # (B, V)
        probabilities = torch.where(keep, probabilities, torch.zeros_like(probabilities))
    return torch.multinomial(probabilities, 1, generator=generator).squeeze(1)  # (B,)


def generate(
    model: nn.Module,
    prefix_tokens: torch.Tensor,
    steps: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """Continue ``prefix_tokens`` by ``steps`` sampled tokens with a language model.

    The model reads the prefix once, then one sampled token at a time, carrying its state.
    It runs in eval mode without gradients; its training mode is restored afterwards.

    Parameters
    ----------
    model : CharLanguageModel (or any ``model(tokens (B, T), state) -> (logits (B, T, V),
        state)``)
    prefix_tokens : LongTensor of shape (B, P) or (P,)
        At least one token.
    steps : int
        Tokens to add, >= 0.
    temperature, top_k, generator, top_p
        As for :func:`sample_next`; the generator must be on the model's device.

    Returns
    -------
    tokens : LongTensor of shape (B, P + steps), or (P + steps,) for a 1-D prefix
        The prefix followed by the samples, on the model's device.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    if not isinstance(prefix_tokens, torch.Tensor) or prefix_tokens.dtype not in (
        torch.int64,
        torch.int32,
    ):
        raise ValueError("prefix_tokens must be an integer torch tensor of token ids")
    one_sequence = prefix_tokens.ndim == 1
    tokens = prefix_tokens[None] if one_sequence else prefix_tokens  # (B, P)
    check_shape("prefix_tokens", tokens, "B, P")
    if tokens.shape[1] < 1:
        raise ValueError("prefix_tokens must hold at least one token")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            tokens = tokens.to(device=device, dtype=torch.int64)
            logits, state = model(tokens)  # (B, P, V)
            _check_sampling(temperature, top_k, logits.shape[-1], top_p)
            pieces = [tokens]
            for step in range(steps):
                next_token = sample_next(
                    logits[:, -1], temperature, top_k, generator, top_p
                )  # (B,)
                pieces.append(next_token[:, None])  # (B, 1)
                if step < steps - 1:
                    logits, state = model(next_token[:, None], state)  # (B, 1, V)
    finally:
        model.train(was_training)
    result = torch.cat(pieces, dim=1)  # (B, P + steps)
    return result[0] if one_sequence else result


def language_model_step_fn(model: nn.Module) -> StepFn:
    """A ``step_fn`` for :func:`greedy_decode` and :func:`beam_search` from a language model.

    ``step_fn(token, state) -> (log_probs (V,), new_state)`` feeds one token (batch of one)
    through ``model`` in eval mode without gradients. Call ``model.eval()`` yourself first if
    the model uses dropout; ``step_fn`` does not change the model's mode.
    """
    device = next(model.parameters()).device

    def step_fn(token: int, state):
        with torch.no_grad():
            tokens = torch.tensor([[token]], device=device)  # (1, 1)
            logits, new_state = model(tokens, state)  # (1, 1, V)
            return torch.log_softmax(logits[0, -1], dim=-1), new_state  # (V,)

    return step_fn


def _log_probs(step_fn: StepFn, token: int, state) -> tuple[torch.Tensor, Any]:
    log_probs, new_state = step_fn(token, state)
    if not isinstance(log_probs, torch.Tensor):  # a list or an array; a tensor stays put
        log_probs = torch.as_tensor(log_probs)
    check_shape("step_fn's log_probs", log_probs, "V")
    return log_probs, new_state


def greedy_decode(
    step_fn: StepFn,
    start_state,
    start_token: int,
    end_token: int | None,
    max_length: int,
) -> tuple[list[int], float]:
    """Pick the most likely token at every step until ``end_token`` or ``max_length`` tokens.

    Parameters
    ----------
    step_fn : callable
        ``step_fn(token: int, state) -> (log_probs Tensor of shape (V,), new_state)``: the
        log-probabilities of the next token given the last one and the state.
    start_state
        The state before the first token (anything ``step_fn`` accepts, e.g. None).
    start_token : int
        Fed first; not part of the result.
    end_token : int or None
        Stop after producing it (it is part of the result). None: always ``max_length``.
    max_length : int
        Most tokens to produce.

    Returns
    -------
    tokens : list of int
    score : float
        Sum of the chosen tokens' log-probabilities.
    """
    _check_positive_int("max_length", max_length)
    token, state, tokens, score = start_token, start_state, [], 0.0
    for _ in range(max_length):
        log_probs, state = _log_probs(step_fn, token, state)
        token = int(log_probs.argmax())
        score += float(log_probs[token])
        tokens.append(token)
        if token == end_token:
            break
    return tokens, score


class Hypothesis(NamedTuple):
    """One partial sequence on the beam."""

    score: float
    tokens: tuple[int, ...]
    state: Any
    finished: bool


def beam_search(
    step_fn: StepFn,
    start_state,
    start_token: int,
    end_token: int | None,
    beam_width: int,
    max_length: int,
    length_penalty: float = 0.0,
) -> tuple[list[int], float]:
    r"""Keep the ``beam_width`` best partial sequences at every step; return the best one.

    At each step every unfinished hypothesis is extended by its ``beam_width`` most likely
    tokens; finished hypotheses (ending in ``end_token``) compete unchanged; the best
    ``beam_width`` by score survive. The score of :math:`n` tokens is length-normalised as in
    :func:`rnncore.numpy.search.length_normalised`:

    .. math::

        \mathrm{score}(y_{1..n}) = \frac{\sum_{t=1}^{n} \log p(y_t \mid y_{<t})}{n^{\alpha}},
        \qquad \alpha = \texttt{length\_penalty},

    n counting the produced tokens, ``end_token`` included. With ``length_penalty=0`` (the
    default) the score is the plain log-probability, which favours shorter sequences, and the
    search stops as soon as the best hypothesis is finished (log-probabilities are <= 0, so no
    extension can overtake it). With ``length_penalty > 0`` a longer sequence can overtake a
    finished one, so the search goes on until every hypothesis on the beam is finished, as
    :func:`rnncore.numpy.search.beam_search` does. Either way it stops after ``max_length``
    tokens. With ``beam_width=1`` this is :func:`greedy_decode`.

    Parameters
    ----------
    step_fn, start_state, start_token, end_token, max_length
        As for :func:`greedy_decode`.
    beam_width : int
        Hypotheses kept, >= 1.
    length_penalty : float, default 0.0
        :math:`\alpha \ge 0`; 1 ranks by the mean log-probability per token.

    Returns
    -------
    tokens : list of int
        The best sequence found.
    score : float
        Its score: the log-probability divided by :math:`n^\alpha` (the plain log-probability
        for ``length_penalty=0``).
    """
    _check_positive_int("beam_width", beam_width)
    _check_positive_int("max_length", max_length)
    if (
        not isinstance(length_penalty, int | float)
        or isinstance(length_penalty, bool)
        or not (0.0 <= length_penalty < math.inf)  # also False for NaN
    ):
        raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")

    def normalised(hypothesis: Hypothesis) -> float:
        if length_penalty == 0:
            return hypothesis.score
        return hypothesis.score / float(len(hypothesis.tokens)) ** float(length_penalty)

    beams = [Hypothesis(0.0, (), start_state, False)]
    for _ in range(max_length):
        candidates = []
        for hypothesis in beams:
            if hypothesis.finished:
                candidates.append(hypothesis)
                continue
            last = hypothesis.tokens[-1] if hypothesis.tokens else start_token
            log_probs, state = _log_probs(step_fn, last, hypothesis.state)
            best = log_probs.topk(min(beam_width, log_probs.shape[0]))
            for log_prob, token in zip(best.values.tolist(), best.indices.tolist(), strict=True):
                candidates.append(
                    Hypothesis(
                        hypothesis.score + log_prob,
                        hypothesis.tokens + (token,),
                        state,
                        token == end_token,
                    )
                )
        # sorted() is stable: among equal scores the earlier (higher-ranked) one stays first.
        beams = sorted(candidates, key=normalised, reverse=True)[:beam_width]
        if beams[0].finished if length_penalty == 0 else all(h.finished for h in beams):
            break
    return list(beams[0].tokens), normalised(beams[0])


def language_model_beam_search(
    model: nn.Module,
    prefix_tokens: torch.Tensor,
    beam_width: int,
    max_length: int,
    end_token: int | None = None,
) -> tuple[list[int], float]:
    """Continue a prefix with the most likely continuation that a beam search finds.

    The model reads all of the prefix but its last token; :func:`beam_search` then starts
    from that state with the last token as ``start_token``, over
    :func:`language_model_step_fn`. The model runs in eval mode; its mode is restored.

    Parameters
    ----------
    model : CharLanguageModel (or any ``model(tokens (B, T), state) -> (logits, state)``)
    prefix_tokens : LongTensor of shape (P,)
        At least one token.
    beam_width, max_length, end_token
        As for :func:`beam_search`.

    Returns
    -------
    tokens : list of int
        The continuation (without the prefix).
    score : float
        Its log-probability given the prefix, in nats.
    """
    if not isinstance(prefix_tokens, torch.Tensor) or prefix_tokens.dtype not in (
        torch.int64,
        torch.int32,
    ):
        raise ValueError("prefix_tokens must be an integer torch tensor of token ids")
    check_shape("prefix_tokens", prefix_tokens, "P")
    if prefix_tokens.shape[0] < 1:
        raise ValueError("prefix_tokens must hold at least one token")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        state = None
        if prefix_tokens.shape[0] > 1:
            with torch.no_grad():
                context = prefix_tokens[None, :-1].to(device=device, dtype=torch.int64)  # (1, P-1)
                _, state = model(context)
        return beam_search(
            language_model_step_fn(model),
            state,
            int(prefix_tokens[-1]),
            end_token,
            beam_width,
            max_length,
        )
    finally:
        model.train(was_training)


def ctc_greedy_decode(
    log_probs: torch.Tensor,
    blank: int = 0,
    lengths: torch.Tensor | None = None,
) -> list[list[int]]:
    """Best-path CTC decoding: argmax at every step, collapse repeats, drop blanks.

    ``a a - a b b -`` (``-`` the blank) decodes to ``a a b``: the blank separates the two
    runs of ``a``.

    Parameters
    ----------
    log_probs : Tensor of shape (B, T, V)
        Per-step scores (log-probabilities or logits: only the argmax matters).
    blank : int
        The blank symbol, 0 <= blank < V.
    lengths : LongTensor of shape (B,), optional
        Valid steps of each row (right padding is ignored); default T.

    Returns
    -------
    labels : list of B lists of int
    """
    if not isinstance(log_probs, torch.Tensor):
        raise ValueError(f"log_probs must be a torch tensor, got {type(log_probs).__name__}")
    dims = check_shape("log_probs", log_probs, "B, T, V")
    B, T, V = dims["B"], dims["T"], dims["V"]
    if not isinstance(blank, int) or isinstance(blank, bool) or not 0 <= blank < V:
        raise ValueError(f"blank must be an integer in 0..V-1 = 0..{V - 1}, got {blank!r}")
    if lengths is None:
        lengths_list = [T] * B
    else:
        check_shape("lengths", lengths, "B", {"B": B})
        lengths_list = [int(n) for n in lengths.tolist()]
        if any(not 0 <= n <= T for n in lengths_list):
            raise ValueError(f"lengths must be in 0..T = 0..{T}, got {lengths_list}")
    best_path = log_probs.argmax(dim=2).tolist()  # B lists of T ints
    labels = []
    for path, length in zip(best_path, lengths_list, strict=True):
        decoded, previous = [], None
        for symbol in path[:length]:
            if symbol != previous and symbol != blank:
                decoded.append(symbol)
            previous = symbol
        labels.append(decoded)
    return labels
