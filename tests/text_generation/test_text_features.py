"""Per-character features of a text and their correlation with hidden units."""

import numpy as np
import pytest

from rnncore.text_features import FEATURE_NAMES, feature_correlations, text_features


def as_ints(text, name):
    return text_features(text)[name].astype(int).tolist()


def test_quotes_toggle_and_close_at_a_newline():
    assert as_ints('a"bc"d', "inside quotes") == [0, 1, 1, 1, 0, 0]
    # An unclosed quote ends with its line.
    assert as_ints('"ab\ncd', "inside quotes") == [1, 1, 1, 0, 0, 0]
    # Other characters never toggle it.
    assert as_ints("it's (x)", "inside quotes") == [0] * 8


def test_brackets_nest_never_go_negative_and_end_at_a_blank_line():
    assert as_ints("f(a[b])c", "inside brackets") == [0, 1, 1, 1, 1, 1, 0, 0]
    assert as_ints("1) x (y", "inside brackets") == [0, 0, 0, 0, 0, 1, 1]
    assert as_ints("(a\nb\n\nc", "inside brackets") == [1, 1, 1, 1, 1, 0, 0]


def test_position_in_line_counts_from_the_last_newline():
    assert as_ints("ab\ncde\n\nf", "position in line") == [1, 2, 0, 1, 2, 3, 0, 0, 1]


def test_features_have_one_value_per_character_in_a_fixed_order():
    features = text_features('some text (with) "quotes"\n')
    assert tuple(features) == FEATURE_NAMES
    assert all(values.shape == (26,) for values in features.values())
    with pytest.raises(ValueError, match="text"):
        text_features(["a"])


def test_correlations_match_numpy_corrcoef():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 3))
    hidden = features @ rng.normal(size=(3, 5)) + rng.normal(size=(200, 5))
    expected = np.corrcoef(features.T, hidden.T)[:3, 3:]  # (F, H)
    np.testing.assert_allclose(feature_correlations(hidden, features), expected, atol=1e-12)


def test_a_unit_equal_to_a_feature_correlates_one_and_constants_zero():
    features = np.stack(list(text_features('x = "a" (b) "cd"\n' * 5).values()), axis=1)
    hidden = np.stack([features[:, 0], -3 * features[:, 2] + 1, np.ones(len(features))], axis=1)
    correlations = feature_correlations(hidden, features)
    assert correlations.shape == (3, 3)
    assert correlations[0, 0] == pytest.approx(1.0)
    assert correlations[2, 1] == pytest.approx(-1.0)
    assert (correlations[:, 2] == 0).all()  # a dead unit


def test_correlations_refuse_mismatched_rows():
    with pytest.raises(ValueError, match="same N"):
        feature_correlations(np.zeros((4, 2)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"\(N, H\)"):
        feature_correlations(np.zeros(4), np.zeros((4, 1)))
