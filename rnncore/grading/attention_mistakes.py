"""Known wrong versions of the attention exercise's functions (a08), recognised by name.

The catalogues work as those of :mod:`rnncore.grading.mistakes`: each :class:`Mistake`
computes, from a case's inputs, what a function with that one mistake returns, and the judge
names the mistakes that the student's output matches. The computations below are written from
the equations, apart from :mod:`rnncore.numpy.attention` and :mod:`rnncore.numpy.search`, with
switches for the mistakes.

Letters: B batch, S source positions, V vocabulary.
"""

from __future__ import annotations

import numpy as np

from rnncore.grading.mistakes import Mistake

__all__ = [
    "attention_with",
    "greedy_with",
    "beam_with",
    "ADDITIVE_ATTENTION_MISTAKES",
    "DOT_ATTENTION_MISTAKES",
    "GREEDY_DECODE_MISTAKES",
    "BEAM_SEARCH_MISTAKES",
    "UNSORTED",
    "NOT_GREEDY",
]


# --- attention -----------------------------------------------------------------------------


def _scores(arrays, kind: str, scaled: bool = False) -> np.ndarray:
    query, keys = arrays["query"], arrays["keys"]
    if kind == "additive":
        hidden = np.tanh((query @ arrays["Wq"])[:, None, :] + keys @ arrays["Wk"])  # (B, S, A)
        return hidden @ arrays["v"]  # (B, S)
    scores = np.einsum("bh,bsh->bs", query, keys)  # (B, S)
    return scores / np.sqrt(query.shape[1]) if scaled else scores


def _softmax(scores, axis):
    shifted = scores - scores.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def attention_with(arrays, kind="additive", mask="before", axis=1, scaled=False) -> dict:
    """``{"context", "weights"}`` of attention with the given switches.

    ``mask``: "before" (-inf on padding before the softmax: right), "after" (weights times the
    mask, not renormalised), "none", "multiply" (scores times the mask: padding gets score 0).
    ``axis``: the softmax's axis (1 is right; 0 is over the batch).
    """
    m = arrays["mask"]
    scores = _scores(arrays, kind, scaled)  # (B, S)
    with np.errstate(invalid="ignore", over="ignore"):
        if mask == "before":
            weights = _softmax(np.where(m, scores, -np.inf), axis)
        elif mask == "after":
            weights = _softmax(scores, axis) * m
        elif mask == "multiply":
            weights = _softmax(scores * m, axis)
        else:
            weights = _softmax(scores, axis)
    context = np.einsum("bs,bsd->bd", weights, arrays["values"])  # (B, Dv)
    return {"context": context, "weights": weights}


def _attention_mistakes(kind: str) -> tuple:
    def predict(**switches):
        return lambda arrays, extra: attention_with(arrays, kind, **switches)

    found = (
        Mistake(
            "softmax over the wrong axis",
            "The weights are normalised over the batch (axis 0), so each source position's "
            "weights sum to 1 across the examples. Normalise over the source positions: "
            "axis=1 (or -1) of the (B, S) scores.",
            predict(axis=0),
        ),
        Mistake(
            "mask applied after the softmax",
            "Zeroing the padding's weights after the softmax leaves the real positions' "
            "weights summing to less than 1. Put -inf on the padding's scores before the "
            "softmax (np.where(mask, scores, -np.inf)).",
            predict(mask="after"),
        ),
        Mistake(
            "mask not applied",
            "The padding positions get attention weight. Give them the score -inf before the "
            "softmax, so that their weight is exactly 0.",
            predict(mask="none"),
        ),
        Mistake(
            "padding positions weighted",
            "Multiplying the scores by the mask gives the padding the score 0, not -inf: "
            "exp(0) is not 0, so the padding still gets weight. Use "
            "np.where(mask, scores, -np.inf) before the softmax.",
            predict(mask="multiply"),
        ),
    )
    if kind == "dot":
        found += (
            Mistake(
                "scores scaled by 1/sqrt(H)",
                "This exercise's dot attention is Luong's unscaled dot product, "
                "e_s = query . key_s; the Transformer's 1/sqrt(H) is left out.",
                predict(scaled=True),
            ),
        )
    return found


ADDITIVE_ATTENTION_MISTAKES = _attention_mistakes("additive")
DOT_ATTENTION_MISTAKES = _attention_mistakes("dot")


# --- greedy decoding -----------------------------------------------------------------------


def greedy_with(step_fn, start_state, bos, eos, max_len, stop=True, keep_eos=True, add=True):
    """``(tokens, log_prob)`` of greedy decoding with the given switches."""
    token, state, tokens, log_prob = bos, start_state, [], 0.0
    for _ in range(max_len):
        log_probs, state = step_fn(token, state)
        token = int(np.argmax(log_probs))
        log_prob = log_prob + float(log_probs[token]) if add else float(log_probs[token])
        if token == eos and stop:
            if keep_eos:
                tokens.append(token)
            break
        tokens.append(token)
    return tokens, log_prob


def _greedy(**switches):
    def predict(arrays, extra):
        return {"result": greedy_with(*arrays.values(), **switches)}

    return predict


GREEDY_DECODE_MISTAKES = (
    Mistake(
        "no stop at eos",
        "Decoding goes on after eos. Stop as soon as the chosen token is eos (keep it).",
        _greedy(stop=False),
    ),
    Mistake(
        "eos left out",
        "The eos that ends the sequence is part of the result: append it, then stop.",
        _greedy(keep_eos=False),
    ),
    Mistake(
        "log_prob of the last step only",
        "log_prob is the sum of the chosen tokens' log-probabilities over every step "
        "(log of the product of their probabilities), not the last one.",
        _greedy(add=False),
    ),
)


# --- beam search ---------------------------------------------------------------------------


def beam_with(
    step_fn,
    start_state,
    bos,
    eos,
    beam_size,
    max_len,
    length_penalty,
    score="cumulative",
    finished="keep",
    penalty=1,
):
    """``[(tokens, score), ...]`` of beam search with the given switches, best first.

    ``score``: "cumulative" (right) or "last" (a hypothesis carries its last step's
    log-probability only); ``finished``: "keep" (right), "extend" (finished hypotheses are
    extended like the others, until max_len) or "drop" (they leave the beam); ``penalty``:
    how many times the length penalty is applied (1 is right).
    """
    alpha = length_penalty * penalty

    def normalised(hypothesis):
        tokens, log_prob, _ = hypothesis
        return log_prob / len(tokens) ** alpha

    beam = [((), 0.0, start_state)]
    for _ in range(max_len):
        if finished != "extend" and all(tokens and tokens[-1] == eos for tokens, _, _ in beam):
            break
        candidates = []
        for tokens, log_prob, state in beam:
            if tokens and tokens[-1] == eos and finished != "extend":
                if finished == "keep":
                    candidates.append((tokens, log_prob, state))
                continue
            last = tokens[-1] if tokens else bos
            log_probs, new_state = step_fn(last, state)
            for token, token_log_prob in enumerate(np.asarray(log_probs).tolist()):
                total = log_prob + token_log_prob if score == "cumulative" else token_log_prob
                candidates.append((tokens + (token,), total, new_state))
        beam = sorted(candidates, key=normalised, reverse=True)[:beam_size]
    return [(list(tokens), normalised((tokens, log_prob, None))) for tokens, log_prob, _ in beam]


def _beam(**switches):
    def predict(arrays, extra):
        return {"result": beam_with(*arrays.values(), **switches)}

    return predict


BEAM_SEARCH_MISTAKES = (
    Mistake(
        "beam scored by the last step",
        "A hypothesis's score must be its cumulative log-probability, the sum over every "
        "token so far (score + log_probs[token]), not the last step's log-probability.",
        _beam(score="last"),
    ),
    Mistake(
        "finished hypotheses extended",
        "A hypothesis that ends in eos is finished: carry it to the next step unchanged, "
        "never extend it with more tokens.",
        _beam(finished="extend"),
    ),
    Mistake(
        "finished hypotheses dropped",
        "A hypothesis that ends in eos must stay among the candidates (unchanged) and "
        "compete with the extensions; here it leaves the beam.",
        _beam(finished="drop"),
    ),
    Mistake(
        "length penalty not applied",
        "Rank and report hypotheses by log p / n ** length_penalty, n the number of tokens "
        "(eos included), not by log p.",
        _beam(penalty=0),
    ),
    Mistake(
        "length penalty applied twice",
        "The score is log p / n ** length_penalty once: dividing an already normalised score "
        "by n ** length_penalty again gives log p / n ** (2 * length_penalty).",
        _beam(penalty=2),
    ),
)

UNSORTED = (
    "results unsorted",
    "Return the hypotheses best first: sorted by score, highest first "
    "(sorted(..., key=score, reverse=True)).",
)

NOT_GREEDY = (
    "beam of size 1 not equal to greedy",
    "With beam_size=1 only the best extension survives each step, so beam search must return "
    "greedy decoding's tokens, with score log p / n ** length_penalty.",
)
