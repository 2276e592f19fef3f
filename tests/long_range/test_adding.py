"""rnncore.long_range.adding: the adding problem's batches, model, held-out error and experiment."""

import numpy as np
import pytest
import torch

from rnncore import long_range
from rnncore.data.tasks import adding_problem

TINY = {"steps": 5, "batch_size": 4, "hidden_size": 3, "lr": 1e-2, "validation_size": 8}


@pytest.fixture(scope="module")
def tiny_runs():
    return long_range.run_adding_experiment(("rnn", "lstm", "gru"), (5, 6), **TINY)


# --- the experiment ---------------------------------------------------------------------------


def test_run_adding_experiment_returns_every_cell_and_length(tiny_runs):
    assert set(tiny_runs) == {(cell, T) for cell in ("rnn", "lstm", "gru") for T in (5, 6)}
    for run in tiny_runs.values():
        assert run["loss"].shape == (TINY["steps"],)
        assert np.all(np.isfinite(run["loss"]))
        assert np.isfinite(run["validation_mse"]) and run["validation_mse"] >= 0
        assert run["seconds"] >= 0


def test_run_adding_experiment_is_reproducible(tiny_runs):
    again = long_range.run_adding_experiment(("gru",), (6,), **TINY)
    np.testing.assert_array_equal(again["gru", 6]["loss"], tiny_runs["gru", 6]["loss"])
    assert again["gru", 6]["validation_mse"] == tiny_runs["gru", 6]["validation_mse"]
    other_seed = long_range.run_adding_experiment(("gru",), (6,), **TINY, seed=1)
    assert not np.array_equal(other_seed["gru", 6]["loss"], tiny_runs["gru", 6]["loss"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cells": ("vanilla",)}, "cell must be one of"),
        ({"cells": ()}, "must not be empty"),
        ({"lengths": (1,)}, "at least 2"),
        ({"lengths": (0,)}, "length must be a positive integer"),
        ({"steps": 0}, "steps must be a positive integer"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"lr": 0.0}, "lr must be positive"),
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
    ],
)
def test_run_adding_experiment_rejects_bad_arguments(arguments, message):
    settings = {"cells": ("rnn",), "lengths": (5,), **TINY, **arguments}
    with pytest.raises(ValueError, match=message):
        long_range.run_adding_experiment(**settings)


# --- its parts --------------------------------------------------------------------------------


def test_adding_batches_are_float32_tensors_of_the_adding_problem():
    batches = long_range.adding_batches(7, 3, np.random.default_rng(5))
    x, y = next(batches)
    assert x.shape == (3, 7, 2) and y.shape == (3, 1)
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    expected_x, expected_y = adding_problem(3, 7, np.random.default_rng(5), dtype=np.float32)
    np.testing.assert_array_equal(x.numpy(), expected_x)
    np.testing.assert_array_equal(y.numpy(), expected_y)
    x_next, _ = next(batches)
    assert not torch.equal(x_next, x)  # fresh data at every step


def test_mse_is_the_mean_squared_error_of_the_prediction():
    torch.manual_seed(0)
    model = long_range.build_regressor("gru", 3)
    x, y = next(long_range.adding_batches(5, 4, np.random.default_rng(0)))
    with torch.no_grad():
        prediction, _ = model(x)  # (B, 1)
        expected = float(((prediction - y) ** 2).mean())
        assert float(long_range.mse(model, x, y)) == pytest.approx(expected)


@pytest.mark.parametrize("forget_bias", [1.0, 2.5])
def test_build_regressor_sets_the_lstm_forget_bias_once(forget_bias):
    H = 4
    model = long_range.build_regressor("lstm", H, forget_bias)
    bias_ih = model.recurrent.bias_ih_l0.detach()
    bias_hh = model.recurrent.bias_hh_l0.detach()
    effective = (bias_ih + bias_hh)[H : 2 * H]  # block f of i, f, g, o
    np.testing.assert_allclose(effective.numpy(), forget_bias)
    assert not torch.all((bias_ih + bias_hh)[:H] == forget_bias)  # the i block is untouched


def test_build_regressor_keeps_the_drawn_bias_without_forget_bias():
    H = 4
    torch.manual_seed(0)
    model = long_range.build_regressor("lstm", H, forget_bias=None)
    effective = (model.recurrent.bias_ih_l0 + model.recurrent.bias_hh_l0)[H : 2 * H]
    assert not torch.allclose(effective, torch.ones(H))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_build_regressor_builds_the_torch_nn_cell(cell):
    model = long_range.build_regressor(cell, 3)
    kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    assert type(model.recurrent) is kind
    assert model.recurrent.input_size == 2 and model.recurrent.hidden_size == 3


def test_build_regressor_rejects_an_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        long_range.build_regressor("transformer", 3)


def test_validation_mse_uses_the_same_held_out_data_every_time():
    torch.manual_seed(0)
    model = long_range.build_regressor("rnn", 3)
    first = long_range.validation_mse(model, 5, 16)
    assert long_range.validation_mse(model, 5, 16) == first
    assert long_range.validation_mse(model, 6, 16) != first
    with pytest.raises(ValueError, match="size must be a positive integer"):
        long_range.validation_mse(model, 5, 0)
