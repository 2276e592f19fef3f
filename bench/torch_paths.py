"""rnncore.torch's two paths against torch.nn: forward and forward+backward, float32.

The benchmark itself lives in :mod:`rnncore.torch.benchmark`, so that the performance chapter
imports the same code; this module keeps ``make bench``'s names.
"""

from rnncore.torch.benchmark import HEADER, TorchResult, benchmark_torch, format_row

__all__ = ["HEADER", "TorchResult", "benchmark_torch", "format_row"]
