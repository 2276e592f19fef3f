r"""From a padded batch of sentences to one vector per sentence: padding and pooling over time.

A many-to-one model (a sentence classifier) reads a batch of token-id lists of different
lengths. They are right-padded into one LongTensor ``ids`` (B, T) with their true ``lengths``
(B,), run through a recurrent layer that gives ``h`` (B, T, H), and each sentence's
steps are then pooled into one vector (B, H). Every pooling must ignore the padding; with
:math:`m_{bt} = [t < n_b]` the mask of real steps and :math:`n_b` = ``lengths[b]``:

.. math::

    \text{last}_b = h_{b,\,n_b - 1}, \qquad
    \text{mean}_b = \frac{1}{n_b} \sum_{t < n_b} h_{bt}, \qquad
    \text{max}_b = \max_{t < n_b} h_{bt}\ \text{(per feature)},

    \alpha_{bt} = \frac{m_{bt} \exp(h_{bt} \cdot w)}{\sum_{s} m_{bs} \exp(h_{bs} \cdot w)},
    \qquad \text{attention}_b = \sum_t \alpha_{bt} h_{bt}.

A bidirectional layer's output (B, T, 2H) holds the forward direction in its first H features
and the backward direction in its last H: the forward direction has read the whole sentence at
step :math:`n_b - 1`, the backward direction at step 0 (:func:`final_states_bidirectional`).

The masks and the last valid step come from :mod:`rnncore.torch.padding`; this module adds the
poolings. The model that uses them, run on packed sequences, is
:mod:`rnncore.torch.sentence_classifier`.

Letters: B batch, T time steps (the padded length), H features per step (hidden units, or
2H for a bidirectional layer's output).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnncore.shapes import check_shape
from rnncore.torch.padding import check_lengths, last_valid_step, length_mask

__all__ = [
    "POOLINGS",
    "pad_batch",
    "last_valid_state",
    "masked_mean_over_time",
    "masked_max",
    "attention_pooling",
    "AttentionPooling",
    "final_states_bidirectional",
]

POOLINGS = ("last", "mean", "max", "attention")


def pad_batch(sequences, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token-id lists into one batch, and record their lengths.

    Parameters
    ----------
    sequences : sequence of B lists of int (or 1-D integer tensors)
        Token ids; each sequence has at least one token.
    pad_id : int
        The id written after the end of every shorter sequence (the embedding's
        ``padding_idx``).

    Returns
    -------
    ids : LongTensor of shape (B, T)
        ``ids[b, :n_b]`` is sequence b, ``ids[b, n_b:]`` is ``pad_id``; T = max n_b.
    lengths : LongTensor of shape (B,)
        ``n_b``, the true length of sequence b, in the order given (not sorted).
    """
    if not isinstance(pad_id, int) or isinstance(pad_id, bool):
        raise ValueError(f"pad_id must be an int, got {pad_id!r}")
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences must be a list of token-id lists, got {type(sequences)}")
    if len(sequences) == 0:
        raise ValueError("sequences must hold at least one sequence, got none")
    rows = []
    for b, sequence in enumerate(sequences):
        row = torch.as_tensor(sequence)
        if row.numel() == 0:
            raise ValueError(f"sequences[{b}] is empty: every sequence needs at least one token")
        if row.dtype == torch.bool or row.is_floating_point() or row.is_complex():
            raise ValueError(f"sequences[{b}] must hold integer token ids, got {row.dtype}")
        if row.dim() != 1:
            raise ValueError(f"sequences[{b}] must be a flat list of ids, got shape {row.shape}")
        rows.append(row.to(torch.long))
    lengths = torch.tensor([row.numel() for row in rows], dtype=torch.long)  # (B,)
    ids = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=pad_id)  # (B, T)
    return ids, lengths


def _check_steps(name: str, h, lengths) -> dict:
    """Check ``h`` (B, T, H) floating point and ``lengths`` (B,) in 1..T; return the dims."""
    if not isinstance(h, torch.Tensor) or not h.is_floating_point():
        raise ValueError(f"{name} must be a torch floating-point tensor of shape (B, T, H)")
    dims = check_shape(name, h, "B, T, H")
    check_lengths(lengths, dims["B"], dims["T"])
    return dims


def last_valid_state(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The state after each sequence's last real token, ``h[b, lengths[b] - 1]``.

    Not ``h[:, -1]``: for every shorter sequence that is a state after reading padding.

    Parameters
    ----------
    h : Tensor of shape (B, T, H)
        A forward-direction layer's outputs on a right-padded batch.
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.

    Returns
    -------
    last : Tensor of shape (B, H)
    """
    _check_steps("h", h, lengths)
    return last_valid_step(h, lengths)  # (B, H)


def masked_mean_over_time(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    r"""Each sequence's mean state over its real steps only.

    .. math:: \text{mean}_b = \frac{1}{n_b} \sum_{t=0}^{n_b - 1} h_{bt}

    (:func:`rnncore.torch.padding.masked_mean` is the other mean: one number over a whole
    (B, T) batch of per-step losses.)

    Parameters
    ----------
    h : Tensor of shape (B, T, H)
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.

    Returns
    -------
    mean : Tensor of shape (B, H)
        Padded steps get zero gradient, and a NaN in the padding does not leak in.
    """
    dims = _check_steps("h", h, lengths)
    mask = length_mask(lengths, dims["T"], device=h.device)  # (B, T)
    kept = torch.where(mask[:, :, None], h, h.new_zeros(()))  # (B, T, H)
    counts = lengths.to(device=h.device, dtype=h.dtype)[:, None]  # (B, 1)
    return kept.sum(dim=1) / counts  # (B, H)


def masked_max(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    r"""Each feature's maximum over the real steps of its sequence.

    .. math:: \text{max}_{bj} = \max_{t < n_b} h_{btj}

    Parameters
    ----------
    h : Tensor of shape (B, T, H)
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.

    Returns
    -------
    maximum : Tensor of shape (B, H)
        The gradient flows to the step that holds each maximum.
    """
    dims = _check_steps("h", h, lengths)
    mask = length_mask(lengths, dims["T"], device=h.device)  # (B, T)
    lowest = torch.tensor(-math.inf, dtype=h.dtype, device=h.device)
    return torch.where(mask[:, :, None], h, lowest).amax(dim=1)  # (B, H)


def attention_pooling(
    h: torch.Tensor, lengths: torch.Tensor, w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A weighted mean of the real steps, weights from a softmax of the scores ``h @ w``.

    .. math::

        s_{bt} = h_{bt} \cdot w, \qquad
        \alpha_{bt} = \frac{m_{bt}\, e^{s_{bt}}}{\sum_s m_{bs}\, e^{s_{bs}}}, \qquad
        \text{pooled}_b = \sum_t \alpha_{bt}\, h_{bt}

    Parameters
    ----------
    h : Tensor of shape (B, T, H)
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.
    w : Tensor of shape (H,)
        The scoring vector (learned).

    Returns
    -------
    pooled : Tensor of shape (B, H)
    weights : Tensor of shape (B, T)
        :math:`\alpha`: zero on the padding, each row sums to 1.
    """
    dims = _check_steps("h", h, lengths)
    if not isinstance(w, torch.Tensor):
        raise ValueError(f"w must be a torch tensor of shape (H,), got {type(w).__name__}")
    check_shape("w", w, "H", dims)
    mask = length_mask(lengths, dims["T"], device=h.device)  # (B, T)
    # Zero the padding first: a weight of 0 times a NaN or inf there would still be NaN.
    h = torch.where(mask[:, :, None], h, h.new_zeros(()))  # (B, T, H)
    scores = h @ w  # (B, T)
    scores = scores.masked_fill(~mask, -math.inf)  # padding gets weight exp(-inf) = 0
    weights = torch.softmax(scores, dim=1)  # (B, T)
    pooled = (weights[:, :, None] * h).sum(dim=1)  # (B, H)
    return pooled, weights


class AttentionPooling(nn.Module):
    """:func:`attention_pooling` with its scoring vector ``w`` (H,) as a learned parameter.

    Parameters
    ----------
    hidden_size : int
        H, the features per step of the states it pools.
    device, dtype
        Where and in which dtype ``w`` is created.

    Notes
    -----
    ``forward(h (B, T, H), lengths (B,)) -> (pooled (B, H), weights (B, T))``. ``w`` starts
    uniform in :math:`\\pm 1/\\sqrt{H}`, like torch.nn's recurrent weights.
    """

    def __init__(self, hidden_size: int, device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size < 1:
            raise ValueError(f"hidden_size must be a positive int, got {hidden_size!r}")
        bound = 1.0 / math.sqrt(hidden_size)
        w = torch.empty(hidden_size, device=device, dtype=dtype).uniform_(-bound, bound)
        self.w = nn.Parameter(w)  # (H,)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor):
        """Pool ``h`` (B, T, H); see :func:`attention_pooling`."""
        return attention_pooling(h, lengths, self.w)


def final_states_bidirectional(
    out: torch.Tensor, lengths: torch.Tensor, hidden_size: int
) -> torch.Tensor:
    r"""Both directions' states after reading the whole sentence, side by side.

    .. math::

        \text{final}_b = [\, \overrightarrow{h}_{b,\, n_b - 1} \;;\; \overleftarrow{h}_{b,\, 0} \,]

    The forward direction reads steps 0..n_b-1 and has seen everything at step n_b - 1; the
    backward direction reads n_b-1..0 and has seen everything at step 0. For a packed run these
    are the layer's ``h_n[-2]`` and ``h_n[-1]``.

    Parameters
    ----------
    out : Tensor of shape (B, T, 2H)
        A bidirectional batch-first layer's outputs: forward features first, then backward.
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.
    hidden_size : int
        H, the size of one direction.

    Returns
    -------
    final : Tensor of shape (B, 2H)
    """
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool) or hidden_size < 1:
        raise ValueError(f"hidden_size must be a positive int, got {hidden_size!r}")
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise ValueError("out must be a torch floating-point tensor of shape (B, T, 2H)")
    dims = check_shape("out", out, "B, T, 2H", {"H": hidden_size})
    check_lengths(lengths, dims["B"], dims["T"])
    H = hidden_size
    forward = last_valid_step(out[:, :, :H], lengths)  # (B, H)
    backward = out[:, 0, H:]  # (B, H)
    return torch.cat([forward, backward], dim=1)  # (B, 2H)
