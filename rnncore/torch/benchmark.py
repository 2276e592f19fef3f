"""rnncore.torch's two paths against torch.nn: forward and forward+backward times.

For one cell (RNN, LSTM, GRU) and one size, :func:`benchmark_torch` builds a torch.nn module
and the two rnncore layers with the same weights (:func:`rnncore.torch.interop.load_from_torch`)
and times, in turn in one loop (:func:`rnncore.timing.time_rounds`, medians reported):

- ``readable``: :class:`rnncore.torch.layers.RNN/LSTM/GRU`, cells looped under autograd;
- ``fast``: the same layer with ``fast=True``, i.e. :mod:`rnncore.torch.fast`, one autograd
  Function per layer and direction with a hand-written backward;
- ``torch.nn``: on the CPU, oneDNN's fused LSTM (torch.nn.RNN and GRU run ATen's own loop of
  cells); on a GPU, cuDNN;
- ``mm``: the matrix products of one forward+backward alone, into preallocated outputs (the
  input projection, T recurrent products, T products of the backward through time, and the
  three products for dx, dWx, dWh). It is what the fast path cannot go below with the same
  BLAS, and says how much of its time is BLAS.

Gradients are enabled in the forward timings, as in training: every path keeps what its
backward needs. The upstream gradient is ones. On CUDA every timed call is bracketed by
``torch.cuda.synchronize()``, so the time is that of the work, not of queueing it.
The thread count is the caller's (``torch.set_num_threads``).

Besides the medians, each result keeps the fast path's forward+backward time over torch.nn's
*within each round* (the two ran seconds apart): the table prints their lowest and highest
value, a direct reading of how much the machine moved during the measurement.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from rnncore.timing import time_rounds
from rnncore.torch import interop, layers

__all__ = ["GATES", "Size", "TorchResult", "HEADER", "benchmark_torch", "format_row"]

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
TORCH_NN = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
OURS = {"RNN": layers.RNN, "LSTM": layers.LSTM, "GRU": layers.GRU}

HEADER = (
    f"{'cell':<5} {'size':<7} {'dev':<4} {'thr':>3} | {'read fwd':>8} {'fast fwd':>8} "
    f"{'nn fwd':>8} {'read':>5} {'fast':>5} | {'read f+b':>8} {'fast f+b':>8} {'nn f+b':>8} "
    f"{'read':>5} {'fast':>5} | {'mm f+b':>8} {'mm/fast':>7} | {'fast f+b/nn per round':>21}"
)


@dataclass(frozen=True)
class Size:
    """A benchmark size: a name, T time steps, a batch of B, D input features, H units."""

    name: str
    T: int
    B: int
    D: int
    H: int


@dataclass(frozen=True)
class TorchResult:
    """Median times in seconds of one cell at one size on one device.

    ``fast_train_round_ratios`` holds, round by round, the fast path's forward+backward time
    over torch.nn's in the same round (empty when not measured).
    """

    cell: str
    size: Size
    device: str
    readable_forward: float
    fast_forward: float
    nn_forward: float
    readable_train: float
    fast_train: float
    nn_train: float
    matmul_train: float
    fast_train_round_ratios: tuple[float, ...] = ()


def format_row(result: TorchResult, threads: int) -> str:
    """One line of the table: times in ms, then each rnncore path's ratio to torch.nn."""
    r, s = result, result.size
    return (
        f"{r.cell:<5} {s.name:<7} {r.device:<4} {threads:>3} | {1e3 * r.readable_forward:>8.2f} "
        f"{1e3 * r.fast_forward:>8.2f} {1e3 * r.nn_forward:>8.2f} "
        f"{r.readable_forward / r.nn_forward:>5.2f} {r.fast_forward / r.nn_forward:>5.2f} | "
        f"{1e3 * r.readable_train:>8.2f} {1e3 * r.fast_train:>8.2f} {1e3 * r.nn_train:>8.2f} "
        f"{r.readable_train / r.nn_train:>5.2f} {r.fast_train / r.nn_train:>5.2f} | "
        f"{1e3 * r.matmul_train:>8.2f} {r.matmul_train / r.fast_train:>7.0%} | "
        f"{_spread(r.fast_train_round_ratios):>21}"
    )


def _spread(ratios: tuple[float, ...]) -> str:
    """'lowest - highest' of per-round ratios, or '-' when there are none."""
    return f"{min(ratios):.2f} - {max(ratios):.2f}" if ratios else "-"


def _synchronized(function, device: torch.device):
    """On CUDA, wait for the queued kernels before and after: time the work, not the launch."""
    if device.type != "cuda":
        return function

    def run():
        torch.cuda.synchronize(device)
        function()
        torch.cuda.synchronize(device)

    return run


def _matmul_skeleton(cell: str, size: Size, device: torch.device, generator: torch.Generator):
    """The matrix products of one forward+backward, alone, into preallocated outputs."""
    B, T, D, H, G = size.B, size.T, size.D, size.H, GATES[cell]
    options = {"device": device, "dtype": torch.float32, "generator": generator}
    x_2d = torch.randn(T * B, D, **options)  # (T*B, D)
    Wx = torch.randn(D, G * H, **options)  # (D, G*H)
    Wh = torch.randn(H, G * H, **options)  # (H, G*H)
    h_steps = torch.randn(T, B, H, **options)  # (T, B, H)
    da_steps = torch.randn(T, B, G * H, **options)  # (T, B, G*H)
    h_2d, da_2d = h_steps.view(T * B, H), da_steps.view(T * B, G * H)
    xw = x_2d.new_empty(T * B, G * H)  # (T*B, G*H)
    hw = x_2d.new_empty(B, G * H)  # (B, G*H)
    dh_prev = x_2d.new_empty(B, H)  # (B, H)
    dx = x_2d.new_empty(T * B, D)  # (T*B, D)
    dWx, dWh = torch.empty_like(Wx), torch.empty_like(Wh)

    def run():
        torch.mm(x_2d, Wx, out=xw)  # forward: input projection of all steps
        for t in range(T):
            torch.mm(h_steps[t], Wh, out=hw)  # forward: recurrent product
        for t in range(T):
            torch.mm(da_steps[t], Wh.T, out=dh_prev)  # backward: through time
        torch.mm(da_2d, Wx.T, out=dx)  # backward: input gradient
        torch.mm(x_2d.T, da_2d, out=dWx)
        torch.mm(h_2d.T, da_2d, out=dWh)

    return run


def benchmark_torch(cell: str, size: Size, device="cpu", repeats: int = 7) -> TorchResult:
    """Time the readable layer, the fast layer and torch.nn for one cell and size (float32).

    Parameters
    ----------
    cell : {"RNN", "LSTM", "GRU"}
    size : Size
        Anything with attributes name, T, B, D, H.
    device : str or torch.device
        ``"cpu"`` or ``"cuda"``.
    repeats : int
        Timed rounds, at least 7; every function runs once per round, in turn.

    Returns
    -------
    TorchResult
    """
    if cell not in GATES:
        raise ValueError(f"cell must be one of {sorted(GATES)}, got {cell!r}")
    device = torch.device(device)
    torch.manual_seed(0)
    generator = torch.Generator(device=device).manual_seed(0)
    B, T, D, H = size.B, size.T, size.D, size.H
    options = {"device": device, "dtype": torch.float32}
    module = TORCH_NN[cell](D, H, batch_first=True, **options)
    readable = interop.load_from_torch(OURS[cell](D, H, **options), module)
    fast = interop.load_from_torch(OURS[cell](D, H, fast=True, **options), module)
    x = torch.randn(B, T, D, generator=generator, **options).requires_grad_(True)  # (B, T, D)
    h0 = (0.1 * torch.randn(1, B, H, generator=generator, **options)).requires_grad_(True)
    c0 = torch.zeros(1, B, H, **options).requires_grad_(cell == "LSTM")  # (1, B, H)
    state = (h0, c0) if cell == "LSTM" else h0
    dh = torch.ones(B, T, H, **options)  # (B, T, H), upstream gradient
    leaves = [x, h0, c0, *module.parameters(), *readable.parameters(), *fast.parameters()]

    def clear_gradients():
        for tensor in leaves:
            tensor.grad = None

    def forward_of(layer):
        return lambda: layer(x, state)

    def train(forward):
        def run():
            clear_gradients()
            output, _ = forward()
            output.backward(dh)

        return run

    forwards = [forward_of(readable), forward_of(fast), forward_of(module)]
    functions = [*forwards, *(train(f) for f in forwards)]
    functions.append(_matmul_skeleton(cell, size, device, generator))
    rounds = time_rounds([_synchronized(f, device) for f in functions], repeats=repeats)
    _, _, _, _, fast_train, nn_train, _ = rounds  # the order of ``functions``
    return TorchResult(
        cell,
        size,
        device.type,
        *(statistics.median(times) for times in rounds),
        fast_train_round_ratios=tuple(f / n for f, n in zip(fast_train, nn_train, strict=True)),
    )
