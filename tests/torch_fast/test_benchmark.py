"""The timing helper and the torch benchmark: what they return and what they refuse.

No test asserts a speed: times depend on the machine. The tests check that every function is
run the stated number of times, in turn, and that the benchmark returns one positive median
per path.
"""

import re

import pytest

from rnncore.timing import time_alternating, time_rounds
from rnncore.torch.benchmark import HEADER, Size, TorchResult, benchmark_torch, format_row


def test_time_alternating_runs_each_function_in_turn():
    calls = []
    functions = [lambda: calls.append("a"), lambda: calls.append("b")]
    medians = time_alternating(functions, repeats=7, warmup=1)
    assert len(medians) == 2 and all(m >= 0 for m in medians)
    assert calls == ["a", "b"] * 8  # one warm-up round, then seven timed rounds, alternated


def test_time_rounds_keeps_every_timed_run_in_round_order():
    clock_readings = iter(range(100))  # a fake clock: each reading one second later
    ticks = [0.0]

    def clock():
        ticks[0] = float(next(clock_readings))
        return ticks[0]

    functions = [lambda: next(clock_readings), lambda: None]  # the first one costs one tick
    rounds = time_rounds(functions, repeats=7, warmup=0, clock=clock)
    assert rounds == [[2.0] * 7, [1.0] * 7]
    assert time_alternating(functions, repeats=7, warmup=0, clock=clock) == [2.0, 1.0]


ERRORS = {
    "few repeats": (
        lambda: time_alternating([lambda: None], repeats=3),
        "repeats must be at least 7 for a stable median, got 3",
    ),
    "negative warmup": (
        lambda: time_alternating([lambda: None], warmup=-1),
        "warmup must be a non-negative integer, got -1",
    ),
    "no function": (lambda: time_alternating([]), "functions must hold at least one callable"),
    "cell": (
        lambda: benchmark_torch("lstm", Size("tiny", T=2, B=1, D=1, H=1)),
        "cell must be one of ['GRU', 'LSTM', 'RNN'], got 'lstm'",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_raises_value_error(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_benchmark_returns_one_positive_median_per_path(cell):
    size = Size("tiny", T=3, B=2, D=4, H=5)
    result = benchmark_torch(cell, size, "cpu", repeats=7)
    assert isinstance(result, TorchResult) and result.cell == cell and result.size == size
    times = [value for value in vars(result).values() if isinstance(value, float)]
    assert len(times) == 7 and all(t > 0 for t in times)
    ratios = result.fast_train_round_ratios
    assert len(ratios) == 7 and all(r > 0 for r in ratios)
    assert min(ratios) <= result.fast_train / result.nn_train <= max(ratios)
    row = format_row(result, threads=1)
    assert row.startswith(f"{cell:<5} tiny") and len(row) == len(HEADER)
    assert row.endswith(f"{min(ratios):.2f} - {max(ratios):.2f}")


def test_a_row_without_per_round_ratios_says_so():
    size = Size("tiny", T=3, B=2, D=4, H=5)
    result = TorchResult("LSTM", size, "cpu", *([1e-3] * 7))
    row = format_row(result, threads=1)
    assert row.endswith(" -") and len(row) == len(HEADER)
