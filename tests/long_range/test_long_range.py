"""The long-range experiments of chapters 6 and 7, at tiny sizes: structure, seeding, verdicts."""

import numpy as np
import pytest
import torch

from rnncore import long_range
from rnncore.data.tasks import adding_problem, adding_problem_baseline_mse, copy_task

BASELINE = adding_problem_baseline_mse()
TINY = {"steps": 5, "batch_size": 4, "hidden_size": 3, "lr": 1e-2, "validation_size": 8}


@pytest.fixture(scope="module")
def tiny_runs():
    return long_range.run_adding_experiment(("rnn", "lstm", "gru"), (5, 6), **TINY)


def fake_runs(values):
    """runs as run_adding_experiment returns them, from {(cell, T): validation MSE}."""
    return {key: {"loss": np.zeros(3), "validation_mse": mse} for key, mse in values.items()}


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


def test_smooth_is_a_running_mean():
    np.testing.assert_allclose(long_range.smooth([1, 2, 3, 4, 5], window=2), [1.5, 2.5, 3.5, 4.5])
    assert long_range.smooth(np.ones(60)).shape == (11,)
    with pytest.raises(ValueError, match="values must have shape \\(N,\\) with N >= window = 5"):
        long_range.smooth([1, 2, 3], window=5)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        long_range.smooth([1, 2, 3], window=0)


# --- the shared loop --------------------------------------------------------------------------


def test_run_long_range_experiment_calls_the_task_in_order():
    built, lengths_seen = [], []

    def build_model(cell):
        built.append(cell)
        return torch.nn.Linear(1, 1)

    def batches(length, rng):
        lengths_seen.append(length)
        while True:
            x = torch.from_numpy(rng.normal(size=(4, 1)).astype(np.float32))  # (B, 1)
            yield x, 2 * x

    def loss_fn(model, x, y):
        return ((model(x) - y) ** 2).mean()

    runs = long_range.run_long_range_experiment(
        ("rnn", "gru"),
        (4, 7),
        build_model=build_model,
        batches=batches,
        loss_fn=loss_fn,
        evaluate=lambda model, length: {"length_seen": length},
        steps=3,
        lr=1e-2,
    )
    assert built == ["rnn", "gru", "rnn", "gru"]  # lengths outside, cells inside
    assert lengths_seen == [4, 4, 7, 7]
    assert list(runs) == [("rnn", 4), ("gru", 4), ("rnn", 7), ("gru", 7)]
    for (_, length), run in runs.items():
        assert run["length_seen"] == length
        assert run["loss"].shape == (3,)
        assert run["seconds"] >= 0


def test_run_long_range_experiment_checks_the_minimum_length():
    with pytest.raises(ValueError, match="every length must be at least 5, got \\(4,\\)"):
        long_range.run_long_range_experiment(
            ("rnn",),
            (4,),
            build_model=None,
            batches=None,
            loss_fn=None,
            evaluate=None,
            steps=1,
            lr=1e-2,
            min_length=5,
        )


# --- the one-symbol copy probe ----------------------------------------------------------------

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
