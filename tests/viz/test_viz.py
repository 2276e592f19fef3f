"""Tests of rnncore.viz: each helper draws on the Axes it is given, returns it, and rejects
bad input with a ValueError that names the argument."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from rnncore.viz import (  # noqa: E402
    draw_unrolled_rnn,
    plot_coloured_text,
    plot_gradient_norms,
    plot_hidden_states,
    plot_training_curves,
)


@pytest.fixture
def ax():
    figure, axes = plt.subplots()
    yield axes
    plt.close(figure)


def count_patches(ax, kind):
    return sum(isinstance(patch, kind) for patch in ax.patches)


@pytest.mark.parametrize("steps", [1, 3, 5])
def test_draw_unrolled_rnn_draws_three_boxes_per_step_and_h0(ax, steps):
    returned = draw_unrolled_rnn(ax, steps=steps)
    assert returned is ax
    assert count_patches(ax, FancyBboxPatch) == 3 * steps + 1
    # x -> h and h -> y in every column, h_{t-1} -> h_t between columns and from h_0.
    assert count_patches(ax, FancyArrowPatch) == 3 * steps


def test_draw_unrolled_rnn_without_initial_state_has_one_box_and_arrow_less(ax):
    draw_unrolled_rnn(ax, steps=4, show_initial_state=False)
    assert count_patches(ax, FancyBboxPatch) == 12
    assert count_patches(ax, FancyArrowPatch) == 11


def test_draw_unrolled_rnn_writes_the_given_labels_and_weights(ax):
    draw_unrolled_rnn(ax, steps=3, labels=["1", "2", "T"])
    texts = {text.get_text() for text in ax.texts}
    assert {
        "$x_{T}$",
        "$h_{T}$",
        "$\\hat y_{T}$",
        "$h_{0}$",
        "$W_x$",
        "$W_h$",
        "$W_{out}$",
    } <= texts
    assert "$x_{3}$" not in texts


def test_draw_unrolled_rnn_without_weights_writes_only_the_boxes(ax):
    draw_unrolled_rnn(ax, steps=2, show_weights=False)
    assert len(ax.texts) == 3 * 2 + 1


@pytest.mark.parametrize("labels", [["1", "2"], ["1", "2", "3", "4", "5"]])
def test_draw_unrolled_rnn_rejects_labels_of_the_wrong_length(ax, labels):
    with pytest.raises(ValueError, match="labels must have steps = 4 entries"):
        draw_unrolled_rnn(ax, steps=4, labels=labels)


@pytest.mark.parametrize("steps", [0, -2, 2.5])
def test_draw_unrolled_rnn_rejects_bad_steps(ax, steps):
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        draw_unrolled_rnn(ax, steps=steps)


def test_plot_hidden_states_draws_one_line_per_unit(ax):
    h = np.random.default_rng(0).standard_normal((7, 3))  # (T, H)
    returned = plot_hidden_states(ax, h)
    assert returned is ax
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[1].get_ydata(), h[:, 1])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(1, 8))
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "unit 0",
        "unit 1",
        "unit 2",
    ]


def test_plot_hidden_states_keeps_max_units_and_uses_given_time(ax):
    h = np.zeros((5, 20))  # (T, H)
    time = np.linspace(0.0, 1.0, 5)
    plot_hidden_states(ax, h, time=time, max_units=4)
    assert len(ax.lines) == 4
    np.testing.assert_allclose(ax.lines[0].get_xdata(), time)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"h": np.zeros((2, 5, 3))}, r"h must have 2 axes \(T, H\)"),
        ({"h": np.zeros((5, 3)), "time": np.arange(4)}, r"time must have shape \(T,\) = \(5,\)"),
        ({"h": np.zeros((5, 3)), "unit_labels": ["a", "b"]}, "unit_labels must have one entry"),
        ({"h": np.zeros((5, 3)), "max_units": 0}, "max_units must be at least 1"),
    ],
)
def test_plot_hidden_states_rejects_bad_input(ax, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot_hidden_states(ax, **kwargs)
    assert len(ax.lines) == 0


def test_plot_gradient_norms_draws_one_line_per_label_on_a_log_axis(ax):
    lags = np.arange(1, 11)
    norms = {"tanh": 0.8**lags, "LSTM": 0.99**lags}
    returned = plot_gradient_norms(ax, lags, norms)
    assert returned is ax
    assert len(ax.lines) == 2
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), norms["tanh"])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["tanh", "LSTM"]


def test_plot_gradient_norms_linear_axis(ax):
    plot_gradient_norms(ax, [1, 2, 3], {"a": [3.0, 2.0, 1.0]}, log=False)
    assert ax.get_yscale() == "linear"


@pytest.mark.parametrize(
    ("norms", "message"),
    [
        ({"short": [1.0, 0.5]}, r"norms_by_label\['short'\] must have shape \(K,\) = \(3,\)"),
        ({"negative": [1.0, -0.5, 0.1]}, "holds negative values"),
        ({}, "norms_by_label must hold at least one curve"),
    ],
)
def test_plot_gradient_norms_rejects_bad_input(ax, norms, message):
    with pytest.raises(ValueError, match=message):
        plot_gradient_norms(ax, [1, 2, 3], norms)
    assert len(ax.lines) == 0


def test_plot_gradient_norms_rejects_two_dimensional_lags(ax):
    with pytest.raises(ValueError, match="lags must be 1-D"):
        plot_gradient_norms(ax, np.zeros((3, 1)), {"a": [1.0, 1.0, 1.0]})


def test_plot_training_curves_draws_one_line_per_curve(ax):
    curves = {
        "train": (np.arange(100), np.linspace(2.0, 1.0, 100)),
        "validation": ([0, 50, 99], [2.0, 1.5, 1.2]),
    }
    returned = plot_training_curves(ax, curves, ylabel="loss (nats)")
    assert returned is ax
    assert len(ax.lines) == 2
    assert ax.get_ylabel() == "loss (nats)"
    assert ax.get_xlabel() == "training step"
    assert ax.get_yscale() == "linear"
    np.testing.assert_allclose(ax.lines[1].get_xdata(), [0, 50, 99])
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["train", "validation"]


def test_plot_training_curves_log_axis_and_xlabel(ax):
    plot_training_curves(ax, {"a": ([1, 2], [1.0, 0.1])}, ylabel="loss", xlabel="epoch", log=True)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"


@pytest.mark.parametrize(
    ("curves", "message"),
    [
        ({"train": ([0, 1, 2], [1.0, 0.5])}, "got 3 steps and 2 values"),
        ({"train": ([0, 1], [1.0, 0.5], [0, 0])}, r"must be a pair \(steps, values\)"),
        ({}, "curves must hold at least one curve"),
    ],
)
def test_plot_training_curves_rejects_bad_input(ax, curves, message):
    with pytest.raises(ValueError, match=message):
        plot_training_curves(ax, curves, ylabel="loss")
    assert len(ax.lines) == 0


def test_coloured_text_draws_one_cell_per_character_and_wraps(ax):
    text = "ab\ncdef"
    values = [1.0, -2.0, 0.0, 0.5, 2.0, -1.0, 0.0]
    assert plot_coloured_text(ax, text, values, width=3) is ax
    drawn = [t.get_text() for t in ax.texts]
    assert drawn == ["a", "b", "c", "d", "e", "f"]  # the newline is not drawn
    # Rows: "ab", then "cde" (width 3), then "f".
    positions = [t.get_position() for t in ax.texts]
    assert positions[0] == (0.5, -0.5) and positions[2] == (0.5, -1.5)
    assert positions[5] == (0.5, -2.5)
    assert len(ax.patches) == 6
    # Drawn values: a 1, b -2, c 0.5, d 2, e -1, f 0. The largest |value| (2) takes an end of
    # the colour map, zero its middle.
    colours = [patch.get_facecolor() for patch in ax.patches]
    cmap = plt.cm.RdBu_r
    assert np.allclose(colours[1], cmap(0.0)) and np.allclose(colours[3], cmap(1.0))
    assert np.allclose(colours[4], cmap(0.25)) and np.allclose(colours[5], cmap(0.5))


def test_coloured_text_rejects_mismatched_values(ax):
    with pytest.raises(ValueError, match="one entry per character"):
        plot_coloured_text(ax, "abc", [1.0, 2.0])
    with pytest.raises(ValueError, match="width"):
        plot_coloured_text(ax, "abc", [1.0, 2.0, 3.0], width=0)
