"""Tests of the order-blind baselines: bags of n-grams and the lexicon sum."""

import numpy as np
import pytest

from rnncore.sentiment_baselines import accuracy, fit_bag_of_ngrams, lexicon_sum_predict

# Each sentence has a twin with the same words in another order and the other label.
ORDERED = [
    (("good", "not", "bad"), 1),
    (("bad", "not", "good"), 0),
    (("fun", "not", "dull"), 1),
    (("dull", "not", "fun"), 0),
]


def test_unigrams_cannot_tell_reordered_words_apart_bigrams_can():
    tokens, labels = zip(*ORDERED, strict=True)
    unigrams = fit_bag_of_ngrams(tokens, labels, (1, 1))
    predictions = unigrams.predict([list(t) for t in tokens])
    # Same bag, same prediction: at most half of each twin pair can be right.
    assert predictions[0] == predictions[1] and predictions[2] == predictions[3]
    bigrams = fit_bag_of_ngrams(tokens, labels, (1, 2))
    assert accuracy(bigrams.predict([list(t) for t in tokens]), labels) == 1.0


def test_bag_of_words_learns_polarity_of_single_words():
    tokens = [("a", "good"), ("a", "bad"), ("good",), ("bad",)]
    model = fit_bag_of_ngrams(tokens, [1, 0, 1, 0])
    assert list(model.predict([["good", "a"], ["bad", "a"]])) == [1, 0]


def test_lexicon_sum_is_the_sign_of_the_summed_ratings():
    lexicon = {"good": 2.0, "bad": -2.5, "fine": 0.5}
    tokens = [("good",), ("good", "bad"), ("not", "bad"), ("good", "fine", "bad"), ("the",)]
    expected = [1, 0, 0, 0, 0]  # sums 2, -0.5, -2.5, 0 (not > 0), 0
    assert list(lexicon_sum_predict(tokens, lexicon)) == expected


def test_inputs_must_be_tokens_not_strings():
    with pytest.raises(ValueError, match="not strings"):
        lexicon_sum_predict(["good film"], {})
    with pytest.raises(ValueError, match="not strings"):
        fit_bag_of_ngrams(["good film", "bad film"], [1, 0])
    with pytest.raises(ValueError, match="labels"):
        fit_bag_of_ngrams([("good",)], [1, 0])


def test_accuracy():
    assert accuracy(np.array([1, 0, 1, 1]), [1, 1, 1, 0]) == 0.5
    with pytest.raises(ValueError, match="1-D"):
        accuracy([1, 0], [1])
