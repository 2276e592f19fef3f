"""Wrong submissions of a08_attention: each replaces one solution cell and loses exactly its
cells.

The shape and no-mutation cells judge no values (their visible line is the shapes case), so a
wrong value keeps their points. The searches run on random models that are redrawn until each
named mistake changes the result, so every listed failure happens on every draw. A beam of one
never holds a finished and an unfinished hypothesis together and returns one item, so dropping
finished hypotheses or sorting worst first cannot show there; the length penalty, the last-step
score and extending finished hypotheses all change greedy's result.
"""

ADDITIVE_FAILS = ["test_additive_attention_values", "test_additive_attention_edge_cases"]
DOT_FAILS = ["test_dot_attention_values", "test_dot_attention_edge_cases"]
GREEDY_FAILS = ["test_greedy_decode_values", "test_greedy_decode_edge_cases"]
BEAM_FAILS = [
    "test_beam_search_values",
    "test_beam_search_brute_force",
    "test_beam_search_edge_cases",
]
BEAM_AND_ONE_FAILS = [*BEAM_FAILS, "test_beam_search_beam_of_one"]

# The solution's attention with the scores, masking and softmax axis at the places marked.
ADDITIVE = """
def additive_attention(query, keys, values, mask, Wq, Wk, v):
    hidden = np.tanh((query @ Wq)[:, None, :] + keys @ Wk)
    scores = hidden @ v
    {mask_scores}
    exp = np.exp(scores - scores.max(axis={axis}, keepdims=True))
    weights = exp / exp.sum(axis={axis}, keepdims=True)
    {mask_weights}
    context = (weights[:, :, None] * values).sum(axis=1)
    return context, weights
"""
DOT = """
def dot_attention(query, keys, values, mask):
    scores = (keys @ query[:, :, None])[:, :, 0]
    {mask_scores}
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = exp / exp.sum(axis=1, keepdims=True)
    {mask_weights}
    context = (weights[:, :, None] * values).sum(axis=1)
    return context, weights
"""
MASK_BEFORE = "scores = np.where(mask, scores, -np.inf)"
NOTHING = "pass"

GREEDY = """
def greedy_decode(step_fn, start_state, bos, eos, max_len):
    tokens, log_prob = [], 0.0
    token, state = bos, start_state
    for _ in range(max_len):
        log_probs, state = step_fn(token, state)
        token = int(np.argmax(log_probs))
        log_prob += float(log_probs[token])
        tokens.append(token)
        {stop}
    return tokens, log_prob
"""

# The solution's beam search with one change at the places marked.
BEAM = """
def beam_search(step_fn, start_state, bos, eos, beam_size, max_len, length_penalty):
    def score(log_prob, tokens):
        return {score}

    beam = [([], 0.0, start_state)]
    for _ in range(max_len):
        if {stop}all(tokens and tokens[-1] == eos for tokens, _, _ in beam):
            break
        candidates = []
        for tokens, log_prob, state in beam:
            if {finished}tokens and tokens[-1] == eos:
                {keep}
                continue
            log_probs, new_state = step_fn(tokens[-1] if tokens else bos, state)
            for token in range(len(log_probs)):
                candidates.append((tokens + [token], {total}, new_state))
        candidates = sorted(candidates, key=lambda c: score(c[1], c[0]), reverse=True)
        beam = candidates[:{width}]
    return {result}
"""
RIGHT = {
    "score": "log_prob / len(tokens) ** length_penalty",
    "stop": "",
    "finished": "",
    "keep": "candidates.append((tokens, log_prob, state))",
    "total": "log_prob + float(log_probs[token])",
    "width": "beam_size",
    "result": "[(tokens, score(log_prob, tokens)) for tokens, log_prob, _ in beam]",
}


def beam(**changes):
    return BEAM.format(**{**RIGHT, **changes})


WRONG = {
    ("a08_softmax_over_batch", "a08_attention"): {
        "cells": {
            "additive_attention": ADDITIVE.format(
                mask_scores=MASK_BEFORE, axis=0, mask_weights=NOTHING
            )
        },
        "fails": ADDITIVE_FAILS,
        "message": "Known mistake: softmax over the wrong axis",
    },
    ("a08_padding_weighted", "a08_attention"): {
        "cells": {
            "additive_attention": ADDITIVE.format(
                mask_scores="scores = scores * mask  # padding gets the score 0",
                axis=1,
                mask_weights=NOTHING,
            )
        },
        "fails": ADDITIVE_FAILS,
        "message": "Known mistake: padding positions weighted",
    },
    ("a08_mask_after_softmax", "a08_attention"): {
        "cells": {
            "dot_attention": DOT.format(
                mask_scores=NOTHING, mask_weights="weights = weights * mask  # not renormalised"
            )
        },
        "fails": DOT_FAILS,
        "message": "Known mistake: mask applied after the softmax",
    },
    ("a08_no_mask", "a08_attention"): {
        "cells": {"dot_attention": DOT.format(mask_scores=NOTHING, mask_weights=NOTHING)},
        "fails": DOT_FAILS,
        "message": "Known mistake: mask not applied",
    },
    ("a08_greedy_eos_dropped", "a08_attention"): {
        "cells": {
            "greedy_decode": GREEDY.replace("        tokens.append(token)\n", "").format(
                stop="if token == eos:\n            break\n        tokens.append(token)"
            )
        },
        "fails": GREEDY_FAILS,
        "message": "Known mistake: eos left out",
    },
    ("a08_beam_last_step_score", "a08_attention"): {
        "cells": {"beam_search": beam(total="float(log_probs[token])")},
        "fails": BEAM_AND_ONE_FAILS,
        "message": "Known mistake: beam scored by the last step",
    },
    ("a08_finished_extended", "a08_attention"): {
        "cells": {"beam_search": beam(stop="False and ", finished="False and ")},
        "fails": BEAM_AND_ONE_FAILS,
        "message": "Known mistake: finished hypotheses extended",
    },
    ("a08_finished_dropped", "a08_attention"): {
        "cells": {"beam_search": beam(keep="pass  # forgotten")},
        "fails": BEAM_FAILS,
        "message": "Known mistake: finished hypotheses dropped",
    },
    ("a08_length_penalty_twice", "a08_attention"): {
        "cells": {
            "beam_search": beam(
                score="log_prob / len(tokens) ** length_penalty / len(tokens) ** length_penalty"
            )
        },
        "fails": BEAM_AND_ONE_FAILS,
        "message": "Known mistake: length penalty applied twice",
    },
    ("a08_length_penalty_missing", "a08_attention"): {
        "cells": {"beam_search": beam(score="log_prob")},
        "fails": BEAM_AND_ONE_FAILS,
        "message": "Known mistake: length penalty not applied",
    },
    ("a08_unsorted", "a08_attention"): {
        "cells": {
            "beam_search": beam(
                result="[(tokens, score(log_prob, tokens)) for tokens, log_prob, _ in beam][::-1]"
            )
        },
        "fails": BEAM_FAILS,
        "message": "Known mistake: results unsorted",
    },
    ("a08_beam_one_too_wide", "a08_attention"): {
        "cells": {"beam_search": beam(width="beam_size + 1")},
        "fails": BEAM_AND_ONE_FAILS,
        "message": "Known mistake: beam of size 1 not equal to greedy",
    },
}
