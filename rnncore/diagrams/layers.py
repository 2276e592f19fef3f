r"""Stacked and bidirectional recurrent layers (chapter 8).

Two panels over T = 3 steps: a stack of L = 2 layers, where layer :math:`l > 0` reads the
states :math:`h^{(l-1)}_t` of the layer below (layer 0 reads :math:`x_t`), and a
bidirectional layer, whose forward states :math:`\overrightarrow{h}_t` run from
:math:`t = 1` to :math:`T` and backward states :math:`\overleftarrow{h}_t` from :math:`T` to
1, concatenated at every step into an output of :math:`2H` features.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes

from rnncore.diagrams._drawing import (
    HIDDEN_COLOR,
    INPUT_COLOR,
    OUTPUT_COLOR,
    arrow,
    box,
    finish,
    wire,
)

__all__ = ["FORWARD_STATE", "BACKWARD_STATE", "draw_stacked_and_bidirectional"]

FORWARD_STATE = r"\overrightarrow{h}"
BACKWARD_STATE = r"\overleftarrow{h}"

_SUBSCRIPTS = ("1", "2", "T")
_SIZE, _STEP = 0.56, 1.5
_HALF = _SIZE / 2


def _draw_stacked(ax: Axes, layers: int = 2) -> None:
    levels = [1.1 * (level + 1) for level in range(layers)]
    for index, subscript in enumerate(_SUBSCRIPTS):
        x = index * _STEP
        box(ax, (x, 0.0), f"$x_{{{subscript}}}$", INPUT_COLOR, _SIZE, _SIZE, 11)
        below = 0.0
        for layer, y in enumerate(levels):
            box(ax, (x, y), f"$h^{{({layer})}}_{{{subscript}}}$", HIDDEN_COLOR, _SIZE, _SIZE, 10)
            arrow(ax, (x, below + _HALF), (x, y - _HALF))
            if index > 0:
                arrow(ax, (x - _STEP + _HALF, y), (x - _HALF, y))
            below = y
        arrow(ax, (x, below + _HALF), (x, below + 0.75))
    for layer, y in enumerate(levels):
        ax.text(-0.55, y, f"layer {layer}", ha="right", va="center", fontsize=9, color="0.3")
    ax.text(_STEP * 0.5, (levels[0] + levels[1]) / 2, "dropout", ha="center", va="center",
            fontsize=8, color="0.4", style="italic")  # fmt: skip
    ax.text(_STEP, levels[-1] + 0.95, "output (B, T, H): the top layer's states", ha="center",
            va="center", fontsize=9)  # fmt: skip
    finish(ax, (-1.6, 2 * _STEP + 0.6), (-0.5, levels[-1] + 1.2), "stacked, L = 2 layers")


def _draw_bidirectional(ax: Axes) -> None:
    forward_y, backward_y, output_y = 1.1, 2.2, 3.4
    side = _HALF + 0.16  # the detours around a box run this far from its centre
    for index, subscript in enumerate(_SUBSCRIPTS):
        x = index * _STEP
        box(ax, (x, 0.0), f"$x_{{{subscript}}}$", INPUT_COLOR, _SIZE, _SIZE, 11)
        box(ax, (x, forward_y), f"${FORWARD_STATE}_{{{subscript}}}$", HIDDEN_COLOR, _SIZE,
            _SIZE, 11)  # fmt: skip
        box(ax, (x, backward_y), f"${BACKWARD_STATE}_{{{subscript}}}$", HIDDEN_COLOR, _SIZE,
            _SIZE, 11)  # fmt: skip
        concatenated = f"$[{FORWARD_STATE}_{{{subscript}}}, {BACKWARD_STATE}_{{{subscript}}}]$"
        box(ax, (x, output_y), concatenated, OUTPUT_COLOR, 1.15, _SIZE, 10)
        arrow(ax, (x, _HALF), (x, forward_y - _HALF))
        # x_t also reaches the backward direction, around the right of the forward box.
        wire(ax, [(x + _HALF, 0.0), (x + side, 0.0), (x + side, backward_y - 0.42)])
        arrow(ax, (x + side, backward_y - 0.42), (x + 0.12, backward_y - _HALF))
        # The forward state reaches the output around the left of the backward box.
        wire(ax, [(x - _HALF, forward_y), (x - side, forward_y), (x - side, output_y - 0.45)])
        arrow(ax, (x - side, output_y - 0.45), (x - 0.12, output_y - _HALF))
        arrow(ax, (x, backward_y + _HALF), (x, output_y - _HALF))
        if index > 0:
            arrow(ax, (x - _STEP + _HALF, forward_y), (x - _HALF, forward_y))
            arrow(ax, (x - _HALF, backward_y), (x - _STEP + _HALF, backward_y))
    ax.text(2 * _STEP + 0.5, forward_y, "forward:\n$t = 1 \\to T$", ha="left", va="center",
            fontsize=9, color="0.3")  # fmt: skip
    ax.text(2 * _STEP + 0.5, backward_y, "backward:\n$t = T \\to 1$", ha="left", va="center",
            fontsize=9, color="0.3")  # fmt: skip
    ax.text(2 * _STEP + 0.7, output_y, "(B, T, 2H)", ha="left", va="center", fontsize=9)
    finish(ax, (-0.8, 2 * _STEP + 1.9), (-0.5, output_y + 0.5), "bidirectional")


def draw_stacked_and_bidirectional(axes: Sequence[Axes]) -> Sequence[Axes]:
    r"""Draw a stacked layer and a bidirectional layer, unrolled over steps 1, 2, T.

    Left: L = 2 layers; layer 0 reads :math:`x_t`, layer 1 reads :math:`h^{(0)}_t` (where
    ``dropout=`` acts in ``torch.nn``), each layer has its own recurrence
    :math:`h^{(l)}_{t-1} \to h^{(l)}_t`, and the output is the top layer's states. Right: a
    forward recurrence :math:`\overrightarrow{h}_{t-1} \to \overrightarrow{h}_t` and a
    backward one :math:`\overleftarrow{h}_{t+1} \to \overleftarrow{h}_t`, both reading
    :math:`x_t`, and the output :math:`[\overrightarrow{h}_t, \overleftarrow{h}_t]` of shape
    (B, T, 2H).

    Parameters
    ----------
    axes : sequence of 2 matplotlib.axes.Axes
        Where to draw the stacked and the bidirectional layer.

    Returns
    -------
    axes : sequence of 2 matplotlib.axes.Axes
        The same Axes, titled, frames hidden.

    Raises
    ------
    ValueError
        If ``axes`` does not hold exactly 2 Axes.
    """
    axes = list(axes)
    if len(axes) != 2:
        raise ValueError(f"axes must hold 2 Axes (stacked, bidirectional), got {len(axes)}")
    _draw_stacked(axes[0])
    _draw_bidirectional(axes[1])
    return axes
