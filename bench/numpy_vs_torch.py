"""rnncore.numpy against torch.nn on the CPU: forward and forward+backward, float32.

For each cell (RNN, LSTM, GRU) and size, one process times rnncore.numpy's sequence functions
and the matching torch.nn module with the same weights, alternating the two, and reports

- the median times and their ratio (rnncore / torch.nn; below 1 means rnncore is faster);
- the achieved GFLOP/s of the matrix products the algorithm must do, against the GFLOP/s of a
  plain matrix product of the same shapes measured in the same run;
- the share of rnncore's forward+backward spent in those matrix products, by timing the same
  products alone (the "matmul skeleton": input projection, T recurrent products, and the four
  products of the backward).

FLOP counts (multiply-adds counted as two): with G gates (1 RNN, 4 LSTM, 3 GRU),
forward = 2 B T (D + H) G H, backward = 2 x forward (input, weight and state gradients).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from rnncore.numpy import (
    gru_reset_after_backward,
    gru_reset_after_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)
from rnncore.timing import time_alternating


@dataclass(frozen=True)
class Size:
    name: str
    T: int
    B: int
    D: int
    H: int


SIZES = (
    Size("small", T=50, B=32, D=128, H=128),
    Size("medium", T=100, B=64, D=256, H=256),
    Size("large", T=200, B=64, D=512, H=512),
)
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


@dataclass(frozen=True)
class Result:
    cell: str
    size: Size
    numpy_forward: float
    torch_forward: float
    numpy_train: float
    torch_train: float
    matmul_share: float
    matmul_gflops: float

    @property
    def train_flops(self) -> float:
        s = self.size
        return 3 * 2 * s.B * s.T * (s.D + s.H) * GATES[self.cell] * s.H


def _torch_module(cell: str, size: Size) -> torch.nn.Module:
    constructor = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[cell]
    return constructor(size.D, size.H, batch_first=True).float()


def _numpy_params(module: torch.nn.Module, cell: str) -> dict[str, np.ndarray]:
    """The module's weights in rnncore's row-vector layout (see rnncore.torch.interop)."""
    w_ih = module.weight_ih_l0.detach().numpy()
    w_hh = module.weight_hh_l0.detach().numpy()
    b_ih = module.bias_ih_l0.detach().numpy()
    b_hh = module.bias_hh_l0.detach().numpy()
    params = {"Wx": np.ascontiguousarray(w_ih.T), "Wh": np.ascontiguousarray(w_hh.T)}
    if cell == "GRU":
        H = w_hh.shape[1]
        params["b"] = np.concatenate([b_ih[: 2 * H] + b_hh[: 2 * H], b_ih[2 * H :]])
        params["b_hn"] = b_hh[2 * H :].copy()
    else:
        params["b"] = b_ih + b_hh
    return params


def _numpy_functions(cell: str, x, h0, params):
    """Closures running rnncore.numpy's forward, and forward+backward, once."""
    forward, backward = {
        "RNN": (rnn_forward, rnn_backward),
        "LSTM": (lstm_forward, lstm_backward),
        "GRU": (gru_reset_after_forward, gru_reset_after_backward),
    }[cell]
    dh = np.ones((x.shape[0], x.shape[1], h0.shape[1]), dtype=x.dtype)

    def run_forward():
        return forward(x, h0, **params)

    def run_train():
        h, cache = forward(x, h0, **params)
        return backward(dh, cache)

    return run_forward, run_train


def _torch_functions(cell: str, module, x, h0):
    x_t = torch.from_numpy(x).requires_grad_(True)
    h0_t = torch.from_numpy(h0).unsqueeze(0).requires_grad_(True)
    state = (h0_t, torch.zeros_like(h0_t)) if cell == "LSTM" else h0_t
    dh = torch.ones(x.shape[0], x.shape[1], h0.shape[1])

    def run_forward():
        # Gradients enabled, as in training: both sides keep what their backward needs.
        return module(x_t, state)

    def run_train():
        for tensor in (x_t, h0_t, *module.parameters()):
            tensor.grad = None
        output, _ = module(x_t, state)
        output.backward(dh)

    return run_forward, run_train


def _matmul_skeleton(cell: str, size: Size, rng: np.random.Generator):
    """The matrix products of one forward+backward, alone, into preallocated outputs.

    Exactly the products rnncore.numpy's sequence functions compute, with the same shapes,
    transposes and memory layouts: the batch-first buffers (B, T, ...) are read one time step
    at a time as strided (B, ...) views, as in rnncore's loops over time.
    """
    B, T, D, H, G = size.B, size.T, size.D, size.H, GATES[cell]
    f32 = np.float32
    x = rng.standard_normal((B, T, D), dtype=f32)
    Wx = rng.standard_normal((D, G * H), dtype=f32)
    Wh = rng.standard_normal((H, G * H), dtype=f32)
    h = rng.standard_normal((B, T, H), dtype=f32)
    h_prev_all = rng.standard_normal((B, T, H), dtype=f32)
    da = rng.standard_normal((B, T, G * H), dtype=f32)
    xw = np.empty((B, T, G * H), f32)
    hw = np.empty((B, G * H), f32)
    dx = np.empty((B, T, D), f32)
    dWx = np.empty((D, G * H), f32)
    dWh = np.empty((H, G * H), f32)
    dh_prev = np.empty((B, H), f32)
    x_2d, da_2d = x.reshape(B * T, D), da.reshape(B * T, G * H)

    def run():
        np.matmul(x_2d, Wx, out=xw.reshape(B * T, G * H))  # forward: input projection
        for t in range(T):
            np.matmul(h[:, t], Wh, out=hw)  # forward: recurrent product
        for t in range(T):
            np.matmul(da[:, t], Wh.T, out=dh_prev)  # backward: through time
        np.matmul(da_2d, Wx.T, out=dx.reshape(B * T, D))  # backward: input gradient
        np.matmul(x_2d.T, da_2d, out=dWx)
        np.matmul(h_prev_all.reshape(B * T, H).T, da_2d, out=dWh)

    return run


def benchmark(
    cell: str, size: Size, repeats: int = 7, clock: Callable[[], float] = time.perf_counter
) -> Result:
    """Time one cell at one size; see the module docstring for what is measured.

    ``clock`` is passed to :func:`rnncore.timing.time_alternating` (wall time by default).
    """
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    module = _torch_module(cell, size)
    params = _numpy_params(module, cell)
    x = rng.standard_normal((size.B, size.T, size.D), dtype=np.float32)
    h0 = rng.standard_normal((size.B, size.H), dtype=np.float32) * np.float32(0.1)
    numpy_forward, numpy_train = _numpy_functions(cell, x, h0, params)
    torch_forward, torch_train = _torch_functions(cell, module, x, h0)
    skeleton = _matmul_skeleton(cell, size, rng)
    times = time_alternating(
        [numpy_forward, torch_forward, numpy_train, torch_train, skeleton],
        repeats=repeats,
        clock=clock,
    )
    t_np_fwd, t_torch_fwd, t_np_train, t_torch_train, t_skeleton = times
    result = Result(
        cell=cell,
        size=size,
        numpy_forward=t_np_fwd,
        torch_forward=t_torch_fwd,
        numpy_train=t_np_train,
        torch_train=t_torch_train,
        matmul_share=t_skeleton / t_np_train,
        matmul_gflops=0.0,
    )
    return Result(**{**result.__dict__, "matmul_gflops": result.train_flops / t_skeleton / 1e9})
