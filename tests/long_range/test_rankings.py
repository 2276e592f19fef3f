"""rnncore.long_range.rankings: which cell learned furthest, on which task, in words."""

import numpy as np
import pytest

from rnncore import long_range
from rnncore.data.tasks import adding_problem_baseline_mse

BASELINE = adding_problem_baseline_mse()
K = 4
PROBE = long_range.copy_probe_measure(K)


def adding_runs(fractions):
    """{(cell, T): validation MSE as a fraction of 1/6} -> runs."""
    return {
        key: {"loss": np.zeros(3), "validation_mse": f * BASELINE} for key, f in fractions.items()
    }


def probe_runs(fractions, final_loss=None):
    """{(cell, T): cross-entropy as a fraction of log K} -> runs; losses at final_loss."""
    final_loss = final_loss or {}
    return {
        key: {
            "loss": np.full(30, final_loss.get(key[0], 0.1) * PROBE.baseline),
            "validation_cross_entropy": f * PROBE.baseline,
        }
        for key, f in fractions.items()
    }


def grid(by_cell, lengths=(25, 50, 100)):
    """{cell: fractions by length} -> {(cell, T): fraction}."""
    return {
        (cell, T): f for cell, row in by_cell.items() for T, f in zip(lengths, row, strict=True)
    }


GRU_AHEAD = grid({"rnn": (0.9, 0.9, 0.9), "lstm": (0.01, 0.9, 0.9), "gru": (0.01, 0.01, 0.01)})


def test_best_lengths_and_leaders():
    best = long_range.best_lengths(adding_runs(GRU_AHEAD))
    assert best == {"rnn": 0, "lstm": 25, "gru": 100}
    assert list(best) == ["rnn", "lstm", "gru"]
    assert long_range.leaders(best) == (["GRU"], 100)
    assert long_range.leaders({"rnn": 30, "lstm": 30, "gru": 10}) == (["vanilla RNN", "LSTM"], 30)
    assert long_range.leaders({"rnn": 0, "gru": 0}) == (["vanilla RNN", "GRU"], 0)
    with pytest.raises(ValueError, match="best must name at least one cell"):
        long_range.leaders({})
    with pytest.raises(ValueError, match="runs must hold at least one run"):
        long_range.best_lengths({})


def test_leaders_clause():
    assert long_range.leaders_clause(["LSTM", "GRU"], 90, "the probe") == (
        "the LSTM and GRU learned the probe at the longest distance, T = 90"
    )
    assert long_range.leaders_clause(["GRU"], 0, "the probe") == (
        "no cell learned the probe at any length"
    )


def test_adding_sentences_when_the_gru_goes_further():
    sentences = long_range.adding_sentences(adding_runs(GRU_AHEAD))
    assert sentences["summary"] == (
        "With this budget, the vanilla RNN learned the task at no length and did no better than "
        "a constant at T = 25, T = 50 and T = 100; the LSTM learned the task up to T = 25 and did "
        "no better than a constant at T = 50 and T = 100; the GRU learned the task up to T = 100 "
        "and beat the constant predictor at every length"
    )
    assert sentences["comparison"] == "The GRU learned at longer distances than the LSTM"
    assert sentences["gap"].startswith("Both gated cells learned at lengths where the vanilla")


@pytest.mark.parametrize(
    ("rows", "comparison", "gap"),
    [
        (
            {"rnn": (0.01, 0.9, 0.9), "lstm": (0.01, 0.01, 0.9), "gru": (0.01, 0.9, 0.9)},
            "The LSTM learned at longer distances than the GRU",
            "Only the LSTM learned at a length where the vanilla RNN did not",
        ),
        (
            {"rnn": (0.9, 0.9, 0.9), "lstm": (0.01, 0.01, 0.9), "gru": (0.01, 0.01, 0.9)},
            "The GRU and the LSTM stopped learning at the same length",
            "Both gated cells",
        ),
        (
            {"rnn": (0.01, 0.9, 0.9), "lstm": (0.9, 0.9, 0.9), "gru": (0.5, 0.9, 0.9)},
            "Neither the GRU nor the LSTM learned the task at any length",
            "Neither gated cell learned at a length where the vanilla RNN did not",
        ),
        (
            {"rnn": (0.01, 0.9, 0.9), "lstm": (0.01, 0.01, 0.05), "gru": (0.01, 0.01, 0.02)},
            "Both gated cells learned at every length; at T = 100 the GRU reached the lower error "
            f"({0.02 * BASELINE:.4f} against {0.05 * BASELINE:.4f})",
            "Both gated cells",
        ),
    ],
)
def test_adding_sentences_compare_the_gated_cells(rows, comparison, gap):
    sentences = long_range.adding_sentences(adding_runs(grid(rows)))
    assert sentences["comparison"] == comparison
    assert sentences["gap"].startswith(gap)


def test_adding_sentences_need_the_three_cells():
    runs = adding_runs(grid({"lstm": (0.01, 0.01, 0.9), "gru": (0.01, 0.9, 0.9)}))
    with pytest.raises(ValueError, match="rnn, lstm and gru; \\['rnn'\\] missing"):
        long_range.adding_sentences(runs)


def test_probe_sentences_rank_agree_and_find_the_plateau():
    probe = probe_runs(
        grid(
            {"rnn": (0.01, 0.01, 0.9), "lstm": (0.01, 0.9, 0.9), "gru": (0.01, 0.9, 0.9)},
            (10, 30, 90),
        ),
        final_loss={"lstm": 0.95, "gru": 0.95},
    )
    sentences = long_range.probe_sentences(probe, PROBE, adding_runs(GRU_AHEAD))
    assert sentences["summary"].startswith(
        "With this budget, the vanilla RNN learned the task up to T = 30 and did no better than a "
        "uniform guess at T = 90; the LSTM"
    )
    assert sentences["ranking"] == (
        "The vanilla RNN learned the probe at the longest distance, T = 30, while the GRU "
        "learned the adding problem at the longest distance, T = 100"
    )
    assert sentences["agreement"].startswith("The two tasks do not agree")
    assert sentences["plateau"].startswith(
        "At T = 90 the training loss of the LSTM and GRU was still above 80 % of log K"
    )
    assert "each of these runs" in sentences["plateau"]


def test_probe_sentences_when_the_tasks_agree_and_no_run_is_stuck():
    probe = probe_runs(grid({"rnn": (0.9,), "lstm": (0.9,), "gru": (0.01,)}, (10,)))
    adding = adding_runs(grid({"rnn": (0.9,), "lstm": (0.9,), "gru": (0.01,)}, (10,)))
    sentences = long_range.probe_sentences(probe, PROBE, adding)
    assert (
        sentences["agreement"] == "The two tasks agree on which cell carries information furthest"
    )
    assert sentences["plateau"].startswith("At T = 10 every cell's training loss had left")
    nothing = probe_runs(grid({"rnn": (0.9,), "lstm": (0.9,), "gru": (0.9,)}, (10,)))
    sentences = long_range.probe_sentences(nothing, PROBE, adding)
    assert sentences["ranking"].startswith("No cell learned the probe at any length, while the GRU")
    assert sentences["agreement"].startswith("As one of the two tasks was learned by no cell")


def test_probe_sentences_need_the_same_cells():
    probe = probe_runs(grid({"rnn": (0.9,), "gru": (0.01,)}, (10,)))
    adding = adding_runs(grid({"rnn": (0.9,), "lstm": (0.9,), "gru": (0.01,)}, (10,)))
    with pytest.raises(ValueError, match="must hold the same cells"):
        long_range.probe_sentences(probe, PROBE, adding)
