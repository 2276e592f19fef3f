"""Real time series, read offline from installed packages, with windows, scaling and origins.

Three series, each loaded at run time from the files of the package that ships it (nothing is
downloaded, nothing is written into the course):

- :func:`load_co2`: weekly atmospheric CO2 at Mauna Loa, 1958-2001 (statsmodels; public
  domain), with a trend and a yearly cycle;
- :func:`load_sunspots`: yearly sunspot numbers, 1700-2008 (statsmodels; public domain), with
  an irregular cycle of about eleven years;
- :func:`load_electricity`: half-hourly electricity demand of England and Wales, 5 June to
  27 August 2000 (pmdarima's ``load_taylor``; Taylor, 2003), with a daily and a weekly cycle.

Each loader returns a :class:`Series` whose split is fixed and documented: the last
``test_size`` values are the held-out tail; everything before them is the training part.

The evaluation is walk-forward: the model is fitted once on the training part, then a forecast
origin ``o`` moves through the tail. At each origin the forecaster sees the values
``values[: o + 1]`` (observed up to and including ``o``) and predicts ``values[o + 1 : o + 1 +
horizon]``. :func:`forecast_origins` lists the origins whose targets lie inside the tail.

Letters: N values in the series, K forecast origins (or windows), T window length (lags), h
forecast horizon, C covariates per step.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = [
    "Series",
    "Scaler",
    "Windows",
    "load_co2",
    "load_sunspots",
    "load_electricity",
    "load_all",
    "calendar_features",
    "forecast_origins",
    "training_origins",
    "make_windows",
    "future_covariates",
]


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Series:
    """One univariate series with its provenance and its split.

    Attributes
    ----------
    name : str
    values : ndarray of shape (N,)
        float64, no missing values (see ``missing_filled``).
    source : str
        Where the values come from (package, function, original reference).
    frequency : str
        The time between two values, in words.
    period : int
        The seasonal period m used by the seasonal-naive forecast and by MASE.
    test_size : int
        Length of the held-out tail: ``values[N - test_size:]``.
    horizon : int
        h, the number of steps each forecast covers.
    stride : int
        Steps between two forecast origins in the tail.
    window : int
        T, the number of past values a model reads (the lag window).
    labels : ndarray of shape (N,)
        A time label per value (a year, a date), for plots.
    covariates : ndarray of shape (N, C) or None
        Values known in advance for every step (the calendar), or None.
    missing_filled : int
        How many missing values the loader filled (all of them inside the training part).
    """

    name: str
    values: np.ndarray
    source: str
    frequency: str
    period: int
    test_size: int
    horizon: int
    stride: int
    window: int
    labels: np.ndarray
    covariates: np.ndarray | None = None
    missing_filled: int = 0

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 1 or not np.all(np.isfinite(values)):
            raise ValueError(f"{self.name}: values must be a finite 1-D array")
        if not self.window + self.horizon < len(values) - self.test_size:
            raise ValueError(
                f"{self.name}: the training part ({len(values) - self.test_size} values) must be "
                f"longer than window + horizon = {self.window + self.horizon}"
            )
        if self.test_size < self.horizon:
            raise ValueError(
                f"{self.name}: test_size {self.test_size} must be at least the horizon "
                f"{self.horizon}"
            )

    @property
    def train_size(self) -> int:
        """N - test_size, the length of the training part."""
        return len(self.values) - self.test_size

    @property
    def train(self) -> np.ndarray:
        """The training part, ``values[:train_size]``, shape (N - test_size,)."""
        return self.values[: self.train_size]

    @property
    def test(self) -> np.ndarray:
        """The held-out tail, ``values[train_size:]``, shape (test_size,)."""
        return self.values[self.train_size :]

    def describe(self) -> dict:
        """Source, size, frequency and split, as a dict of printable values."""
        return {
            "series": self.name,
            "source": self.source,
            "frequency": self.frequency,
            "values": len(self.values),
            "first": str(self.labels[0]),
            "last": str(self.labels[-1]),
            "train": f"{self.train_size} ({self.labels[0]} to {self.labels[self.train_size - 1]})",
            "held-out tail": (
                f"{self.test_size} ({self.labels[self.train_size]} to {self.labels[-1]})"
            ),
            "missing values filled": self.missing_filled,
            "period m": self.period,
            "horizon h": self.horizon,
        }


def load_co2() -> Series:
    """Weekly Mauna Loa CO2 (ppm), March 1958 to December 2001, from statsmodels.

    The record has 59 missing weeks. They are filled by linear interpolation between the
    neighbouring weeks; every one of them lies in the training part (the loader checks it), so
    the held-out tail holds only measured values and no filled value is ever scored.

    Split: the last 156 weeks (three years) are held out; horizon 52 weeks (one year ahead),
    origins every 4 weeks; seasonal period 52 weeks; window 104 weeks.
    """
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    raw = frame["co2"].to_numpy(dtype=np.float64)
    missing = np.isnan(raw)
    test_size = 156
    if missing[len(raw) - test_size :].any():
        raise ValueError("a missing CO2 value lies in the held-out tail: the split must move")
    steps = np.arange(len(raw))
    values = raw.copy()
    values[missing] = np.interp(steps[missing], steps[~missing], raw[~missing])
    return Series(
        name="CO2",
        values=values,
        source="statsmodels.datasets.co2 (Keeling and Whorf, Scripps flask samples, Mauna Loa)",
        frequency="weekly",
        period=52,
        test_size=test_size,
        horizon=52,
        stride=4,
        window=104,
        labels=np.array([str(day.date()) for day in frame.index]),
        missing_filled=int(missing.sum()),
    )


def load_sunspots() -> Series:
    """Yearly sunspot numbers, 1700 to 2008, from statsmodels.

    Split: the last 50 years (1959-2008) are held out; horizon 11 years (about one cycle),
    an origin every year; seasonal period 11 years (the cycle is irregular, 9 to 14 years, so
    the seasonal-naive forecast is only approximately right); window 33 years.
    """
    from statsmodels.datasets import sunspots

    frame = sunspots.load_pandas().data
    return Series(
        name="sunspots",
        values=frame["SUNACTIVITY"].to_numpy(dtype=np.float64),
        source="statsmodels.datasets.sunspots (NOAA National Geophysical Data Center)",
        frequency="yearly",
        period=11,
        test_size=50,
        horizon=11,
        stride=1,
        window=33,
        labels=frame["YEAR"].to_numpy().astype(int),
    )


def calendar_features(n: int, steps_per_day: int = 48, first_weekday: int = 0) -> np.ndarray:
    """Calendar covariates for n consecutive steps, known in advance for any future step.

    Columns: sin and cos of the time of day (one turn per day), then a one-hot code of the day
    of the week (Monday first).

    Parameters
    ----------
    n : int
        Number of steps.
    steps_per_day : int
        48 for half-hourly data.
    first_weekday : int
        Day of the week of step 0, 0 = Monday.

    Returns
    -------
    features : ndarray of shape (n, 9)
    """
    n = _check_int("n", n, 0)
    steps_per_day = _check_int("steps_per_day", steps_per_day, 1)
    steps = np.arange(n)
    angle = 2 * np.pi * (steps % steps_per_day) / steps_per_day  # (n,)
    weekday = (first_weekday + steps // steps_per_day) % 7  # (n,)
    one_hot = np.eye(7)[weekday]  # (n, 7)
    return np.column_stack([np.sin(angle), np.cos(angle), one_hot])  # (n, 9)


def load_electricity() -> Series:
    """Half-hourly electricity demand (MW) of England and Wales, 5 June to 27 August 2000.

    From pmdarima's ``load_taylor`` (Taylor, 2003): 4,032 values, twelve weeks from Monday
    5 June 2000. The covariates are :func:`calendar_features` (time of day, day of week).

    Split: the last 14 days (672 half-hours) are held out; horizon 48 (the whole next day),
    one origin per day at its last half-hour; seasonal period 336 (the same half-hour one week
    earlier); window 96 half-hours (two days).
    """
    from pmdarima.datasets import load_taylor

    values = np.asarray(load_taylor(), dtype=np.float64)
    first_day = np.datetime64("2000-06-05")
    labels = first_day + (np.arange(len(values)) * 30).astype("timedelta64[m]")
    return Series(
        name="electricity",
        values=values,
        source="pmdarima.datasets.load_taylor (Taylor 2003, National Grid, England and Wales)",
        frequency="half-hourly",
        period=336,
        test_size=672,
        horizon=48,
        stride=48,
        window=96,
        labels=np.array([str(label)[:16] for label in labels]),
        covariates=calendar_features(len(values), 48, first_weekday=0),
    )


def load_all() -> dict[str, Series]:
    """The three series of the chapter, by name: CO2, sunspots, electricity."""
    return {series.name: series for series in (load_co2(), load_sunspots(), load_electricity())}


@dataclass(frozen=True)
class Scaler:
    r"""Standardisation with a mean and a scale fitted on one array (the training part only).

    .. math::

        z = (y - \mu) / \sigma, \qquad y = \mu + \sigma z

    Fitting it on the whole series would let the held-out tail shape the inputs: its mean and
    spread would leak into training, and the scaled tail would look familiar to the model.
    """

    mean: float
    scale: float

    @classmethod
    def fit(cls, values) -> Scaler:
        """Fit on ``values`` (array-like of shape (N,)): their mean and standard deviation."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or len(values) < 2:
            raise ValueError(f"values must be 1-D with at least 2 values, got {values.shape}")
        scale = float(values.std())
        if not scale > 0:
            raise ValueError("values must not be constant: their standard deviation is 0")
        return cls(float(values.mean()), scale)

    def transform(self, values) -> np.ndarray:
        """(y - mean) / scale, same shape."""
        return (np.asarray(values, dtype=np.float64) - self.mean) / self.scale

    def inverse(self, scaled) -> np.ndarray:
        """mean + scale * z, same shape."""
        return self.mean + self.scale * np.asarray(scaled, dtype=np.float64)


def forecast_origins(n: int, test_size: int, horizon: int, stride: int = 1) -> np.ndarray:
    """The walk-forward origins whose h targets all lie in the held-out tail.

    The first origin is the last training index, ``n - test_size - 1``; then every ``stride``
    steps, while ``o + horizon <= n - 1``.

    Returns
    -------
    origins : ndarray of shape (K,), int
    """
    n = _check_int("n", n, 2)
    test_size = _check_int("test_size", test_size, 1)
    horizon = _check_int("horizon", horizon, 1)
    stride = _check_int("stride", stride, 1)
    if test_size < horizon or test_size >= n:
        raise ValueError(f"need horizon <= test_size < n, got {horizon}, {test_size}, {n}")
    return np.arange(n - test_size - 1, n - horizon, stride)


def training_origins(
    train_size: int, window: int, horizon: int, seasonal_lag: int = 0
) -> np.ndarray:
    """Every origin whose window and h targets lie inside the training part.

    Origin o reads ``values[o - window + 1 : o + 1]`` (and, with a seasonal lag m, the values
    m steps before those) and predicts ``values[o + 1 : o + 1 + horizon]``; all of them must lie
    in ``values[:train_size]``.

    Returns
    -------
    origins : ndarray of shape (K,), int, from ``window - 1 + m`` to ``train_size - horizon - 1``
    """
    window = _check_int("window", window, 1)
    horizon = _check_int("horizon", horizon, 1)
    seasonal_lag = _check_int("seasonal_lag", seasonal_lag, 0)
    if train_size < window + horizon + seasonal_lag:
        raise ValueError(
            f"train_size {train_size} must be at least window + horizon + seasonal_lag = "
            f"{window + horizon + seasonal_lag}"
        )
    return np.arange(window - 1 + seasonal_lag, train_size - horizon)


class Windows(NamedTuple):
    """Inputs and targets at a set of origins.

    Attributes
    ----------
    inputs : ndarray of shape (K, T, 1 + C)
        Channel 0 is the (scaled, optionally transformed) value at each of the T steps up to
        the origin; channels 1.. are the covariates of the same steps.
    targets : ndarray of shape (K, h)
        The next h values, transformed like the inputs.
    levels : ndarray of shape (K, h)
        What the transform subtracted from each target (0 without one): a forecast of the
        values is ``forecast_of_targets + levels``.
    origins : ndarray of shape (K,), int
    """

    inputs: np.ndarray
    targets: np.ndarray
    levels: np.ndarray
    origins: np.ndarray


def make_windows(
    values,
    origins,
    window: int,
    horizon: int,
    covariates=None,
    subtract_last: bool = False,
    seasonal_lag: int | None = None,
) -> Windows:
    r"""Sliding windows: T past values as inputs, the next h values as targets.

    For origin o: ``inputs[k, :, 0] = values[o - T + 1 : o + 1]`` and
    ``targets[k] = values[o + 1 : o + 1 + h]``, optionally transformed (at most one of):

    - ``subtract_last``: the value at the origin, :math:`y_o`, is subtracted from inputs and
      targets; a forecast is then a change from the last observation, which lets a model
      trained on lower levels forecast a series with a trend;
    - ``seasonal_lag`` m: every value becomes its seasonal difference
      :math:`y_t - y_{t-m}` (Box and Jenkins); a forecast is then a change from one season
      earlier, and :math:`y_{o+j-m}` is known at the origin for every j <= m.

    Parameters
    ----------
    values : array-like of shape (N,)
    origins : array-like of shape (K,), int
        Each in ``T - 1 (+ m) .. N - h - 1``.
    window : int
        T.
    horizon : int
        h.
    covariates : array-like of shape (N, C), optional
        Appended as channels 1..C of the inputs (never transformed).
    subtract_last : bool
    seasonal_lag : int, optional
        m, at least h.

    Returns
    -------
    Windows
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {values.shape}")
    origins = np.asarray(origins)
    if origins.ndim != 1 or not np.issubdtype(origins.dtype, np.integer):
        raise ValueError("origins must be a 1-D integer array")
    window = _check_int("window", window, 1)
    horizon = _check_int("horizon", horizon, 1)
    lag = 0
    if seasonal_lag is not None:
        lag = _check_int("seasonal_lag", seasonal_lag, horizon)
        if subtract_last:
            raise ValueError("choose subtract_last or seasonal_lag, not both")
    n = len(values)
    first = window - 1 + lag
    if len(origins) and (origins.min() < first or origins.max() > n - horizon - 1):
        raise ValueError(
            f"origins must lie in {first} .. N - horizon - 1 = {n - horizon - 1}, "
            f"got {origins.min()} .. {origins.max()}"
        )
    past = origins[:, None] + np.arange(-window + 1, 1)[None, :]  # (K, T)
    future = origins[:, None] + np.arange(1, horizon + 1)[None, :]  # (K, h)
    inputs, targets = values[past], values[future]  # (K, T), (K, h)
    levels = np.zeros_like(targets)  # (K, h)
    if subtract_last:
        levels = np.repeat(values[origins][:, None], horizon, axis=1)  # (K, h)
        inputs = inputs - levels[:, :1]
    elif lag:
        levels = values[future - lag]  # (K, h), all observed at the origin since h <= m
        inputs = inputs - values[past - lag]
    inputs = inputs[:, :, None]  # (K, T, 1)
    targets = targets - levels
    if covariates is not None:
        covariates = np.asarray(covariates, dtype=np.float64)
        if covariates.ndim != 2 or covariates.shape[0] != n:
            raise ValueError(
                f"covariates must have shape (N, C) = ({n}, C), got {covariates.shape}"
            )
        inputs = np.concatenate([inputs, covariates[past]], axis=2)  # (K, T, 1 + C)
    return Windows(inputs, targets, levels, origins)


def future_covariates(covariates, origins, horizon: int) -> np.ndarray:
    """The covariates of the h steps after each origin, for a recursive forecast.

    Returns
    -------
    future : ndarray of shape (K, h, C), ``covariates[o + 1 : o + 1 + h]`` for each origin o
    """
    covariates = np.asarray(covariates, dtype=np.float64)
    origins = np.asarray(origins)
    horizon = _check_int("horizon", horizon, 1)
    if len(origins) and origins.max() + horizon >= len(covariates):
        raise ValueError("an origin + horizon runs past the end of the covariates")
    future = origins[:, None] + np.arange(1, horizon + 1)[None, :]  # (K, h)
    return covariates[future]  # (K, h, C)
