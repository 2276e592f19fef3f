"""Tests of rnncore.forecast: baselines, metrics, pinball loss, recursive and direct forecasts."""

import numpy as np
import pytest
import torch
from torch import nn

from rnncore.forecast import (
    DirectForecaster,
    arima_forecasts,
    fit_ridge_ar,
    free_running_loss,
    holt_winters_forecasts,
    interval_coverage,
    lag_features,
    mae,
    mae_by_horizon,
    mase,
    naive_forecast,
    pinball_loss,
    recursive_forecast,
    seasonal_naive_forecast,
    seasonal_naive_scale,
    targets_at,
    teacher_forcing_loss,
    teacher_forcing_targets,
)

# ---------------------------------------------------------------------------------- baselines


def test_naive_and_seasonal_naive_by_hand():
    values = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(naive_forecast(values, np.array([3, 5]), 2), [[4, 4], [6, 6]])
    # period 3, origin 5 (value 6): steps 6, 7, 8, 9 copy steps 3, 4, 5, then 3 again
    forecast = seasonal_naive_forecast(values, np.array([5]), 4, 3)
    np.testing.assert_array_equal(forecast, [[4, 5, 6, 4]])
    with pytest.raises(ValueError, match="period"):
        seasonal_naive_forecast(values, np.array([1]), 3, 3)


def test_seasonal_naive_is_exact_on_a_periodic_series():
    values = np.tile(np.array([3.0, -1.0, 4.0, 1.0, 5.0]), 8)
    origins = np.arange(5, 30)
    forecast = seasonal_naive_forecast(values, origins, 7, 5)
    np.testing.assert_array_equal(forecast, targets_at(values, origins, 7))


def test_targets_at_reads_after_the_origin():
    values = np.arange(10.0)
    np.testing.assert_array_equal(targets_at(values, np.array([2, 6]), 3), [[3, 4, 5], [7, 8, 9]])
    with pytest.raises(ValueError, match="past the end"):
        targets_at(values, np.array([7]), 3)


def test_ridge_ar_recovers_a_linear_recursion():
    rng = np.random.default_rng(0)
    y = np.zeros(400)
    y[:2] = rng.normal(size=2)
    for t in range(2, 400):  # AR(2): y_t = 1.6 y_{t-1} - 0.8 y_{t-2} + noise
        y[t] = 1.6 * y[t - 1] - 0.8 * y[t - 2] + 0.1 * rng.normal()
    origins = np.arange(1, 398)
    inputs = np.stack([y[origins - 1], y[origins]], axis=1)[:, :, None]  # (K, 2, 1)
    model = fit_ridge_ar(inputs, y[origins + 1][:, None], alpha=1e-6)
    np.testing.assert_allclose(np.ravel(model.coef_), [-0.8, 1.6], atol=0.05)
    assert lag_features(inputs).shape == (397, 2)


def test_classical_models_forecast_a_clean_seasonal_series_well():
    steps = np.arange(240)
    values = 10 + 0.05 * steps + np.sin(2 * np.pi * steps / 12)
    origins = np.array([199, 211])
    truth = targets_at(values, origins, 12)
    holt = holt_winters_forecasts(values, 200, origins, 12, 12, trend="add")
    assert holt.shape == (2, 12) and mae(truth, holt) < 0.05
    ar = arima_forecasts(values, 200, origins, 12, order=(2, 1, 0))
    assert ar.shape == (2, 12) and mae(truth, ar) < mae(truth, naive_forecast(values, origins, 12))


# ------------------------------------------------------------------------------------ metrics


def test_mae_mase_by_hand():
    actual = np.array([[1.0, 2.0], [3.0, 5.0]])
    forecast = np.array([[2.0, 2.0], [1.0, 5.0]])
    assert mae(actual, forecast) == pytest.approx(3.0 / 4)
    np.testing.assert_allclose(mae_by_horizon(actual, forecast), [1.5, 0.0])
    train = np.array([1.0, 2.0, 4.0, 7.0, 7.0])
    # period 2: |4-1|, |7-2|, |7-4| -> mean 11/3
    assert seasonal_naive_scale(train, 2) == pytest.approx(11 / 3)
    assert mase(actual, forecast, train, 2) == pytest.approx(0.75 / (11 / 3))
    with pytest.raises(ValueError, match="shape"):
        mae(actual, forecast[:1])


def test_mase_of_the_seasonal_naive_in_sample_is_one():
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(size=60))
    origins = np.arange(4, 59)
    forecast = seasonal_naive_forecast(values, origins, 1, 5)
    assert mase(targets_at(values, origins, 1), forecast, values, 5) == pytest.approx(1.0)


# ---------------------------------------------------------------------- pinball and coverage


def test_pinball_loss_against_its_definition():
    rng = np.random.default_rng(2)
    predictions = rng.normal(size=(4, 3, 2))
    targets = rng.normal(size=(4, 3))
    taus = [0.1, 0.8]
    expected = np.mean(
        [
            max(
                tau * (targets[i, j] - predictions[i, j, q]),
                (tau - 1) * (targets[i, j] - predictions[i, j, q]),
            )
            for i in range(4)
            for j in range(3)
            for q, tau in enumerate(taus)
        ]
    )
    loss = pinball_loss(torch.tensor(predictions), torch.tensor(targets), taus)
    assert float(loss) == pytest.approx(expected)


def test_pinball_loss_is_smallest_at_the_empirical_quantile():
    rng = np.random.default_rng(3)
    sample = torch.tensor(rng.exponential(size=2001))
    candidates = torch.linspace(0.0, 4.0, 801, dtype=torch.float64)
    losses = [float(pinball_loss(c.expand(2001, 1), sample, [0.9])) for c in candidates]
    best = float(candidates[int(np.argmin(losses))])
    assert best == pytest.approx(float(np.quantile(sample.numpy(), 0.9)), abs=0.01)


def test_pinball_loss_rejects_mismatched_quantiles():
    with pytest.raises(ValueError, match="quantiles"):
        pinball_loss(torch.zeros(3, 2), torch.zeros(3), [0.5])
    with pytest.raises(ValueError, match="quantiles"):
        pinball_loss(torch.zeros(3, 1), torch.zeros(3), [1.5])
    with pytest.raises(ValueError, match="targets"):
        pinball_loss(torch.zeros(3, 1), torch.zeros(4), [0.5])


def test_interval_coverage_by_hand():
    actual = np.array([0.0, 1.0, 2.0, 3.0])
    assert interval_coverage(actual, np.full(4, 0.5), np.full(4, 2.0)) == 0.5


# ----------------------------------------------------------------- recursive and direct models


class AddOne(nn.Module):
    """A one-step 'model' whose forecast is known: the next value is the current one plus 1."""

    def forward(self, x, state=None):
        return x[:, :, :1] + 1.0, state


class Ar1(nn.Module):
    """y_{t+1} = a * y_t: the h-step forecast from y_o is a^j y_o."""

    def __init__(self, a):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(a, dtype=torch.float64))

    def forward(self, x, state=None):
        return self.a * x[:, :, :1], state


def test_recursive_forecast_of_a_known_model():
    inputs = torch.tensor([[[1.0], [5.0]], [[0.0], [-2.0]]])  # (B, T, 1)
    forecast = recursive_forecast(AddOne(), inputs, 4)
    np.testing.assert_array_equal(forecast.numpy(), [[6, 7, 8, 9], [-1, 0, 1, 2]])
    ar = Ar1(0.5)
    forecast = recursive_forecast(ar, torch.tensor([[[3.0], [8.0]]], dtype=torch.float64), 3)
    np.testing.assert_allclose(forecast.detach().numpy(), [[4.0, 2.0, 1.0]])


def test_recursive_forecast_feeds_the_covariates_of_each_forecast_step():
    seen = []

    class Recorder(nn.Module):
        def forward(self, x, state=None):
            seen.append(x[:, -1, 1:].clone())
            return x[:, :, :1], state

    inputs = torch.zeros(1, 3, 3)
    future = torch.arange(8.0).reshape(1, 4, 2)  # (B, h, C): covariates of o+1 .. o+4
    recursive_forecast(Recorder(), inputs, 4, future)
    # call j feeds the prediction of o + j with the covariates of o + j
    np.testing.assert_array_equal(torch.cat(seen[1:]).numpy(), future[0, :3].numpy())
    with pytest.raises(ValueError, match="future_covariates"):
        recursive_forecast(Recorder(), inputs, 4)


def test_free_running_gradient_flows_through_fed_back_predictions():
    ar = Ar1(0.5)
    inputs = torch.tensor([[[2.0]]], dtype=torch.float64)
    targets = torch.zeros(1, 3, dtype=torch.float64)
    free_running_loss(ar, inputs, targets).backward()
    # loss = mean((2a)^2, (2a^2)^2, (2a^3)^2); d/da at a = 0.5
    a = 0.5
    expected = (8 * a + 16 * a**3 + 24 * a**5) / 3
    assert float(ar.a.grad) == pytest.approx(expected)
    ar.a.grad = None
    teacher_forcing_loss(ar, inputs, targets).backward()
    assert float(ar.a.grad) == pytest.approx(8 * a)  # only the first step: (2a - 0)^2


def test_teacher_forcing_targets_shift_by_one():
    inputs = torch.arange(6.0).reshape(2, 3, 1)
    targets = torch.tensor([[10.0, 11.0], [20.0, 21.0]])
    np.testing.assert_array_equal(
        teacher_forcing_targets(inputs, targets), [[1, 2, 10], [4, 5, 20]]
    )


@pytest.mark.parametrize("quantiles", [None, (0.1, 0.5, 0.9)])
def test_direct_forecaster_shapes_and_fit(quantiles):
    torch.manual_seed(0)
    model = DirectForecaster(2, 8, 5, quantiles=quantiles, cell="lstm")
    out = model(torch.zeros(4, 7, 2))
    assert out.shape == ((4, 5) if quantiles is None else (4, 5, 3))
    with pytest.raises(ValueError, match="x"):
        model(torch.zeros(4, 7, 3))
