"""rnncore.long_range.verdicts: held-out losses in words, and the clauses built from them."""

import numpy as np
import pytest

from rnncore import long_range
from rnncore.data.tasks import adding_problem_baseline_mse

BASELINE = adding_problem_baseline_mse()
K = 3
CHANCE = np.log(K)


def fake_runs(values):
    """runs as run_adding_experiment returns them, from {(cell, T): validation MSE}."""
    return {key: {"loss": np.zeros(3), "validation_mse": mse} for key, mse in values.items()}


# --- verdicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (0.0, "learned the task"),
        (0.099, "learned the task"),
        (0.1, "learned part of the task"),
        (0.5, "learned part of the task"),
        (0.8, "learned part of the task"),
        (0.81, "stayed near the baseline"),
        (1.2, "stayed near the baseline"),
        (1.21, "did worse than the baseline"),
    ],
)
def test_verdict_thresholds(fraction, expected):
    assert long_range.verdict(fraction * BASELINE) == expected
    assert long_range.verdict(fraction * 2.0, baseline=2.0) == expected


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_verdict_rejects_impossible_errors(bad):
    with pytest.raises(ValueError, match="loss must be a finite number"):
        long_range.verdict(bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_verdict_rejects_impossible_baselines(bad):
    with pytest.raises(ValueError, match="baseline must be a finite number > 0"):
        long_range.verdict(0.1, baseline=bad)


def test_longest_learned_and_cell_summary():
    runs = fake_runs(
        {
            ("rnn", 10): 0.01 * BASELINE,
            ("rnn", 25): 0.5 * BASELINE,
            ("rnn", 50): 0.9 * BASELINE,
            ("rnn", 100): 1.5 * BASELINE,
            ("gru", 10): 0.01 * BASELINE,
            ("gru", 25): 0.01 * BASELINE,
            ("gru", 50): 0.3 * BASELINE,
            ("gru", 100): 0.05 * BASELINE,
            ("lstm", 10): 0.5 * BASELINE,
        }
    )
    assert long_range.longest_learned(runs, "rnn") == 10
    assert long_range.longest_learned(runs, "gru") == 100
    assert long_range.longest_learned(runs, "lstm") is None
    assert long_range.cell_summary(runs, "rnn", "vanilla RNN") == (
        "the vanilla RNN learned the task up to T = 10 and did no better than a constant "
        "at T = 50 and T = 100"
    )
    assert long_range.cell_summary(runs, "gru", "GRU") == (
        "the GRU learned the task up to T = 100 and beat the constant predictor at every length"
    )
    assert long_range.cell_summary(runs, "lstm", "LSTM") == (
        "the LSTM learned the task at no length and beat the constant predictor at every length"
    )


def test_longest_learned_names_a_missing_cell():
    runs = fake_runs({("rnn", 10): 0.0})
    with pytest.raises(ValueError, match="no run of cell 'gru'; it has \\['rnn'\\]"):
        long_range.longest_learned(runs, "gru")


def fake_probe_runs(values):
    """Copy-probe runs from {(cell, T): validation cross-entropy as a fraction of log K}."""
    return {
        key: {"loss": np.zeros(3), "validation_cross_entropy": fraction * CHANCE}
        for key, fraction in values.items()
    }


def test_probe_summaries_follow_the_numbers():
    measure = long_range.copy_probe_measure(K)
    runs = fake_probe_runs({("rnn", 10): 0.01, ("rnn", 30): 0.95, ("gru", 10): 0.5})
    assert long_range.longest_learned(runs, "rnn", measure) == 10
    assert long_range.cell_summary(runs, "rnn", "vanilla RNN", measure) == (
        "the vanilla RNN learned the task up to T = 10 and did no better than a uniform guess "
        "at T = 30"
    )
    assert long_range.cell_summary(runs, "gru", "GRU", measure) == (
        "the GRU learned the task at no length and beat a uniform guess at every length"
    )
    runs["rnn", 30]["validation_cross_entropy"] = 0.05 * CHANCE  # now it learned at 30 too
    assert long_range.longest_learned(runs, "rnn", measure) == 30
    assert long_range.cell_summary(runs, "rnn", "vanilla RNN", measure) == (
        "the vanilla RNN learned the task up to T = 30 and beat a uniform guess at every length"
    )
    # the adding problem's measure reads another key: these runs do not have it
    with pytest.raises(KeyError, match="validation_mse"):
        long_range.longest_learned(runs, "rnn")


# --- clauses ----------------------------------------------------------------------------------


def test_join_words_lists_as_prose_does():
    assert long_range.join_words(["a"]) == "a"
    assert long_range.join_words(["a", "b"]) == "a and b"
    assert long_range.join_words(("a", "b", "c")) == "a, b and c"
    with pytest.raises(ValueError, match="non-empty sequence of str"):
        long_range.join_words([])
    with pytest.raises(ValueError, match="non-empty sequence of str"):
        long_range.join_words([1, 2])


def test_verdicts_by_length_is_in_increasing_length():
    runs = fake_runs({("rnn", 50): 0.9 * BASELINE, ("rnn", 10): 0.0, ("gru", 10): 1.5 * BASELINE})
    assert long_range.verdicts_by_length(runs, "rnn") == {
        10: "learned the task",
        50: "stayed near the baseline",
    }
    assert list(long_range.verdicts_by_length(runs, "rnn")) == [10, 50]
    assert long_range.verdicts_by_length(runs, "gru") == {10: "did worse than the baseline"}


def summary_of(fractions):
    return long_range.lengths_summary({T: f * BASELINE for T, f in fractions.items()}, BASELINE)


def test_lengths_summary_names_where_the_network_stopped_learning():
    assert summary_of({10: 0.01, 25: 0.5, 50: 0.5, 100: 0.9}) == (
        "Within this budget the network learned the task at T = 10, learned part of the task "
        "at T = 25 and T = 50 and stayed near the baseline at T = 100. From T = 100 on, the same "
        "network, optimiser and budget do no better than a constant"
    )
    # a run worse than the baseline failed too: it is grouped with the ones near it
    assert summary_of({10: 0.01, 50: 0.9, 100: 1.5}) == (
        "Within this budget the network learned the task at T = 10 and stayed near the baseline "
        "at T = 50 and T = 100. From T = 50 on, the same network, optimiser and budget do no "
        "better than a constant"
    )


def test_lengths_summary_says_when_the_run_shows_no_failure_or_nothing_else():
    assert summary_of({10: 0.01, 25: 0.5}) == (
        "Within this budget the network learned the task at T = 10 and learned part of the task "
        "at T = 25. No length stayed near the baseline in this run: it does not show the "
        "failure, and a smaller budget or longer sequences would"
    )
    assert summary_of({10: 0.9, 25: 1.5}) == (
        "Within this budget the network stayed near the baseline at T = 10 and T = 25. It "
        "learned nothing at any length: the budget is too small for this network"
    )
    # a failure before a success: no "from T on" sentence, whatever the order of the dict
    assert summary_of({50: 0.01, 10: 0.9}) == (
        "Within this budget the network learned the task at T = 50 and stayed near the baseline "
        "at T = 10"
    )


def test_lengths_summary_rejects_no_lengths_and_bad_losses():
    with pytest.raises(ValueError, match="at least one length"):
        long_range.lengths_summary({}, BASELINE)
    with pytest.raises(ValueError, match="loss must be a finite number"):
        long_range.lengths_summary({10: float("nan")}, BASELINE)
