"""The CTC checks pass honest implementations and fail each known-wrong one with its message.

The "students" below are written the way students write them (loops over frames and states,
Python lists), not derived from rnncore, so that a check cannot pass them by comparing rnncore
with itself.
"""

import inspect
import itertools
import math

import numpy as np
import pytest

from rnncore.grading import (
    check_ctc_backward,
    check_ctc_forward,
    check_ctc_greedy_decode,
    check_extend_with_blanks,
    ctc_mistakes,
)
from rnncore.grading.ctc_checks import ctc_cases

# --- honest students ---------------------------------------------------------------------


def extend_with_blanks(labels, blank):
    extended = np.full(2 * len(labels) + 1, blank, dtype=labels.dtype)
    extended[1::2] = labels
    return extended


def extend_with_blanks_by_list(labels, blank):
    extended = [blank]
    for label in labels:
        extended += [label, blank]
    return np.array(extended)


def logsumexp(*values):
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(value - top) for value in values))


def extended_list(labels, blank):
    extended = [blank]
    for label in labels:
        extended += [int(label), blank]
    return extended


def forward_with(
    skip_repeats=False, initial="right", final="both", space="log", output="log", sign=1.0
):
    """A student's ctc_forward written with loops; the switches are the known mistakes."""

    def ctc_forward(log_probs, labels, blank):
        ext = extended_list(labels, blank)
        T, S = log_probs.shape[0], len(ext)
        if space == "probability":
            y = np.exp(log_probs)
            alpha = np.zeros((T, S))
            alpha[0, :2] = [y[0, ext[0]], y[0, ext[1]]]
            for t in range(1, T):
                for s in range(S):
                    total = alpha[t - 1, s] + (alpha[t - 1, s - 1] if s >= 1 else 0.0)
                    if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                        total += alpha[t - 1, s - 2]
                    alpha[t, s] = total * y[t, ext[s]]
            with np.errstate(divide="ignore"):
                return -np.log(alpha[-1, -1] + alpha[-1, -2]), np.log(alpha)
        log_alpha = np.full((T, S), -np.inf)
        if initial == "right":
            log_alpha[0, 0], log_alpha[0, 1] = log_probs[0, ext[0]], log_probs[0, ext[1]]
        elif initial == "blank only":
            log_alpha[0, 0] = log_probs[0, ext[0]]
        elif initial == "every state":
            log_alpha[0] = log_probs[0, ext]
        else:  # the first frame left out
            log_alpha[0, :2] = 0.0
        for t in range(1, T):
            for s in range(S):
                terms = [log_alpha[t - 1, s]]
                if s >= 1:
                    terms.append(log_alpha[t - 1, s - 1])
                if s >= 2 and ext[s] != blank and (skip_repeats or ext[s] != ext[s - 2]):
                    terms.append(log_alpha[t - 1, s - 2])
                log_alpha[t, s] = logsumexp(*terms) + log_probs[t, ext[s]]
        if final == "both":
            log_p = logsumexp(log_alpha[-1, -1], log_alpha[-1, -2])
        elif final == "label only":
            log_p = log_alpha[-1, -2]
        elif final == "blank only":
            log_p = log_alpha[-1, -1]
        else:
            log_p = logsumexp(*log_alpha[-1])
        if output == "probabilities":
            return -log_p, np.exp(log_alpha)
        return -sign * log_p, log_alpha

    return ctc_forward


forward = forward_with()


def forward_with_large_negative(log_probs, labels, blank):
    """log 0 written as -1e30, as many students do: accepted as -inf."""
    ext = extended_list(labels, blank)
    T, S = log_probs.shape[0], len(ext)
    NEG = -1e30
    alpha = np.full((T, S), NEG)
    alpha[0, :2] = log_probs[0, ext[:2]]
    for t in range(1, T):
        for s in range(S):
            terms = [alpha[t - 1, s]] + ([alpha[t - 1, s - 1]] if s else [])
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                terms.append(alpha[t - 1, s - 2])
            top = max(terms)
            alpha[t, s] = top + math.log(sum(math.exp(v - top) for v in terms))
            alpha[t, s] += log_probs[t, ext[s]]
            alpha[t, s] = max(alpha[t, s], NEG)
    return -np.logaddexp(alpha[-1, -1], alpha[-1, -2]), alpha


def forward_rescaled(log_probs, labels, blank):
    """Probability space with one rescaling per frame (Graves): no underflow either."""
    ext = np.array(extended_list(labels, blank))
    T, S = log_probs.shape[0], len(ext)
    y = np.exp(log_probs[:, ext])  # (T, S)
    can_skip = np.zeros(S, dtype=bool)
    can_skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])
    alpha = np.zeros(S)
    alpha[:2] = y[0, :2]
    log_scale = np.log(alpha.sum())
    alpha = alpha / alpha.sum()
    log_alpha = np.zeros((T, S))
    with np.errstate(divide="ignore"):
        log_alpha[0] = np.log(alpha) + log_scale
        for t in range(1, T):
            new = alpha.copy()
            new[1:] += alpha[:-1]
            new[2:] += np.where(can_skip[2:], alpha[:-2], 0.0)
            alpha = new * y[t]
            log_scale += np.log(alpha.sum())
            alpha = alpha / alpha.sum()
            log_alpha[t] = np.log(alpha) + log_scale
    return float(-np.logaddexp(log_alpha[-1, -1], log_alpha[-1, -2])), log_alpha


def backward_with(skip_repeats=False, final="right", with_frame=False, wrt="logits", sign=1.0):
    """A student's ctc_backward written with loops; the switches are the known mistakes."""

    def ctc_backward(log_probs, labels, blank, log_alphas):
        ext = extended_list(labels, blank)
        T, S = log_probs.shape[0], len(ext)
        log_beta = np.full((T, S), -np.inf)
        if final == "right":
            log_beta[-1, -2:] = 0.0
        elif final == "blank only":
            log_beta[-1, -1] = 0.0
        else:
            log_beta[-1] = 0.0
        for t in range(T - 2, -1, -1):
            for s in range(S):
                terms = [log_beta[t + 1, s] + log_probs[t + 1, ext[s]]]
                if s + 1 < S:
                    terms.append(log_beta[t + 1, s + 1] + log_probs[t + 1, ext[s + 1]])
                if s + 2 < S and ext[s + 2] != blank and (skip_repeats or ext[s + 2] != ext[s]):
                    terms.append(log_beta[t + 1, s + 2] + log_probs[t + 1, ext[s + 2]])
                log_beta[t, s] = logsumexp(*terms)
        log_p = logsumexp(log_alphas[-1, -1], log_alphas[-1, -2])
        occupancy = np.zeros(log_probs.shape)
        for t in range(T):
            for s in range(S):
                occupancy[t, ext[s]] += math.exp(log_alphas[t, s] + log_beta[t, s] - log_p)
        if wrt == "logits":
            dlogits = np.exp(log_probs) - occupancy
        elif wrt == "log probabilities":
            dlogits = -occupancy
        else:
            dlogits = -occupancy / np.exp(log_probs)
        if with_frame:
            log_beta = log_beta + log_probs[:, ext]
        return log_beta, sign * dlogits

    return ctc_backward


backward = backward_with()


def backward_probability_space(log_probs, labels, blank, log_alphas):
    """Betas as probabilities: fine on short inputs, underflows on long ones."""
    ext = extended_list(labels, blank)
    T, S = log_probs.shape[0], len(ext)
    y = np.exp(log_probs)
    beta = np.zeros((T, S))
    beta[-1, -2:] = 1.0
    for t in range(T - 2, -1, -1):
        for s in range(S):
            total = beta[t + 1, s] * y[t + 1, ext[s]]
            if s + 1 < S:
                total += beta[t + 1, s + 1] * y[t + 1, ext[s + 1]]
            if s + 2 < S and ext[s + 2] != blank and ext[s + 2] != ext[s]:
                total += beta[t + 1, s + 2] * y[t + 1, ext[s + 2]]
            beta[t, s] = total
    alpha = np.exp(log_alphas)
    p = alpha[-1, -1] + alpha[-1, -2]
    occupancy = np.zeros(log_probs.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in range(S):
            occupancy[:, ext[s]] += alpha[:, s] * beta[:, s] / p
        return np.log(beta), y - occupancy


def decode_with(order="merge first", blank_zero=False):
    def ctc_greedy_decode(log_probs, blank):
        if blank_zero:
            blank = 0
        path = log_probs.argmax(axis=1).tolist()
        if order == "merge first":
            merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
            return [k for k in merged if k != blank]
        if order == "blanks first":
            kept = [k for k in path if k != blank]
            return [k for i, k in enumerate(kept) if i == 0 or k != kept[i - 1]]
        if order == "no merge":
            return [k for k in path if k != blank]
        return [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]  # blanks kept

    return ctc_greedy_decode


decode = decode_with()


def decode_by_groupby(log_probs, blank):
    return [int(k) for k, _ in itertools.groupby(np.argmax(log_probs, axis=1)) if k != blank]


# --- the honest students pass ------------------------------------------------------------


@pytest.mark.parametrize("student", [extend_with_blanks, extend_with_blanks_by_list])
@pytest.mark.parametrize("cases", ["visible", "hidden", "no_mutation"])
def test_extend_passes_honest_students(student, cases):
    assert check_extend_with_blanks(student, cases=cases) is None


FORWARD_CASES = ["shapes", "visible", "hidden", "long", "torch", "no_mutation"]


@pytest.mark.parametrize("student", [forward, forward_with_large_negative, forward_rescaled])
@pytest.mark.parametrize("cases", FORWARD_CASES)
def test_forward_passes_honest_students(student, cases):
    assert check_ctc_forward(student, cases=cases) is None


@pytest.mark.parametrize("cases", [*FORWARD_CASES, "gradient_check"])
def test_backward_passes_honest_students(cases):
    assert check_ctc_backward(backward, cases=cases) is None


@pytest.mark.parametrize("student", [decode, decode_by_groupby])
@pytest.mark.parametrize("cases", ["visible", "hidden", "no_mutation"])
def test_decode_passes_honest_students(student, cases):
    assert check_ctc_greedy_decode(student, cases=cases) is None


def test_the_course_reference_passes_when_copied_not_called():
    import rnncore.numpy.ctc as reference

    namespace = dict(vars(reference))
    for value in vars(reference).values():
        if inspect.isfunction(value) and value.__module__ == reference.__name__:
            exec(inspect.getsource(value), namespace)  # new code objects, helpers included
    check_extend_with_blanks(namespace["extend_with_blanks"], cases="hidden")
    for cases in ("hidden", "long"):
        check_ctc_forward(namespace["ctc_forward"], cases=cases)
        check_ctc_backward(namespace["ctc_backward"], cases=cases)
    check_ctc_greedy_decode(namespace["ctc_greedy_decode"], cases="hidden")


def test_calling_the_reference_fails():
    from rnncore.numpy import ctc_forward as course_ctc_forward

    def ctc_forward(log_probs, labels, blank):
        return course_ctc_forward(log_probs, labels, blank)

    with pytest.raises(AssertionError, match=r"calls the course's reference \(rnncore.numpy.ctc"):
        check_ctc_forward(ctc_forward)


def test_probability_space_passes_short_inputs_and_fails_long_ones():
    # The mistake only shows when the probabilities underflow: that is what "long" is for.
    student = forward_with(space="probability")
    check_ctc_forward(student, cases="visible")
    check_ctc_forward(student, cases="hidden")
    check_ctc_backward(backward_probability_space, cases="visible")
    with pytest.raises(AssertionError) as failure:
        check_ctc_forward(student, cases="long")
    assert "got inf" in str(failure.value)
    assert "Known mistake: probabilities instead of log probabilities (underflow)" in str(
        failure.value
    )
    with pytest.raises(AssertionError) as failure:
        check_ctc_backward(backward_probability_space, cases="long")
    assert "Known mistake: probabilities instead of log probabilities (underflow)" in str(
        failure.value
    )


def test_same_seed_same_inputs_and_message():
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as failure:
            check_ctc_forward(forward_with(skip_repeats=True), seed=4321)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "seed=4321" in messages[0]


def test_cases_have_what_they_promise():
    for case in ctc_cases("ctc_forward", "hidden", seed=3):
        labels, T = case.arrays["labels"], case.dims["T"]
        assert case.arrays["blank"] not in labels
        if "minimum T" in case.name:
            assert T == len(labels) + np.sum(labels[1:] == labels[:-1])
    visible = ctc_cases("ctc_forward", "visible", seed=5)[0].arrays["labels"]
    assert np.any(visible[1:] == visible[:-1])  # the skip mistake shows on the visible case
    (long_case,) = ctc_cases("ctc_forward", "long", seed=7)
    assert long_case.dims["T"] == 500
    with pytest.raises(ValueError, match="has no case set 'gradient_check'"):
        ctc_cases("ctc_forward", "gradient_check")


# --- messages about structure --------------------------------------------------------------


def test_forward_without_blanks_is_named_from_the_shape():
    def ctc_forward(log_probs, labels, blank):
        T, L = log_probs.shape[0], len(labels)
        log_alpha = np.full((T, L), -np.inf)
        log_alpha[0, 0] = log_probs[0, labels[0]]
        for t in range(1, T):
            for s in range(L):
                previous = log_alpha[t - 1, s - 1] if s else -np.inf
                log_alpha[t, s] = np.logaddexp(log_alpha[t - 1, s], previous)
                log_alpha[t, s] += log_probs[t, labels[s]]
        return -log_alpha[-1, -1], log_alpha

    with pytest.raises(AssertionError) as failure:
        check_ctc_forward(ctc_forward, cases="shapes")
    message = str(failure.value)
    assert "log_alphas has shape (9, 3), expected (T, S) = (9, 7)" in message
    assert "Known mistake: blanks not inserted" in message


def test_transposed_alphas_are_named():
    def ctc_forward(log_probs, labels, blank):
        nll, log_alpha = forward(log_probs, labels, blank)
        return nll, log_alpha.T

    with pytest.raises(AssertionError, match="It looks transposed"):
        check_ctc_forward(ctc_forward, cases="shapes")


def test_nan_from_logsumexp_gets_its_hint():
    def ctc_forward(log_probs, labels, blank):
        nll, log_alpha = forward(log_probs, labels, blank)
        log_alpha = np.where(np.isinf(log_alpha), np.nan, log_alpha)  # (-inf) - (-inf)
        return nll, log_alpha

    with pytest.raises(AssertionError, match="log_alphas contains NaN. A log-sum-exp"):
        check_ctc_forward(ctc_forward, cases="shapes")


def test_array_nll_is_refused():
    def ctc_forward(log_probs, labels, blank):
        nll, log_alpha = forward(log_probs, labels, blank)
        return np.array([nll]), log_alpha

    with pytest.raises(AssertionError, match=r"nll must be a number, got an array of shape \(1,\)"):
        check_ctc_forward(ctc_forward, cases="shapes")


def test_float_extended_labels_are_refused():
    def extend(labels, blank):
        extended = np.zeros(2 * len(labels) + 1) + blank
        extended[1::2] = labels
        return extended

    with pytest.raises(AssertionError, match="extended must hold integers"):
        check_extend_with_blanks(extend)


def test_mutating_the_labels_is_caught():
    def extend(labels, blank):
        labels += 0  # harmless-looking, but in place
        labels[0] = labels[0]
        out = extend_with_blanks(labels, blank)
        labels[:] = 0
        return out

    with pytest.raises(AssertionError, match="modifies its argument labels in place"):
        check_extend_with_blanks(extend, cases="no_mutation")


def test_decode_must_return_ints():
    def ctc_greedy_decode(log_probs, blank):
        return [float(k) for k in decode(log_probs, blank)]

    with pytest.raises(AssertionError, match="list of ints"):
        check_ctc_greedy_decode(ctc_greedy_decode)


# --- known mistakes: one handwritten student per mistake in the catalogues -----------------


def extend_without_blanks(labels, blank):
    return labels.copy()


def extend_without_trailing(labels, blank):
    return extend_with_blanks(labels, blank)[:-1]


def extend_without_leading(labels, blank):
    return extend_with_blanks(labels, blank)[1:]


def extend_with_zero(labels, blank):
    return extend_with_blanks(labels, 0)


# name -> (student, case set on which the mistake shows)
WRONG_EXTEND = {
    "blanks not inserted": (extend_without_blanks, "visible"),
    "trailing blank missing": (extend_without_trailing, "visible"),
    "leading blank missing": (extend_without_leading, "visible"),
    "blank taken as symbol 0": (extend_with_zero, "hidden"),
}

WRONG_FORWARD = {
    "skip allowed between identical labels": (forward_with(skip_repeats=True), "visible"),
    "probabilities instead of log probabilities (underflow)": (
        forward_with(space="probability"),
        "long",
    ),
    "alphas returned as probabilities, not their logarithms": (
        forward_with(output="probabilities"),
        "visible",
    ),
    "the final sum missing the trailing blank": (forward_with(final="label only"), "visible"),
    "the final sum missing the last label": (forward_with(final="blank only"), "visible"),
    "the final sum over every state": (forward_with(final="all"), "visible"),
    "wrong initial states (only the leading blank)": (
        forward_with(initial="blank only"),
        "visible",
    ),
    "wrong initial states (every state)": (forward_with(initial="every state"), "visible"),
    "wrong initial states (the first frame left out)": (
        forward_with(initial="no frame"),
        "visible",
    ),
    "log-likelihood instead of the negative log-likelihood": (forward_with(sign=-1.0), "visible"),
}

WRONG_BACKWARD = {
    "the gradient taken with respect to probabilities instead of logits": (
        backward_with(wrt="probabilities"),
        "visible",
    ),
    "the gradient taken with respect to log probabilities instead of logits": (
        backward_with(wrt="log probabilities"),
        "visible",
    ),
    "gradient of the log-likelihood instead of the loss": (backward_with(sign=-1.0), "visible"),
    "skip allowed between identical labels": (backward_with(skip_repeats=True), "visible"),
    "betas include the current frame": (backward_with(with_frame=True), "visible"),
    "wrong initial states of the betas (only the trailing blank)": (
        backward_with(final="blank only"),
        "visible",
    ),
    "wrong initial states of the betas (every state)": (
        backward_with(final="every state"),
        "visible",
    ),
}

WRONG_DECODE = {
    "decoding that removes blanks before collapsing repeats": (
        decode_with("blanks first"),
        "visible",
    ),
    "repeats not collapsed": (decode_with("no merge"), "visible"),
    "blanks not removed": (decode_with("blanks kept"), "visible"),
    "blank taken as symbol 0": (decode_with(blank_zero=True), "hidden"),
}


def catalogue_names(catalogue):
    return sorted(mistake.name for mistake in catalogue)


def test_every_mistake_has_a_wrong_student():
    assert sorted(WRONG_EXTEND) == catalogue_names(ctc_mistakes.EXTEND_WITH_BLANKS_MISTAKES)
    assert sorted(WRONG_FORWARD) == catalogue_names(ctc_mistakes.CTC_FORWARD_MISTAKES)
    assert sorted(WRONG_BACKWARD) == catalogue_names(ctc_mistakes.CTC_BACKWARD_MISTAKES)
    assert sorted(WRONG_DECODE) == catalogue_names(ctc_mistakes.CTC_GREEDY_DECODE_MISTAKES)


def assert_named(check, student, cases, name):
    with pytest.raises(AssertionError) as failure:
        check(student, cases=cases)
    message = str(failure.value)
    assert f"Known mistake: {name}." in message, message
    return message


@pytest.mark.parametrize("name", sorted(WRONG_EXTEND))
def test_extend_names_the_mistake(name):
    assert_named(check_extend_with_blanks, *WRONG_EXTEND[name], name)


@pytest.mark.parametrize("name", sorted(WRONG_FORWARD))
def test_forward_names_the_mistake(name):
    message = assert_named(check_ctc_forward, *WRONG_FORWARD[name], name)
    assert message.count("Known mistake:") == 1, message


@pytest.mark.parametrize("name", sorted(WRONG_BACKWARD))
def test_backward_names_the_mistake(name):
    message = assert_named(check_ctc_backward, *WRONG_BACKWARD[name], name)
    assert message.count("Known mistake:") == 1, message


@pytest.mark.parametrize("name", sorted(WRONG_DECODE))
def test_decode_names_the_mistake(name):
    message = assert_named(check_ctc_greedy_decode, *WRONG_DECODE[name], name)
    assert message.count("Known mistake:") == 1, message


@pytest.mark.parametrize("cases", ["torch", "gradient_check"])
def test_gradient_mistake_is_named_against_torch_and_finite_differences(cases):
    name = "the gradient taken with respect to probabilities instead of logits"
    message = assert_named(check_ctc_backward, backward_with(wrt="probabilities"), cases, name)
    assert ("torch.nn.CTCLoss" if cases == "torch" else "finite differences") in message


def test_forward_mistake_is_named_against_torch():
    name = "skip allowed between identical labels"
    message = assert_named(check_ctc_forward, forward_with(skip_repeats=True), "torch", name)
    assert "torch.nn.CTCLoss" in message


def test_unknown_wrong_values_point_at_the_recursion():
    def ctc_forward(log_probs, labels, blank):
        nll, log_alpha = forward(log_probs, labels, blank)
        return nll + 0.5, log_alpha

    with pytest.raises(AssertionError) as failure:
        check_ctc_forward(ctc_forward)
    message = str(failure.value)
    assert "nll is wrong (compared with the reference); log_alphas is right" in message
    assert "Known mistake" not in message and "Check the recursion" in message
