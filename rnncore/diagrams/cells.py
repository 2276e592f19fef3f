r"""Inside the gated cells (chapters 6 and 7): gates, the memory path and the symbols of the
chapters' equations.

Inputs enter from the left (:math:`h_{t-1}`, :math:`c_{t-1}`) and from below (:math:`x_t`);
the new state leaves on the right. Gate nonlinearities are purple boxes, elementwise
operations circles (:math:`\odot` product, :math:`+` sum), and the path that carries the
memory across time (the LSTM's cell state, the GRU's hidden state) a thick red line.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from rnncore.diagrams._drawing import (
    CELL_COLOR,
    GATE_COLOR,
    HIDDEN_COLOR,
    INPUT_COLOR,
    arrow,
    box,
    finish,
    operator,
    wire,
)

__all__ = ["draw_gru_cell", "draw_lstm_cell"]

_GATE, _RADIUS = 0.5, 0.17


def _gate(ax, x, y, nonlinearity, name, label_side=1):
    """A nonlinearity box at (x, y) whose output, named ``name``, leaves from its top."""
    box(ax, (x, y), nonlinearity, GATE_COLOR, _GATE * 1.3, _GATE, 11)
    ax.text(x + label_side * 0.12, y + _GATE / 2 + 0.2, name, ha="left" if label_side > 0
            else "right", va="center", fontsize=11)  # fmt: skip


def draw_lstm_cell(ax: Axes) -> Axes:
    r"""Draw one LSTM step with the gates and symbols of chapter 6.

    .. math::

        a_t = x_t W_x + h_{t-1} W_h + b = [\, a^i_t \; a^f_t \; a^g_t \; a^o_t \,], \quad
        c_t = f_t \odot c_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(c_t)

    At the bottom one box computes :math:`a_t` from :math:`x_t` and :math:`h_{t-1}` (the
    four blocks, stacked in the order i, f, g, o); above it the forget gate
    :math:`f_t = \sigma`, input gate :math:`i_t = \sigma`, candidate :math:`g_t = \tanh` and
    output gate :math:`o_t = \sigma`. The cell path along the top (thick red) runs from
    :math:`c_{t-1}` through :math:`\odot f_t` and :math:`+\, i_t \odot g_t` to :math:`c_t`,
    with no weight matrix on it; a branch goes through :math:`\tanh` and :math:`\odot o_t`
    to :math:`h_t`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw. Its limits are set to fit the picture and its frame is hidden.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes.
    """
    bottom, gates, middle, top = 0.55, 1.6, 2.55, 3.5
    forget_x, input_x, candidate_x, output_x, branch_x = 1.8, 3.0, 4.2, 5.6, 6.6
    box(ax, (3.7, bottom), r"$a_t = x_t W_x + h_{t-1} W_h + b$", INPUT_COLOR, 4.6, 0.5, 11)
    ax.text(4.4, bottom - 0.42, "blocks i, f, g, o of $W_x$ (D, 4H), $W_h$ (H, 4H), $b$ (4H,)",
            ha="center", va="center", fontsize=8, color="0.3")  # fmt: skip
    box(ax, (-0.2, bottom), "$h_{t-1}$", HIDDEN_COLOR, 0.7, 0.5, 11)
    arrow(ax, (0.15, bottom), (1.4, bottom))
    box(ax, (1.9, -0.75), "$x_t$", INPUT_COLOR, 0.6, 0.45, 11)
    arrow(ax, (1.9, -0.52), (1.9, bottom - 0.25))
    for x, nonlinearity, name, side in (
        (forget_x, r"$\sigma$", "$f_t$", 1),
        (input_x, r"$\sigma$", "$i_t$", -1),
        (candidate_x, r"$\tanh$", "$g_t$", 1),
        (output_x, r"$\sigma$", "$o_t$", 1),
    ):
        arrow(ax, (x, bottom + 0.25), (x, gates - _GATE / 2))
        _gate(ax, x, gates, nonlinearity, name, side)

    # The cell path: c_{t-1} -> (*) f_t -> (+) i_t * g_t -> c_t, no matrix on the way.
    cell = {"color": CELL_COLOR, "linewidth": 3.0}
    box(ax, (-0.2, top), "$c_{t-1}$", HIDDEN_COLOR, 0.7, 0.5, 11)
    wire(ax, [(0.15, top), (forget_x - _RADIUS, top)], **cell)
    operator(ax, (forget_x, top), r"$\odot$")
    arrow(ax, (forget_x, gates + _GATE / 2), (forget_x, top - _RADIUS))
    product_x = (input_x + candidate_x) / 2
    wire(ax, [(forget_x + _RADIUS, top), (product_x - _RADIUS, top)], **cell)
    operator(ax, (product_x, middle), r"$\odot$")
    arrow(ax, (input_x, gates + _GATE / 2), (product_x - 0.12, middle - 0.12))
    arrow(ax, (candidate_x, gates + _GATE / 2), (product_x + 0.12, middle - 0.12))
    sum_x = product_x
    operator(ax, (sum_x, top), "$+$")
    arrow(ax, (product_x, middle + _RADIUS), (sum_x, top - _RADIUS))
    arrow(ax, (sum_x + _RADIUS, top), (7.45, top), **cell)
    box(ax, (7.8, top), "$c_t$", HIDDEN_COLOR, 0.6, 0.5, 11)
    ax.text(1.0, top + 0.3, "cell state", fontsize=9, color=CELL_COLOR, ha="center")

    # The branch to the hidden state: h_t = o_t * tanh(c_t).
    wire(ax, [(branch_x, top), (branch_x, middle + 0.22)])
    box(ax, (branch_x, middle), r"$\tanh$", GATE_COLOR, _GATE * 1.3, 0.42, 10)
    operator(ax, (branch_x, gates), r"$\odot$")
    arrow(ax, (branch_x, middle - 0.21), (branch_x, gates + _RADIUS))
    arrow(ax, (output_x + _GATE * 0.65, gates), (branch_x - _RADIUS, gates))
    arrow(ax, (branch_x + _RADIUS, gates), (7.45, gates))
    box(ax, (7.8, gates), "$h_t$", HIDDEN_COLOR, 0.6, 0.5, 11)
    return finish(ax, (-0.7, 8.25), (-1.1, 4.0), None)


def draw_gru_cell(ax: Axes) -> Axes:
    r"""Draw one GRU step in the course's reference form (chapter 7, :cite:`chung2014`).

    .. math::

        r_t = \sigma(x_t W_x^r + h_{t-1} W_h^r + b^r), \quad
        z_t = \sigma(x_t W_x^z + h_{t-1} W_h^z + b^z), \\
        \tilde h_t = \tanh\big(x_t W_x^n + (r_t \odot h_{t-1}) W_h^n + b^n\big), \quad
        h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t

    The state path along the top (thick red) runs from :math:`h_{t-1}` through
    :math:`\odot (1 - z_t)` and :math:`+\, z_t \odot \tilde h_t` to :math:`h_t`. Below it, the
    reset gate :math:`r_t` and update gate :math:`z_t` (blocks r, z of one product) and the
    candidate :math:`\tilde h_t` (block n), which reads :math:`r_t \odot h_{t-1}` instead of
    :math:`h_{t-1}`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw. Its limits are set to fit the picture and its frame is hidden.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes.
    """
    bottom, gates, middle, top = 0.55, 1.6, 2.55, 3.5
    reset_x, update_x, keep_x, sum_x = 1.1, 2.4, 2.4, 6.4
    candidate_x, candidate_half_width, candidate_half_height = 4.4, 0.95, 0.375
    state = {"color": CELL_COLOR, "linewidth": 3.0}
    box(ax, (-0.4, top), "$h_{t-1}$", HIDDEN_COLOR, 0.7, 0.5, 11)
    wire(ax, [(-0.05, top), (keep_x - _RADIUS, top)], **state)
    # h_{t-1} also feeds the gates (down the left) and the reset product.
    wire(ax, [(0.25, top), (0.25, bottom)])
    arrow(ax, (0.25, bottom), (0.55, bottom))
    box(ax, (1.75, bottom), r"$x_t W_x + h_{t-1} W_h + b$", INPUT_COLOR, 2.4, 0.5, 10)
    ax.text(1.0, bottom - 0.45, "blocks r, z", ha="center", va="center", fontsize=8,
            color="0.3")  # fmt: skip
    box(ax, (3.1, -0.85), "$x_t$", INPUT_COLOR, 0.6, 0.45, 11)
    wire(ax, [(3.1, -0.62), (3.1, -0.3)])
    wire(ax, [(1.75, -0.3), (candidate_x, -0.3)])
    arrow(ax, (1.75, -0.3), (1.75, bottom - 0.25))
    arrow(ax, (candidate_x, -0.3), (candidate_x, gates - candidate_half_height))
    for x, name in ((reset_x, "$r_t$"), (update_x, "$z_t$")):
        arrow(ax, (x, bottom + 0.25), (x, gates - _GATE / 2))
        _gate(ax, x, gates, r"$\sigma$", name, label_side=-1)

    # Reset: r_t * h_{t-1} goes into the candidate's product with W_h^n.
    operator(ax, (reset_x, middle), r"$\odot$")
    arrow(ax, (reset_x, gates + _GATE / 2), (reset_x, middle - _RADIUS))
    arrow(ax, (reset_x, top), (reset_x, middle + _RADIUS))
    box(ax, (candidate_x, gates), "$\\tanh(x_t W_x^n$\n$+ (r_t \\odot h_{t-1}) W_h^n + b^n)$",
        GATE_COLOR, 2 * candidate_half_width, 2 * candidate_half_height, 9)  # fmt: skip
    entry_x = candidate_x - 0.6
    wire(ax, [(reset_x + _RADIUS, middle), (entry_x, middle)])
    arrow(ax, (entry_x, middle), (entry_x, gates + candidate_half_height))

    # Update: h_t = (1 - z_t) * h_{t-1} + z_t * h~_t.
    box(ax, (keep_x, 3.0), "$1 - z_t$", GATE_COLOR, 0.8, 0.32, 9)
    arrow(ax, (update_x, gates + _GATE / 2), (keep_x, 3.0 - 0.16))
    arrow(ax, (keep_x, 3.16), (keep_x, top - _RADIUS))
    operator(ax, (keep_x, top), r"$\odot$")
    operator(ax, (sum_x, middle), r"$\odot$")
    wire(ax, [(update_x, 2.2), (sum_x - 0.45, 2.2), (sum_x - 0.45, middle)])
    arrow(ax, (sum_x - 0.45, middle), (sum_x - _RADIUS, middle))
    wire(ax, [(candidate_x + candidate_half_width, gates), (sum_x, gates)])
    arrow(ax, (sum_x, gates), (sum_x, middle - _RADIUS))
    ax.text(candidate_x + candidate_half_width + 0.3, gates + 0.2, r"$\tilde h_t$",
            ha="center", va="center", fontsize=11)  # fmt: skip
    wire(ax, [(keep_x + _RADIUS, top), (sum_x - _RADIUS, top)], **state)
    operator(ax, (sum_x, top), "$+$")
    arrow(ax, (sum_x, middle + _RADIUS), (sum_x, top - _RADIUS))
    arrow(ax, (sum_x + _RADIUS, top), (7.45, top), **state)
    box(ax, (7.8, top), "$h_t$", HIDDEN_COLOR, 0.6, 0.5, 11)
    ax.text(4.4, top + 0.3, "state path", fontsize=9, color=CELL_COLOR, ha="center")
    return finish(ax, (-0.9, 8.25), (-1.2, 4.0), None)
