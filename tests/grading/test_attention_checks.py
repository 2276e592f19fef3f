"""The attention checks pass honest implementations and fail each known-wrong one with its
message.

The "students" below are written the way students write them (loops, Python lists, heapq),
not derived from rnncore, so that a check cannot pass them by comparing rnncore with itself.
"""

import heapq
import math

import numpy as np
import pytest

from rnncore.grading import (
    check_additive_attention,
    check_beam_search,
    check_dot_attention,
    check_greedy_decode,
)
from rnncore.grading.attention_checks import beam_cases, every_sequence

SEEDS = range(12)

# --- attention students --------------------------------------------------------------------


def attention_with(scores_of, mask_how="before", axis=1):
    def attend(query, keys, values, mask, *weights):
        scores = scores_of(query, keys, *weights)  # (B, S)
        if mask_how == "before":
            scores = np.where(mask, scores, -np.inf)
        elif mask_how == "multiply":
            scores = scores * mask
        exp = np.exp(scores - scores.max(axis=axis, keepdims=True))
        alpha = exp / exp.sum(axis=axis, keepdims=True)
        if mask_how == "after":
            alpha = alpha * mask
        context = (alpha[:, :, None] * values).sum(axis=1)
        return context, alpha

    return attend


def additive_scores(query, keys, Wq, Wk, v):
    B, S, _ = keys.shape
    scores = np.zeros((B, S))
    for b in range(B):
        for s in range(S):
            scores[b, s] = np.tanh(query[b] @ Wq + keys[b, s] @ Wk) @ v
    return scores


def dot_scores(query, keys, scale=False):
    scores = np.einsum("bh,bsh->bs", query, keys)
    return scores / math.sqrt(query.shape[1]) if scale else scores


additive_attention = attention_with(additive_scores)
dot_attention = attention_with(dot_scores)


def test_honest_attention_passes_every_case_set():
    for seed in SEEDS:
        for cases in ("shapes", "visible", "hidden", "no_mutation"):
            check_additive_attention(additive_attention, cases, seed)
            check_dot_attention(dot_attention, cases, seed)


ATTENTION_MISTAKES = [
    ({"axis": 0}, "softmax over the wrong axis"),
    ({"mask_how": "after"}, "mask applied after the softmax"),
    ({"mask_how": "none"}, "mask not applied"),
    ({"mask_how": "multiply"}, "padding positions weighted"),
]


@pytest.mark.parametrize("switches, name", ATTENTION_MISTAKES)
@pytest.mark.parametrize(
    "check, scores",
    [(check_additive_attention, additive_scores), (check_dot_attention, dot_scores)],
)
def test_attention_mistakes_are_named_on_every_draw(check, scores, switches, name):
    for seed in SEEDS:
        with pytest.raises(AssertionError, match=f"Known mistake: {name}"):
            check(attention_with(scores, **switches), "visible", seed)


def test_scaled_dot_is_named():
    scaled = attention_with(lambda q, k: dot_scores(q, k, scale=True))
    for seed in SEEDS:
        with pytest.raises(AssertionError, match=r"scaled by 1/sqrt\(H\)"):
            check_dot_attention(scaled, "visible", seed)


def test_attention_structure_and_mutation_messages():
    def transposed(*args):
        context, weights = additive_attention(*args)
        return context, weights.T

    def mutating(query, keys, values, mask, *weights):
        values *= 1.0
        mask[0, -1] = False
        return additive_attention(query, keys, values, mask, *weights)

    def one_output(*args):
        return additive_attention(*args)[0]

    with pytest.raises(AssertionError, match=r"weights has shape \(5, 3\)"):
        check_additive_attention(transposed, "shapes", 0)
    with pytest.raises(AssertionError, match="modifies its argument mask"):
        check_additive_attention(mutating, "no_mutation", 0)
    with pytest.raises(AssertionError, match="must return a tuple"):
        check_additive_attention(one_output, "shapes", 0)


def test_calling_the_reference_fails():
    from rnncore.numpy.attention import dot_attention as reference

    with pytest.raises(AssertionError, match="calls the course's reference"):
        check_dot_attention(lambda *args: reference(*args), "visible", 0)


# --- greedy students -----------------------------------------------------------------------


def greedy_with(stop=True, keep_eos=True, add=True):
    def greedy_decode(step_fn, start_state, bos, eos, max_len):
        tokens, total, token, state = [], 0.0, bos, start_state
        while len(tokens) < max_len:
            log_probs, state = step_fn(token, state)
            token = int(np.argmax(log_probs))
            total = total + log_probs[token] if add else log_probs[token]
            if token == eos and stop:
                if keep_eos:
                    tokens.append(token)
                break
            tokens.append(token)
        return tokens, float(total)

    return greedy_decode


def test_honest_greedy_passes():
    for seed in SEEDS:
        for cases in ("visible", "hidden"):
            check_greedy_decode(greedy_with(), cases, seed)


@pytest.mark.parametrize(
    "switches, name",
    [
        ({"stop": False}, "no stop at eos"),
        ({"keep_eos": False}, "eos left out"),
        ({"add": False}, "log_prob of the last step only"),
    ],
)
def test_greedy_mistakes_are_named_on_every_draw(switches, name):
    for seed in SEEDS:
        with pytest.raises(AssertionError, match=f"Known mistake: {name}"):
            check_greedy_decode(greedy_with(**switches), "visible", seed)


# --- beam students -------------------------------------------------------------------------


def beam_with(score="cumulative", finished="keep", penalty=1, order="best first", width=0):
    """A student's beam search with heapq; the switches are the known mistakes."""

    def beam_search(step_fn, start_state, bos, eos, beam_size, max_len, length_penalty):
        def normalised(log_p, tokens):
            value = log_p
            for _ in range(penalty):
                value = value / len(tokens) ** length_penalty
            return value

        beam = [(0.0, [], start_state)]
        for _ in range(max_len):
            if finished != "extend" and all(tokens and tokens[-1] == eos for _, tokens, _ in beam):
                break
            candidates = []
            for log_p, tokens, state in beam:
                if tokens and tokens[-1] == eos and finished != "extend":
                    if finished == "keep":
                        candidates.append((log_p, tokens, state))
                    continue
                log_probs, new_state = step_fn(tokens[-1] if tokens else bos, state)
                for token in range(len(log_probs)):
                    new = log_p + log_probs[token] if score == "cumulative" else log_probs[token]
                    candidates.append((float(new), tokens + [token], new_state))
            order_key = [(-normalised(c[0], c[1]), i) for i, c in enumerate(candidates)]
            best = heapq.nsmallest(beam_size + width, order_key)
            beam = [candidates[i] for _, i in best]
        result = [(tokens, normalised(log_p, tokens)) for log_p, tokens, _ in beam]
        return result[::-1] if order == "worst first" else result

    return beam_search


def test_honest_beam_passes_every_case_set():
    for seed in SEEDS:
        for cases in ("visible", "brute_force", "beam_of_one", "hidden"):
            check_beam_search(beam_with(), cases, seed)


BEAM_MISTAKES = [
    ({"score": "last"}, "beam scored by the last step"),
    ({"finished": "extend"}, "finished hypotheses extended"),
    ({"finished": "drop"}, "finished hypotheses dropped"),
    ({"penalty": 0}, "length penalty not applied"),
    ({"penalty": 2}, "length penalty applied twice"),
    ({"order": "worst first"}, "results unsorted"),
]


SHOWN_BY_ONE = (
    "beam scored by the last step",
    "finished hypotheses extended",
    "length penalty not applied",
    "length penalty applied twice",
)


@pytest.mark.parametrize("switches, name", BEAM_MISTAKES)
@pytest.mark.parametrize("cases", ["visible", "brute_force"])
def test_beam_mistakes_are_named_on_every_draw(cases, switches, name):
    for seed in SEEDS:
        with pytest.raises(AssertionError, match=f"Known mistake: {name}"):
            check_beam_search(beam_with(**switches), cases, seed)


@pytest.mark.parametrize("switches, name", [m for m in BEAM_MISTAKES if m[1] in SHOWN_BY_ONE])
def test_beam_of_one_names_the_mistakes_it_can_show(switches, name):
    for seed in SEEDS:
        with pytest.raises(AssertionError, match=f"Known mistake: {name}"):
            check_beam_search(beam_with(**switches), "beam_of_one", seed)


@pytest.mark.parametrize("switches, name", [m for m in BEAM_MISTAKES if m[1] not in SHOWN_BY_ONE])
def test_beam_of_one_cannot_show_the_others(switches, name):
    # A beam of one never mixes finished and unfinished hypotheses and returns one item.
    for seed in SEEDS:
        check_beam_search(beam_with(**switches), "beam_of_one", seed)


def test_beam_of_one_not_greedy_is_named():
    # An off-by-one that keeps beam_size + 1 hypotheses: beam_size=1 is then not greedy.
    for seed in SEEDS:
        with pytest.raises(AssertionError, match="beam of size 1 not equal to greedy"):
            check_beam_search(beam_with(width=1), "beam_of_one", seed)


def test_brute_force_case_is_exhaustive():
    for seed in SEEDS:
        case = beam_cases("brute_force", seed)[0]
        a = case.arrays
        every = every_sequence(
            a["step_fn"], a["start_state"], a["bos"], a["eos"], 3, a["max_len"], 0.6
        )
        assert len(every) == a["beam_size"] == 31


def test_beam_structure_messages():
    def returns_best_only(*args):
        return beam_with()(*args)[0]

    def float_tokens(*args):
        return [(np.array(t, dtype=float), s) for t, s in beam_with()(*args)]

    with pytest.raises(AssertionError, match=r"item 0 of the result must be a pair"):
        check_beam_search(returns_best_only, "visible", 0)
    with pytest.raises(AssertionError, match="must be a list of ints"):
        check_beam_search(float_tokens, "visible", 0)
