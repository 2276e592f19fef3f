"""Alternating, warmed-up timing: the median of interleaved runs of several implementations.

Shared machines drift: a run of A followed later by a run of B measures the machine as much
as the code. Running A and B in turn within one loop exposes both to the same conditions, and
the median of at least seven rounds ignores the odd interrupted run. Ratios of the medians are
the numbers to report; the absolute times belong to one machine on one day.

On a machine shared with other jobs, wall time also counts the moments the operating system
gives this thread's core to someone else. For single-threaded runs, ``clock=time.thread_time``
measures the CPU time of the calling thread instead (cache and memory contention still count).

``make bench`` (bench/) and the performance chapter both time with :func:`time_alternating`,
or with :func:`time_rounds` where the per-round times are wanted too (rnncore.torch.benchmark).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

__all__ = ["time_alternating", "time_rounds"]


def time_rounds(
    functions: Sequence[Callable[[], object]],
    repeats: int = 7,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> list[list[float]]:
    """Every timed run, in seconds: ``rounds[k][r]`` is function k in round r.

    Runs the functions in turn, ``warmup`` untimed rounds and then ``repeats`` timed ones, as
    :func:`time_alternating` does (which returns the medians of these lists). Keep the rounds
    to pair runs: ``rounds[a][r] / rounds[b][r]`` compares two functions measured seconds
    apart, so the spread of these per-round ratios shows how much the machine moved.

    Parameters
    ----------
    functions : sequence of callables taking no arguments
    repeats : int
        Timed rounds (each round runs every function once). At least 7.
    warmup : int
        Untimed rounds first (caches, allocators, lazy initialisation).
    clock : callable returning seconds, default time.perf_counter (wall time)
        ``time.thread_time`` counts only this thread's CPU time: use it only when all the
        work runs on the calling thread (one BLAS and one torch thread).

    Returns
    -------
    list of lists of float, one list of ``repeats`` times per function
    """
    if not isinstance(repeats, int) or repeats < 7:
        raise ValueError(f"repeats must be at least 7 for a stable median, got {repeats}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative integer, got {warmup!r}")
    if not functions:
        raise ValueError("functions must hold at least one callable")
    for _ in range(warmup):
        for function in functions:
            function()
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for index, function in enumerate(functions):
            start = clock()
            function()
            samples[index].append(clock() - start)
    return samples


def time_alternating(
    functions: Sequence[Callable[[], object]],
    repeats: int = 7,
    warmup: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median time in seconds of each function, running them in turn ``repeats`` times.

    The medians of :func:`time_rounds`, which takes the same arguments and checks them.

    Returns
    -------
    list of float, one median per function
    """
    return [statistics.median(times) for times in time_rounds(functions, repeats, warmup, clock)]
