r"""The two paths of the gradient into a hidden state (chapter 4, step 3 of BPTT).

The unrolled network of ``rnncore.viz.draw_unrolled_rnn`` with a loss :math:`L_t` above every
output :math:`\hat y_t` (the scores :math:`s_t`), and the backward pass drawn on top of it in red:

.. math::

    dh_t = \underbrace{ds_t\, W_{out}^\top}_{\text{from } L_t}
         + \underbrace{da_{t+1}\, W_h^\top}_{\text{from } h_{t+1}} .
"""

from __future__ import annotations

from matplotlib.axes import Axes

from rnncore.diagrams._drawing import GRADIENT_COLOR, OUTPUT_COLOR, arrow, box
from rnncore.viz import draw_unrolled_rnn

__all__ = ["draw_gradient_paths"]

_COLUMNS = ("t-1", "t", "t+1")


def _center_of(ax: Axes, text: str) -> tuple[float, float]:
    """The position of the (box) label ``text`` that ``draw_unrolled_rnn`` wrote."""
    for artist in ax.texts:
        if artist.get_text() == text:
            return artist.get_position()
    raise ValueError(f"no label {text!r} on the Axes")  # pragma: no cover - layout changed


def draw_gradient_paths(ax: Axes) -> Axes:
    r"""Draw three unrolled steps :math:`t-1, t, t+1` and the two gradient paths into
    :math:`h_t`.

    Forward (black, from ``draw_unrolled_rnn``): :math:`x_t \to h_t \to \hat y_t`, and
    :math:`h_{t-1} \to h_t` through :math:`W_h`; a loss box :math:`L_t` above every output
    :math:`\hat y_t` (the scores :math:`s_t`). Backward (red, dashed): from :math:`L_t` down
    through :math:`\hat y_t` to :math:`h_t`, labelled :math:`ds_t W_{out}^\top`, and from
    :math:`h_{t+1}` back to :math:`h_t`, labelled :math:`da_{t+1} W_h^\top`, which carries
    every later loss (:math:`L_{t+1}, \dots, L_T`). The sum of the two is written below.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw. Its limits are set to fit the picture and its frame is hidden.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes.
    """
    draw_unrolled_rnn(
        ax, steps=len(_COLUMNS), labels=_COLUMNS, show_initial_state=False, show_weights=False
    )
    size = 0.6
    for subscript in _COLUMNS:
        x, output_y = _center_of(ax, f"$\\hat y_{{{subscript}}}$")
        loss_y = output_y + 1.2
        box(ax, (x, loss_y), f"$L_{{{subscript}}}$", OUTPUT_COLOR, size, size)
        arrow(ax, (x, output_y + size / 2), (x, loss_y - size / 2))
    red = {"color": GRADIENT_COLOR, "linestyle": "--", "linewidth": 1.8}
    h_x, h_y = _center_of(ax, "$h_{t}$")
    y_x, y_y = _center_of(ax, "$\\hat y_{t}$")
    next_x, _ = _center_of(ax, "$h_{t+1}$")
    shift = 0.17  # the backward arrows run beside the forward ones
    arrow(ax, (y_x - shift, y_y + 1.2 - size / 2), (y_x - shift, y_y + size / 2), **red)
    arrow(ax, (h_x - shift, y_y - size / 2), (h_x - shift, h_y + size / 2),
          label=r"$ds_t\,W_{out}^\top$", label_offset=(-0.62, 0.0), **red)  # fmt: skip
    arrow(ax, (next_x - size / 2, h_y - shift), (h_x + size / 2, h_y - shift),
          label=r"$da_{t+1}\,W_h^\top$", label_offset=(0.0, -0.3), **red)  # fmt: skip
    next_y = _center_of(ax, "$\\hat y_{t+1}$")[1]
    arrow(ax, (next_x - shift, next_y + 1.2 - size / 2), (next_x - shift, next_y + size / 2),
          **red)  # fmt: skip
    arrow(ax, (next_x - shift, next_y - size / 2), (next_x - shift, h_y + size / 2), **red)
    for left_x in (h_x - 1.5, h_x):  # the forward recurrence, through W_h
        ax.text(left_x + 0.75, h_y + 0.12, "$W_h$", ha="center", va="bottom", fontsize=10,
                color="0.25")  # fmt: skip
    arrow(ax, (next_x + 1.1, h_y - shift), (next_x + size / 2, h_y - shift), **red)
    ax.text(next_x + 1.15, h_y - shift, r"from $L_{t+2}, \dots, L_T$", ha="left",
            va="center", fontsize=9, color=GRADIENT_COLOR)  # fmt: skip
    ax.text(h_x, -0.85,
            r"$dh_t = ds_t\,W_{out}^\top + da_{t+1}\,W_h^\top$: from $L_t$ and from $h_{t+1}$",
            ha="center", va="center", fontsize=11, color=GRADIENT_COLOR)  # fmt: skip
    left, right = ax.get_xlim()
    ax.set_xlim(left - 0.6, right + 2.3)
    ax.set_ylim(-1.2, y_y + 1.2 + size)
    return ax
