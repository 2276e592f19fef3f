r"""Attention modules in PyTorch: additive (Bahdanau) and multiplicative (Luong).

The same equations and conventions as the NumPy reference :mod:`rnncore.numpy.attention`
(assignment a08): a query :math:`q` (B, Hq), usually the decoder state, scores every key
:math:`k_s` (B, S, Hk), usually an encoder state; a softmax over the real source positions
turns the scores into weights, and the context is the weighted sum of the values
:math:`v_s` (B, S, Dv):

.. math::

    e_s = \mathrm{score}(q, k_s), \qquad
    \alpha_s = \frac{\exp e_s}{\sum_{s' : m_{s'}} \exp e_{s'}} \ (\alpha_s = 0
    \text{ where } m_s \text{ is False}), \qquad
    c = \sum_s \alpha_s v_s .

Scores (row-vector maths):

- :class:`AdditiveAttention` (Bahdanau et al., 2015):
  :math:`e_s = \tanh(q W_q + k_s W_k)\, v`, with ``Wq`` (Hq, A), ``Wk`` (Hk, A), ``v`` (A,);
- :class:`MultiplicativeAttention` (Luong et al., 2015), ``score="general"``:
  :math:`e_s = q W k_s^\top` with ``W`` (Hq, Hk); ``score="dot"``: :math:`e_s = q \cdot k_s`
  (Hq = Hk, no parameters). Both unscaled, as in Luong et al.

The mask ``m`` (B, S) is True on real positions and False on padding; padding gets the score
:math:`-\infty` before the softmax, so its weight is exactly 0 and the real weights sum to 1.

Both modules are called as ``module(query, keys, values, mask) -> (context, weights)``.

Letters: B batch, S source positions, Hq query size, Hk key size, A attention size, Dv value
size.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnncore.shapes import check_shape

__all__ = ["masked_softmax", "AdditiveAttention", "MultiplicativeAttention"]


def _check_mask(mask, dims: dict, device) -> torch.Tensor:
    if mask is None:
        return torch.ones(dims["B"], dims["S"], dtype=torch.bool, device=device)
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        kind = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"mask must be a torch bool tensor (True on real positions), got {kind}")
    check_shape("mask", mask, "B, S", dims)
    empty = (~mask.any(dim=1)).nonzero()
    if empty.numel():
        raise ValueError(
            f"mask has no real position in row {int(empty[0, 0])}: every sequence needs at "
            "least one True position to attend to"
        )
    return mask


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis with the masked-out (False) positions given weight 0.

    Parameters
    ----------
    scores : Tensor of shape (B, S)
    mask : BoolTensor of shape (B, S)
        True on real positions; every row needs at least one.

    Returns
    -------
    weights : Tensor of shape (B, S)
        Rows sum to 1; exactly 0 where ``mask`` is False.
    """
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)  # (B, S)


def _check_inputs(query, keys, values, query_size: int, key_size: int) -> dict:
    for name, tensor in (("query", query), ("keys", keys), ("values", values)):
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise ValueError(f"{name} must be a floating-point torch tensor")
    dims = {"Hq": query_size, "Hk": key_size}
    check_shape("query", query, "B, Hq", dims)
    check_shape("keys", keys, "B, S, Hk", dims)
    check_shape("values", values, "B, S, Dv", dims)
    return dims


def _attend(scores, values, mask):
    weights = masked_softmax(scores, mask)  # (B, S)
    context = torch.einsum("bs,bsd->bd", weights, values)  # (B, Dv)
    return context, weights


class AdditiveAttention(nn.Module):
    r"""Bahdanau's additive attention: :math:`e_s = \tanh(q W_q + k_s W_k)\, v`.

    Parameters
    ----------
    query_size : int
        Hq.
    key_size : int
        Hk.
    attention_size : int
        A, the width of the hidden layer that scores each pair.

    Attributes
    ----------
    Wq : Parameter of shape (Hq, A)
    Wk : Parameter of shape (Hk, A)
    v : Parameter of shape (A,)
        Initialised uniformly in :math:`\pm 1/\sqrt{\text{fan-in}}`, like ``torch.nn.Linear``.
        No biases, as in :func:`rnncore.numpy.attention.additive_attention`.
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        for name, size in (
            ("query_size", query_size),
            ("key_size", key_size),
            ("attention_size", attention_size),
        ):
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ValueError(f"{name} must be a positive integer, got {size!r}")
        self.query_size, self.key_size, self.attention_size = query_size, key_size, attention_size
        self.Wq = nn.Parameter(torch.empty(query_size, attention_size))
        self.Wk = nn.Parameter(torch.empty(key_size, attention_size))
        self.v = nn.Parameter(torch.empty(attention_size))
        nn.init.uniform_(self.Wq, -1 / math.sqrt(query_size), 1 / math.sqrt(query_size))
        nn.init.uniform_(self.Wk, -1 / math.sqrt(key_size), 1 / math.sqrt(key_size))
        nn.init.uniform_(self.v, -1 / math.sqrt(attention_size), 1 / math.sqrt(attention_size))

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """``keys @ Wk`` (B, S, A): the part of the score that does not depend on the query.

        A decoder computes it once per source sentence and passes it as ``projected_keys``.
        """
        return keys @ self.Wk  # (B, S, A)

    def forward(self, query, keys, values, mask=None, projected_keys=None):
        """Attend over ``keys``/``values`` from ``query``.

        Parameters
        ----------
        query : Tensor of shape (B, Hq)
        keys : Tensor of shape (B, S, Hk)
        values : Tensor of shape (B, S, Dv)
        mask : BoolTensor of shape (B, S), optional
            True on real positions; at least one per row. None: every position is real.
        projected_keys : Tensor of shape (B, S, A), optional
            ``self.project_keys(keys)``, precomputed; computed here when None.

        Returns
        -------
        context : Tensor of shape (B, Dv)
        weights : Tensor of shape (B, S)
            Softmax over S; exactly 0 on padding.
        """
        dims = _check_inputs(query, keys, values, self.query_size, self.key_size)
        mask = _check_mask(mask, dims, query.device)
        if projected_keys is None:
            projected_keys = self.project_keys(keys)  # (B, S, A)
        else:
            dims["A"] = self.attention_size
            check_shape("projected_keys", projected_keys, "B, S, A", dims)
        hidden = torch.tanh((query @ self.Wq)[:, None, :] + projected_keys)  # (B, S, A)
        scores = hidden @ self.v  # (B, S)
        return _attend(scores, values, mask)


class MultiplicativeAttention(nn.Module):
    r"""Luong's multiplicative attention: "general" :math:`e_s = q W k_s^\top`, or "dot".

    Parameters
    ----------
    query_size : int
        Hq.
    key_size : int
        Hk; must equal Hq for ``score="dot"``.
    score : {"general", "dot"}
        "general" learns ``W`` (Hq, Hk); "dot" has no parameters,
        :math:`e_s = q \cdot k_s`. Neither is scaled by :math:`1/\sqrt{H}`.

    Attributes
    ----------
    W : Parameter of shape (Hq, Hk), only for ``score="general"``
        Initialised uniformly in :math:`\pm 1/\sqrt{H_q}`.
    """

    def __init__(self, query_size: int, key_size: int, score: str = "general"):
        super().__init__()
        for name, size in (("query_size", query_size), ("key_size", key_size)):
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise ValueError(f"{name} must be a positive integer, got {size!r}")
        if score not in ("general", "dot"):
            raise ValueError(f"score must be 'general' or 'dot', got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ValueError(
                f"score='dot' needs query_size == key_size, got {query_size} and {key_size}; "
                "use score='general'"
            )
        self.query_size, self.key_size, self.score = query_size, key_size, score
        if score == "general":
            self.W = nn.Parameter(torch.empty(query_size, key_size))
            bound = 1 / math.sqrt(query_size)
            nn.init.uniform_(self.W, -bound, bound)
        else:
            self.register_parameter("W", None)

    def forward(self, query, keys, values, mask=None):
        """Attend over ``keys``/``values`` from ``query``.

        Parameters
        ----------
        query : Tensor of shape (B, Hq)
        keys : Tensor of shape (B, S, Hk)
        values : Tensor of shape (B, S, Dv)
        mask : BoolTensor of shape (B, S), optional
            True on real positions; at least one per row. None: every position is real.

        Returns
        -------
        context : Tensor of shape (B, Dv)
        weights : Tensor of shape (B, S)
            Softmax over S; exactly 0 on padding.
        """
        dims = _check_inputs(query, keys, values, self.query_size, self.key_size)
        mask = _check_mask(mask, dims, query.device)
        projected = query if self.W is None else query @ self.W  # (B, Hk)
        scores = torch.einsum("bh,bsh->bs", projected, keys)  # (B, S)
        return _attend(scores, values, mask)
