"""Digit error rate and string accuracy, checked against hand-counted edits."""

import pytest

from rnncore.error_rates import sequence_accuracy, token_error_counts, token_error_rate


def test_counts_each_kind_of_edit():
    references = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
    hypotheses = [[1, 3], [4, 0, 5], [6, 1, 8, 9]]  # a deletion, an insertion, a substitution
    counts = token_error_counts(references, hypotheses)
    assert (counts.substitutions, counts.deletions, counts.insertions) == (1, 1, 1)
    assert counts.reference_tokens == 9
    assert token_error_rate(references, hypotheses) == pytest.approx(3 / 9)


def test_empty_hypothesis_deletes_everything_and_inserts_can_exceed_one():
    assert token_error_rate([[1, 2]], [[]]) == 1.0
    assert token_error_rate([[1]], [[2, 3, 4]]) == 3.0


def test_rate_pools_over_the_corpus_not_per_sentence():
    # Mean of per-sentence rates would be (1/1 + 0/9) / 2 = 0.5; the corpus rate is 1/10.
    references = [[1], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
    hypotheses = [[2], [1, 2, 3, 4, 5, 6, 7, 8, 9]]
    assert token_error_rate(references, hypotheses) == pytest.approx(0.1)


def test_sequence_accuracy_needs_every_token():
    assert sequence_accuracy([[1, 2], [3], [4]], [[1, 2], [3, 3], []]) == pytest.approx(1 / 3)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="one hypothesis per reference"):
        token_error_rate([[1]], [[1], [2]])
    with pytest.raises(ValueError, match="at least one token"):
        token_error_rate([[]], [[1]])
    with pytest.raises(ValueError, match="one hypothesis per reference"):
        sequence_accuracy([], [])
