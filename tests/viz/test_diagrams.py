"""Tests of rnncore.diagrams: each diagram draws on the Agg backend, writes the symbols of the
notation page and of the chapters' equations, and the packing figure shows torch's order."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence  # noqa: E402

from rnncore.diagrams import (  # noqa: E402
    TOPOLOGY_TITLES,
    TOPOLOGY_WIDTHS,
    draw_gradient_paths,
    draw_gru_cell,
    draw_lstm_cell,
    draw_padding_and_packing,
    draw_stacked_and_bidirectional,
    draw_topologies,
    packed_order,
)
from rnncore.diagrams.padding import BATCH_SIZE_GID  # noqa: E402


@pytest.fixture
def figure():
    made = []

    def make(columns=1, **kwargs):
        fig, axes = plt.subplots(1, columns, **kwargs)
        made.append(fig)
        return fig, axes

    yield make
    for fig in made:
        plt.close(fig)


def texts_of(fig):
    """Every string written on the figure: texts, titles, all Axes."""
    strings = []
    for ax in fig.axes:
        strings += [text.get_text() for text in ax.texts]
        strings.append(ax.get_title())
    fig.canvas.draw()  # mathtext is parsed at draw time: a bad label fails here
    return strings


def assert_symbols(fig, symbols):
    joined = "\n".join(texts_of(fig))
    missing = [symbol for symbol in symbols if symbol not in joined]
    assert not missing, f"labels missing from the figure: {missing}"


def test_topologies_titles_and_symbols(figure):
    fig, axes = figure(5, figsize=(13, 3), width_ratios=TOPOLOGY_WIDTHS)
    assert draw_topologies(axes) == list(axes)
    assert [ax.get_title() for ax in axes] == list(TOPOLOGY_TITLES)
    assert_symbols(
        fig, ["$x_{1}$", "$h_{T}$", r"$\hat y_{T}$", "$h'_{1}$", "$y_{0}$", r"$\hat y_{2}$"]
    )
    one_to_one = {text.get_text() for text in axes[0].texts}
    assert one_to_one == {"$x$", "$h$", r"$\hat y$"}
    many_to_one = [text.get_text() for text in axes[2].texts]
    assert many_to_one.count(r"$\hat y$") == 1 and not any("y_" in s for s in many_to_one)


def test_topologies_needs_five_axes(figure):
    _, axes = figure(4)
    with pytest.raises(ValueError, match="axes must hold 5 Axes, got 4"):
        draw_topologies(axes)


def test_gradient_paths_shows_both_terms_of_dh_t(figure):
    fig, ax = figure()
    assert draw_gradient_paths(ax) is ax
    assert_symbols(
        fig,
        ["$h_{t}$", "$h_{t+1}$", "$x_{t}$", r"$\hat y_{t}$", "$L_{t}$", "$L_{t+1}$", "$W_h$",
         r"$ds_t\,W_{out}^\top$", r"$da_{t+1}\,W_h^\top$", "$dh_t"],
    )  # fmt: skip


def test_lstm_cell_uses_chapter_6_symbols(figure):
    fig, ax = figure()
    assert draw_lstm_cell(ax) is ax
    assert_symbols(
        fig,
        ["$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$",
         "$x_t$", "W_x", "W_h", "+ b", r"$\sigma$", r"$\tanh$", r"$\odot$", "$+$",
         "i, f, g, o", "cell state"],
    )  # fmt: skip


def test_gru_cell_uses_chapter_7_symbols(figure):
    fig, ax = figure()
    assert draw_gru_cell(ax) is ax
    assert_symbols(
        fig,
        ["$r_t$", "$z_t$", "1 - z_t", r"\tilde h_t", "$h_{t-1}$", "$h_t$", "$x_t$",
         "W_x^n", "W_h^n", "b^n", r"r_t \odot h_{t-1}", "blocks r, z", r"$\sigma$"],
    )  # fmt: skip
    # The GRU has no cell state: chapter 7's form keeps c out of the picture.
    assert not any("c_" in text for text in texts_of(fig))


def test_stacked_and_bidirectional_labels(figure):
    fig, axes = figure(2)
    assert draw_stacked_and_bidirectional(axes) == list(axes)
    assert_symbols(
        fig,
        ["$h^{(0)}_{1}$", "$h^{(1)}_{T}$", "$x_{T}$", "layer 0", "layer 1", "dropout",
         r"\overrightarrow{h}_{1}", r"\overleftarrow{h}_{T}", "(B, T, 2H)", "(B, T, H)"],
    )  # fmt: skip


@pytest.mark.parametrize("lengths", [[7, 3, 5, 1], [2, 2, 2], [1, 4], [5]])
def test_packed_order_is_torchs(lengths):
    batch_sizes, order = packed_order(lengths)
    expected = pack_padded_sequence(
        torch.zeros(len(lengths), max(lengths), 1), torch.tensor(lengths),
        batch_first=True, enforce_sorted=False,
    ).batch_sizes.tolist()  # fmt: skip
    assert batch_sizes == expected
    # Independently: step t keeps the sequences longer than t, longest first.
    assert batch_sizes == [sum(n > t for n in lengths) for t in range(max(lengths))]
    assert [t for _, t in order] == [t for t, size in enumerate(batch_sizes) for _ in range(size)]
    assert sorted(order) == [(b, t) for b, n in enumerate(lengths) for t in range(n)]
    first_step = [b for b, t in order if t == 0]
    assert [lengths[b] for b in first_step] == sorted(lengths, reverse=True)


@pytest.mark.parametrize("lengths", [[7, 3, 5, 1], [3, 6, 6, 2, 4]])
def test_padding_and_packing_figure_shows_torchs_batch_sizes(figure, lengths):
    fig, axes = figure(3, figsize=(13, 3))
    assert draw_padding_and_packing(axes, lengths) == list(axes)
    padded, mask, packed = axes
    shown = [int(text.get_text()) for text in packed.texts if text.get_gid() == BATCH_SIZE_GID]
    expected = pack_padded_sequence(
        torch.zeros(len(lengths), max(lengths), 1), torch.tensor(lengths),
        batch_first=True, enforce_sorted=False,
    ).batch_sizes.tolist()  # fmt: skip
    assert shown == expected
    # One packed cell per real step; one padded and one mask cell per (b, t).
    cells = [patch for patch in packed.patches if isinstance(patch, Rectangle)]
    assert len(cells) == sum(lengths)
    batch, steps = len(lengths), max(lengths)
    assert len(padded.patches) == len(mask.patches) == batch * steps
    mask_values = [text.get_text() for text in mask.texts if text.get_text() in {"0", "1"}]
    assert mask_values.count("1") == sum(lengths)
    assert mask_values.count("0") == batch * steps - sum(lengths)
    assert_symbols(fig, ["$x_{1}$", f"$x_{{{steps}}}$", "batch_sizes", "length_mask"])


@pytest.mark.parametrize(
    ("lengths", "message"),
    [([], "non-empty 1-D"), ([3, 0], "at least 1"), ([[1, 2]], "non-empty 1-D")],
)
def test_packed_order_rejects_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=message):
        packed_order(lengths)


def test_padding_and_packing_needs_three_axes(figure):
    _, axes = figure(2)
    with pytest.raises(ValueError, match="axes must hold 3 Axes"):
        draw_padding_and_packing(axes, [2, 1])
