"""Tests of rnncore.sentiment_figures: the numbers behind the sentiment chapter's figures,
checked on tiny hand-made inputs, and the figures drawn without error."""

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from rnncore.data.sentiment import NEGATIONS, TEMPLATES, VERBS  # noqa: E402
from rnncore.sentiment_figures import (  # noqa: E402
    CONNECTIVE_WORDS,
    NEGATION_WORDS,
    accuracy_by_length,
    fraction_by_kind,
    kind_masks,
    pick_examples,
    plot_accuracy_by_construction,
    plot_accuracy_by_length,
    plot_saliency_row,
    saliency_figure,
    share_by_kind,
    word_share_table,
)

KINDS = {"polarity": {"good", "bad"}, "negation": {"not"}}


@dataclass
class Example:
    text: str
    construction: str

    @property
    def length(self):
        return len(self.text.split())


@pytest.fixture
def ax():
    figure, axes = plt.subplots()
    yield axes
    plt.close(figure)


def test_accuracy_by_length_bins_and_drops_small_bins():
    lengths = [2, 3, 3, 5, 6, 9]
    correct = {"a": [True, False, True, True, True, False], "b": [False] * 6}
    centres, accuracies = accuracy_by_length(lengths, correct, edges=[2, 4, 7, 10], min_count=2)
    # [2, 4) holds 2, 3, 3; [4, 7) holds 5, 6; [7, 10) holds only 9: dropped.
    assert centres == [2.5, 5.0]
    assert accuracies == {"a": [pytest.approx(2 / 3), 1.0], "b": [0.0, 0.0]}


def test_accuracy_by_length_upper_edge_is_excluded():
    centres, accuracies = accuracy_by_length([4, 4], {"a": [True, False]}, [2, 4, 6], min_count=1)
    assert centres == [4.5] and accuracies == {"a": [0.5]}


def test_accuracy_by_length_rejects_bad_input():
    with pytest.raises(ValueError, match="correct\\['a'\\]"):
        accuracy_by_length([1, 2], {"a": [True]}, [0, 5])
    with pytest.raises(ValueError, match="edges"):
        accuracy_by_length([1, 2], {"a": [True, True]}, [5, 0])


def test_pick_examples_takes_short_unused_examples_in_order():
    examples = [
        Example("a b c d e", "contrast"),  # too long
        Example("x not good", "negated"),
        Example("a but b", "contrast"),
        Example("c but d", "contrast"),
    ]
    picked = pick_examples(examples, ["contrast", "negated", "contrast"], max_length=3)
    assert [e.text for e in picked] == ["a but b", "x not good", "c but d"]
    with pytest.raises(ValueError, match="'contrast'"):
        pick_examples(examples, ["contrast"] * 3, max_length=3)


def test_kind_masks_marks_words_and_leaves_padding_false():
    masks = kind_masks([("not", "good"), ("bad",)], KINDS, steps=3)
    np.testing.assert_array_equal(masks["polarity"], [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(masks["negation"], [[1, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="steps"):
        kind_masks([("a", "b", "c")], KINDS, steps=2)


def test_share_by_kind_is_the_mean_of_each_sentences_share():
    tokens = [("not", "good", "film"), ("bad", "film")]
    weights = np.array([[1.0, 2.0, 1.0], [3.0, 1.0, 100.0]])  # the 100 is padding
    shares = share_by_kind(weights, tokens, KINDS)
    # Sentence 0: polarity 2/4, negation 1/4; sentence 1: polarity 3/104 (padding counts in
    # the total only if the caller leaves it nonzero: saliency is zero there).
    assert shares["polarity"] == pytest.approx((2 / 4 + 3 / 104) / 2)
    assert shares["negation"] == pytest.approx((1 / 4 + 0) / 2)
    raw = share_by_kind(weights, tokens, KINDS, normalise=False)
    assert raw["polarity"] == pytest.approx((2 + 3) / 2)


def test_share_by_kind_rejects_bad_weights():
    with pytest.raises(ValueError, match="shape"):
        share_by_kind(np.ones(3), [("good",)], KINDS)
    with pytest.raises(ValueError, match="non-negative"):
        share_by_kind(-np.ones((1, 1)), [("good",)], KINDS)


def test_fraction_by_kind_averages_over_sentences():
    fractions = fraction_by_kind([("not", "good", "film", "x"), ("bad",)], KINDS)
    assert fractions == {"polarity": pytest.approx((1 / 4 + 1) / 2), "negation": 1 / 8}


def test_word_share_table_adds_the_rest_as_other_words():
    table = word_share_table({"saliency": {"a": 0.5, "b": 0.25}, "attention": {"a": 0.1, "b": 0}})
    assert list(table.index) == ["saliency", "attention"]
    assert list(table.columns) == ["a", "b", "other words"]
    assert table.loc["saliency", "other words"] == pytest.approx(0.25)
    assert table.loc["attention", "other words"] == pytest.approx(0.9)


def test_function_words_cover_the_grammar():
    verb_forms = set(VERBS) | {"feel", "seem"}
    negation_words = {w for phrases in NEGATIONS.values() for p in phrases for w in p.split()}
    assert negation_words - verb_forms == NEGATION_WORDS
    template_words = {
        word
        for templates in TEMPLATES.values()
        for template in templates
        for word in template.split()
        if not word.startswith("{")
    }
    assert template_words - {"at", "first"} == CONNECTIVE_WORDS


def test_plot_accuracy_by_construction_draws_one_bar_per_model_and_set(ax):
    table = pd.DataFrame(
        [[0.5, 0.9, 1.0], [0.2, 0.4, 0.6]], index=["m1", "m2"], columns=["plain", "negated", "long"]
    )
    assert plot_accuracy_by_construction(ax, table) is ax
    assert len(ax.patches) == 6
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == pytest.approx(sorted(table.to_numpy().ravel()))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["plain", "negated", "long"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["m1", "m2"]


def test_plot_accuracy_by_length_draws_one_line_per_model_and_marks(ax):
    accuracies = {"m1": [0.9, 0.8], "m2": [0.5, 0.6]}
    assert plot_accuracy_by_length(ax, [5.5, 9.5], accuracies, longest_train=8) is ax
    # Two model lines, the longest-training line and the chance line.
    assert len(ax.lines) == 4
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.9, 0.8])
    assert len(ax.texts) == 1
    with pytest.raises(ValueError, match="accuracies\\['m1'\\]"):
        plot_accuracy_by_length(ax, [5.5], accuracies)


def test_plot_saliency_row_draws_image_words_and_weights(ax):
    tokens = ("not", "good")
    assert plot_saliency_row(ax, tokens, [0.5, -1.0, 0.0], [0.3, 0.7, 0.0], "t") is ax
    images = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert len(images) == 1
    np.testing.assert_allclose(images[0].get_array(), [[0.5, -1.0]])  # scaled, padding cut
    assert [t.get_text() for t in ax.texts] == ["not", "0.30", "good", "0.70"]
    assert ax.texts[2].get_color() == "white"  # the strongest word is written on dark
    with pytest.raises(ValueError, match="steps"):
        plot_saliency_row(ax, tokens, [1.0])


def test_saliency_figure_has_one_axes_per_sentence():
    tokens = [("a", "b"), ("c",), ("d", "e")]
    saliency = np.array([[1.0, 0.5], [0.2, 0.0], [-1.0, 1.0]])
    fig = saliency_figure(tokens, saliency, np.full((3, 2), 0.5), ["x", "y", "z"])
    try:
        assert len(fig.axes) == 3
        assert [a.get_title(loc="left") for a in fig.axes] == ["x", "y", "z"]
        assert [len(a.texts) for a in fig.axes] == [4, 2, 4]
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="titles"):
        saliency_figure(tokens, saliency, titles=["x"])
