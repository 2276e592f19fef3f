"""Wrong submissions of a07_ctc: each replaces solution cells and loses exactly its cells.

The shape and no-mutation cells judge no values, so a wrong value keeps their points. The
solution's ctc_forward and ctc_backward call the student's extend_with_blanks, so a wrong
extend_with_blanks reaches both; ctc_backward's cases receive the reference's log_alphas, so a
wrong ctc_forward costs nothing there.
"""

FORWARD_VALUE_FAILS = [
    "test_ctc_forward_values",
    "test_ctc_forward_edge_cases",
    "test_ctc_forward_long",
    "test_ctc_forward_matches_torch",
]
BACKWARD_VALUE_FAILS = [
    "test_ctc_backward_values",
    "test_ctc_backward_edge_cases",
    "test_ctc_backward_long",
    "test_ctc_backward_matches_torch",
    "test_ctc_backward_gradient_check",
]
FORWARD_CELLS = ["test_ctc_forward_shapes", *FORWARD_VALUE_FAILS, "test_ctc_forward_no_mutation"]
BACKWARD_CELLS = [
    "test_ctc_backward_shapes",
    *BACKWARD_VALUE_FAILS,
    "test_ctc_backward_no_mutation",
]

# The solution's recursion with one change at the place marked.
FORWARD = """
def ctc_forward(log_probs, labels, blank):
    extended = extend_with_blanks(labels, blank)
    T, S = log_probs.shape[0], extended.shape[0]
    can_skip = np.zeros(S, dtype=bool)
    can_skip[2:] = {skip}
    log_alphas = np.full((T, S), -np.inf)
    {initial}
    for t in range(1, T):
        previous = log_alphas[t - 1]
        total = previous.copy()
        total[1:] = np.logaddexp(total[1:], previous[:-1])
        total[2:] = np.where(can_skip[2:], np.logaddexp(total[2:], previous[:-2]), total[2:])
        log_alphas[t] = total + log_probs[t, extended]
    nll = {nll}
    return nll, log_alphas
"""
SKIP = "(extended[2:] != blank) & (extended[2:] != extended[:-2])"
INITIAL = "log_alphas[0, :2] = log_probs[0, extended[:2]]"
NLL = "-np.logaddexp(log_alphas[T - 1, S - 1], log_alphas[T - 1, S - 2])"

BACKWARD = """
def ctc_backward(log_probs, labels, blank, log_alphas):
    extended = extend_with_blanks(labels, blank)
    T, S = log_probs.shape[0], extended.shape[0]
    can_skip = np.zeros(S, dtype=bool)
    can_skip[2:] = (extended[2:] != blank) & (extended[2:] != extended[:-2])
    log_betas = np.full((T, S), -np.inf)
    {final}
    for t in range(T - 2, -1, -1):
        ahead = log_betas[t + 1] + log_probs[t + 1, extended]
        total = ahead.copy()
        total[:-1] = np.logaddexp(total[:-1], ahead[1:])
        total[:-2] = np.where(can_skip[2:], np.logaddexp(total[:-2], ahead[2:]), total[:-2])
        log_betas[t] = total
    log_p = np.logaddexp(log_alphas[T - 1, S - 1], log_alphas[T - 1, S - 2])
    posterior = np.exp(log_alphas + log_betas - log_p)
    occupancy = np.zeros(log_probs.shape)
    for s in range(S):
        occupancy[:, extended[s]] += posterior[:, s]
    dlogits = {dlogits}
    return log_betas, dlogits
"""
FINAL = "log_betas[T - 1, S - 2 :] = 0.0"
DLOGITS = "np.exp(log_probs) - occupancy"

WRONG = {
    ("a07_skip_between_repeats", "a07_ctc"): {
        "cells": {
            "ctc_forward": FORWARD.format(
                skip="extended[2:] != blank  # any label may skip the blank before it",
                initial=INITIAL,
                nll=NLL,
            )
        },
        # Every value case but "L = 1" has equal neighbours; the hidden cell fails on the
        # minimum-T case.
        "fails": FORWARD_VALUE_FAILS,
        "message": "Known mistake: skip allowed between identical labels",
    },
    ("a07_probability_space", "a07_ctc"): {
        "cells": {
            "ctc_forward": """
def ctc_forward(log_probs, labels, blank):
    extended = extend_with_blanks(labels, blank)
    T, S = log_probs.shape[0], extended.shape[0]
    y = np.exp(log_probs[:, extended])  # (T, S), probabilities: simpler than logs
    alpha = np.zeros((T, S))
    alpha[0, :2] = y[0, :2]
    for t in range(1, T):
        for s in range(S):
            total = alpha[t - 1, s]
            if s >= 1:
                total += alpha[t - 1, s - 1]
            if s >= 2 and extended[s] != blank and extended[s] != extended[s - 2]:
                total += alpha[t - 1, s - 2]
            alpha[t, s] = total * y[t, s]
    with np.errstate(divide="ignore"):
        return -np.log(alpha[-1, -1] + alpha[-1, -2]), np.log(alpha)
"""
        },
        # Exact on every short input: only T = 500 underflows.
        "fails": ["test_ctc_forward_long"],
        "message": "Known mistake: probabilities instead of log probabilities (underflow)",
    },
    ("a07_final_sum_no_trailing_blank", "a07_ctc"): {
        "cells": {
            "ctc_forward": FORWARD.format(
                skip=SKIP, initial=INITIAL, nll="-log_alphas[T - 1, S - 2]  # ends on the label"
            )
        },
        "fails": FORWARD_VALUE_FAILS,
        "message": "Known mistake: the final sum missing the trailing blank",
    },
    ("a07_start_in_blank_only", "a07_ctc"): {
        "cells": {
            "ctc_forward": FORWARD.format(
                skip=SKIP, initial="log_alphas[0, 0] = log_probs[0, blank]", nll=NLL
            )
        },
        "fails": FORWARD_VALUE_FAILS,
        "message": "Known mistake: wrong initial states",
    },
    ("a07_blanks_not_inserted", "a07_ctc"): {
        "cells": {
            "extend_with_blanks": """
def extend_with_blanks(labels, blank):
    return labels.copy()  # the blanks are only in the network's output
"""
        },
        # A wrong shape fails every cell that runs it, the hidden cells' visible lines included:
        # extend_with_blanks' cells, and ctc_forward's and ctc_backward's, which call it.
        "fails": [
            "test_extend_with_blanks_values",
            "test_extend_with_blanks_edge_cases",
            "test_extend_with_blanks_no_mutation",
            *FORWARD_CELLS,
            *BACKWARD_CELLS,
        ],
        "message": "Known mistake: blanks not inserted",
    },
    ("a07_decode_blanks_first", "a07_ctc"): {
        "cells": {
            "ctc_greedy_decode": """
def ctc_greedy_decode(log_probs, blank):
    best = [int(k) for k in np.argmax(log_probs, axis=1) if k != blank]  # blanks out first
    return [k for i, k in enumerate(best) if i == 0 or k != best[i - 1]]
"""
        },
        # Every decoding cell runs the visible case, whose best path has a - a.
        "fails": [
            "test_ctc_greedy_decode_values",
            "test_ctc_greedy_decode_edge_cases",
            "test_ctc_greedy_decode_no_mutation",
        ],
        "message": "Known mistake: decoding that removes blanks before collapsing repeats",
    },
    ("a07_gradient_wrt_probabilities", "a07_ctc"): {
        "cells": {
            "ctc_backward": BACKWARD.format(
                final=FINAL, dlogits="-occupancy / np.exp(log_probs)  # d nll / d y"
            )
        },
        "fails": BACKWARD_VALUE_FAILS,
        "message": "Known mistake: the gradient taken with respect to probabilities instead of "
        "logits",
    },
    ("a07_betas_with_frame", "a07_ctc"): {
        "cells": {
            "ctc_backward": BACKWARD.format(final=FINAL, dlogits=DLOGITS).replace(
                "    return log_betas, dlogits",
                "    return log_betas + log_probs[:, extended], dlogits  # Graves's betas",
            )
        },
        # dlogits is right; log_betas is judged against the reference in every value case.
        "fails": BACKWARD_VALUE_FAILS,
        "message": "Known mistake: betas include the current frame",
    },
    ("a07_betas_end_anywhere", "a07_ctc"): {
        "cells": {
            "ctc_backward": BACKWARD.format(
                final="log_betas[T - 1] = 0.0  # every state may end", dlogits=DLOGITS
            )
        },
        "fails": BACKWARD_VALUE_FAILS,
        "message": "Known mistake: wrong initial states of the betas",
    },
}
