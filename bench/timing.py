"""Timing for ``make bench``: the same alternating, median-of-rounds timer as the chapters use.

It lives in :mod:`rnncore.timing` so that chapter 8 can import it; this module keeps the
``bench.timing`` name for the benchmark scripts.
"""

from rnncore.timing import time_alternating

__all__ = ["time_alternating"]
