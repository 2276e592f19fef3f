"""rnncore.torch.benchmark: one positive median per path, and the printed row.

No test asserts a speed: times depend on the machine.
"""

import re

import pytest

from rnncore.torch.benchmark import HEADER, Size, TorchResult, benchmark_torch, format_row


def test_an_unknown_cell_is_refused():
    with pytest.raises(
        ValueError, match=re.escape("cell must be one of ['GRU', 'LSTM', 'RNN'], got 'lstm'")
    ):
        benchmark_torch("lstm", Size("tiny", T=2, B=1, D=1, H=1))


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
