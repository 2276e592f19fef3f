"""rnncore.numpy.ctc against torch.nn.CTCLoss, finite differences and brute-force enumeration."""

import itertools

import numpy as np
import pytest
import torch

from rnncore.numpy import (
    ctc_backward,
    ctc_forward,
    ctc_greedy_decode,
    extend_with_blanks,
    log_softmax,
    numerical_gradient,
    relative_error,
)


def draw(rng, T, V, labels, scale=2.0):
    """Logits (T, V) and their log-softmax."""
    logits = scale * rng.standard_normal((T, V))
    return logits, log_softmax(logits)


def torch_ctc(logits, labels, blank):
    """nll and its gradient with respect to the logits, from torch.nn.CTCLoss in float64."""
    x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    log_probs = torch.log_softmax(x, dim=-1)[:, None]  # (T, 1, V), torch's time-major layout
    loss = torch.nn.CTCLoss(blank=blank, reduction="sum")(
        log_probs,
        torch.tensor(labels[None], dtype=torch.long),
        torch.tensor([logits.shape[0]]),
        torch.tensor([labels.shape[0]]),
    )
    loss.backward()
    return loss.item(), x.grad.numpy()


def minimum_frames(labels):
    return len(labels) + int(np.sum(labels[1:] == labels[:-1]))


# (name, T, V, labels, blank); T = None means the minimum feasible T.
CASES = [
    ("random", 12, 6, [3, 1, 4, 5, 2], 0),
    ("repeated labels", 10, 5, [2, 2, 3, 3, 3], 0),
    ("L = 1", 7, 4, [2], 0),
    ("L = 1, T = 1", 1, 3, [1], 0),
    ("minimum T, no repeats", None, 5, [1, 2, 3, 4], 0),
    ("minimum T, with repeats", None, 4, [1, 1, 2, 2, 1], 0),
    ("blank last", 9, 5, [0, 3, 3, 1], 4),
    ("blank in the middle", 8, 5, [0, 4, 1, 1], 2),
    ("empty labels", 4, 3, [], 0),
]


@pytest.mark.parametrize(("name", "T", "V", "labels", "blank"), CASES, ids=[c[0] for c in CASES])
def test_matches_torch_ctc_loss(name, T, V, labels, blank):
    rng = np.random.default_rng(len(name))
    labels = np.array(labels, dtype=np.int64)
    T = minimum_frames(labels) if T is None else T
    logits, log_probs = draw(rng, T, V, labels)
    nll, log_alphas = ctc_forward(log_probs, labels, blank)
    log_betas, dlogits = ctc_backward(log_probs, labels, blank, log_alphas)
    expected_nll, expected_grad = torch_ctc(logits, labels, blank)
    assert log_alphas.shape == log_betas.shape == (T, 2 * len(labels) + 1)
    assert dlogits.shape == (T, V)
    assert nll == pytest.approx(expected_nll, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_matches_torch_on_random_sizes(seed):
    rng = np.random.default_rng(100 + seed)
    V = int(rng.integers(2, 8))
    blank = int(rng.integers(0, V))
    symbols = [k for k in range(V) if k != blank]
    L = int(rng.integers(1, 7))
    labels = rng.choice(symbols, size=L).astype(np.int64)
    if L > 1 and seed % 2:
        labels[1] = labels[0]  # at least one repeat
    T = minimum_frames(labels) + int(rng.integers(0, 6))
    logits, log_probs = draw(rng, T, V, labels)
    nll, log_alphas = ctc_forward(log_probs, labels, blank)
    _, dlogits = ctc_backward(log_probs, labels, blank, log_alphas)
    expected_nll, expected_grad = torch_ctc(logits, labels, blank)
    assert nll == pytest.approx(expected_nll, rel=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-9, atol=1e-12)


def test_gradient_matches_finite_differences(rng):
    labels = np.array([1, 1, 3, 2])
    T, V, blank = 8, 4, 0
    logits, log_probs = draw(rng, T, V, labels)
    nll, log_alphas = ctc_forward(log_probs, labels, blank)
    _, dlogits = ctc_backward(log_probs, labels, blank, log_alphas)

    def loss(values):
        return ctc_forward(log_softmax(values), labels, blank)[0]

    numeric = numerical_gradient(loss, logits, 1.0)
    assert relative_error(dlogits, numeric) < 1e-7


def probability_space_nll(log_probs, labels, blank):
    """The same recursion without logs: what log space is there to avoid."""
    extended = extend_with_blanks(labels, blank)
    S = len(extended)
    y = np.exp(log_probs)
    alpha = np.zeros(S)
    alpha[:2] = y[0, extended[:2]]
    for t in range(1, len(y)):
        new = alpha.copy()
        new[1:] += alpha[:-1]
        for s in range(2, S):
            if extended[s] != blank and extended[s] != extended[s - 2]:
                new[s] += alpha[s - 2]
        alpha = new * y[t, extended]
    with np.errstate(divide="ignore"):
        return -np.log(alpha[-1] + alpha[-2])


def test_long_input_does_not_underflow(rng):
    T, V, blank = 500, 8, 0
    labels = rng.integers(1, V, size=40)
    logits, log_probs = draw(rng, T, V, labels)
    # In probability space the product of 500 frame probabilities is below float64's range.
    assert probability_space_nll(log_probs, labels, blank) == np.inf
    nll, log_alphas = ctc_forward(log_probs, labels, blank)
    log_betas, dlogits = ctc_backward(log_probs, labels, blank, log_alphas)
    assert np.isfinite(nll) and nll > 745  # p < 1e-323: it underflows as a probability
    expected_nll, expected_grad = torch_ctc(logits, labels, blank)
    assert nll == pytest.approx(expected_nll, rel=1e-12)
    np.testing.assert_allclose(dlogits, expected_grad, rtol=1e-7, atol=1e-10)
    assert np.all(np.isfinite(dlogits))


def test_short_input_agrees_with_probability_space(rng):
    labels = np.array([2, 2, 1])
    _, log_probs = draw(rng, 7, 3, labels)
    assert ctc_forward(log_probs, labels, 0)[0] == pytest.approx(
        probability_space_nll(log_probs, labels, 0), rel=1e-12
    )


def collapse(path, blank):
    merged = [symbol for k, symbol in enumerate(path) if k == 0 or symbol != path[k - 1]]
    return [symbol for symbol in merged if symbol != blank]


@pytest.mark.parametrize(("T", "V", "labels", "blank"), [(4, 3, [1, 1], 0), (5, 3, [2, 0], 1)])
def test_likelihood_is_the_sum_over_every_path(rng, T, V, labels, blank):
    labels = np.array(labels)
    _, log_probs = draw(rng, T, V, labels, scale=1.0)
    probability = 0.0
    for path in itertools.product(range(V), repeat=T):
        if collapse(list(path), blank) == list(labels):
            probability += np.exp(sum(log_probs[t, k] for t, k in enumerate(path)))
    nll, _ = ctc_forward(log_probs, labels, blank)
    assert nll == pytest.approx(-np.log(probability), rel=1e-12)


def test_alpha_times_beta_sums_to_p_at_every_frame(rng):
    labels = np.array([3, 1, 1, 2])
    _, log_probs = draw(rng, 9, 4, labels)
    nll, log_alphas = ctc_forward(log_probs, labels, 0)
    log_betas, _ = ctc_backward(log_probs, labels, 0, log_alphas)
    totals = np.logaddexp.reduce(log_alphas + log_betas, axis=1)  # (T,)
    np.testing.assert_allclose(totals, -nll, rtol=1e-12)


def test_unreachable_states_are_minus_infinity(rng):
    labels = np.array([1, 2, 3])
    _, log_probs = draw(rng, 6, 4, labels)
    _, log_alphas = ctc_forward(log_probs, labels, 0)
    log_betas, _ = ctc_backward(log_probs, labels, 0, log_alphas)
    assert np.all(np.isneginf(log_alphas[0, 2:])) and np.all(np.isfinite(log_alphas[0, :2]))
    assert np.all(np.isneginf(log_betas[-1, :-2])) and np.all(log_betas[-1, -2:] == 0)
    assert np.isneginf(log_alphas[1, 5])  # two frames reach at most the second label


def test_extend_with_blanks():
    np.testing.assert_array_equal(extend_with_blanks(np.array([3, 1, 3]), 0), [0, 3, 0, 1, 0, 3, 0])
    np.testing.assert_array_equal(extend_with_blanks(np.array([0]), 2), [2, 0, 2])
    np.testing.assert_array_equal(extend_with_blanks(np.array([], dtype=int), 0), [0])
    labels = np.array([1, 2], dtype=np.int32)
    extended = extend_with_blanks(labels, 0)
    assert extended.dtype == np.int32
    np.testing.assert_array_equal(labels, [1, 2])


def test_greedy_decode_merges_repeats_before_removing_blanks():
    # best path: a a - a b b - -  ->  a a b
    path = [1, 1, 0, 1, 2, 2, 0, 0]
    log_probs = log_softmax(5.0 * np.eye(3)[path])
    assert ctc_greedy_decode(log_probs, 0) == [1, 1, 2]
    assert all(type(symbol) is int for symbol in ctc_greedy_decode(log_probs, 0))
    assert ctc_greedy_decode(log_softmax(5.0 * np.eye(3)[[0, 0]]), 0) == []
    assert ctc_greedy_decode(log_softmax(5.0 * np.eye(3)[[2, 1, 1, 2]]), 1) == [2, 2]


@pytest.mark.parametrize(("T", "V", "blank"), [(3, 3, 0), (4, 3, 2), (5, 2, 0), (3, 4, 1)])
def test_greedy_decode_reads_the_most_likely_path(T, V, blank):
    rng = np.random.default_rng(T * 10 + V)
    for _ in range(20):
        log_probs = log_softmax(rng.standard_normal((T, V)))
        paths = list(itertools.product(range(V), repeat=T))
        scores = [sum(log_probs[t, k] for t, k in enumerate(path)) for path in paths]
        best = paths[int(np.argmax(scores))]
        assert ctc_greedy_decode(log_probs, blank) == collapse(list(best), blank)


def test_float32_keeps_its_dtype(rng):
    labels = np.array([1, 2, 2])
    _, log_probs = draw(rng, 6, 4, labels)
    nll64, alphas64 = ctc_forward(log_probs, labels, 0)
    nll, log_alphas = ctc_forward(log_probs.astype(np.float32), labels, 0)
    log_betas, dlogits = ctc_backward(log_probs.astype(np.float32), labels, 0, log_alphas)
    assert nll.dtype == log_alphas.dtype == log_betas.dtype == dlogits.dtype == np.float32
    assert nll == pytest.approx(nll64, rel=1e-5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: {**a, "labels": np.array([1, 2, 2, 3])}, "T = 4 frames cannot hold the L = 4"),
        (lambda a: {**a, "labels": np.array([1, 0, 2])}, "must not contain the blank (0)"),
        (lambda a: {**a, "labels": np.array([1.0, 2.0])}, "labels must be a NumPy integer array"),
        (lambda a: {**a, "labels": [1, 2]}, "labels must be a NumPy integer array, got list"),
        (lambda a: {**a, "labels": np.array([[1, 2]])}, "labels must have 1 axis"),
        (lambda a: {**a, "labels": np.array([1, 5])}, "labels must be symbol indices < V = 4"),
        (lambda a: {**a, "blank": 4}, "blank must satisfy 0 <= blank < V = 4"),
        (lambda a: {**a, "blank": 0.0}, "blank must be an integer"),
        (lambda a: {**a, "log_probs": a["log_probs"][None]}, "log_probs must have 2 axes"),
        (lambda a: {**a, "log_probs": np.zeros((4, 4), int)}, "floating-point"),
        (lambda a: {**a, "log_probs": np.exp(a["log_probs"])}, "must be log-probabilities"),
    ],
)
def test_bad_inputs_raise_errors_that_name_the_problem(rng, change, message):
    _, log_probs = draw(rng, 4, 4, None)
    arguments = change({"log_probs": log_probs, "labels": np.array([1, 2]), "blank": 0})
    with pytest.raises(ValueError, match=None) as error:
        ctc_forward(**arguments)
    assert message in str(error.value)


def test_backward_checks_the_alphas(rng):
    labels = np.array([1, 2])
    _, log_probs = draw(rng, 5, 3, labels)
    _, log_alphas = ctc_forward(log_probs, labels, 0)
    with pytest.raises(ValueError, match=r"log_alphas must have shape \(T, S\) = \(5, 5\)"):
        ctc_backward(log_probs, labels, 0, log_alphas[:, :3])
    with pytest.raises(ValueError, match="pass the log_alphas that ctc_forward returned"):
        ctc_backward(log_probs, labels, 0, np.full_like(log_alphas, -np.inf))


def test_decode_checks_its_inputs():
    with pytest.raises(ValueError, match="log_probs must have 2 axes"):
        ctc_greedy_decode(np.zeros((2, 3, 4)), 0)
    with pytest.raises(ValueError, match="blank must satisfy"):
        ctc_greedy_decode(np.zeros((2, 3)), 3)
