"""A padded batch, its mask and its packed order (chapter 8).

The packed order is not drawn from a formula: the function packs a batch of ids with
``torch.nn.utils.rnn.pack_padded_sequence`` and draws where each id landed and the
``batch_sizes`` that torch returned.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from torch.nn.utils.rnn import pack_padded_sequence

from rnncore.diagrams._drawing import PADDING_COLOR

__all__ = ["BATCH_SIZE_GID", "draw_padding_and_packing", "packed_order"]

# The gid of the Text artists that show batch_sizes, so that a test can find them.
BATCH_SIZE_GID = "batch_size"
_PALETTE = ("#dbe9f6", "#fde2c8", "#d9f0d3", "#f3e5f5", "#fff3b0", "#d0f0f0", "#f8d7da")


def packed_order(lengths) -> tuple[list[int], list[tuple[int, int]]]:
    """Pack a padded batch of ids with torch and read back its order.

    Parameters
    ----------
    lengths : sequence of int of length B
        The real length of each sequence, each at least 1, in any order.

    Returns
    -------
    batch_sizes : list of int of length T
        ``batch_sizes[t]``: how many sequences are still running at step t (torch's).
    order : list of (b, t) of length sum(lengths)
        The sequence b and step t (from 0) of each row of ``packed.data``, in order.

    Raises
    ------
    ValueError
        If ``lengths`` is empty, not 1-D or holds a length smaller than 1.
    """
    lengths = torch.as_tensor(lengths, dtype=torch.int64)
    if lengths.ndim != 1 or lengths.numel() == 0:
        raise ValueError(f"lengths must be a non-empty 1-D sequence, got shape {lengths.shape}")
    if bool((lengths < 1).any()):
        raise ValueError(f"lengths must all be at least 1, got {lengths.tolist()}")
    batch, steps = lengths.numel(), int(lengths.max())
    ids = torch.arange(batch * steps, dtype=torch.float64).reshape(batch, steps, 1)  # (B, T, 1)
    packed = pack_padded_sequence(ids, lengths, batch_first=True, enforce_sorted=False)
    order = [divmod(int(value), steps) for value in packed.data[:, 0]]
    return packed.batch_sizes.tolist(), order


def _cell(ax, x, y, text, color, fontsize=9, gid=None):
    ax.add_patch(Rectangle((x, y), 1, 1, facecolor=color, edgecolor="0.3", linewidth=0.8))
    ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=fontsize, gid=gid)


def draw_padding_and_packing(axes: Sequence[Axes], lengths) -> Sequence[Axes]:
    r"""Draw a padded batch, its mask and its packed (time-major) order, one per Axes.

    1. The padded batch (B, T): row b holds sequence b, its real steps :math:`x_1, \dots,
       x_{n_b}` in the sequence's colour, then grey zeros up to T = max(lengths).
    2. Its mask (B, T), ``length_mask(lengths, T)``: 1 on real steps, 0 on padding.
    3. The packed order from ``pack_padded_sequence(..., enforce_sorted=False)``: one column
       per step t, holding the sequences still running (their row b, in the sequence's
       colour), longest first; reading the columns top to bottom, left to right gives the
       rows of ``packed.data``. Under each column, torch's ``batch_sizes[t]`` (Text artists
       with gid ``BATCH_SIZE_GID``).

    Parameters
    ----------
    axes : sequence of 3 matplotlib.axes.Axes
        Where to draw the three panels.
    lengths : sequence of int of length B
        The real length of each sequence, each at least 1, in any order.

    Returns
    -------
    axes : sequence of 3 matplotlib.axes.Axes
        The same Axes, titled, frames hidden.

    Raises
    ------
    ValueError
        If ``axes`` does not hold 3 Axes, or ``lengths`` is empty or holds a length below 1.
    """
    axes = list(axes)
    if len(axes) != 3:
        raise ValueError(f"axes must hold 3 Axes (padded, mask, packed), got {len(axes)}")
    batch_sizes, order = packed_order(lengths)
    lengths = [int(n) for n in lengths]
    batch, steps = len(lengths), max(lengths)
    padded_ax, mask_ax, packed_ax = axes
    for b, n in enumerate(lengths):
        color = _PALETTE[b % len(_PALETTE)]
        for t in range(steps):
            real = t < n
            text = f"$x_{{{t + 1}}}$" if real else "0"
            _cell(padded_ax, t, -b - 1, text, color if real else PADDING_COLOR)
            _cell(mask_ax, t, -b - 1, "1" if real else "0", color if real else PADDING_COLOR)
        padded_ax.text(-0.2, -b - 0.5, f"b = {b}, $n_b$ = {n}", ha="right", va="center",
                       fontsize=9)  # fmt: skip
        mask_ax.text(-0.2, -b - 0.5, f"b = {b}", ha="right", va="center", fontsize=9)
    for ax, title in (
        (padded_ax, f"padded batch (B, T) = ({batch}, {steps})"),
        (mask_ax, "mask = length_mask(lengths, T)"),
    ):
        for t in range(steps):
            ax.text(t + 0.5, 0.3, f"t={t + 1}", ha="center", va="center", fontsize=8)
        # One scale in all three panels: the same limits.
        ax.set_xlim(-2.6, steps + 0.2)
        ax.set_ylim(-batch - 1.1, 0.8)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)

    row = 0
    for t, size in enumerate(batch_sizes):
        for k in range(size):
            b, step = order[row + k]
            if step != t:  # pragma: no cover - would mean torch changed what packing means
                raise RuntimeError(f"packed row {row + k} holds step {step}, expected {t}")
            _cell(packed_ax, t, -k - 1, f"{b}", _PALETTE[b % len(_PALETTE)])
        row += size
        packed_ax.text(t + 0.5, -batch - 0.6, f"{size}", ha="center", va="center", fontsize=10,
                       gid=BATCH_SIZE_GID)  # fmt: skip
        packed_ax.text(t + 0.5, 0.3, f"t={t + 1}", ha="center", va="center", fontsize=8)
    packed_ax.text(-0.2, -batch - 0.6, "batch_sizes", ha="right", va="center", fontsize=9)
    packed_ax.set_xlim(-2.6, steps + 0.2)
    packed_ax.set_ylim(-batch - 1.1, 0.8)
    packed_ax.set_aspect("equal")
    packed_ax.set_axis_off()
    packed_ax.set_title(f"packed, time-major: data ({sum(lengths)}, D)", fontsize=10)
    return axes
