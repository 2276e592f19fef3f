r"""The one-symbol copy probe as a long-range task: batches, model, loss, held-out scores.

Read one of K symbols at step 0, wait through T - 3 blanks and a go marker, name the symbol at
step T - 1: a :class:`~rnncore.torch.models.SequenceClassifier` on
:func:`~rnncore.data.tasks.copy_task` with S = 1, scored by the held-out cross-entropy against
the :math:`\log K` of a uniform guess, with the accuracy (chance 1/K) beside it. The held-out
sequences of length T come from ``numpy.random.default_rng(20000 + T)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from rnncore.data.tasks import copy_task, first_symbol_baseline_cross_entropy
from rnncore.long_range._checks import _check_cell, _check_positive_int
from rnncore.long_range.runner import Task, _set_forget_bias, run_task
from rnncore.long_range.verdicts import Measure
from rnncore.torch.models import SequenceClassifier

__all__ = [
    "check_probe_sizes",
    "copy_probe_batches",
    "cross_entropy",
    "build_copy_classifier",
    "copy_probe_validation",
    "copy_probe_measure",
    "copy_probe_task",
    "run_copy_probe_experiment",
]


def check_probe_sizes(length, num_symbols) -> tuple[int, int]:
    """(T, K) as ints, or ValueError: the probe needs T >= 3 steps and K >= 2 symbols."""
    T = _check_positive_int("length", length)
    if T < 3:
        raise ValueError(f"length must be at least 3 (symbol, go marker, answer), got {T}")
    K = _check_positive_int("num_symbols", num_symbols)
    if K < 2:
        raise ValueError(f"num_symbols must be at least 2, got {K}")
    return T, K


def copy_probe_batches(
    length: int, num_symbols: int, batch_size: int, rng: np.random.Generator
) -> Iterator:
    """Fresh batches of the copy task with one symbol, as a many-to-one problem, without end.

    :func:`~rnncore.data.tasks.copy_task` with S = 1 and delay T - 2: the symbol (one of K)
    at step 0, blanks at steps 1 .. T - 3, the go marker at step T - 2, and the symbol to name
    at step T - 1, which is the only target kept. The symbol is held for T - 1 steps.

    Parameters
    ----------
    length : int
        T, at least 3.
    num_symbols : int
        K, the number of data symbols, at least 2; the input has V = K + 2 ids (blank, go).
    batch_size : int
        B.
    rng : numpy.random.Generator
        The only source of randomness; the same seed gives the same stream of batches.

    Yields
    ------
    x : Tensor of shape (B, T, K + 2)
        One-hot float32 inputs.
    y : LongTensor of shape (B,)
        The symbol read at step 0, in 0 .. K - 1.
    """
    T, K = check_probe_sizes(length, num_symbols)
    while True:
        x, targets = copy_task(batch_size, 1, T - 2, K, rng, dtype=np.float32)  # (B, T, K + 2)
        yield torch.from_numpy(x), torch.from_numpy(targets[:, -1].copy())  # (B,)


def cross_entropy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats) of a :class:`SequenceClassifier`, the loss of training.

    Parameters
    ----------
    model : SequenceClassifier
        Many-to-one: ``model(x)`` returns logits (B, K).
    x : Tensor of shape (B, T, V)
    y : LongTensor of shape (B,)

    Returns
    -------
    loss : Tensor, a scalar
    """
    return torch.nn.functional.cross_entropy(model(x), y)


def build_copy_classifier(
    cell: str, hidden_size: int, num_symbols: int, forget_bias: float | None = 1.0
):
    """The model of the copy probe: a torch.nn recurrent layer and a linear map to K scores.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    hidden_size : int
        H.
    num_symbols : int
        K: inputs have D = K + 2 features (one-hot symbols, blank, go), outputs K scores.
    forget_bias : float or None, default 1.0
        The LSTM's effective forget-gate bias, set once as in
        :func:`~rnncore.long_range.build_regressor`; None keeps torch.nn's random draw.
        Ignored by the other cells.

    Returns
    -------
    model : SequenceClassifier
        Float32 parameters drawn from torch's generator.
    """
    _check_cell(cell)
    H = _check_positive_int("hidden_size", hidden_size)
    K = _check_positive_int("num_symbols", num_symbols)
    model = SequenceClassifier(K + 2, H, K, cell=cell, fast=True)
    if cell == "lstm" and forget_bias is not None:
        _set_forget_bias(model.recurrent, H, forget_bias)
    return model


def copy_probe_validation(
    model: torch.nn.Module, length: int, num_symbols: int, size: int = 2048
) -> dict[str, float]:
    """Cross-entropy and accuracy on ``size`` held-out probe sequences, in evaluation mode.

    The sequences come from ``numpy.random.default_rng(20000 + length)``: the same for every
    model of one length, never used for training.

    Parameters
    ----------
    model : SequenceClassifier
        On the CPU, with K outputs.
    length : int
        T, at least 3.
    num_symbols : int
        K.
    size : int, default 2048
        Number of held-out sequences.

    Returns
    -------
    measurements : dict
        ``"validation_cross_entropy"`` (nats; a uniform guess scores log K) and
        ``"validation_accuracy"`` (fraction named right; chance is 1 / K).
    """
    B = _check_positive_int("size", size)
    rng = np.random.default_rng(20_000 + _check_positive_int("length", length))
    x, y = next(copy_probe_batches(length, num_symbols, B, rng))  # (B, T, K + 2), (B,)
    model.eval()
    with torch.no_grad():
        logits = model(x)  # (B, K)
        return {
            "validation_cross_entropy": float(torch.nn.functional.cross_entropy(logits, y)),
            "validation_accuracy": float((logits.argmax(dim=1) == y).double().mean()),
        }


def copy_probe_measure(num_symbols: int) -> Measure:
    """How copy-probe runs are judged: held-out cross-entropy against a uniform guess's log K.

    Parameters
    ----------
    num_symbols : int
        K, at least 2.

    Returns
    -------
    measure : Measure
    """
    baseline = first_symbol_baseline_cross_entropy(num_symbols)  # log K, a uniform guess
    return Measure("validation_cross_entropy", baseline, "a uniform guess", "a uniform guess")


def copy_probe_task(
    *,
    num_symbols: int,
    batch_size: int,
    hidden_size: int,
    forget_bias: float | None = 1.0,
    validation_size: int = 2048,
) -> Task:
    """The one-symbol copy probe as a :class:`~rnncore.long_range.Task`.

    Models of :func:`build_copy_classifier`, batches of :func:`copy_probe_batches`, the loss
    :func:`cross_entropy`, the held-out scores of :func:`copy_probe_validation`, judged by
    ``copy_probe_measure(num_symbols)``; lengths of at least 3.

    Parameters
    ----------
    num_symbols : int
        K, at least 2.
    batch_size, hidden_size, forget_bias, validation_size
        As in :func:`~rnncore.long_range.adding_task`.

    Returns
    -------
    task : Task
    """
    num_symbols = _check_positive_int("num_symbols", num_symbols)
    if num_symbols < 2:
        raise ValueError(f"num_symbols must be at least 2, got {num_symbols}")
    batch_size = _check_positive_int("batch_size", batch_size)
    hidden_size = _check_positive_int("hidden_size", hidden_size)
    validation_size = _check_positive_int("validation_size", validation_size)
    return Task(
        build_model=lambda cell: build_copy_classifier(cell, hidden_size, num_symbols, forget_bias),
        batches=lambda length, rng: copy_probe_batches(length, num_symbols, batch_size, rng),
        loss_fn=cross_entropy,
        evaluate=lambda model, length: copy_probe_validation(
            model, length, num_symbols, validation_size
        ),
        measure=copy_probe_measure(num_symbols),
        min_length=3,
    )


def run_copy_probe_experiment(
    cells: Sequence[str],
    lengths: Sequence[int],
    *,
    num_symbols: int,
    steps: int,
    batch_size: int,
    hidden_size: int,
    lr: float,
    seed: int = 0,
    validation_size: int = 2048,
    forget_bias: float | None = 1.0,
    clip_norm: float = 1.0,
) -> dict[tuple[str, int], dict]:
    """Train every cell at every length on the one-symbol copy probe; measure held-out scores.

    :func:`~rnncore.long_range.run_task` on :func:`copy_probe_task`. Judge the runs with
    ``copy_probe_measure(num_symbols)``.

    Parameters
    ----------
    cells : sequence of {"rnn", "lstm", "gru"}
    lengths : sequence of int
        The lengths T, each at least 3.
    num_symbols : int
        K, at least 2.
    steps, batch_size, hidden_size, lr, seed, validation_size, forget_bias, clip_norm
        As in :func:`~rnncore.long_range.run_adding_experiment`.

    Returns
    -------
    runs : dict
        ``runs[cell, T]`` is a dict with ``"loss"`` (ndarray of shape (steps,)),
        ``"validation_cross_entropy"``, ``"validation_accuracy"`` and ``"seconds"`` (floats).
    """
    task = copy_probe_task(
        num_symbols=num_symbols,
        batch_size=batch_size,
        hidden_size=hidden_size,
        forget_bias=forget_bias,
        validation_size=validation_size,
    )
    return run_task(task, cells, lengths, steps=steps, lr=lr, seed=seed, clip_norm=clip_norm)
