r"""Simple features of a text, one value per character, and how hidden units correlate with them.

A character language model reads a text one character at a time. After reading character i
its hidden state is a vector :math:`h_i`; a unit :math:`j` "tracks" a feature f of the text
when :math:`h_{i,j}` rises and falls with :math:`f_i` along the text (Karpathy et al., 2015).
This module defines a few features that a model must track to predict well, each measured
*after* reading character i (the same moment as :math:`h_i`):

``inside quotes``
    1 while a double quote ``"`` has been opened and not yet closed. Each ``"`` toggles it;
    a newline closes any open quote (quotations in this corpus do not run across lines, and
    a stray quote must not leave the rest of the text "inside").
``inside brackets``
    1 while at least one of ``( [ {`` is open. The depth rises at an opening bracket, falls at
    a closing one (never below 0) and returns to 0 at a blank line, so an unmatched bracket
    in prose ("1) first item") cannot leave it raised for the rest of the text.
``position in line``
    The number of characters read since the last newline (0 right after a newline).

:func:`feature_correlations` gives the Pearson correlation of every unit with every feature,

.. math::

    r_{f j} = \frac{\sum_i (f_i - \bar f)(h_{i j} - \bar h_j)}
        {\sqrt{\sum_i (f_i - \bar f)^2} \sqrt{\sum_i (h_{i j} - \bar h_j)^2}},

and a constant column (a feature that never changes, a dead unit) correlates 0 with
everything. Chapter 9, "Generating text" (``chapters/09_text_generation.md``), uses them.
"""

from __future__ import annotations

import numpy as np

from rnncore.shapes import format_shape

__all__ = ["FEATURE_NAMES", "text_features", "feature_correlations"]

FEATURE_NAMES = ("inside quotes", "inside brackets", "position in line")

_OPENING, _CLOSING = "([{", ")]}"


def text_features(text: str) -> dict[str, np.ndarray]:
    """The features of :data:`FEATURE_NAMES` for every character of ``text``.

    Parameters
    ----------
    text : str
        N characters.

    Returns
    -------
    features : dict of str to ndarray of shape (N,), dtype float64
        One entry per name of :data:`FEATURE_NAMES`, in that order; entry i describes the text
        after reading ``text[i]`` (see the module docstring for the rules).

    Examples
    --------
    >>> features = text_features('a "b" (c\\nd')
    >>> features["inside quotes"].astype(int).tolist()
    [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    >>> features["inside brackets"].astype(int).tolist()
    [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    >>> features["position in line"].astype(int).tolist()
    [1, 2, 3, 4, 5, 6, 7, 8, 0, 1]
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    N = len(text)
    quotes = np.zeros(N)  # (N,)
    brackets = np.zeros(N)  # (N,)
    position = np.zeros(N)  # (N,)
    inside_quote, depth, column, previous = False, 0, 0, ""
    for i, character in enumerate(text):
        if character == "\n":
            inside_quote, column = False, 0
            if previous == "\n":  # a blank line ends every open bracket
                depth = 0
        else:
            column += 1
            if character == '"':
                inside_quote = not inside_quote
            elif character in _OPENING:
                depth += 1
            elif character in _CLOSING:
                depth = max(depth - 1, 0)
        quotes[i], brackets[i], position[i] = inside_quote, depth > 0, column
        previous = character
    return dict(zip(FEATURE_NAMES, (quotes, brackets, position), strict=True))


def feature_correlations(hidden, features) -> np.ndarray:
    """Pearson correlation of every hidden unit with every feature, along the text.

    Parameters
    ----------
    hidden : array-like of shape (N, H)
        Row i: the hidden state after reading character i.
    features : array-like of shape (N, F)
        Row i: the features after reading character i (e.g. the columns of
        :func:`text_features` stacked with ``np.stack(..., axis=1)``).

    Returns
    -------
    correlations : ndarray of shape (F, H), dtype float64
        In [-1, 1]; 0 where a feature or a unit is constant.

    Raises
    ------
    ValueError
        If the arrays are not 2-D, their N differ, or N < 2.
    """
    hidden = np.asarray(hidden, dtype=np.float64)
    features = np.asarray(features, dtype=np.float64)
    if hidden.ndim != 2 or features.ndim != 2:
        raise ValueError(
            f"hidden must have shape (N, H) and features (N, F), got "
            f"{format_shape(hidden.shape)} and {format_shape(features.shape)}"
        )
    if hidden.shape[0] != features.shape[0] or hidden.shape[0] < 2:
        raise ValueError(
            f"hidden and features must have the same N >= 2 rows, got {hidden.shape[0]} and "
            f"{features.shape[0]}"
        )
    centred_hidden = hidden - hidden.mean(axis=0)  # (N, H)
    centred_features = features - features.mean(axis=0)  # (N, F)
    covariance = centred_features.T @ centred_hidden  # (F, H)
    scale = np.outer(
        np.linalg.norm(centred_features, axis=0), np.linalg.norm(centred_hidden, axis=0)
    )  # (F, H)
    safe = scale > 1e-12 * max(float(scale.max(initial=0.0)), 1.0)
    return np.where(safe, covariance / np.where(safe, scale, 1.0), 0.0).clip(-1.0, 1.0)
