"""rnncore.memory_trace: the probe's K sequences, the spread of the last state, the traced run."""

import numpy as np
import pytest
import torch

from rnncore.data.tasks import copy_task
from rnncore.long_range import build_copy_classifier, run_copy_probe_experiment
from rnncore.memory_trace import every_symbol, final_state_measures, trace_copy_probe

K, T = 3, 7
TINY = {"num_symbols": K, "steps": 7, "batch_size": 4, "hidden_size": 5, "lr": 1e-2}


def test_every_symbol_holds_each_symbol_once_in_the_copy_task_layout():
    x = every_symbol(T, K)
    assert x.shape == (K, T, K + 2) and x.dtype == torch.float32
    ids = x.argmax(dim=2)  # (K, T)
    assert torch.equal(x.sum(dim=2), torch.ones(K, T))  # one-hot
    assert ids[:, 0].tolist() == list(range(K))
    assert (ids[:, 1:] == ids[0, 1:]).all()  # the same after step 0
    drawn, _ = copy_task(5, 1, T - 2, K, np.random.default_rng(3), one_hot=False)  # (5, T)
    assert ids[0, 1:].tolist() == drawn[0, 1:].tolist()  # blanks, go at T - 2, blank at T - 1
    assert ids[0, T - 2] == K + 1 and ids[0, 1] == K


@pytest.mark.parametrize(("length", "symbols"), [(2, K), (T, 1), (7.0, K)])
def test_every_symbol_rejects_impossible_sizes(length, symbols):
    with pytest.raises(ValueError, match="length|num_symbols"):
        every_symbol(length, symbols)


def by_hand(model, length):
    """The last hidden and cell states of the K sequences, step by step with torch.nn."""
    with torch.no_grad():
        output, state = model.recurrent(every_symbol(length, K))
    return output[:, -1].double(), state


def rms_spread(states):
    deviations = states - states.mean(dim=0, keepdim=True)  # (K, H)
    return float(torch.sqrt((deviations**2).sum() / deviations.numel()))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_final_state_measures_follow_their_definitions(cell):
    torch.manual_seed(0)
    model = build_copy_classifier(cell, 5, K, forget_bias=3.0)
    model.train()
    measures = final_state_measures(model, T, K)
    assert model.training  # the mode is given back
    last_h, state = by_hand(model, T)
    assert measures["spread"] == pytest.approx(rms_spread(last_h), rel=1e-12)
    if cell == "lstm":
        cell_state = state[1][0].double()  # (K, H)
        assert measures["cell_spread"] == pytest.approx(rms_spread(cell_state), rel=1e-12)
        assert measures["cell_size"] == pytest.approx(float(cell_state.abs().mean()), rel=1e-12)
        assert measures["spread"] > 0 and measures["cell_size"] > 0
    else:
        assert set(measures) == {"spread"}


def test_the_spread_is_zero_when_the_symbol_cannot_reach_the_state():
    torch.manual_seed(0)
    model = build_copy_classifier("lstm", 5, K)
    with torch.no_grad():
        model.recurrent.weight_ih_l0[:, :K] = 0  # the symbol's one-hot columns
    measures = final_state_measures(model, T, K)
    assert measures["spread"] == 0 and measures["cell_spread"] == 0


def test_final_state_measures_reject_a_model_of_another_shape():
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="K \\+ 2 = 5 features, got input_size=6"):
        final_state_measures(build_copy_classifier("gru", 4, K + 1), T, K)


def test_a_traced_run_is_the_run_of_the_probe_experiment():
    """Training in pieces, with measurements between them, gives exactly the same run."""
    for every in (3, 7, 50):
        trace = trace_copy_probe("lstm", T, every=every, forget_bias=3.0, seed=2, **TINY)
        run = run_copy_probe_experiment(("lstm",), (T,), forget_bias=3.0, seed=2, **TINY)
        np.testing.assert_array_equal(trace["loss"], run["lstm", T]["loss"])
        assert trace["validation_accuracy"] == run["lstm", T]["validation_accuracy"]
        expected_updates = sorted({*range(0, TINY["steps"], every), TINY["steps"]})
        assert trace["updates"].tolist() == expected_updates
        for key in ("spread", "cell_spread", "cell_size"):
            assert trace[key].shape == trace["updates"].shape


def test_a_trace_starts_from_the_untrained_model_and_ends_at_the_trained_one():
    trace = trace_copy_probe("gru", T, every=4, seed=1, **TINY)
    torch.manual_seed(1)
    untrained = build_copy_classifier("gru", TINY["hidden_size"], K)
    assert trace["spread"][0] == final_state_measures(untrained, T, K)["spread"]
    assert trace["spread"][-1] != trace["spread"][0]  # training moved the weights
    assert set(trace) == {
        "updates",
        "spread",
        "loss",
        "validation_cross_entropy",
        "validation_accuracy",
        "seconds",
    }


@pytest.mark.parametrize(("name", "value"), [("every", 0), ("steps", 2.5), ("every", True)])
def test_trace_copy_probe_rejects_bad_counts(name, value):
    arguments = {**TINY, "every": 3, name: value}
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        trace_copy_probe("rnn", T, **arguments)
