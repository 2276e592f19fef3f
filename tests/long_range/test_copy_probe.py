"""rnncore.long_range.copy_probe: the one-symbol probe's batches, model, scores and experiment."""

import numpy as np
import pytest
import torch

from rnncore import long_range
from rnncore.data.tasks import copy_task

TINY = {"steps": 5, "batch_size": 4, "hidden_size": 3, "lr": 1e-2, "validation_size": 8}
K = 3
TINY_PROBE = {**TINY, "num_symbols": K}
CHANCE = np.log(K)


@pytest.fixture(scope="module")
def tiny_probe_runs():
    return long_range.run_copy_probe_experiment(("rnn", "lstm", "gru"), (3, 6), **TINY_PROBE)


def test_run_copy_probe_experiment_returns_every_cell_and_length(tiny_probe_runs):
    assert set(tiny_probe_runs) == {(c, T) for c in ("rnn", "lstm", "gru") for T in (3, 6)}
    for run in tiny_probe_runs.values():
        assert run["loss"].shape == (TINY["steps"],)
        assert np.all(np.isfinite(run["loss"]))
        assert np.isfinite(run["validation_cross_entropy"]) and run["validation_cross_entropy"] > 0
        assert 0 <= run["validation_accuracy"] <= 1
        assert run["seconds"] >= 0


def test_run_copy_probe_experiment_is_reproducible(tiny_probe_runs):
    again = long_range.run_copy_probe_experiment(("lstm",), (6,), **TINY_PROBE)
    np.testing.assert_array_equal(again["lstm", 6]["loss"], tiny_probe_runs["lstm", 6]["loss"])
    for key in ("validation_cross_entropy", "validation_accuracy"):
        assert again["lstm", 6][key] == tiny_probe_runs["lstm", 6][key]
    other_seed = long_range.run_copy_probe_experiment(("lstm",), (6,), **TINY_PROBE, seed=1)
    assert not np.array_equal(other_seed["lstm", 6]["loss"], tiny_probe_runs["lstm", 6]["loss"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cells": ("vanilla",)}, "cell must be one of"),
        ({"lengths": ()}, "must not be empty"),
        ({"lengths": (2,)}, "every length must be at least 3"),
        ({"num_symbols": 1}, "num_symbols must be at least 2"),
        ({"num_symbols": 2.0}, "num_symbols must be a positive integer"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"validation_size": 0}, "validation_size must be a positive integer"),
        ({"lr": -1.0}, "lr must be positive"),
    ],
)
def test_run_copy_probe_experiment_rejects_bad_arguments(arguments, message):
    settings = {"cells": ("rnn",), "lengths": (4,), **TINY_PROBE, **arguments}
    with pytest.raises(ValueError, match=message):
        long_range.run_copy_probe_experiment(**settings)


def test_copy_probe_batches_are_the_copy_task_with_one_symbol():
    T = 6
    batches = long_range.copy_probe_batches(T, K, 5, np.random.default_rng(2))
    x, y = next(batches)
    assert x.shape == (5, T, K + 2) and y.shape == (5,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    expected_x, targets = copy_task(5, 1, T - 2, K, np.random.default_rng(2), dtype=np.float32)
    np.testing.assert_array_equal(x.numpy(), expected_x)
    np.testing.assert_array_equal(y.numpy(), targets[:, -1])
    np.testing.assert_array_equal(y.numpy(), x[:, 0].argmax(dim=1).numpy())  # read at step 0
    assert torch.all(x[:, T - 2, K + 1] == 1)  # the go marker just before the answer
    assert torch.all(x[:, 1 : T - 2, K] == 1)  # blanks in between
    x_next, _ = next(batches)
    assert not torch.equal(x_next, x)


def test_copy_probe_batches_reject_bad_sizes():
    with pytest.raises(ValueError, match="length must be at least 3"):
        next(long_range.copy_probe_batches(2, K, 4, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="num_symbols must be at least 2"):
        next(long_range.copy_probe_batches(5, 1, 4, np.random.default_rng(0)))


def test_cross_entropy_is_the_mean_negative_log_probability():
    torch.manual_seed(0)
    model = long_range.build_copy_classifier("rnn", 4, K)
    x, y = next(long_range.copy_probe_batches(5, K, 6, np.random.default_rng(0)))
    with torch.no_grad():
        log_probabilities = torch.log_softmax(model(x), dim=1)  # (B, K)
        expected = -float(log_probabilities[torch.arange(6), y].mean())
        assert float(long_range.cross_entropy(model, x, y)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_build_copy_classifier_builds_the_torch_nn_cell(cell):
    model = long_range.build_copy_classifier(cell, 5, K)
    kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    assert type(model.recurrent) is kind
    assert model.recurrent.input_size == K + 2 and model.recurrent.hidden_size == 5
    assert model.output.out_features == K


def test_build_copy_classifier_sets_the_lstm_forget_bias_once():
    H = 4
    model = long_range.build_copy_classifier("lstm", H, K, forget_bias=2.0)
    effective = (model.recurrent.bias_ih_l0 + model.recurrent.bias_hh_l0).detach()  # (4H,)
    np.testing.assert_allclose(effective[H : 2 * H].numpy(), 2.0)
    with pytest.raises(ValueError, match="cell must be one of"):
        long_range.build_copy_classifier("transformer", H, K)


class ReadStepZero(torch.nn.Module):
    """A classifier that names the symbol at step 0 with confidence ``scale``."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return self.scale * x[:, 0, :K]  # (B, K)


def test_copy_probe_validation_scores_a_perfect_and_a_uniform_model():
    perfect = long_range.copy_probe_validation(ReadStepZero(20.0), 7, K, 64)
    assert perfect["validation_accuracy"] == 1.0
    assert perfect["validation_cross_entropy"] < 1e-6
    uniform = long_range.copy_probe_validation(ReadStepZero(0.0), 7, K, 64)
    assert uniform["validation_cross_entropy"] == pytest.approx(CHANCE)
    assert uniform["validation_accuracy"] < 1.0  # argmax of equal scores is class 0


def test_copy_probe_validation_uses_the_same_held_out_data_every_time():
    torch.manual_seed(0)
    model = long_range.build_copy_classifier("gru", 3, K)
    first = long_range.copy_probe_validation(model, 5, K, 32)
    assert long_range.copy_probe_validation(model, 5, K, 32) == first
    assert long_range.copy_probe_validation(model, 6, K, 32) != first
    with pytest.raises(ValueError, match="size must be a positive integer"):
        long_range.copy_probe_validation(model, 5, K, 0)


def test_copy_probe_measure_judges_cross_entropy_against_log_k():
    measure = long_range.copy_probe_measure(4)
    assert measure.key == "validation_cross_entropy"
    assert measure.baseline == pytest.approx(np.log(4))
    assert long_range.verdict(0.05 * np.log(4), measure.baseline) == "learned the task"
    assert long_range.verdict(0.95 * np.log(4), measure.baseline) == "stayed near the baseline"
    with pytest.raises(ValueError, match="num_symbols"):
        long_range.copy_probe_measure(1)
