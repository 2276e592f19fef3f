"""rnncore.timing: the functions are run the stated number of times, in turn; bad input is
refused. No test asserts a speed: times depend on the machine."""

import re

import pytest

from rnncore.timing import time_alternating, time_rounds


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
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_raises_value_error(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
