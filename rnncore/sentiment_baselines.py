r"""Baselines for sentence sentiment that ignore word order: bags of n-grams and a lexicon sum.

* :func:`fit_bag_of_ngrams`: scikit-learn's ``CountVectorizer`` (n-gram counts over our
  tokens) into ``LogisticRegression``. With ``ngram_range=(1, 1)`` the model sees which words
  occur, not where; with ``(1, 2)`` it also sees each pair of neighbours ("not good"), so it
  captures local order only, and only for pairs it met in training.
* :func:`lexicon_sum_predict`: the rule a practitioner tries first with a polarity lexicon,

  .. math:: \hat y = [\textstyle\sum_{t} \text{rating}(w_t) > 0],

  the sum of the lexicon ratings of the sentence's tokens (0 for a token not in it).

Every function takes token tuples (``SentimentExample.tokens``) and labels 0/1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

__all__ = ["fit_bag_of_ngrams", "lexicon_sum_predict", "accuracy"]


def _identity(tokens):
    return list(tokens)


def fit_bag_of_ngrams(
    tokens: Sequence[Sequence[str]],
    labels: Sequence[int],
    ngram_range: tuple[int, int] = (1, 1),
    C: float = 10.0,
) -> Pipeline:
    """Fit n-gram counts + logistic regression on tokenised sentences.

    Parameters
    ----------
    tokens : sequence of N token sequences
    labels : sequence of N ints in {0, 1}
    ngram_range : (int, int)
        The smallest and largest n (scikit-learn's convention).
    C : float
        Inverse L2 regularisation strength of the logistic regression.

    Returns
    -------
    model : sklearn.pipeline.Pipeline
        ``model.predict(tokens) -> ndarray of shape (N,)``.
    """
    if len(tokens) != len(labels):
        raise ValueError(f"tokens has {len(tokens)} sentences but labels has {len(labels)}")
    if any(isinstance(sentence, str) for sentence in tokens):
        raise ValueError("tokens must be token sequences, not strings: use example.tokens")
    vectorizer = CountVectorizer(
        tokenizer=_identity,
        preprocessor=None,
        lowercase=False,
        token_pattern=None,
        ngram_range=ngram_range,
    )
    model = make_pipeline(vectorizer, LogisticRegression(C=C, max_iter=5000))
    return model.fit([list(sentence) for sentence in tokens], np.asarray(labels))


def lexicon_sum_predict(
    tokens: Sequence[Sequence[str]], lexicon: Mapping[str, float]
) -> np.ndarray:
    """1 where the sentence's lexicon ratings sum to more than 0, else 0.

    Parameters
    ----------
    tokens : sequence of N token sequences
    lexicon : mapping of str to float
        Token -> rating (``load_vader_lexicon()``).

    Returns
    -------
    predictions : ndarray of int of shape (N,)
    """
    if any(isinstance(sentence, str) for sentence in tokens):
        raise ValueError("tokens must be token sequences, not strings: use example.tokens")
    sums = np.array([sum(lexicon.get(token, 0.0) for token in sentence) for sentence in tokens])
    return (sums > 0).astype(int)


def accuracy(predictions, labels) -> float:
    """The fraction of predictions equal to the labels."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape or predictions.ndim != 1 or len(labels) == 0:
        raise ValueError(
            f"predictions {predictions.shape} and labels {labels.shape} must be equal 1-D shapes"
        )
    return float(np.mean(predictions == labels))
