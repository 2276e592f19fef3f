r"""Strips of handwritten digits to describe: images composed from scikit-learn's digits.

Source
    ``sklearn.datasets.load_digits``: 1,797 greyscale images of handwritten digits, 8 x 8
    pixels with values 0..16, the test part of the UCI "Optical Recognition of Handwritten
    Digits" data, bundled inside the installed scikit-learn package (read from disk, never
    downloaded). Nothing of it is stored in this repository.

Split
    :func:`split_digit_images` puts half of the images of every digit class in a training
    pool and the other half in a test pool (a seeded shuffle per class). Training strips are
    composed from the training pool only and test strips from the test pool only, so no digit
    image in a test strip was ever seen in training, not even inside another strip.

Strips (:func:`make_strips`)
    A strip holds ``n`` digit images, 3 <= n <= 6 by default, side by side from left to right,
    with a gap of 0..``max_gap`` blank columns before each digit. Every strip is right-padded
    with blank columns to the same width W, the widest strip the settings allow, so a batch
    is one array (B, 8, W); ``widths`` says where each strip really ends (after its last
    digit). Pixels are scaled to [0, 1].

Captions (:func:`encode_captions`)
    The caption of a strip is its digit sequence, one token per digit: tokens 0..9 are the
    digits, :data:`BOS` starts a caption, :data:`EOS` ends it and :data:`PAD` fills a batch to
    its longest caption. The *oracle segmentation*, the first and last-plus-one column of each
    digit (``segments``), is returned too: a baseline that is told where each digit sits.

Letters: N images or strips, W strip width in columns, L digits in a caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = [
    "SOURCE",
    "DIGIT_SIZE",
    "PAD",
    "BOS",
    "EOS",
    "VOCABULARY_SIZE",
    "DigitImages",
    "DigitStrips",
    "load_digit_images",
    "split_digit_images",
    "strip_width",
    "make_strips",
    "encode_captions",
    "decode_caption",
]

SOURCE = (
    "scikit-learn's bundled digits (sklearn.datasets.load_digits: 1,797 images of 8 x 8 "
    "pixels, from the UCI Optical Recognition of Handwritten Digits data)"
)
DIGIT_SIZE = 8  # load_digits images are 8 x 8
PAD, BOS, EOS = 10, 11, 12  # tokens 0..9 are the digits themselves
VOCABULARY_SIZE = 13


class DigitImages(NamedTuple):
    """A pool of single digit images.

    Attributes
    ----------
    images : ndarray of shape (N, 8, 8), float32
        Pixels in [0, 1].
    labels : ndarray of shape (N,), int64
        The digit, 0..9.
    indices : ndarray of shape (N,), int64
        Row of each image in ``load_digits()``, to show that two pools share no image.
    """

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


class DigitStrips(NamedTuple):
    """Strips of digits, right-padded to one width.

    Attributes
    ----------
    images : ndarray of shape (N, 8, W), float32
        Pixels in [0, 1]; columns at and after ``widths[i]`` are blank padding.
    widths : ndarray of shape (N,), int64
        Columns up to the end of each strip's last digit.
    digits : list of N tuples of int
        The caption: the digits from left to right.
    segments : list of N tuples of (int, int)
        The oracle segmentation: ``(start, end)`` columns of each digit, end exclusive, so
        ``images[i][:, start:end]`` is the digit (8 columns).
    sources : list of N tuples of int
        ``load_digits()`` row of each digit image.
    """

    images: np.ndarray
    widths: np.ndarray
    digits: list
    segments: list
    sources: list

    def __len__(self) -> int:
        return len(self.digits)


def load_digit_images() -> DigitImages:
    """All 1,797 images of ``sklearn.datasets.load_digits``, scaled to [0, 1]."""
    from sklearn.datasets import load_digits  # scikit-learn is needed only for the data

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)  # (N, 8, 8), pixels were 0..16
    labels = bunch.target.astype(np.int64)
    return DigitImages(images, labels, np.arange(len(labels), dtype=np.int64))


def split_digit_images(
    test_fraction: float = 0.5, seed: int = 0, pool: DigitImages | None = None
) -> tuple[DigitImages, DigitImages]:
    """Split the digit images into a training and a test pool, stratified by digit.

    Within each class a seeded shuffle puts ``round(test_fraction * count)`` images in the
    test pool and the rest in the training pool.

    Parameters
    ----------
    test_fraction : float
        In (0, 1).
    seed : int
    pool : DigitImages, optional
        The images to split; default :func:`load_digit_images`.

    Returns
    -------
    train, test : DigitImages
        Disjoint; together they hold every image of ``pool``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    pool = load_digit_images() if pool is None else pool
    rng = np.random.default_rng(seed)
    train_rows, test_rows = [], []
    for digit in np.unique(pool.labels):
        rows = rng.permutation(np.flatnonzero(pool.labels == digit))
        n_test = int(round(test_fraction * len(rows)))
        if not 0 < n_test < len(rows):
            raise ValueError(
                f"digit {digit} has {len(rows)} images: test_fraction={test_fraction} leaves "
                "one of the pools without it"
            )
        test_rows.append(rows[:n_test])
        train_rows.append(rows[n_test:])

    def take(rows):
        rows = np.sort(np.concatenate(rows))
        return DigitImages(pool.images[rows], pool.labels[rows], pool.indices[rows])

    return take(train_rows), take(test_rows)


def strip_width(max_digits: int = 6, max_gap: int = 2) -> int:
    """W, the padded width: ``max_digits`` digits, each after the widest gap."""
    return max_digits * (DIGIT_SIZE + max_gap)


def make_strips(
    pool: DigitImages,
    n_strips: int,
    rng: np.random.Generator,
    min_digits: int = 3,
    max_digits: int = 6,
    max_gap: int = 2,
    n_digits: int | None = None,
) -> DigitStrips:
    """Compose ``n_strips`` strips from the images of ``pool``.

    Each strip draws its length uniformly from ``min_digits..max_digits`` (or uses
    ``n_digits``), then for each digit an image from ``pool`` uniformly at random and a gap
    of 0..``max_gap`` blank columns before it.

    Parameters
    ----------
    pool : DigitImages
        The only images used.
    n_strips : int
    rng : numpy.random.Generator
    min_digits, max_digits : int
        The range of lengths; also fixes the padded width :func:`strip_width`.
    max_gap : int
        Widest gap before a digit, in columns, >= 0.
    n_digits : int, optional
        Give every strip this many digits, min_digits <= n_digits <= max_digits.

    Returns
    -------
    strips : DigitStrips
        ``images`` of shape (n_strips, 8, strip_width(max_digits, max_gap)).
    """
    if not isinstance(n_strips, int) or n_strips < 1:
        raise ValueError(f"n_strips must be a positive integer, got {n_strips!r}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    if not isinstance(max_gap, int) or max_gap < 0:
        raise ValueError(f"max_gap must be a non-negative integer, got {max_gap!r}")
    if n_digits is not None and not min_digits <= n_digits <= max_digits:
        raise ValueError(f"n_digits must be in {min_digits}..{max_digits}, got {n_digits!r}")
    W = strip_width(max_digits, max_gap)
    images = np.zeros((n_strips, DIGIT_SIZE, W), dtype=np.float32)  # (N, 8, W)
    widths = np.zeros(n_strips, dtype=np.int64)
    digits, segments, sources = [], [], []
    for i in range(n_strips):
        length = n_digits if n_digits is not None else int(rng.integers(min_digits, max_digits + 1))
        rows = rng.integers(0, len(pool), size=length)
        gaps = rng.integers(0, max_gap + 1, size=length)
        column, strip_segments = 0, []
        for row, gap in zip(rows, gaps, strict=True):
            column += int(gap)
            images[i, :, column : column + DIGIT_SIZE] = pool.images[row]
            strip_segments.append((column, column + DIGIT_SIZE))
            column += DIGIT_SIZE
        widths[i] = column
        digits.append(tuple(int(d) for d in pool.labels[rows]))
        segments.append(tuple(strip_segments))
        sources.append(tuple(int(s) for s in pool.indices[rows]))
    return DigitStrips(images, widths, digits, segments, sources)


def encode_captions(digits: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-forcing inputs and targets for a batch of captions.

    For the caption ``3 1 4`` in a batch whose longest caption has L = 4 digits::

        inputs   BOS 3 1 4   PAD      (what the decoder reads at each step)
        targets  3   1 4 EOS PAD      (what it must predict at that step)

    Parameters
    ----------
    digits : sequence of N digit sequences
        Each non-empty, digits 0..9.

    Returns
    -------
    inputs : ndarray of shape (N, L + 1), int64
    targets : ndarray of shape (N, L + 1), int64
        PAD where a caption is shorter than L.
    """
    if len(digits) == 0:
        raise ValueError("digits must hold at least one caption")
    if any(len(caption) == 0 for caption in digits):
        raise ValueError("every caption needs at least one digit")
    if any(not 0 <= int(d) <= 9 for caption in digits for d in caption):
        raise ValueError("captions must hold digits 0..9 only")
    L = max(len(caption) for caption in digits)
    inputs = np.full((len(digits), L + 1), PAD, dtype=np.int64)  # (N, L + 1)
    targets = np.full((len(digits), L + 1), PAD, dtype=np.int64)  # (N, L + 1)
    for row, caption in enumerate(digits):
        n = len(caption)
        inputs[row, 0] = BOS
        inputs[row, 1 : n + 1] = caption
        targets[row, :n] = caption
        targets[row, n] = EOS
    return inputs, targets


def decode_caption(tokens: Sequence[int]) -> tuple[int, ...]:
    """The digits of a produced token sequence: up to its first EOS, BOS and PAD dropped."""
    digits = []
    for token in tokens:
        token = int(token)
        if token == EOS:
            break
        if 0 <= token <= 9:
            digits.append(token)
    return tuple(digits)
