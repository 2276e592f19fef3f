"""Tests of rnncore.data.series: the loaders' splits, the scaler, the windows and the origins."""

import numpy as np
import pytest

from rnncore.data.series import (
    Scaler,
    calendar_features,
    forecast_origins,
    future_covariates,
    load_all,
    load_co2,
    load_electricity,
    load_sunspots,
    make_windows,
    training_origins,
)

# ------------------------------------------------------------------------------------ loaders


@pytest.fixture(scope="module")
def all_series():
    return load_all()


def test_loaders_return_the_documented_sizes(all_series):
    sizes = {name: len(series.values) for name, series in all_series.items()}
    assert sizes == {"CO2": 2284, "sunspots": 309, "electricity": 4032}
    assert {name: s.test_size for name, s in all_series.items()} == {
        "CO2": 156,
        "sunspots": 50,
        "electricity": 672,
    }


def test_series_are_finite_and_split_into_train_and_tail(all_series):
    for series in all_series.values():
        assert np.all(np.isfinite(series.values))
        assert len(series.train) + len(series.test) == len(series.values)
        np.testing.assert_array_equal(np.concatenate([series.train, series.test]), series.values)
        info = series.describe()
        for key in ("source", "frequency", "values", "train", "held-out tail"):
            assert info[key] not in ("", None)


def test_co2_fills_only_training_gaps_and_keeps_measured_values():
    from statsmodels.datasets import co2

    raw = co2.load_pandas().data["co2"].to_numpy()
    series = load_co2()
    missing = np.isnan(raw)
    assert series.missing_filled == missing.sum() == 59
    np.testing.assert_array_equal(series.values[~missing], raw[~missing])
    assert not missing[series.train_size :].any()
    # a filled value lies between its measured neighbours (linear interpolation)
    k = int(np.flatnonzero(missing)[0])
    assert min(raw[k - 1], raw[k + 1]) <= series.values[k] <= max(raw[k - 1], raw[k + 1])


def test_sunspots_labels_are_years():
    series = load_sunspots()
    assert series.labels[0] == 1700 and series.labels[-1] == 2008
    assert series.labels[series.train_size] == 1959


def test_electricity_starts_on_a_monday_and_has_calendar_covariates():
    series = load_electricity()
    assert series.labels[0] == "2000-06-05T00:00"
    assert series.labels[-1] == "2000-08-27T23:30"
    assert series.covariates.shape == (4032, 9)
    assert series.covariates[0, 2] == 1.0  # Monday
    assert series.covariates[48 * 6, 8] == 1.0  # Sunday 11 June


def test_calendar_features_time_of_day_and_weekday():
    features = calendar_features(48 * 8, 48, first_weekday=2)
    np.testing.assert_allclose(features[:, 0] ** 2 + features[:, 1] ** 2, 1.0)
    np.testing.assert_allclose(features[12, :2], [1.0, 0.0], atol=1e-12)  # 6 am: a quarter turn
    np.testing.assert_array_equal(features[:, 2:].sum(axis=1), 1.0)
    assert features[0, 2 + 2] == 1.0 and features[48 * 5, 2 + 0] == 1.0  # Wednesday, Monday


# ------------------------------------------------------------------------------------- scaler


def test_scaler_round_trip_and_train_statistics():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=200)
    scaler = Scaler.fit(train)
    z = scaler.transform(train)
    np.testing.assert_allclose([z.mean(), z.std()], [0.0, 1.0], atol=1e-12)
    other = rng.normal(size=7)
    np.testing.assert_allclose(scaler.inverse(scaler.transform(other)), other)


def test_scaler_fitted_on_train_only_differs_from_a_leaky_one():
    series = load_co2()
    honest = Scaler.fit(series.train)
    leaky = Scaler.fit(series.values)
    assert honest.mean < leaky.mean  # the rising tail pulls the leaky mean up
    assert honest.transform(series.test).min() > honest.transform(series.train).max() - 2


def test_scaler_rejects_constant_and_bad_input():
    with pytest.raises(ValueError, match="constant"):
        Scaler.fit(np.ones(5))
    with pytest.raises(ValueError, match="1-D"):
        Scaler.fit(np.ones((2, 3)))


# ------------------------------------------------------------------------------------ origins


def test_forecast_origins_keep_targets_inside_the_tail():
    origins = forecast_origins(100, 20, 5, 1)
    assert origins[0] == 79 and origins[-1] == 94  # 94 + 5 = 99, the last index
    origins = forecast_origins(100, 20, 5, 4)
    np.testing.assert_array_equal(origins, [79, 83, 87, 91])
    with pytest.raises(ValueError, match="horizon"):
        forecast_origins(100, 3, 5)


def test_training_origins_never_touch_the_tail():
    origins = training_origins(50, 10, 4)
    assert origins[0] == 9 and origins[-1] == 45  # targets 46..49, inside the first 50
    with pytest.raises(ValueError, match="window \\+ horizon"):
        training_origins(10, 8, 4)


# ------------------------------------------------------------------------------------ windows


def test_make_windows_against_a_loop():
    values = np.arange(30.0) ** 1.5
    covariates = np.stack([np.arange(30.0), -np.arange(30.0)], axis=1)  # (N, 2)
    origins = np.array([4, 10, 25])
    windows = make_windows(values, origins, 5, 3, covariates)
    assert windows.inputs.shape == (3, 5, 3) and windows.targets.shape == (3, 3)
    for k, o in enumerate(origins):
        np.testing.assert_array_equal(windows.inputs[k, :, 0], values[o - 4 : o + 1])
        np.testing.assert_array_equal(windows.inputs[k, :, 1:], covariates[o - 4 : o + 1])
        np.testing.assert_array_equal(windows.targets[k], values[o + 1 : o + 4])
    np.testing.assert_array_equal(windows.levels, 0.0)


def test_make_windows_subtract_last_is_relative_to_the_origin():
    values = np.arange(20.0) * 2 + 100
    windows = make_windows(values, np.array([5, 9]), 4, 2, subtract_last=True)
    np.testing.assert_array_equal(windows.levels, [[110.0, 110.0], [118.0, 118.0]])
    np.testing.assert_array_equal(windows.inputs[:, -1, 0], 0.0)
    np.testing.assert_array_equal(windows.inputs[0, :, 0], [-6.0, -4.0, -2.0, 0.0])
    np.testing.assert_array_equal(windows.targets, [[2.0, 4.0], [2.0, 4.0]])
    np.testing.assert_array_equal(windows.targets + windows.levels, [[112, 114], [120, 122]])


def test_make_windows_seasonal_difference_by_hand():
    values = np.arange(30.0) ** 2
    windows = make_windows(values, np.array([12]), 3, 2, seasonal_lag=5)
    # inputs: y_t - y_{t-5} for t = 10, 11, 12; targets: t = 13, 14; levels: y_8, y_9
    np.testing.assert_array_equal(windows.inputs[0, :, 0], [100 - 25, 121 - 36, 144 - 49])
    np.testing.assert_array_equal(windows.targets[0], [169 - 64, 196 - 81])
    np.testing.assert_array_equal(windows.targets + windows.levels, [[169, 196]])
    with pytest.raises(ValueError, match="origins must lie"):
        make_windows(values, np.array([6]), 3, 2, seasonal_lag=5)
    with pytest.raises(ValueError, match="seasonal_lag"):
        make_windows(values, np.array([12]), 3, 6, seasonal_lag=5)


def test_make_windows_rejects_origins_out_of_range():
    with pytest.raises(ValueError, match="origins must lie"):
        make_windows(np.arange(10.0), np.array([2]), 4, 1)
    with pytest.raises(ValueError, match="origins must lie"):
        make_windows(np.arange(10.0), np.array([8]), 4, 2)
    with pytest.raises(ValueError, match="covariates"):
        make_windows(np.arange(10.0), np.array([5]), 4, 2, covariates=np.ones((9, 1)))


def test_future_covariates_are_the_steps_after_the_origin():
    covariates = np.arange(40.0).reshape(20, 2)
    future = future_covariates(covariates, np.array([3, 10]), 4)
    assert future.shape == (2, 4, 2)
    np.testing.assert_array_equal(future[1], covariates[11:15])
