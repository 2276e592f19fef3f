r"""Attention over a padded batch of encoder states: additive (Bahdanau) and dot (Luong).

A decoder state, the *query* :math:`q` (B, Hq), scores every encoder state, the *keys*
:math:`k_s` (B, S, Hk); a softmax over the S source positions turns the scores into weights
that sum to 1, and the *context* is the weighted sum of the *values* :math:`v_s` (B, S, Dv):

.. math::

    e_s = \mathrm{score}(q, k_s), \qquad
    \alpha_s = \frac{\exp e_s}{\sum_{s' : m_{s'}} \exp e_{s'}} \ (\alpha_s = 0 \text{ where }
    m_s \text{ is False}), \qquad
    c = \sum_s \alpha_s v_s .

The mask ``m`` (B, S) is True on real positions and False on padding. Padding gets the score
:math:`-\infty` *before* the softmax, so that it has weight exactly 0 and the real positions'
weights still sum to 1 (zeroing weights after the softmax leaves them summing to less than 1).

Scores (row-vector maths, as everywhere in the course):

- additive (Bahdanau et al., 2015): :math:`e_s = \tanh(q W_q + k_s W_k)\, v`, with
  ``Wq`` (Hq, A), ``Wk`` (Hk, A), ``v`` (A,);
- dot (Luong et al., 2015): :math:`e_s = q \cdot k_s`, **unscaled**, as Luong's "dot" score
  (the Transformer's :math:`1/\sqrt{H}` scaling is left out); it needs Hq = Hk.

Letters: B batch, S source positions, Hq query size, Hk key size, A attention size, Dv value
size. Only the forward pass is implemented. Arrays keep their dtype; nothing is modified.
"""

from __future__ import annotations

import numpy as np

from rnncore.shapes import check_float_arrays, check_shape

__all__ = ["masked_softmax", "additive_attention", "dot_attention"]


def _check_mask(mask, dims: dict) -> np.ndarray:
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        kind = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise ValueError(f"mask must be a NumPy bool array (True on real positions), got {kind}")
    check_shape("mask", mask, "B, S", dims)
    empty = np.flatnonzero(~mask.any(axis=1))
    if empty.size:
        raise ValueError(
            f"mask has no real position in row {int(empty[0])}: every sequence needs at least "
            "one True position to attend to"
        )
    return mask


def masked_softmax(scores, mask):
    """Softmax over the last axis with the masked-out (False) positions given weight 0.

    Parameters
    ----------
    scores : ndarray of shape (B, S)
    mask : ndarray of shape (B, S), bool
        True on real positions; every row needs at least one.

    Returns
    -------
    weights : ndarray of shape (B, S)
        Rows sum to 1; exactly 0 where ``mask`` is False.
    """
    shifted = np.where(mask, scores, -np.inf)  # (B, S), padding at -inf before the softmax
    shifted = shifted - shifted.max(axis=1, keepdims=True)  # (B, S), a real max in every row
    exp = np.exp(shifted)  # (B, S), exp(-inf) = 0 on padding
    return exp / exp.sum(axis=1, keepdims=True)  # (B, S)


def _attend(scores, values, mask):
    weights = masked_softmax(scores, mask)  # (B, S)
    context = np.einsum("bs,bsd->bd", weights, values)  # (B, Dv)
    return context, weights


def additive_attention(query, keys, values, mask, Wq, Wk, v):
    r"""Bahdanau's additive attention: :math:`e_s = \tanh(q W_q + k_s W_k)\, v`.

    Parameters
    ----------
    query : ndarray of shape (B, Hq)
        The decoder state.
    keys : ndarray of shape (B, S, Hk)
        The encoder states that are scored.
    values : ndarray of shape (B, S, Dv)
        The encoder states that are averaged (often the keys themselves).
    mask : ndarray of shape (B, S), bool
        True on real positions, False on padding; at least one True per row.
    Wq : ndarray of shape (Hq, A)
    Wk : ndarray of shape (Hk, A)
    v : ndarray of shape (A,)

    Returns
    -------
    context : ndarray of shape (B, Dv)
        :math:`\sum_s \alpha_s v_s`.
    weights : ndarray of shape (B, S)
        :math:`\alpha`, a softmax over S; 0 on padding.
    """
    check_float_arrays(query=query, keys=keys, values=values, Wq=Wq, Wk=Wk, v=v)
    dims = check_shape("query", query, "B, Hq")
    check_shape("keys", keys, "B, S, Hk", dims)
    check_shape("values", values, "B, S, Dv", dims)
    check_shape("Wq", Wq, "Hq, A", dims)
    check_shape("Wk", Wk, "Hk, A", dims)
    check_shape("v", v, "A", dims)
    _check_mask(mask, dims)
    hidden = np.tanh((query @ Wq)[:, None, :] + keys @ Wk)  # (B, S, A)
    scores = hidden @ v  # (B, S)
    return _attend(scores, values, mask)


def dot_attention(query, keys, values, mask):
    r"""Luong's dot attention: :math:`e_s = q \cdot k_s` (unscaled).

    Parameters
    ----------
    query : ndarray of shape (B, H)
    keys : ndarray of shape (B, S, H)
        Same size H as the query.
    values : ndarray of shape (B, S, Dv)
    mask : ndarray of shape (B, S), bool
        True on real positions, False on padding; at least one True per row.

    Returns
    -------
    context : ndarray of shape (B, Dv)
    weights : ndarray of shape (B, S)
    """
    check_float_arrays(query=query, keys=keys, values=values)
    dims = check_shape("query", query, "B, H")
    check_shape("keys", keys, "B, S, H", dims)
    check_shape("values", values, "B, S, Dv", dims)
    _check_mask(mask, dims)
    scores = np.einsum("bh,bsh->bs", query, keys)  # (B, S)
    return _attend(scores, values, mask)
