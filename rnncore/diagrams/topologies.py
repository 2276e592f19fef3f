r"""The shapes of sequence problems (chapter 1): what goes in and what comes out.

Five panels, in the order of chapter 1's section "Four shapes of sequence problems": inputs
:math:`x_t` at the bottom, hidden states :math:`h_t` in the middle, the model's outputs
:math:`\hat y_t` on top, in the colours of ``rnncore.viz``.
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

__all__ = ["TOPOLOGY_TITLES", "TOPOLOGY_WIDTHS", "draw_topologies"]

TOPOLOGY_TITLES = (
    "one-to-one",
    "one-to-many",
    "many-to-one",
    "many-to-many, aligned",
    "encoder-decoder",
)
# Columns of boxes in each panel: pass as width_ratios so that every box has the same size.
TOPOLOGY_WIDTHS = (1, 3, 3, 3, 5)

_SIZE, _STEP = 0.56, 1.0
_X_LEVEL, _H_LEVEL, _Y_LEVEL = 0.0, 1.1, 2.2


def _column(ax, x, subscript, with_input=True, with_output=True, state="h"):
    """One time step: x below h below y, with the arrows between them."""
    box(ax, (x, _H_LEVEL), f"${state}_{{{subscript}}}$", HIDDEN_COLOR, _SIZE, _SIZE, 11)
    if with_input:
        box(ax, (x, _X_LEVEL), f"$x_{{{subscript}}}$", INPUT_COLOR, _SIZE, _SIZE, 11)
        arrow(ax, (x, _X_LEVEL + _SIZE / 2), (x, _H_LEVEL - _SIZE / 2))
    if with_output:
        box(ax, (x, _Y_LEVEL), f"$\\hat y_{{{subscript}}}$", OUTPUT_COLOR, _SIZE, _SIZE, 11)
        arrow(ax, (x, _H_LEVEL + _SIZE / 2), (x, _Y_LEVEL - _SIZE / 2))


def _recurrence(ax, first_x, steps):
    """The arrows h_{t-1} -> h_t between ``steps`` neighbouring columns."""
    for index in range(steps - 1):
        x = first_x + index * _STEP
        arrow(ax, (x + _SIZE / 2, _H_LEVEL), (x + _STEP - _SIZE / 2, _H_LEVEL))


def _limits(ax, columns, title):
    return finish(ax, (-0.6, (columns - 1) * _STEP + 0.6), (-0.5, 2.75), title)


def draw_topologies(axes: Sequence[Axes]) -> Sequence[Axes]:
    r"""Draw the five input-output shapes of sequence problems, one per Axes.

    1. one-to-one: :math:`x \to h \to \hat y`, no sequence;
    2. one-to-many: :math:`x` sets the first state; each output :math:`\hat y_t` is read
       back as the next step's input (dashed);
    3. many-to-one: :math:`x_1, \dots, x_T` are read, only the last state :math:`h_T` gives
       the output :math:`\hat y`;
    4. many-to-many, aligned: one output :math:`\hat y_t` per input :math:`x_t`;
    5. encoder-decoder: an encoder reads :math:`x_1, \dots, x_T`; its last state :math:`h_T`
       is the initial state of a decoder (states :math:`h'_1, h'_2`, its own weights) that
       reads the previous targets (:math:`y_0` a start symbol, then :math:`y_1`) and writes
       :math:`\hat y_1, \hat y_2`, a sequence of another length.

    Parameters
    ----------
    axes : sequence of 5 matplotlib.axes.Axes
        Where to draw, in the order above (``TOPOLOGY_TITLES``). Give them the width ratios
        ``TOPOLOGY_WIDTHS`` (for example ``plt.subplots(1, 5, width_ratios=TOPOLOGY_WIDTHS)``)
        so that the boxes have one size in every panel.

    Returns
    -------
    axes : sequence of 5 matplotlib.axes.Axes
        The same Axes, each titled with its entry of ``TOPOLOGY_TITLES``, frames hidden.

    Raises
    ------
    ValueError
        If ``axes`` does not hold exactly 5 Axes.
    """
    axes = list(axes)
    if len(axes) != len(TOPOLOGY_TITLES):
        raise ValueError(f"axes must hold {len(TOPOLOGY_TITLES)} Axes, got {len(axes)}")
    one_to_one, one_to_many, many_to_one, aligned, encoder_decoder = axes

    _column(one_to_one, 0.0, "")
    for text in one_to_one.texts:  # no time index without a sequence
        text.set_text(text.get_text().replace("_{}", ""))
    _limits(one_to_one, 1, TOPOLOGY_TITLES[0])

    labels = ["1", "2", "T"]
    for index, subscript in enumerate(labels):
        x = index * _STEP
        _column(one_to_many, x, subscript, with_input=index == 0)
        if index > 0:  # the previous output is the next input
            arrow(one_to_many, (x - _STEP + _SIZE / 2, _Y_LEVEL - _SIZE / 4),
                  (x - _SIZE / 2, _H_LEVEL - _SIZE / 4), linestyle="--", color="0.4")  # fmt: skip
    one_to_many.texts[1].set_text("$x$")
    _recurrence(one_to_many, 0.0, 3)
    _limits(one_to_many, 3, TOPOLOGY_TITLES[1])

    for index, subscript in enumerate(labels):
        _column(many_to_one, index * _STEP, subscript, with_output=index == 2)
    many_to_one.texts[-1].set_text("$\\hat y$")
    _recurrence(many_to_one, 0.0, 3)
    _limits(many_to_one, 3, TOPOLOGY_TITLES[2])

    for index, subscript in enumerate(labels):
        _column(aligned, index * _STEP, subscript)
    _recurrence(aligned, 0.0, 3)
    _limits(aligned, 3, TOPOLOGY_TITLES[3])

    for index, subscript in enumerate(labels):
        _column(encoder_decoder, index * _STEP, subscript, with_output=False)
    _recurrence(encoder_decoder, 0.0, 3)
    decoder_x = 3 * _STEP
    for index, subscript in enumerate(["1", "2"]):
        x = decoder_x + index * _STEP
        _column(encoder_decoder, x, subscript, with_input=False, state="h'")
        previous = f"$y_{{{index}}}$"
        box(encoder_decoder, (x, _X_LEVEL), previous, INPUT_COLOR, _SIZE, _SIZE, 11)
        arrow(encoder_decoder, (x, _X_LEVEL + _SIZE / 2), (x, _H_LEVEL - _SIZE / 2))
    _recurrence(encoder_decoder, decoder_x, 2)
    arrow(encoder_decoder, (2 * _STEP + _SIZE / 2, _H_LEVEL), (decoder_x - _SIZE / 2, _H_LEVEL),
          color="tab:blue", linewidth=1.8)  # fmt: skip
    for start, end, name in ((0.0, 2 * _STEP, "encoder"), (decoder_x, decoder_x + 1, "decoder")):
        wire(encoder_decoder, [(start - 0.3, 2.75), (end + 0.3, 2.75)], color="0.5")
        encoder_decoder.text((start + end) / 2, 2.85, name, ha="center", va="bottom",
                             fontsize=9, color="0.3")  # fmt: skip
    _limits(encoder_decoder, 5, TOPOLOGY_TITLES[4])
    encoder_decoder.set_ylim(-0.5, 3.1)
    return axes
