r"""Plotting helpers for the course's figures.

Every helper draws on a matplotlib ``Axes`` that the caller made and returns that same
``Axes``, so a chapter keeps control of the figure (size, subplots, titles)::

    fig, ax = plt.subplots()
    plot_training_curves(ax, {"RNN": (steps, losses)}, ylabel="loss (nats)")

Bad input (a sequence of labels of the wrong length, curves whose steps and values differ in
length) raises ``ValueError`` naming the argument, before anything is drawn.

Letters: T time steps, H hidden units, K lags (distances in time steps), N characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = [
    "plot_coloured_text",
    "draw_unrolled_rnn",
    "plot_hidden_states",
    "plot_gradient_norms",
    "plot_training_curves",
]

# One colour per role, reused by every figure so that x, h and y look the same on every page.
INPUT_COLOR = "#dbe9f6"
HIDDEN_COLOR = "#fde2c8"
OUTPUT_COLOR = "#d9f0d3"


def _as_1d(name: str, values) -> np.ndarray:
    """Return ``values`` as a 1-D float array, or raise ValueError naming ``name``."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def _box(ax: Axes, center: tuple[float, float], text: str, color: str, size: float) -> None:
    """Draw a rounded box of side ``size`` centred on ``center`` with ``text`` inside."""
    x, y = center
    ax.add_patch(
        FancyBboxPatch(
            (x - size / 2, y - size / 2),
            size,
            size,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=color,
            edgecolor="black",
            linewidth=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=12)


def _arrow(
    ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str | None
) -> None:
    """Draw an arrow from ``start`` to ``end``, with an optional weight label beside it."""
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, linewidth=1.2, color="k")
    )
    if label:
        middle_x = (start[0] + end[0]) / 2
        middle_y = (start[1] + end[1]) / 2
        vertical = abs(end[0] - start[0]) < 1e-9
        offset = (0.12, 0.0) if vertical else (0.0, 0.12)
        ax.text(
            middle_x + offset[0],
            middle_y + offset[1],
            label,
            ha="left" if vertical else "center",
            va="center" if vertical else "bottom",
            fontsize=10,
            color="0.25",
        )


def draw_unrolled_rnn(
    ax: Axes,
    steps: int = 4,
    labels: Sequence[str] | None = None,
    show_initial_state: bool = True,
    show_weights: bool = True,
) -> Axes:
    r"""Draw a recurrent network unrolled over ``steps`` time steps.

    Each column is one time step: the input box :math:`x_t` at the bottom, the hidden state
    :math:`h_t` in the middle and the output :math:`\hat y_t` on top, with arrows

    .. math::

        x_t \to h_t \;(W_x), \qquad h_{t-1} \to h_t \;(W_h), \qquad h_t \to \hat y_t \;(W_{out}).

    The same three weight matrices label every column: the picture shows parameter sharing.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw. Its limits are set to fit the picture and its frame is hidden.
    steps : int, default 4
        Number of time steps (columns), at least 1.
    labels : sequence of str of length ``steps``, optional
        The subscripts of the columns, for example ``["1", "2", "3", "T"]``. Defaults to
        ``"1"``, ..., ``str(steps)``. Written in maths mode, so ``"t-1"`` is fine.
    show_initial_state : bool, default True
        Draw the initial state :math:`h_0` (an extra box to the left) and its arrow into the
        first column.
    show_weights : bool, default True
        Write :math:`W_x`, :math:`W_h` and :math:`W_{out}` beside the arrows.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with ``3 * steps`` boxes and ``3 * steps - 1`` arrows added, plus one
        box and one arrow for :math:`h_0` when ``show_initial_state``.

    Raises
    ------
    ValueError
        If ``steps`` is smaller than 1 or ``labels`` does not have ``steps`` entries.
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    steps = int(steps)
    if labels is None:
        labels = [str(t) for t in range(1, steps + 1)]
    labels = list(labels)
    if len(labels) != steps:
        raise ValueError(f"labels must have steps = {steps} entries, got {len(labels)}")
    size, spacing = 0.6, 1.5
    input_y, hidden_y, output_y = 0.0, 1.3, 2.6
    first_x = spacing if show_initial_state else 0.0
    if show_initial_state:
        _box(ax, (0.0, hidden_y), "$h_{0}$", HIDDEN_COLOR, size)
    for index, subscript in enumerate(labels):
        x = first_x + index * spacing
        _box(ax, (x, input_y), f"$x_{{{subscript}}}$", INPUT_COLOR, size)
        _box(ax, (x, hidden_y), f"$h_{{{subscript}}}$", HIDDEN_COLOR, size)
        _box(ax, (x, output_y), f"$\\hat y_{{{subscript}}}$", OUTPUT_COLOR, size)
        _arrow(
            ax,
            (x, input_y + size / 2),
            (x, hidden_y - size / 2),
            "$W_x$" if show_weights else None,
        )
        _arrow(
            ax,
            (x, hidden_y + size / 2),
            (x, output_y - size / 2),
            "$W_{out}$" if show_weights else None,
        )
        if index > 0 or show_initial_state:
            _arrow(
                ax,
                (x - spacing + size / 2, hidden_y),
                (x - size / 2, hidden_y),
                "$W_h$" if show_weights else None,
            )
    last_x = first_x + (steps - 1) * spacing
    ax.set_xlim(-size - 0.2, last_x + size + 0.2)
    ax.set_ylim(input_y - size, output_y + size)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def plot_hidden_states(
    ax: Axes,
    h,
    time=None,
    unit_labels: Sequence[str] | None = None,
    max_units: int | None = None,
) -> Axes:
    """Plot each hidden unit's value against time, one line per unit.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    h : array-like of shape (T, H)
        The hidden states of one sequence (take ``h[b]`` from a batch of shape (B, T, H)).
    time : array-like of shape (T,), optional
        The time of each step; defaults to ``1, ..., T``.
    unit_labels : sequence of str of length H (or ``max_units``), optional
        Legend entries; defaults to ``"unit 0"``, ``"unit 1"``, ... A legend is drawn when
        there are at most 10 lines.
    max_units : int, optional
        Draw only the first ``max_units`` units (a wide layer makes an unreadable plot).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with one line per drawn unit.

    Raises
    ------
    ValueError
        If ``h`` is not 2-D, ``time`` does not have T entries, ``unit_labels`` does not have
        one entry per drawn unit or ``max_units`` is smaller than 1.
    """
    states = np.asarray(h, dtype=float)
    if states.ndim != 2:
        raise ValueError(f"h must have 2 axes (T, H), got shape {states.shape}")
    steps, hidden_size = states.shape
    times = np.arange(1, steps + 1) if time is None else _as_1d("time", time)
    if times.shape[0] != steps:
        raise ValueError(f"time must have shape (T,) = ({steps},), got ({times.shape[0]},)")
    if max_units is not None:
        if max_units < 1:
            raise ValueError(f"max_units must be at least 1, got {max_units}")
        hidden_size = min(hidden_size, int(max_units))
    if unit_labels is None:
        unit_labels = [f"unit {unit}" for unit in range(hidden_size)]
    unit_labels = list(unit_labels)
    if len(unit_labels) != hidden_size:
        raise ValueError(
            f"unit_labels must have one entry per drawn unit ({hidden_size}), "
            f"got {len(unit_labels)}"
        )
    for unit in range(hidden_size):
        ax.plot(times, states[:, unit], marker=".", label=unit_labels[unit])
    ax.set_xlabel("time step t")
    ax.set_ylabel("hidden state $h_t$")
    if hidden_size <= 10:
        ax.legend(fontsize="small")
    return ax


def plot_gradient_norms(
    ax: Axes,
    lags,
    norms_by_label: Mapping[str, object],
    log: bool = True,
) -> Axes:
    r"""Plot gradient norms against the distance in time they travelled, one line per label.

    Typically ``norms_by_label[label][k]`` is
    :math:`\lVert \partial h_T / \partial h_{T - \mathrm{lag}_k} \rVert` for one model or one
    setting (``"tanh, Wh scale 0.9"``, ``"LSTM"``): vanishing gradients fall as straight lines
    on the default logarithmic axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    lags : array-like of shape (K,)
        Distances in time steps.
    norms_by_label : dict of str to array-like of shape (K,)
        One curve per entry; norms must be non-negative.
    log : bool, default True
        Use a logarithmic y axis. Zeros cannot be shown there and leave gaps.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with one line per entry of ``norms_by_label`` and a legend.

    Raises
    ------
    ValueError
        If ``norms_by_label`` is empty, a curve's length differs from ``lags`` or a norm is
        negative.
    """
    lag_values = _as_1d("lags", lags)
    if not norms_by_label:
        raise ValueError("norms_by_label must hold at least one curve, got an empty mapping")
    curves = {}
    for label, norms in norms_by_label.items():
        values = _as_1d(f"norms_by_label[{label!r}]", norms)
        if values.shape != lag_values.shape:
            raise ValueError(
                f"norms_by_label[{label!r}] must have shape (K,) = ({lag_values.shape[0]},) "
                f"like lags, got ({values.shape[0]},)"
            )
        if np.any(values < 0):
            raise ValueError(f"norms_by_label[{label!r}] holds negative values; norms are >= 0")
        curves[label] = values
    for label, values in curves.items():
        ax.plot(lag_values, values, marker="o", markersize=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("distance in time steps")
    ax.set_ylabel("gradient norm")
    ax.legend(fontsize="small")
    return ax


def plot_training_curves(
    ax: Axes,
    curves: Mapping[str, tuple[object, object]],
    ylabel: str,
    xlabel: str = "training step",
    log: bool = False,
) -> Axes:
    """Plot one training curve per label (loss, accuracy, bits per character...).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    curves : dict of str to (steps, values)
        ``steps`` and ``values`` are array-likes of the same length N (they may differ
        between curves, for example a validation curve measured every 100 steps).
    ylabel : str
        What the values are, with their unit (``"loss (nats)"``).
    xlabel : str, default "training step"
        What the steps are.
    log : bool, default False
        Use a logarithmic y axis.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with one line per curve and a legend.

    Raises
    ------
    ValueError
        If ``curves`` is empty, an entry is not a pair or its steps and values differ in
        length.
    """
    if not curves:
        raise ValueError("curves must hold at least one curve, got an empty mapping")
    prepared = {}
    for label, pair in curves.items():
        if len(pair) != 2:
            raise ValueError(
                f"curves[{label!r}] must be a pair (steps, values), got {len(pair)} items"
            )
        steps = _as_1d(f"curves[{label!r}] steps", pair[0])
        values = _as_1d(f"curves[{label!r}] values", pair[1])
        if steps.shape != values.shape:
            raise ValueError(
                f"curves[{label!r}] must have steps and values of one length N, got "
                f"{steps.shape[0]} steps and {values.shape[0]} values"
            )
        prepared[label] = (steps, values)
    for label, (steps, values) in prepared.items():
        ax.plot(steps, values, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def plot_coloured_text(ax: Axes, text: str, values, width: int = 72, cmap=None) -> Axes:
    """Draw ``text`` character by character on a grid, each cell coloured by its value.

    A newline starts a new row, and so does a row that reaches ``width`` characters. The
    colours run from blue (most negative) through white (zero) to red (most positive), scaled
    by the largest ``|value|``, so that the sign of a hidden unit's activation reads at a
    glance (chapter 9 colours a passage by one unit of a character model).

    Parameters
    ----------
    ax : Axes
    text : str of length N
    values : array-like of shape (N,)
        One value per character of ``text`` (the newline's value is not drawn).
    width : int
        Characters per row.
    cmap : matplotlib colormap, optional
        Default ``RdBu_r``.

    Returns
    -------
    ax : Axes
        With one rectangle and one text per drawn character, axes hidden.
    """
    import matplotlib.pyplot as plt

    values = _as_1d("values", values)
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    if len(text) != len(values):
        raise ValueError(
            f"values must have one entry per character: {len(text)}, got {len(values)}"
        )
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    cmap = plt.cm.RdBu_r if cmap is None else cmap
    scale = float(np.abs(values).max()) if len(values) else 0.0
    scale = scale or 1.0
    row = column = 0
    for character, value in zip(text, values, strict=True):
        if character == "\n":
            row, column = row + 1, 0
            continue
        if column >= width:
            row, column = row + 1, 0
        colour = cmap(0.5 + 0.5 * value / scale)
        ax.add_patch(plt.Rectangle((column, -row - 1), 1, 1, color=colour, linewidth=0))
        ax.text(column + 0.5, -row - 0.5, character, ha="center", va="center",
                family="monospace", fontsize=7)  # fmt: skip
        column += 1
    ax.set_xlim(0, width)
    ax.set_ylim(-row - 1, 0)
    ax.axis("off")
    return ax
