r"""Forecasting: baselines, metrics, recursive and direct recurrent forecasts, quantiles.

Everything works on the walk-forward layout of :mod:`rnncore.data.series`: a forecast made at
origin o covers the h steps ``o + 1 .. o + h``, and K origins give forecasts of shape (K, h).

Baselines
    :func:`naive_forecast` (the last value), :func:`seasonal_naive_forecast` (the value one
    period m earlier), :func:`fit_ridge_ar` (a ridge regression from the lag window to all h
    future values, scikit-learn), :func:`holt_winters_forecasts` and :func:`arima_forecasts`
    (statsmodels, fitted on the training part, then run forward with fixed parameters).
Metrics
    :func:`mae`, :func:`mae_by_horizon` and :func:`mase`, the mean absolute scaled error of
    Hyndman and Koehler (2006): the MAE divided by the in-sample MAE of the one-step
    seasonal-naive forecast on the training part (:func:`seasonal_naive_scale`),

    .. math::

        \text{MASE} = \frac{\frac{1}{Kh}\sum_{k,j} |y_{o_k+j} - \hat y_{o_k+j}|}
        {\frac{1}{n-m}\sum_{t=m}^{n-1} |y_t - y_{t-m}|}

    where n is the length of the training part. Below 1: better on the tail than the
    seasonal-naive forecast was, one step ahead, on the training part.
Recurrent forecasts
    :func:`recursive_forecast` feeds a one-step model its own predictions h times;
    :class:`DirectForecaster` reads the window and emits all h values at once (optionally Q
    quantiles of each). :func:`teacher_forcing_loss` trains a one-step model on the true
    history; :func:`free_running_loss` trains it on its own h-step roll-out.
Uncertainty
    :func:`pinball_loss` (quantile loss, Koenker and Bassett, 1978) and
    :func:`interval_coverage`.

Letters: K origins (a batch B of windows when training), T window length, D input features
(1 + C covariates), h horizon, Q quantiles, H hidden units.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnncore.shapes import check_shape
from rnncore.torch.models import make_recurrent_layer

__all__ = [
    "naive_forecast",
    "seasonal_naive_forecast",
    "targets_at",
    "mae",
    "mae_by_horizon",
    "seasonal_naive_scale",
    "mase",
    "lag_features",
    "fit_ridge_ar",
    "holt_winters_forecasts",
    "arima_forecasts",
    "pinball_loss",
    "interval_coverage",
    "DirectForecaster",
    "recursive_forecast",
    "teacher_forcing_targets",
    "teacher_forcing_loss",
    "free_running_loss",
]


def _values_and_origins(values, origins, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    origins = np.asarray(origins)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {values.shape}")
    if origins.ndim != 1 or not np.issubdtype(origins.dtype, np.integer):
        raise ValueError("origins must be a 1-D integer array")
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    if len(origins) and (origins.min() < 0 or origins.max() >= len(values)):
        raise ValueError(f"origins must lie in 0 .. N - 1 = {len(values) - 1}")
    return values, origins


def targets_at(values, origins, horizon: int) -> np.ndarray:
    """The true values after each origin: ``values[o + 1 : o + 1 + h]``, shape (K, h)."""
    values, origins = _values_and_origins(values, origins, horizon)
    if len(origins) and origins.max() + horizon >= len(values):
        raise ValueError("an origin + horizon runs past the end of values")
    return values[origins[:, None] + np.arange(1, horizon + 1)[None, :]]


def naive_forecast(values, origins, horizon: int) -> np.ndarray:
    r"""The last observed value, for every step ahead: :math:`\hat y_{o+j} = y_o`.

    Returns
    -------
    forecast : ndarray of shape (K, h)
    """
    values, origins = _values_and_origins(values, origins, horizon)
    return np.repeat(values[origins][:, None], horizon, axis=1)


def seasonal_naive_forecast(values, origins, horizon: int, period: int) -> np.ndarray:
    r"""The value one season earlier: :math:`\hat y_{o+j} = y_{o+j-m\lceil j/m \rceil}`.

    For j <= m this is the same step of the last observed season; beyond m the last season
    repeats. Only values up to the origin are read.

    Returns
    -------
    forecast : ndarray of shape (K, h)
    """
    values, origins = _values_and_origins(values, origins, horizon)
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < 1:
        raise ValueError(f"period must be a positive integer, got {period!r}")
    steps = np.arange(1, horizon + 1)  # (h,)
    back = period * ((steps + period - 1) // period)  # (h,), m * ceil(j / m)
    source = origins[:, None] + steps[None, :] - back[None, :]  # (K, h), each <= o
    if len(origins) and source.min() < 0:
        raise ValueError(f"an origin lies less than one period ({period}) after the start")
    return values[source]


def mae(actual, forecast) -> float:
    """Mean absolute error over all entries (arrays of one shape)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    if actual.shape != forecast.shape:
        raise ValueError(f"actual {actual.shape} and forecast {forecast.shape} differ in shape")
    return float(np.mean(np.abs(actual - forecast)))


def mae_by_horizon(actual, forecast) -> np.ndarray:
    """MAE at each step ahead: the mean over origins of each column, shape (h,)."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    if actual.shape != forecast.shape or actual.ndim != 2:
        raise ValueError(f"actual {actual.shape} and forecast {forecast.shape}: need one (K, h)")
    return np.mean(np.abs(actual - forecast), axis=0)


def seasonal_naive_scale(train, period: int) -> float:
    r"""In-sample MAE of the one-step seasonal-naive forecast: mean of :math:`|y_t - y_{t-m}|`.

    Parameters
    ----------
    train : array-like of shape (n,)
        The training part only.
    period : int
        m (1 gives the naive forecast's error).
    """
    train = np.asarray(train, dtype=np.float64)
    if train.ndim != 1 or len(train) <= period:
        raise ValueError(f"train must be 1-D and longer than the period {period}")
    scale = float(np.mean(np.abs(train[period:] - train[:-period])))
    if not scale > 0:
        raise ValueError("the training part repeats exactly with this period: MASE is undefined")
    return scale


def mase(actual, forecast, train, period: int) -> float:
    """Mean absolute scaled error (Hyndman and Koehler, 2006): MAE / seasonal_naive_scale."""
    return mae(actual, forecast) / seasonal_naive_scale(train, period)


def lag_features(inputs) -> np.ndarray:
    """Flatten windows (K, T, D) into one row of T * D features per origin, shape (K, T * D)."""
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 3:
        raise ValueError(f"inputs must have shape (K, T, D), got {inputs.shape}")
    return inputs.reshape(len(inputs), -1)


def fit_ridge_ar(inputs, targets, alpha: float = 1.0):
    r"""Linear autoregression on the lag window, fitted by ridge regression (scikit-learn).

    One linear map from the flattened window to all h future values (a direct forecast):
    :math:`\hat y = \text{vec}(x) W + b`, with :math:`\alpha \lVert W \rVert^2` added to the
    squared error.

    Parameters
    ----------
    inputs : ndarray of shape (K, T, D)
    targets : ndarray of shape (K, h)
    alpha : float

    Returns
    -------
    model : sklearn.linear_model.Ridge
        ``model.predict(lag_features(inputs))`` gives (K, h).
    """
    from sklearn.linear_model import Ridge

    features = lag_features(inputs)
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim != 2 or len(targets) != len(features):
        raise ValueError(f"targets must have shape (K, h) with K = {len(features)}")
    return Ridge(alpha=alpha).fit(features, targets)


def holt_winters_forecasts(
    values, train_size: int, origins, horizon: int, period: int, trend: str | None = None
) -> np.ndarray:
    """Additive Holt-Winters exponential smoothing (statsmodels), walk-forward.

    The smoothing parameters and the initial states are fitted on ``values[:train_size]``
    only; at each origin the same model is run over ``values[: o + 1]`` with those fixed
    parameters, and forecasts h steps.

    Returns
    -------
    forecast : ndarray of shape (K, h)
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    values, origins = _values_and_origins(values, origins, horizon)
    options = {"trend": trend, "seasonal": "add", "seasonal_periods": period}
    fitted = ExponentialSmoothing(
        values[:train_size], initialization_method="estimated", **options
    ).fit()
    params = fitted.params
    smoothing = {
        "smoothing_level": params["smoothing_level"],
        "smoothing_seasonal": params["smoothing_seasonal"],
    }
    known = {
        "initial_level": params["initial_level"],
        "initial_seasonal": params["initial_seasons"],
    }
    if trend is not None:
        smoothing["smoothing_trend"] = params["smoothing_trend"]
        known["initial_trend"] = params["initial_trend"]
    forecasts = []
    for origin in origins:
        model = ExponentialSmoothing(
            values[: origin + 1], initialization_method="known", **known, **options
        )
        forecasts.append(model.fit(optimized=False, **smoothing).forecast(horizon))
    return np.asarray(forecasts)


def arima_forecasts(values, train_size: int, origins, horizon: int, order=(2, 0, 0)) -> np.ndarray:
    """ARIMA (statsmodels), fitted on the training part, then applied with fixed parameters.

    Returns
    -------
    forecast : ndarray of shape (K, h)
    """
    from statsmodels.tsa.arima.model import ARIMA

    values, origins = _values_and_origins(values, origins, horizon)
    fitted = ARIMA(values[:train_size], order=order).fit()
    return np.asarray([fitted.apply(values[: o + 1]).forecast(horizon) for o in origins])


def pinball_loss(predictions: torch.Tensor, targets: torch.Tensor, quantiles) -> torch.Tensor:
    r"""Mean quantile (pinball) loss over every entry and every quantile.

    .. math::

        L_\tau(y, q) = \max\big(\tau (y - q),\ (\tau - 1)(y - q)\big)

    Its expectation over y is smallest when q is the :math:`\tau`-quantile of y (Koenker and
    Bassett, 1978); :math:`\tau = 0.5` gives half the absolute error.

    Parameters
    ----------
    predictions : Tensor of shape (..., Q)
        One predicted quantile per level.
    targets : Tensor of shape (...)
    quantiles : sequence of Q floats in (0, 1)

    Returns
    -------
    loss : scalar Tensor
    """
    tau = torch.as_tensor(quantiles, dtype=predictions.dtype, device=predictions.device)
    if (
        tau.ndim != 1
        or predictions.shape[-1] != len(tau)
        or not bool(((tau > 0) & (tau < 1)).all())
    ):
        raise ValueError(
            f"quantiles must be Q levels in (0, 1) with Q = predictions.shape[-1], got "
            f"{list(tau.tolist())} for predictions of shape {tuple(predictions.shape)}"
        )
    if targets.shape != predictions.shape[:-1]:
        raise ValueError(
            f"targets must have shape {tuple(predictions.shape[:-1])}, got {tuple(targets.shape)}"
        )
    error = targets.unsqueeze(-1) - predictions  # (..., Q)
    return torch.maximum(tau * error, (tau - 1) * error).mean()


def interval_coverage(actual, lower, upper) -> float:
    """The fraction of actual values inside [lower, upper] (arrays of one shape)."""
    actual, lower, upper = (np.asarray(a, dtype=np.float64) for a in (actual, lower, upper))
    if not actual.shape == lower.shape == upper.shape:
        raise ValueError(f"shapes differ: {actual.shape}, {lower.shape}, {upper.shape}")
    return float(np.mean((actual >= lower) & (actual <= upper)))


class DirectForecaster(nn.Module):
    r"""A recurrent encoder and a linear head that emits all h steps at once (direct forecast).

    .. math::

        h_T = \text{cell}(x_1, \dots, x_T), \qquad \hat y = h_T W_{out} + b_{out}

    with :math:`W_{out}` of shape (H, h Q): one output per step ahead and per quantile.

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    horizon : int
        h.
    quantiles : sequence of float, optional
        Q levels; without them the head gives one point forecast per step.
    cell : {"rnn", "lstm", "gru"}
    num_layers : int
    fast : bool
        torch.nn's fused layer (see :mod:`rnncore.torch.models`).
    device, dtype

    Notes
    -----
    ``forward(x (B, T, D)) -> (B, h)``, or (B, h, Q) with quantiles. Quantile outputs are
    returned as the head computes them; sort them along the last axis before reading an
    interval if they may cross.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        horizon: int,
        quantiles=None,
        cell: str = "gru",
        num_layers: int = 1,
        fast: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.horizon = horizon
        self.quantiles = None if quantiles is None else tuple(float(q) for q in quantiles)
        per_step = 1 if self.quantiles is None else len(self.quantiles)
        self.recurrent = make_recurrent_layer(
            cell, input_size, hidden_size, num_layers, False, 0.0, fast, **factory
        )
        self.output = nn.Linear(hidden_size, horizon * per_step, **factory)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """All h steps ahead from a window (B, T, D): (B, h), or (B, h, Q) with quantiles."""
        check_shape("x", x, "B, T, D", {"D": self.input_size})
        hidden, _ = self.recurrent(x)  # (B, T, H)
        out = self.output(hidden[:, -1])  # (B, h * Q)
        if self.quantiles is None:
            return out  # (B, h)
        return out.reshape(len(x), self.horizon, len(self.quantiles))  # (B, h, Q)


def recursive_forecast(
    model: nn.Module, inputs: torch.Tensor, horizon: int, future_covariates=None
) -> torch.Tensor:
    r"""Forecast h steps with a one-step model, feeding each prediction back as the next input.

    The model reads the window once; then, for j = 2 .. h, its input is its own prediction
    :math:`\hat y_{o+j-1}` (followed by the known covariates of that step) and the state it
    returned. Gradients flow through the fed-back predictions, so the same function trains a
    model free running (:func:`free_running_loss`); wrap it in ``torch.no_grad()`` to forecast.

    Parameters
    ----------
    model : nn.Module
        ``model(x (B, t, D), state) -> (prediction (B, t, 1), state)``, for example
        ``SequenceRegressor(D, H, 1, many_to_many=True)``.
    inputs : Tensor of shape (B, T, D)
        The windows; channel 0 is the value.
    horizon : int
        h.
    future_covariates : Tensor of shape (B, h, D - 1), optional
        The covariates of the h forecast steps; needed exactly when D > 1.

    Returns
    -------
    forecast : Tensor of shape (B, h)
    """
    check_shape("inputs", inputs, "B, T, D")
    B, _, D = inputs.shape
    if (D > 1) != (future_covariates is not None):
        raise ValueError(
            f"inputs have D = {D} features: future_covariates (B, h, {D - 1}) are needed "
            "exactly when D > 1"
        )
    if future_covariates is not None:
        check_shape(
            "future_covariates", future_covariates, "B, h, C", {"B": B, "h": horizon, "C": D - 1}
        )
    prediction, state = model(inputs)  # (B, T, 1)
    step = prediction[:, -1:, :1]  # (B, 1, 1), the forecast of o + 1
    forecasts = [step]
    for j in range(1, horizon):
        x = step
        if future_covariates is not None:
            # The prediction of step o + j goes in with the covariates of step o + j.
            x = torch.cat([step, future_covariates[:, j - 1 : j]], dim=2)  # (B, 1, D)
        prediction, state = model(x, state)  # (B, 1, 1)
        step = prediction[:, :, :1]
        forecasts.append(step)
    return torch.cat(forecasts, dim=1)[:, :, 0]  # (B, h)


def teacher_forcing_targets(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The next value at every step of a window: inputs' values shifted by one, then y_{o+1}.

    Returns
    -------
    next_values : Tensor of shape (B, T)
    """
    check_shape("inputs", inputs, "B, T, D")
    check_shape("targets", targets, "B, h", {"B": inputs.shape[0]})
    return torch.cat([inputs[:, 1:, 0], targets[:, :1]], dim=1)  # (B, T)


def teacher_forcing_loss(model: nn.Module, inputs, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared one-step error at every step of the window, reading the true history.

    ``inputs`` is the window (B, T, D), or a pair (window, future covariates) whose second
    item is ignored, so that one batch serves both this loss and :func:`free_running_loss`.
    """
    window = inputs[0] if isinstance(inputs, tuple | list) else inputs
    prediction, _ = model(window)  # (B, T, 1)
    return torch.mean((prediction[:, :, 0] - teacher_forcing_targets(window, targets)) ** 2)


def free_running_loss(model: nn.Module, inputs, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error of the model's own h-step roll-out (:func:`recursive_forecast`).

    ``inputs`` is the window (B, T, D), or a pair (window, future covariates (B, h, D - 1)).
    """
    window, covariates = inputs if isinstance(inputs, tuple | list) else (inputs, None)
    forecast = recursive_forecast(model, window, targets.shape[1], covariates)  # (B, h)
    return torch.mean((forecast - targets) ** 2)
