"""Greedy decoding and beam search against brute-force enumeration on tiny vocabularies."""

import itertools

import numpy as np
import pytest

from rnncore.numpy.search import beam_search, greedy_decode


def table_step_fn(seed, V, eos_bias=0.0):
    """A random language model whose state is the prefix: log p(next | prefix), memoised."""
    table = {}

    def step_fn(token, prefix):
        prefix = prefix + (token,)
        if prefix not in table:
            rng = np.random.default_rng([seed, *prefix])
            logits = 1.5 * rng.standard_normal(V)
            logits[0] += eos_bias
            table[prefix] = logits - np.logaddexp.reduce(logits)
        return table[prefix], prefix

    return step_fn


def every_sequence(step_fn, bos, eos, V, max_len, alpha):
    """(tokens, score) of every sequence the searches can produce, by enumeration."""
    found = []
    for n in range(1, max_len + 1):
        for tokens in itertools.product(range(V), repeat=n):
            if eos in tokens[:-1] or (n < max_len and tokens[-1] != eos):
                continue
            state, token, log_p = (), bos, 0.0
            for nxt in tokens:
                log_probs, state = step_fn(token, state)
                log_p, token = log_p + log_probs[nxt], nxt
            found.append((list(tokens), log_p / n**alpha))
    return found


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("alpha", [0.0, 0.7, 1.0])
def test_a_beam_as_large_as_every_sequence_finds_the_best(seed, alpha):
    V, max_len, bos, eos = 3, 4, 2, 0
    step_fn = table_step_fn(seed, V, eos_bias=0.5)
    every = every_sequence(step_fn, bos, eos, V, max_len, alpha)
    assert len(every) == 1 + 2 + 4 + 8 + 16
    result = beam_search(step_fn, (), bos, eos, len(every), max_len, alpha)
    expected = sorted(every, key=lambda pair: pair[1], reverse=True)
    assert [tokens for tokens, _ in result] == [tokens for tokens, _ in expected]
    np.testing.assert_allclose([s for _, s in result], [s for _, s in expected], rtol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_a_beam_of_one_is_greedy(seed):
    step_fn = table_step_fn(seed, 5, eos_bias=float(seed % 3))
    tokens, log_p = greedy_decode(step_fn, (), 1, 0, 6)
    result = beam_search(step_fn, (), 1, 0, 1, 6, 0.6)
    assert result == [(tokens, pytest.approx(log_p / len(tokens) ** 0.6))]


def test_greedy_stops_at_eos_and_sums_log_probs():
    log_probs = np.log(np.array([[0.1, 0.6, 0.3], [0.2, 0.3, 0.5], [0.7, 0.2, 0.1]]))

    def step_fn(token, t):
        return log_probs[t], t + 1

    tokens, log_p = greedy_decode(step_fn, 0, 2, 0, 10)
    assert tokens == [1, 2, 0]
    assert log_p == pytest.approx(np.log(0.6 * 0.5 * 0.7))
    assert greedy_decode(step_fn, 0, 2, 0, 2) == ([1, 2], pytest.approx(np.log(0.3)))


def test_beam_beats_greedy_and_keeps_finished_hypotheses():
    # Greedy takes 1 (0.6) then is stuck with 0.4; 2 (0.4) leads to eos with certainty.
    rows = {(): [0.0, 0.6, 0.4], (1,): [0.4, 0.3, 0.3], (2,): [1.0, 0.0, 0.0]}

    def step_fn(token, prefix):
        prefix = prefix if token == 9 else prefix + (token,)
        with np.errstate(divide="ignore"):
            return np.log(rows.get(prefix, [1.0, 0.0, 0.0])), prefix

    assert greedy_decode(step_fn, (), 9, 0, 3)[0] == [1, 0]
    result = beam_search(step_fn, (), 9, 0, 2, 3, 0.0)
    assert [tokens for tokens, _ in result] == [[2, 0], [1, 0]]
    assert result[0][1] == pytest.approx(np.log(0.4))
    scores = [score for _, score in beam_search(step_fn, (), 9, 0, 3, 3, 1.0)]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"beam_size": 0}, "beam_size must be an integer >= 1"),
        ({"max_len": 0}, "max_len must be an integer >= 1"),
        ({"length_penalty": -1.0}, "length_penalty"),
    ],
)
def test_clear_errors(arguments, message):
    given = {"beam_size": 2, "max_len": 3, "length_penalty": 0.0, **arguments}
    with pytest.raises(ValueError, match=message):
        beam_search(table_step_fn(0, 3), (), 1, 0, **given)


def test_step_fn_must_return_a_vector():
    with pytest.raises(ValueError, match=r"shape \(V,\)"):
        greedy_decode(lambda token, state: (np.zeros((2, 3)), state), None, 1, 0, 3)
