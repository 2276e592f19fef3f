r"""The baseline for describing digit strips: a per-digit classifier told where each digit is.

A practitioner with a strip of digits and a good segmenter would cut the strip at the digit
boundaries and classify each piece on its own. :func:`oracle_segmentation_captions` does
that with the *true* boundaries (the oracle segmentation of
:class:`~rnncore.data.digit_strips.DigitStrips`), so it never splits or merges a digit:
its only errors are misread digits. A strip of L digits comes out right only if all L
pieces do, so with independent errors at rate :math:`\epsilon` its exact-match accuracy is
about :math:`(1 - \epsilon)^L`.

The classifier (:func:`fit_digit_classifier`) is scikit-learn's multinomial logistic
regression on the 64 standardised pixels of each digit image, trained on the training pool's
images only, its regularisation strength chosen by 5-fold cross-validation on those images.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from rnncore.data.digit_strips import DIGIT_SIZE, DigitImages, DigitStrips

__all__ = ["fit_digit_classifier", "cut_digits", "oracle_segmentation_captions"]


def fit_digit_classifier(
    pool: DigitImages,
    Cs: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0),
    folds: int = 5,
    max_iter: int = 3000,
) -> GridSearchCV:
    """Logistic regression on the flattened pixels of single digit images.

    Parameters
    ----------
    pool : DigitImages
        ``images`` (N, 8, 8) and ``labels`` (N,): the training images only.
    Cs : tuple of float
        Candidate inverse L2 regularisation strengths; the one with the best
        cross-validated accuracy on ``pool`` is refitted on all of it.
    folds : int
        Cross-validation folds (stratified).
    max_iter : int

    Returns
    -------
    classifier : sklearn.model_selection.GridSearchCV
        Standardisation then ``LogisticRegression``; ``classifier.predict(pixels (M, 64))``,
        the chosen strength in ``classifier.best_params_["logisticregression__C"]``.
    """
    if len(Cs) == 0:
        raise ValueError("Cs must hold at least one candidate strength")
    pixels = pool.images.reshape(len(pool), -1)  # (N, 64)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    search = GridSearchCV(pipeline, {"logisticregression__C": list(Cs)}, cv=folds)
    return search.fit(pixels, pool.labels)


def cut_digits(strips: DigitStrips) -> tuple[np.ndarray, np.ndarray]:
    """Cut every strip at its oracle segmentation.

    Returns
    -------
    pixels : ndarray of shape (M, 64)
        One row per digit of every strip, strips in order, digits left to right.
    strip_index : ndarray of shape (M,), int64
        The strip each row came from.
    """
    pieces, strip_index = [], []
    for i, segments in enumerate(strips.segments):
        for start, end in segments:
            if end - start != DIGIT_SIZE:
                raise ValueError(f"strip {i} has a segment of {end - start} columns, expected 8")
            pieces.append(strips.images[i, :, start:end].reshape(-1))  # (64,)
            strip_index.append(i)
    return np.stack(pieces), np.asarray(strip_index, dtype=np.int64)


def oracle_segmentation_captions(classifier, strips: DigitStrips) -> list[tuple[int, ...]]:
    """The caption of each strip read by classifying its oracle-cut digits one by one.

    Parameters
    ----------
    classifier
        Anything with ``predict(pixels (M, 64)) -> (M,)``, e.g. :func:`fit_digit_classifier`.
    strips : DigitStrips

    Returns
    -------
    captions : list of N tuples of int
        As many digits as each strip holds (the segmentation is given).
    """
    pixels, strip_index = cut_digits(strips)
    predicted = np.asarray(classifier.predict(pixels))  # (M,)
    captions = [[] for _ in range(len(strips))]
    for i, digit in zip(strip_index, predicted, strict=True):
        captions[i].append(int(digit))
    return [tuple(caption) for caption in captions]
