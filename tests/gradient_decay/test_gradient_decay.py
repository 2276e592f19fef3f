"""rnncore.gradient_decay: the geometric factor per step of a gradient-norm curve."""

import numpy as np
import pytest

from rnncore.gradient_decay import decay_rate


@pytest.mark.parametrize("rate", [0.5, 0.93, 1.0, 1.07])
def test_decay_rate_recovers_a_geometric_rate(rate):
    norms = 3.0 * rate ** np.arange(40)  # (K,)
    assert decay_rate(norms) == pytest.approx(rate, rel=1e-12)


def test_decay_rate_fits_only_from_first_lag_on():
    norms = np.concatenate([np.full(10, 1e3), 0.8 ** np.arange(30)])  # a transient, then 0.8
    assert decay_rate(norms) == pytest.approx(0.8, rel=1e-12)
    assert decay_rate(norms, first_lag=0) != pytest.approx(0.8, rel=1e-2)
    assert decay_rate(np.array([2.0, 1.0]), first_lag=0) == pytest.approx(0.5)


def test_decay_rate_is_the_least_squares_slope_of_the_log():
    rng = np.random.default_rng(0)
    norms = np.exp(-0.1 * np.arange(50) + 0.05 * rng.standard_normal(50))
    slope = np.polyfit(np.arange(10, 50), np.log(norms[10:]), 1)[0]
    assert decay_rate(norms) == pytest.approx(np.exp(slope), rel=1e-12)


@pytest.mark.parametrize(
    ("norms", "first_lag", "message"),
    [
        (np.ones(11), 10, "K >= first_lag \\+ 2 = 12, got \\(11,\\)"),
        (np.ones((4, 20)), 10, "norms must have shape \\(K,\\)"),
        (np.concatenate([np.ones(15), [0.0]]), 10, "finite and > 0"),
        (np.concatenate([np.ones(15), [np.nan]]), 10, "finite and > 0"),
        (np.ones(20), -1, "first_lag must be an integer >= 0, got -1"),
        (np.ones(20), 2.5, "first_lag must be an integer >= 0"),
    ],
)
def test_decay_rate_rejects_bad_curves(norms, first_lag, message):
    with pytest.raises(ValueError, match=message):
        decay_rate(norms, first_lag=first_lag)
