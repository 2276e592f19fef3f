"""The adding problem as a long-range memory experiment: train cells at growing lengths.

Chapters 6 (label ``ch-lstm``) and 7 (``ch-gru``) ask the same question of different cells:
up to which sequence length T does a recurrent network, trained with a fixed budget, learn to
add two marked numbers that lie up to T - 1 steps apart? This module holds that experiment
once, so that both chapters run exactly the same code.

For every cell and every length, :func:`run_adding_experiment` trains a
:class:`~rnncore.torch.models.SequenceRegressor` (the recurrent layer, ``torch.nn`` for speed,
then a linear read-out of its last hidden state) on fresh batches of
:func:`~rnncore.data.tasks.adding_problem` with Adam and gradients clipped to norm 1, and
measures the mean squared error on held-out sequences. A trivial predictor that always answers
1 has an error of 1/6 (:func:`~rnncore.data.tasks.adding_problem_baseline_mse`);
:func:`verdict` turns an error into words by comparing it with that baseline, with the
thresholds of chapter 5:

.. math::

    \\text{learned the task} \\iff \\mathrm{MSE} < 0.1 \\cdot \\tfrac16, \\qquad
    \\text{near the baseline} \\iff \\mathrm{MSE} > 0.8 \\cdot \\tfrac16, \\qquad
    \\text{worse} \\iff \\mathrm{MSE} > 1.2 \\cdot \\tfrac16.

Randomness: every run reseeds torch with ``seed`` (so the cells start from their own, but
reproducible, weights), draws its training batches from ``numpy.random.default_rng(1000 +
seed)`` (the same batches for every cell at a length), and the held-out sequences of length
T from ``numpy.random.default_rng(10000 + T)``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from rnncore.data.tasks import adding_problem, adding_problem_baseline_mse
from rnncore.torch.models import CELLS, SequenceRegressor
from rnncore.torch.train import seed_everything, train

__all__ = [
    "LEARNED",
    "NEAR_BASELINE",
    "WORSE",
    "VERDICTS",
    "adding_batches",
    "mse",
    "build_regressor",
    "validation_mse",
    "run_adding_experiment",
    "verdict",
    "longest_learned",
    "cell_summary",
    "smooth",
]

LEARNED = 0.1  # below this fraction of the baseline MSE, the run learned the task
NEAR_BASELINE = 0.8  # above this fraction, it stayed near the trivial predictor
WORSE = 1.2  # above this fraction, it did clearly worse than the trivial predictor
VERDICTS = (
    "learned the task",
    "learned part of the task",
    "stayed near the baseline",
    "did worse than the baseline",
)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_cell(cell) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    return cell


def adding_batches(length: int, batch_size: int, rng: np.random.Generator) -> Iterator:
    """Fresh batches of the adding problem as float32 tensors, without end.

    Parameters
    ----------
    length : int
        T, at least 2.
    batch_size : int
        B.
    rng : numpy.random.Generator
        The only source of randomness; the same seed gives the same stream of batches.

    Yields
    ------
    x : Tensor of shape (B, T, 2)
        Values in channel 0, the two markers in channel 1.
    y : Tensor of shape (B, 1)
        The sum of the two marked values.
    """
    while True:
        x, y = adding_problem(batch_size, length, rng, dtype=np.float32)  # (B, T, 2), (B, 1)
        yield torch.from_numpy(x), torch.from_numpy(y)


def mse(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error of a :class:`SequenceRegressor`'s prediction, the loss of training.

    Parameters
    ----------
    model : SequenceRegressor
        Many-to-one: ``model(x)`` returns ``(prediction (B, 1), state)``.
    x : Tensor of shape (B, T, 2)
    y : Tensor of shape (B, 1)

    Returns
    -------
    loss : Tensor, a scalar
    """
    prediction, _ = model(x)  # (B, 1)
    return torch.nn.functional.mse_loss(prediction, y)


def build_regressor(cell: str, hidden_size: int, forget_bias: float | None = 1.0):
    """The model of the experiment: a torch.nn recurrent layer and a linear read-out.

    For the LSTM the forget-gate bias is set **once**: torch.nn adds ``bias_ih`` and
    ``bias_hh``, so the forget block (rows H to 2H, gate order i, f, g, o) of ``bias_ih`` gets
    ``forget_bias`` and that of ``bias_hh`` gets 0, and the effective bias
    :math:`b^f = b_{ih}^f + b_{hh}^f` is ``forget_bias``.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        The RNN is tanh; the GRU is torch.nn.GRU (reset gate after the product).
    hidden_size : int
        H.
    forget_bias : float or None, default 1.0
        The LSTM's effective forget-gate bias; None keeps torch.nn's random draw. Ignored by
        the other cells.

    Returns
    -------
    model : SequenceRegressor
        Input features D = 2, one output; float32 parameters drawn from torch's generator.
    """
    _check_cell(cell)
    H = _check_positive_int("hidden_size", hidden_size)
    model = SequenceRegressor(2, H, 1, cell=cell, many_to_many=False, fast=True)
    if cell == "lstm" and forget_bias is not None:
        with torch.no_grad():  # b = b_ih + b_hh: one of the two carries the bias
            model.recurrent.bias_ih_l0[H : 2 * H] = float(forget_bias)
            model.recurrent.bias_hh_l0[H : 2 * H] = 0.0
    return model


def validation_mse(model: torch.nn.Module, length: int, size: int = 2048) -> float:
    """Mean squared error on ``size`` held-out sequences of length T, in evaluation mode.

    The sequences come from ``numpy.random.default_rng(10000 + length)``, so every model of one
    length is measured on the same data, and that data is never used for training (training
    batches come from another seed).

    Parameters
    ----------
    model : SequenceRegressor
        On the CPU.
    length : int
        T.
    size : int, default 2048
        Number of held-out sequences.

    Returns
    -------
    mse : float
    """
    T = _check_positive_int("length", length)
    B = _check_positive_int("size", size)
    x, y = adding_problem(B, T, np.random.default_rng(10_000 + T), dtype=np.float32)
    model.eval()
    with torch.no_grad():
        return float(mse(model, torch.from_numpy(x), torch.from_numpy(y)))


def run_adding_experiment(
    cells: Sequence[str],
    lengths: Sequence[int],
    *,
    steps: int,
    batch_size: int,
    hidden_size: int,
    lr: float,
    seed: int = 0,
    validation_size: int = 2048,
    forget_bias: float | None = 1.0,
    clip_norm: float = 1.0,
) -> dict[tuple[str, int], dict]:
    """Train every cell at every length with the same budget and measure the held-out MSE.

    For each length T (outer loop) and each cell (inner loop): reseed with ``seed``, build the
    model with :func:`build_regressor`, train it for ``steps`` Adam updates of ``batch_size``
    fresh sequences from ``numpy.random.default_rng(1000 + seed)`` (gradients clipped to
    ``clip_norm``), then measure :func:`validation_mse`. Runs on the CPU, with the thread
    settings of the caller.

    Parameters
    ----------
    cells : sequence of {"rnn", "lstm", "gru"}
    lengths : sequence of int
        The lengths T, each at least 2.
    steps : int
        Updates per run.
    batch_size : int
        Sequences per update.
    hidden_size : int
        H, the same for every cell.
    lr : float
        Adam's learning rate.
    seed : int, default 0
    validation_size : int, default 2048
    forget_bias : float or None, default 1.0
        See :func:`build_regressor`.
    clip_norm : float, default 1.0

    Returns
    -------
    runs : dict
        ``runs[cell, T]`` is a dict with ``"loss"`` (ndarray of shape (steps,), the training
        loss of every update), ``"validation_mse"`` (float) and ``"seconds"`` (float, the wall
        time of that run).
    """
    cells = tuple(_check_cell(cell) for cell in cells)
    lengths = tuple(_check_positive_int("length", length) for length in lengths)
    if not cells or not lengths:
        raise ValueError(f"cells and lengths must not be empty, got {cells} and {lengths}")
    if min(lengths) < 2:
        raise ValueError(f"every length must be at least 2, got {lengths}")
    steps = _check_positive_int("steps", steps)
    batch_size = _check_positive_int("batch_size", batch_size)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    runs = {}
    for length in lengths:
        for cell in cells:
            start = time.perf_counter()
            seed_everything(seed)
            model = build_regressor(cell, hidden_size, forget_bias)
            history = train(
                model,
                adding_batches(length, batch_size, np.random.default_rng(1_000 + seed)),
                mse,
                torch.optim.Adam(model.parameters(), lr=lr),
                steps=steps,
                device="cpu",
                clip_norm=clip_norm,
                progress=False,
            )
            runs[cell, length] = {
                "loss": np.array([record["loss"] for record in history]),  # (steps,)
                "validation_mse": validation_mse(model, length, validation_size),
                "seconds": time.perf_counter() - start,
            }
    return runs


def verdict(mse_value: float, baseline: float | None = None) -> str:
    """Say in words how a held-out MSE compares with the trivial predictor's.

    Parameters
    ----------
    mse_value : float
    baseline : float, optional
        The trivial predictor's MSE; by default the adding problem's 1/6.

    Returns
    -------
    verdict : str
        One of ``VERDICTS``: "learned the task" (below ``LEARNED`` times the baseline), "did
        worse than the baseline" (above ``WORSE`` times it), "stayed near the baseline" (above
        ``NEAR_BASELINE`` times it) or "learned part of the task" (in between).
    """
    baseline = adding_problem_baseline_mse() if baseline is None else float(baseline)
    mse_value = float(mse_value)
    if not np.isfinite(mse_value) or mse_value < 0:
        raise ValueError(f"mse_value must be a finite number >= 0, got {mse_value!r}")
    if mse_value < LEARNED * baseline:
        return VERDICTS[0]
    if mse_value > WORSE * baseline:
        return VERDICTS[3]
    if mse_value > NEAR_BASELINE * baseline:
        return VERDICTS[2]
    return VERDICTS[1]


def _lengths_of(runs: dict, cell: str) -> list[int]:
    lengths = sorted(length for run_cell, length in runs if run_cell == cell)
    if not lengths:
        cells = sorted({run_cell for run_cell, _ in runs})
        raise ValueError(f"runs has no run of cell {cell!r}; it has {cells}")
    return lengths


def longest_learned(runs: dict, cell: str) -> int | None:
    """The longest length at which ``cell`` learned the task, or None if it learned at none.

    Parameters
    ----------
    runs : dict
        As returned by :func:`run_adding_experiment`.
    cell : str

    Returns
    -------
    length : int or None
    """
    learned = [
        length
        for length in _lengths_of(runs, cell)
        if verdict(runs[cell, length]["validation_mse"]) == VERDICTS[0]
    ]
    return max(learned) if learned else None


def _join(words: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def cell_summary(runs: dict, cell: str, name: str) -> str:
    """One clause on what ``cell`` learned, computed from the runs (never written by hand).

    Parameters
    ----------
    runs : dict
        As returned by :func:`run_adding_experiment`.
    cell : str
    name : str
        How the prose names the cell, e.g. "vanilla RNN".

    Returns
    -------
    clause : str
        For example "the LSTM learned the task up to T = 50 and did no better than a constant
        at T = 100", or "the GRU learned the task at no length and beat the constant predictor
        at every length".
    """
    failed = [
        length
        for length in _lengths_of(runs, cell)
        if verdict(runs[cell, length]["validation_mse"]) in VERDICTS[2:]
    ]
    best = longest_learned(runs, cell)
    if best is None:
        parts = [f"the {name} learned the task at no length"]
    else:
        parts = [f"the {name} learned the task up to T = {best}"]
    if failed:
        parts.append(f"did no better than a constant at {_join([f'T = {n}' for n in failed])}")
    else:
        parts.append("beat the constant predictor at every length")
    return " and ".join(parts)


def smooth(values, window: int = 50) -> np.ndarray:
    """Running mean over ``window`` steps, to see the trend of a noisy training loss.

    Parameters
    ----------
    values : array-like of shape (N,)
    window : int, default 50
        At most N.

    Returns
    -------
    smoothed : ndarray of shape (N - window + 1,)
    """
    values = np.asarray(values, dtype=np.float64)
    window = _check_positive_int("window", window)
    if values.ndim != 1 or values.size < window:
        raise ValueError(
            f"values must have shape (N,) with N >= window = {window}, got {values.shape}"
        )
    return np.convolve(values, np.ones(window) / window, mode="valid")  # (N - window + 1,)
