"""The loop both long-range tasks share: every cell at every length, one budget, one seed.

A :class:`Task` bundles what distinguishes the adding problem from the copy probe (its
batches, its model, its training loss, its held-out measurements and how they are judged);
:func:`run_task` trains every cell at every length on it through
:func:`run_long_range_experiment`, the one code path of both tasks.

Randomness: every run reseeds torch with ``seed`` (so the cells start from their own, but
reproducible, weights) and draws its training batches from ``numpy.random.default_rng(1000 +
seed)`` (the same batches for every cell at a length); each task draws its held-out sequences
from a generator of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch

from rnncore.long_range._checks import _check_cell, _check_lengths, _check_positive_int
from rnncore.long_range.verdicts import Measure
from rnncore.torch.train import seed_everything, train

__all__ = ["Task", "start_run", "run_long_range_experiment", "run_task", "smooth"]


class Task(NamedTuple):
    """What makes one long-range task: its data, model, loss, measurements and judge.

    Attributes
    ----------
    build_model : callable
        ``build_model(cell) -> nn.Module``, drawing its weights from torch's generator.
    batches : callable
        ``batches(T, rng)`` -> endless iterator of (inputs, targets) tensors.
    loss_fn : callable
        ``loss_fn(model, inputs, targets) -> scalar Tensor``, the training loss.
    evaluate : callable
        ``evaluate(model, T) -> dict`` of held-out measurements (floats).
    measure : Measure
        Which of those measurements :func:`~rnncore.long_range.verdict` judges, against which
        baseline.
    min_length : int
        The shortest length T the task allows.
    """

    build_model: Callable[[str], torch.nn.Module]
    batches: Callable[[int, np.random.Generator], Iterator]
    loss_fn: Callable
    evaluate: Callable[[torch.nn.Module, int], dict]
    measure: Measure
    min_length: int


def _set_forget_bias(recurrent: torch.nn.Module, hidden_size: int, forget_bias: float) -> None:
    """Give a torch.nn.LSTM's forget gates the effective bias ``forget_bias``, once.

    torch.nn adds ``bias_ih`` and ``bias_hh``: the forget block (rows H to 2H, gate order
    i, f, g, o) of ``bias_ih`` gets ``forget_bias`` and that of ``bias_hh`` gets 0.
    """
    H = hidden_size
    with torch.no_grad():  # b = b_ih + b_hh: one of the two carries the bias
        recurrent.bias_ih_l0[H : 2 * H] = float(forget_bias)
        recurrent.bias_hh_l0[H : 2 * H] = 0.0


def start_run(
    build_model: Callable[[str], torch.nn.Module],
    cell: str,
    batches: Callable[[int, np.random.Generator], Iterator],
    length: int,
    lr: float,
    seed: int,
) -> tuple[torch.nn.Module, Iterator, torch.optim.Adam]:
    """What every run starts from: reseeded weights, its stream of batches, a fresh Adam.

    torch is reseeded with ``seed`` before ``build_model(cell)`` draws the weights; the
    batches come from ``batches(length, numpy.random.default_rng(1000 + seed))``.

    Returns
    -------
    model : nn.Module
    stream : iterator of (inputs, targets)
    optimizer : torch.optim.Adam
        Over ``model.parameters()`` with learning rate ``lr``.
    """
    seed_everything(seed)
    model = build_model(cell)
    stream = batches(length, np.random.default_rng(1_000 + seed))
    return model, stream, torch.optim.Adam(model.parameters(), lr=lr)


def run_long_range_experiment(
    cells: Sequence[str],
    lengths: Sequence[int],
    *,
    build_model: Callable[[str], torch.nn.Module],
    batches: Callable[[int, np.random.Generator], Iterator],
    loss_fn: Callable,
    evaluate: Callable[[torch.nn.Module, int], dict],
    steps: int,
    lr: float,
    seed: int = 0,
    clip_norm: float = 1.0,
    min_length: int = 2,
) -> dict[tuple[str, int], dict]:
    """Train every cell at every length with the same budget; the loop both tasks share.

    For each length T (outer loop) and each cell (inner loop): reseed with ``seed``, build the
    model with ``build_model(cell)``, train it for ``steps`` Adam updates on
    ``batches(T, numpy.random.default_rng(1000 + seed))`` (gradients clipped to
    ``clip_norm``), then measure it with ``evaluate(model, T)``. Runs on the CPU, with the
    thread settings of the caller.

    Parameters
    ----------
    cells : sequence of {"rnn", "lstm", "gru"}
    lengths : sequence of int
        The lengths T, each at least ``min_length``.
    build_model, batches, loss_fn, evaluate
        As in :class:`Task`.
    steps : int
        Updates per run.
    lr : float
        Adam's learning rate.
    seed : int, default 0
    clip_norm : float, default 1.0
    min_length : int, default 2
        The shortest length the task allows.

    Returns
    -------
    runs : dict
        ``runs[cell, T]`` is a dict with ``"loss"`` (ndarray of shape (steps,), the training
        loss of every update), the entries of ``evaluate`` and ``"seconds"`` (float, the wall
        time of that run, evaluation included).
    """
    cells = tuple(_check_cell(cell) for cell in cells)
    lengths = _check_lengths(lengths, min_length)
    if not cells or not lengths:
        raise ValueError(f"cells and lengths must not be empty, got {cells} and {lengths}")
    steps = _check_positive_int("steps", steps)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    runs = {}
    for length in lengths:
        for cell in cells:
            start = time.perf_counter()
            model, stream, optimizer = start_run(build_model, cell, batches, length, lr, seed)
            history = train(
                model,
                stream,
                loss_fn,
                optimizer,
                steps=steps,
                device="cpu",
                clip_norm=clip_norm,
                progress=False,
            )
            runs[cell, length] = {
                "loss": np.array([record["loss"] for record in history]),  # (steps,)
                **evaluate(model, length),
            }
            runs[cell, length]["seconds"] = time.perf_counter() - start
    return runs


def run_task(
    task: Task,
    cells: Sequence[str],
    lengths: Sequence[int],
    *,
    steps: int,
    lr: float,
    seed: int = 0,
    clip_norm: float = 1.0,
) -> dict[tuple[str, int], dict]:
    """Train every cell at every length on ``task``: :func:`run_long_range_experiment` with it.

    Parameters
    ----------
    task : Task
        For example ``adding_task(...)`` or ``copy_probe_task(...)``.
    cells, lengths, steps, lr, seed, clip_norm
        As in :func:`run_long_range_experiment`; every length at least ``task.min_length``.

    Returns
    -------
    runs : dict
        As :func:`run_long_range_experiment` returns them; judge them with ``task.measure``.
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task, got {type(task).__name__}")
    return run_long_range_experiment(
        cells,
        lengths,
        build_model=task.build_model,
        batches=task.batches,
        loss_fn=task.loss_fn,
        evaluate=task.evaluate,
        steps=steps,
        lr=lr,
        seed=seed,
        clip_norm=clip_norm,
        min_length=task.min_length,
    )


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
