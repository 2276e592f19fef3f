r"""Variable-length batches: lengths, masks, the last valid state and a masked mean.

A batch of sequences of different lengths is stored right-padded in one tensor (B, T, ...),
T the longest length, with a LongTensor ``lengths`` (B,) of the true lengths. Three things
must then ignore the padding, and each has one function here:

* which steps are real: :func:`length_mask`, a bool (B, T), True on step t < lengths[b];
* the state after the last real step (many-to-one models): :func:`last_valid_step`;
* a loss over steps: :func:`masked_mean`, the mean over real steps only,

.. math::

    \bar\ell = \frac{\sum_{b,t} m_{bt}\, \ell_{bt}}{\sum_{b,t} m_{bt}}, \qquad
    m_{bt} = [t < \mathrm{lengths}_b].

Padding and packing themselves are PyTorch's: ``torch.nn.utils.rnn.pad_sequence`` builds the
padded tensor, ``pack_padded_sequence`` / ``pad_packed_sequence`` let ``torch.nn.RNN/LSTM/GRU``
skip the padding. The readable layers of :mod:`rnncore.torch.layers` take ``lengths`` instead
and compute what a packed torch.nn layer computes.

Letters: B batch, T time steps (the padded length), F features of whatever is masked.
"""

from __future__ import annotations

import torch

from rnncore.shapes import check_shape

__all__ = ["check_lengths", "length_mask", "last_valid_step", "masked_mean"]


def check_lengths(lengths, B: int, T: int) -> None:
    """Raise ValueError unless ``lengths`` is an integer tensor (B,) with values in 1..T.

    Parameters
    ----------
    lengths : LongTensor of shape (B,)
    B, T : int
        The batch size and the padded length of the batch ``lengths`` describes.
    """
    if not isinstance(lengths, torch.Tensor):
        raise ValueError(f"lengths must be a torch integer tensor, got {type(lengths).__name__}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must be a torch integer tensor, got {lengths.dtype}")
    check_shape("lengths", lengths, "B", {"B": B})
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"lengths must be in 1..T = 1..{T}, got {lengths.tolist()}")


def length_mask(lengths: torch.Tensor, T: int, device=None) -> torch.Tensor:
    """True on the real steps of each sequence, False on its padding.

    Parameters
    ----------
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.
    T : int
        The padded length.
    device : torch.device, optional
        Where to build the mask; default the device of ``lengths``.

    Returns
    -------
    mask : BoolTensor of shape (B, T)
        ``mask[b, t] = t < lengths[b]``.
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}")
    check_lengths(lengths, lengths.shape[0] if isinstance(lengths, torch.Tensor) else 0, T)
    device = lengths.device if device is None else device
    steps = torch.arange(T, device=device)  # (T,)
    return steps[None, :] < lengths.to(device)[:, None]  # (B, T)


def last_valid_step(sequence: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence's entry at its last real step, ``sequence[b, lengths[b] - 1]``.

    For the outputs of a forward-direction layer this is the hidden state after reading the
    whole sequence and no padding: what a packed torch.nn layer returns in ``h_n``.

    Parameters
    ----------
    sequence : Tensor of shape (B, T, F)
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.

    Returns
    -------
    last : Tensor of shape (B, F)
    """
    if not isinstance(sequence, torch.Tensor):
        raise ValueError(f"sequence must be a torch tensor, got {type(sequence).__name__}")
    dims = check_shape("sequence", sequence, "B, T, F")
    check_lengths(lengths, dims["B"], dims["T"])
    rows = torch.arange(dims["B"], device=sequence.device)  # (B,)
    return sequence[rows, lengths.to(sequence.device) - 1]  # (B, F)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of ``values`` over the positions where ``mask`` is True.

    Parameters
    ----------
    values : Tensor of shape (B, T)
        A per-step quantity, e.g. the loss of every step
        (``cross_entropy(..., reduction="none")``).
    mask : BoolTensor of shape (B, T)
        True on real steps (:func:`length_mask`); at least one must be True.

    Returns
    -------
    mean : Tensor of shape ()
        Differentiable in ``values``; padded positions get zero gradient.
    """
    if not isinstance(values, torch.Tensor) or not values.is_floating_point():
        raise ValueError("values must be a torch floating-point tensor")
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise ValueError("mask must be a torch bool tensor (see length_mask)")
    dims = check_shape("values", values, "B, T")
    check_shape("mask", mask, "B, T", dims)
    count = mask.sum()
    if count == 0:
        raise ValueError("mask must be True somewhere: the mean of no values is undefined")
    # where, not multiplication: a NaN or inf in the padding must not leak into the mean.
    kept = torch.where(mask, values, values.new_zeros(()))  # (B, T)
    return kept.sum() / count
