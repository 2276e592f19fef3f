"""rnncore.long_range.trace_story: four traced LSTM runs and the leaders' reruns, in words."""

import numpy as np
import pytest

from rnncore import long_range

K = 4
PROBE = long_range.copy_probe_measure(K)
SMALL, LARGE = 1e-3, 1e-2


def fake_trace(learned, spread, cell_spread=(0.1, 0.1, 0.1), cell_size=(1.0, 1.0, 1.0)):
    """A trace measured at updates 0, 20 and 40."""
    return {
        "updates": np.array([0, 20, 40]),
        "spread": np.array(spread),
        "cell_spread": np.array(cell_spread),
        "cell_size": np.array(cell_size),
        "validation_cross_entropy": (0.01 if learned else 0.99) * PROBE.baseline,
        "validation_accuracy": 1.0 if learned else 0.25,
    }


def the_pattern():
    """The runs of the story: only forget bias 3 with the smaller step learns."""
    return {
        (1.0, LARGE): fake_trace(False, (7e-9, 7e-9, 7e-9)),
        (1.0, SMALL): fake_trace(False, (7e-9, 7e-9, 7e-9)),
        (3.0, LARGE): fake_trace(False, (8e-3, 2e-4, 5e-7), (1e-2, 5e-3, 3e-3), (2.2, 4.0, 7.3)),
        (3.0, SMALL): fake_trace(True, (8e-3, 0.1, 0.7), (1e-2, 1.0, 5.6), (2.2, 3.0, 4.0)),
    }


def test_trace_story_tells_the_pattern_row_by_row():
    traces = the_pattern()
    reruns = {((3.0, SMALL), seed): fake_trace(True, (1, 1, 1)) for seed in (1, 2)}
    story = long_range.trace_story(traces, reruns, PROBE, length=90, seeds=(1, 2))
    assert story.lead == "Only the forget bias of 3 with the smaller step learned the probe"
    assert list(story.rows) == list(traces)
    assert story.rows[1.0, LARGE].startswith(
        "the untrained LSTM's last state held s_h = 7e-09 of the symbol, at the level of "
        "rounding: after 89 steps"
    )
    assert story.rows[1.0, SMALL].startswith("a smaller step changed nothing")
    failed = story.rows[3.0, LARGE]
    assert "started with s_h = 8e-03" in failed
    assert "s_h fell below a hundredth of its start within 40 updates and ended at 5e-07" in failed
    assert "s_c = 3e-03" in failed
    assert "Within 40 updates the cell had grown from a mean |c| of 2.2 to 7.3" in failed
    assert f"tanh'(c) = {1 - np.tanh(7.3) ** 2:.0e}" in failed
    kept = story.rows[3.0, SMALL]
    assert "to s_h = 0.7" in kept and "(s_c = 5.6)" in kept
    assert kept.endswith("the run learned the probe, and so did the reruns with seeds 1 and 2")
    assert story.conclusion.endswith("and neither alone was enough")


def test_trace_story_counts_the_reruns_that_learned():
    reruns = {
        ((3.0, SMALL), 1): fake_trace(True, (1, 1, 1)),
        ((3.0, SMALL), 2): fake_trace(False, (1, 1, 1)),
    }
    story = long_range.trace_story(the_pattern(), reruns, PROBE, length=90, seeds=(1, 2))
    assert story.rows[3.0, SMALL].endswith("and so did 1 of the 2 reruns with other seeds")


def test_trace_story_says_plainly_when_the_runs_break_the_pattern():
    traces = the_pattern()
    traces[1.0, SMALL] = fake_trace(True, (7e-9, 0.2, 0.5), cell_size=(1.0, 1.0, 2.0))
    story = long_range.trace_story(traces, {}, PROBE, length=90, seeds=(1, 2))
    assert story.lead.startswith("On the machine that built this page the four traces did not")
    assert "The runs that learned: forget bias 1, lr 1e-03, forget bias 3, lr 1e-03" in story.lead
    assert story.rows[1.0, SMALL] == (
        "s_h went from 7e-09 to 5e-01 and the mean |c| ended at 2.0; the run learned the task"
    )
    assert story.rows[1.0, LARGE].endswith("the run stayed near the baseline")
    assert story.conclusion.startswith("The figure shows, for each setting")


def test_trace_story_rejects_another_layout():
    traces = the_pattern()
    del traces[1.0, SMALL]
    with pytest.raises(ValueError, match="every \\(forget_bias, lr\\) of two forget biases"):
        long_range.trace_story(traces, {}, PROBE, length=90, seeds=(1,))
    traces = the_pattern()
    del traces[3.0, LARGE]["cell_spread"]
    with pytest.raises(ValueError, match="lacks \\['cell_spread'\\]"):
        long_range.trace_story(traces, {}, PROBE, length=90, seeds=(1,))


def test_setting_label():
    assert long_range.setting_label(3.0, 1e-3) == "forget bias 3, lr 1e-03"


def test_rerun_sentence():
    learned = fake_trace(True, (1, 1, 1))
    assert long_range.rerun_sentence({"rnn": learned}, PROBE, length=30, seed=1) == (
        "The table's longest distance belonged to the vanilla RNN at T = 30. Rerun with seed 1 "
        "and nothing else changed, the vanilla RNN learned the task (accuracy 100.0 %)"
    )
    mixed = long_range.rerun_sentence(
        {"lstm": learned, "gru": fake_trace(False, (1, 1, 1))}, PROBE, length=90, seed=1
    )
    assert mixed.startswith("The table's longest distance belonged to the LSTM and GRU at T = 90")
    assert "the GRU stayed near the baseline (accuracy 25.0 %)" in mixed
    assert "run several seeds per entry" in mixed
    assert long_range.rerun_sentence({}, PROBE, length=90, seed=1).startswith("No cell learned")
