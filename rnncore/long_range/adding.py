"""The adding problem as a long-range task: batches, model, loss, held-out error, experiment.

A :class:`~rnncore.torch.models.SequenceRegressor` on
:func:`~rnncore.data.tasks.adding_problem` adds two marked numbers; it is scored by the
held-out mean squared error against the 1/6 of a predictor that always answers 1
(:func:`~rnncore.data.tasks.adding_problem_baseline_mse`, ``ADDING_MEASURE``). The held-out
sequences of length T come from ``numpy.random.default_rng(10000 + T)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from rnncore.data.tasks import adding_problem
from rnncore.long_range._checks import _check_cell, _check_positive_int
from rnncore.long_range.runner import Task, _set_forget_bias, run_task
from rnncore.long_range.verdicts import ADDING_MEASURE
from rnncore.torch.models import SequenceRegressor

__all__ = [
    "adding_batches",
    "mse",
    "build_regressor",
    "validation_mse",
    "adding_task",
    "run_adding_experiment",
]


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
    """The model of the adding problem: a torch.nn recurrent layer and a linear read-out.

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
        _set_forget_bias(model.recurrent, H, forget_bias)
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


def adding_task(
    *,
    batch_size: int,
    hidden_size: int,
    forget_bias: float | None = 1.0,
    validation_size: int = 2048,
) -> Task:
    """The adding problem as a :class:`~rnncore.long_range.Task`.

    Models of :func:`build_regressor`, batches of :func:`adding_batches`, the loss :func:`mse`,
    the held-out ``"validation_mse"`` of :func:`validation_mse`, judged by ``ADDING_MEASURE``;
    lengths of at least 2.

    Parameters
    ----------
    batch_size : int
        Sequences per update.
    hidden_size : int
        H, the same for every cell.
    forget_bias : float or None, default 1.0
        See :func:`build_regressor`.
    validation_size : int, default 2048

    Returns
    -------
    task : Task
    """
    batch_size = _check_positive_int("batch_size", batch_size)
    hidden_size = _check_positive_int("hidden_size", hidden_size)
    validation_size = _check_positive_int("validation_size", validation_size)
    return Task(
        build_model=lambda cell: build_regressor(cell, hidden_size, forget_bias),
        batches=lambda length, rng: adding_batches(length, batch_size, rng),
        loss_fn=mse,
        evaluate=lambda model, length: {
            "validation_mse": validation_mse(model, length, validation_size)
        },
        measure=ADDING_MEASURE,
        min_length=2,
    )


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
    """Train every cell at every length on the adding problem and measure the held-out MSE.

    :func:`~rnncore.long_range.run_task` on :func:`adding_task`.

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
    task = adding_task(
        batch_size=batch_size,
        hidden_size=hidden_size,
        forget_bias=forget_bias,
        validation_size=validation_size,
    )
    return run_task(task, cells, lengths, steps=steps, lr=lr, seed=seed, clip_norm=clip_norm)
