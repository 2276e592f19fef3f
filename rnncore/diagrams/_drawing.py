"""Drawing primitives shared by the diagrams: boxes, operator circles, wires and arrows.

They draw in data coordinates on a given Axes, in the style of ``rnncore.viz`` (rounded boxes
with a black edge, ``-|>`` arrows) and with its colours, so that x, h and y look the same in
every figure of the course.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnncore.viz import HIDDEN_COLOR, INPUT_COLOR, OUTPUT_COLOR

__all__ = [
    "CELL_COLOR",
    "GATE_COLOR",
    "GRADIENT_COLOR",
    "HIDDEN_COLOR",
    "INPUT_COLOR",
    "OUTPUT_COLOR",
    "PADDING_COLOR",
    "arrow",
    "box",
    "finish",
    "operator",
    "wire",
]

GATE_COLOR = "#f3e5f5"  # gates and nonlinearities
CELL_COLOR = "#b03a2e"  # the LSTM's cell path, drawn as a thick line
GRADIENT_COLOR = "#c0392b"  # gradients flowing backwards
PADDING_COLOR = "#eeeeee"  # padded (not real) time steps


def box(
    ax: Axes,
    center: tuple[float, float],
    text: str,
    color: str,
    width: float = 0.6,
    height: float = 0.6,
    fontsize: float = 12,
) -> None:
    """Draw a rounded ``width`` x ``height`` box centred on ``center`` with ``text`` inside."""
    x, y = center
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color,
            edgecolor="black",
            linewidth=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def operator(ax: Axes, center: tuple[float, float], symbol: str, radius: float = 0.17) -> None:
    """Draw an elementwise operation (``"$\\odot$"``, ``"$+$"``) as a small labelled circle."""
    ax.add_patch(Circle(center, radius, facecolor="white", edgecolor="black", linewidth=1.2))
    ax.text(center[0], center[1], symbol, ha="center", va="center", fontsize=11)


def wire(ax: Axes, points, color: str = "k", linewidth: float = 1.2, linestyle="-") -> None:
    """Draw a polyline without arrowhead through ``points`` (a signal that branches or bends)."""
    xs, ys = zip(*points, strict=True)
    # Below the boxes and circles (zorder 1), so that a wire ends at their edge.
    ax.plot(xs, ys, color=color, linewidth=linewidth, linestyle=linestyle,
            solid_capstyle="round", zorder=0.5)  # fmt: skip


def arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    label: str | None = None,
    color: str = "k",
    linestyle: str = "-",
    linewidth: float = 1.2,
    rad: float = 0.0,
    label_offset: tuple[float, float] = (0.0, 0.12),
    fontsize: float = 10,
) -> None:
    """Draw an arrow from ``start`` to ``end`` (bent by ``rad``), with an optional label.

    The label sits at the middle of the straight segment, moved by ``label_offset``.
    """
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=14,
            linewidth=linewidth,
            linestyle=linestyle,
            color=color,
            connectionstyle=f"arc3,rad={rad}",
            shrinkA=0,
            shrinkB=0,
        )
    )
    if label:
        middle = ((start[0] + end[0]) / 2 + label_offset[0], (start[1] + end[1]) / 2)
        ax.text(middle[0], middle[1] + label_offset[1], label, ha="center", va="center",
                fontsize=fontsize, color=color if color != "k" else "0.25")  # fmt: skip


def finish(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float], title: str | None):
    """Set the limits, equal aspect and no frame; write ``title`` on top if given."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11)
    return ax
