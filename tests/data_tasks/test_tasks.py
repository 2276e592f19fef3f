"""Tests of rnncore.data.tasks: layouts, targets, determinism, baselines and bad arguments."""

import re

import numpy as np
import pytest

from rnncore.data.tasks import (
    adding_problem,
    adding_problem_baseline_mse,
    copy_task,
    copy_task_baseline_cross_entropy,
    first_symbol_baseline_cross_entropy,
    first_symbol_task,
)

# ----------------------------------------------------------------------------- adding problem


@pytest.mark.parametrize("length", [2, 3, 10, 51])
def test_adding_problem_shapes_and_dtype(length):
    x, y = adding_problem(7, length, np.random.default_rng(0))
    assert x.shape == (7, length, 2)
    assert y.shape == (7, 1)
    assert x.dtype == np.float64 and y.dtype == np.float64


def test_adding_problem_keeps_float32():
    x, y = adding_problem(4, 6, np.random.default_rng(0), dtype=np.float32)
    assert x.dtype == np.float32 and y.dtype == np.float32


@pytest.mark.parametrize("length", [2, 3, 10, 51])
def test_adding_problem_exactly_two_markers_one_per_half(length):
    x, _ = adding_problem(500, length, np.random.default_rng(1))
    markers = x[..., 1]  # (B, T)
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = length // 2
    np.testing.assert_array_equal(markers[:, :half].sum(axis=1), np.ones(500))
    np.testing.assert_array_equal(markers[:, half:].sum(axis=1), np.ones(500))


def test_adding_problem_markers_cover_both_halves():
    # Every step of each half is marked in some sequence: the positions are not fixed.
    length = 8
    x, _ = adding_problem(2000, length, np.random.default_rng(2))
    assert np.all(x[..., 1].sum(axis=0) > 0)


def test_adding_problem_values_uniform_on_unit_interval():
    x, _ = adding_problem(200, 50, np.random.default_rng(3))
    values = x[..., 0]
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.01


def test_adding_problem_target_is_sum_of_marked_values():
    x, y = adding_problem(64, 20, np.random.default_rng(4))
    for row in range(64):
        marked = np.flatnonzero(x[row, :, 1])
        assert marked.size == 2
        np.testing.assert_allclose(y[row, 0], x[row, marked, 0].sum(), rtol=0, atol=1e-15)


def test_adding_problem_target_differs_from_an_unmarked_sum():
    # The check above must be able to fail: the sum of two other values is a different number.
    x, y = adding_problem(64, 20, np.random.default_rng(4))
    wrong = x[:, 0, 0] + x[:, -1, 0]
    assert not np.allclose(y[:, 0], wrong)


def test_adding_problem_is_deterministic_given_the_seed():
    x1, y1 = adding_problem(16, 30, np.random.default_rng(123))
    x2, y2 = adding_problem(16, 30, np.random.default_rng(123))
    x3, _ = adding_problem(16, 30, np.random.default_rng(124))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_adding_problem_baseline_mse_matches_a_large_sample():
    assert adding_problem_baseline_mse() == pytest.approx(1 / 6)
    _, y = adding_problem(200_000, 4, np.random.default_rng(5))
    mse_of_mean_predictor = float(np.mean((y - 1.0) ** 2))
    # Standard error of the sample MSE is about sqrt(Var((y-1)^2) / n) < 0.0005.
    assert mse_of_mean_predictor == pytest.approx(adding_problem_baseline_mse(), abs=3e-3)
    assert float(np.mean(y)) == pytest.approx(1.0, abs=3e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"batch_size": 2.0}, "batch_size must be an integer >= 1, got 2.0"),
        ({"batch_size": True}, "batch_size must be an integer >= 1, got True"),
        ({"length": 1}, "length must be an integer >= 2, got 1"),
        ({"rng": 0}, "rng must be a numpy.random.Generator"),
        ({"rng": np.random.RandomState(0)}, "rng must be a numpy.random.Generator"),
        ({"dtype": np.int64}, "dtype must be a NumPy floating-point dtype"),
        ({"dtype": "not a dtype"}, "dtype must be a NumPy floating-point dtype"),
    ],
)
def test_adding_problem_bad_arguments_raise(kwargs, message):
    arguments = {"batch_size": 2, "length": 4, "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(ValueError, match=re.escape(message)):
        adding_problem(**arguments)


def test_adding_problem_accepts_numpy_integers():
    x, _ = adding_problem(np.int64(3), np.int32(4), np.random.default_rng(0))
    assert x.shape == (3, 4, 2)


# ----------------------------------------------------------------------------------- copy task


def test_copy_task_shapes_one_hot_and_ids():
    S, delay, K = 5, 7, 4
    T, V = 2 * S + delay, K + 2
    x, y = copy_task(3, S, delay, K, np.random.default_rng(0))
    assert x.shape == (3, T, V) and x.dtype == np.float64
    assert y.shape == (3, T) and y.dtype == np.int64
    ids, y_ids = copy_task(3, S, delay, K, np.random.default_rng(0), one_hot=False)
    assert ids.shape == (3, T) and ids.dtype == np.int64
    np.testing.assert_array_equal(y, y_ids)
    np.testing.assert_array_equal(x.argmax(axis=-1), ids)
    np.testing.assert_array_equal(x.sum(axis=-1), np.ones((3, T)))


def test_copy_task_layout():
    S, delay, K = 4, 3, 6
    blank, go = K, K + 1
    ids, y = copy_task(50, S, delay, K, np.random.default_rng(1), one_hot=False)
    assert np.all((ids[:, :S] >= 0) & (ids[:, :S] < K))
    np.testing.assert_array_equal(ids[:, S : S + delay - 1], blank)
    np.testing.assert_array_equal(ids[:, S + delay - 1], go)
    np.testing.assert_array_equal(ids[:, S + delay :], blank)
    np.testing.assert_array_equal(y[:, : S + delay], blank)
    # The target is the input sequence, written after exactly S + delay steps.
    np.testing.assert_array_equal(y[:, S + delay :], ids[:, :S])
    assert not np.array_equal(y[:, S + delay :], ids[:, ::-1][:, :S])


def test_copy_task_delay_one_puts_go_right_after_the_symbols():
    ids, _ = copy_task(2, 3, 1, 5, np.random.default_rng(0), one_hot=False)
    np.testing.assert_array_equal(ids[:, 3], 6)


def test_copy_task_is_deterministic_given_the_seed():
    a = copy_task(8, 10, 5, 8, np.random.default_rng(9))
    b = copy_task(8, 10, 5, 8, np.random.default_rng(9))
    c = copy_task(8, 10, 5, 8, np.random.default_rng(10))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_copy_task_baseline_cross_entropy():
    S, delay, K = 10, 20, 8
    expected = S * np.log(K) / (2 * S + delay)
    assert copy_task_baseline_cross_entropy(S, delay, K) == pytest.approx(expected)
    # The loss of the "blank, then uniform guess" predictor on a sample equals the baseline.
    _, y = copy_task(4, S, delay, K, np.random.default_rng(0), one_hot=False)
    probabilities = np.zeros(y.shape + (K + 2,))
    probabilities[:, : S + delay, K] = 1.0
    probabilities[:, S + delay :, :K] = 1.0 / K
    picked = np.take_along_axis(probabilities, y[..., None], axis=-1)[..., 0]
    assert float(-np.log(picked).mean()) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"sequence_length": 0}, "sequence_length must be an integer >= 1"),
        ({"delay": 0}, "delay must be an integer >= 1"),
        ({"num_symbols": 0}, "num_symbols must be an integer >= 1"),
        ({"num_symbols": 2.5}, "num_symbols must be an integer >= 1"),
        ({"rng": 42}, "rng must be a numpy.random.Generator"),
        ({"dtype": np.int32}, "dtype must be a NumPy floating-point dtype"),
    ],
)
def test_copy_task_bad_arguments_raise(kwargs, message):
    arguments = {
        "batch_size": 2,
        "sequence_length": 3,
        "delay": 2,
        "num_symbols": 4,
        "rng": np.random.default_rng(0),
    } | kwargs
    with pytest.raises(ValueError, match=message):
        copy_task(**arguments)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [((0, 1, 2), "sequence_length"), ((1, 0, 2), "delay"), ((1, 1, 0), "num_symbols")],
)
def test_copy_task_baseline_bad_arguments_raise(arguments, message):
    with pytest.raises(ValueError, match=message):
        copy_task_baseline_cross_entropy(*arguments)


# --------------------------------------------------------------------------- first-symbol probe


def test_first_symbol_task_shapes_and_target():
    x, y = first_symbol_task(6, 9, 5, np.random.default_rng(0))
    assert x.shape == (6, 9, 5) and y.shape == (6,)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, x[:, 0].argmax(axis=-1))
    ids, y_ids = first_symbol_task(6, 9, 5, np.random.default_rng(0), one_hot=False)
    assert ids.shape == (6, 9)
    np.testing.assert_array_equal(y_ids, ids[:, 0])
    assert not np.array_equal(y_ids, ids[:, -1])


def test_first_symbol_task_length_one_and_determinism():
    x, y = first_symbol_task(3, 1, 2, np.random.default_rng(7), dtype=np.float32)
    assert x.shape == (3, 1, 2) and x.dtype == np.float32
    again = first_symbol_task(3, 1, 2, np.random.default_rng(7), dtype=np.float32)
    np.testing.assert_array_equal(x, again[0])
    np.testing.assert_array_equal(y, again[1])


def test_first_symbol_baseline_cross_entropy():
    assert first_symbol_baseline_cross_entropy(8) == pytest.approx(np.log(8))
    with pytest.raises(ValueError, match="num_symbols must be an integer >= 2, got 1"):
        first_symbol_baseline_cross_entropy(1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": -1}, "batch_size must be an integer >= 1"),
        ({"length": 0}, "length must be an integer >= 1"),
        ({"num_symbols": 1}, "num_symbols must be an integer >= 2"),
        ({"rng": None}, "rng must be a numpy.random.Generator"),
        ({"dtype": bool}, "dtype must be a NumPy floating-point dtype"),
    ],
)
def test_first_symbol_task_bad_arguments_raise(kwargs, message):
    arguments = {
        "batch_size": 2,
        "length": 3,
        "num_symbols": 4,
        "rng": np.random.default_rng(0),
    } | kwargs
    with pytest.raises(ValueError, match=message):
        first_symbol_task(**arguments)
