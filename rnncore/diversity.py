r"""How varied a text is: the share of its n-grams that are distinct ("distinct-n").

.. math::

    \text{distinct-}n = \frac{\lvert \{ (w_i, \dots, w_{i+n-1}) \} \rvert}{N - n + 1}

over the :math:`N - n + 1` windows of n consecutive symbols of a text of N symbols (characters
here; Li et al., 2016, count words). A text that repeats one phrase scores near 0; a text in
which no n-gram occurs twice scores 1. It rewards variety, not sense: random characters score
highest. Chapter 9, "Generating text" (``chapters/09_text_generation.md``), plots it against
held-out likelihood as the sampling temperature varies.
"""

from __future__ import annotations

__all__ = ["distinct_ngram_fraction"]


def distinct_ngram_fraction(text, n: int) -> float:
    """The share of the n-grams of ``text`` that are distinct.

    Parameters
    ----------
    text : str or sequence
        N symbols (a string's characters, or a list of ids or words), N >= n.
    n : int
        Length of the n-grams, >= 1.

    Returns
    -------
    fraction : float in (0, 1]

    Examples
    --------
    >>> distinct_ngram_fraction("abab", 2)  # ab, ba, ab: 2 distinct of 3
    0.6666666666666666
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    symbols = list(text)
    if len(symbols) < n:
        raise ValueError(f"text must hold at least n = {n} symbols, got {len(symbols)}")
    windows = [tuple(symbols[i : i + n]) for i in range(len(symbols) - n + 1)]
    return len(set(windows)) / len(windows)
