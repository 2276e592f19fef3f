"""Long-range memory experiments: train cells at growing lengths, two tasks, one machinery.

Chapters 6 (label ``ch-lstm``) and 7 (``ch-gru``) ask the same question of different cells:
up to which sequence length T does a recurrent network, trained with a fixed budget, still
learn a task whose answer depends on something it saw up to T - 1 steps earlier? This module
holds that experiment once, so that both chapters run exactly the same code, for two tasks:

* the **adding problem** (:func:`run_adding_experiment`): add two marked numbers; a
  :class:`~rnncore.torch.models.SequenceRegressor` on
  :func:`~rnncore.data.tasks.adding_problem`, scored by the held-out mean squared error against
  the 1/6 of a predictor that always answers 1
  (:func:`~rnncore.data.tasks.adding_problem_baseline_mse`);
* the **one-symbol copy probe** (:func:`run_copy_probe_experiment`): read one of K symbols at
  step 0, wait through T - 3 blanks and a go marker, name the symbol at step T - 1; a
  :class:`~rnncore.torch.models.SequenceClassifier` on :func:`~rnncore.data.tasks.copy_task`
  with S = 1, scored by the held-out cross-entropy against the :math:`\\log K` of a uniform
  guess, with the accuracy (chance 1/K) beside it.

Both go through :func:`run_long_range_experiment`: for every cell and every length, the
recurrent layer (``torch.nn``, for speed) and its linear read-out are trained on fresh batches
with Adam and gradients clipped to norm 1, then measured on held-out sequences.
:func:`verdict` turns a held-out loss into words by comparing it with the trivial predictor's
(a :class:`Measure` says which loss and which baseline), with the thresholds of chapter 5:

.. math::

    \\text{learned the task} \\iff \\ell < 0.1\\,\\ell_0, \\qquad
    \\text{near the baseline} \\iff \\ell > 0.8\\,\\ell_0, \\qquad
    \\text{worse} \\iff \\ell > 1.2\\,\\ell_0,

with :math:`\\ell_0 = 1/6` (MSE) for the adding problem and :math:`\\ell_0 = \\log K` (nats)
for the probe.

Randomness: every run reseeds torch with ``seed`` (so the cells start from their own, but
reproducible, weights), draws its training batches from ``numpy.random.default_rng(1000 +
seed)`` (the same batches for every cell at a length), and the held-out sequences of length
T from ``numpy.random.default_rng(10000 + T)`` (adding) or ``default_rng(20000 + T)`` (probe).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch

from rnncore.data.tasks import (
    adding_problem,
    adding_problem_baseline_mse,
    copy_task,
    first_symbol_baseline_cross_entropy,
)
from rnncore.torch.models import CELLS, SequenceClassifier, SequenceRegressor
from rnncore.torch.train import seed_everything, train

__all__ = [
    "LEARNED",
    "NEAR_BASELINE",
    "WORSE",
    "VERDICTS",
    "Measure",
    "ADDING_MEASURE",
    "start_run",
    "run_long_range_experiment",
    "adding_batches",
    "mse",
    "build_regressor",
    "validation_mse",
    "run_adding_experiment",
    "check_probe_sizes",
    "copy_probe_batches",
    "cross_entropy",
    "build_copy_classifier",
    "copy_probe_validation",
    "copy_probe_measure",
    "run_copy_probe_experiment",
    "verdict",
    "longest_learned",
    "cell_summary",
    "smooth",
]

LEARNED = 0.1  # below this fraction of the baseline loss, the run learned the task
NEAR_BASELINE = 0.8  # above this fraction, it stayed near the trivial predictor
WORSE = 1.2  # above this fraction, it did clearly worse than the trivial predictor
VERDICTS = (
    "learned the task",
    "learned part of the task",
    "stayed near the baseline",
    "did worse than the baseline",
)


class Measure(NamedTuple):
    """How the runs of one task are judged: which held-out loss, against which baseline.

    Attributes
    ----------
    key : str
        The entry of each run that holds the held-out loss, e.g. ``"validation_mse"``.
    baseline : float
        The trivial predictor's loss on the task.
    trivial : str
        The trivial predictor in prose, indefinite ("a constant").
    trivial_definite : str
        The same, definite ("the constant predictor").
    """

    key: str
    baseline: float
    trivial: str
    trivial_definite: str


ADDING_MEASURE = Measure(
    "validation_mse", adding_problem_baseline_mse(), "a constant", "the constant predictor"
)


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_cell(cell) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    return cell


def _check_lengths(lengths: Sequence[int], minimum: int) -> tuple[int, ...]:
    lengths = tuple(_check_positive_int("length", length) for length in lengths)
    if lengths and min(lengths) < minimum:
        raise ValueError(f"every length must be at least {minimum}, got {lengths}")
    return lengths


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
    build_model : callable
        ``build_model(cell) -> nn.Module``, drawing its weights from torch's generator.
    batches : callable
        ``batches(T, rng)`` -> endless iterator of (inputs, targets) tensors.
    loss_fn : callable
        ``loss_fn(model, inputs, targets) -> scalar Tensor``, the training loss.
    evaluate : callable
        ``evaluate(model, T) -> dict`` of held-out measurements (floats).
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


# --- the adding problem -----------------------------------------------------------------------


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

    :func:`run_long_range_experiment` with the models of :func:`build_regressor`, batches of
    :func:`adding_batches`, the loss :func:`mse` and :func:`validation_mse`.

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
    batch_size = _check_positive_int("batch_size", batch_size)
    hidden_size = _check_positive_int("hidden_size", hidden_size)
    validation_size = _check_positive_int("validation_size", validation_size)
    return run_long_range_experiment(
        cells,
        lengths,
        build_model=lambda cell: build_regressor(cell, hidden_size, forget_bias),
        batches=lambda length, rng: adding_batches(length, batch_size, rng),
        loss_fn=mse,
        evaluate=lambda model, length: {
            "validation_mse": validation_mse(model, length, validation_size)
        },
        steps=steps,
        lr=lr,
        seed=seed,
        clip_norm=clip_norm,
        min_length=2,
    )


# --- the one-symbol copy probe ----------------------------------------------------------------


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
        The LSTM's effective forget-gate bias, set once as in :func:`build_regressor`; None
        keeps torch.nn's random draw. Ignored by the other cells.

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

    :func:`run_long_range_experiment` with the models of :func:`build_copy_classifier`,
    batches of :func:`copy_probe_batches`, the loss :func:`cross_entropy` and
    :func:`copy_probe_validation`. Judge the runs with ``copy_probe_measure(num_symbols)``.

    Parameters
    ----------
    cells : sequence of {"rnn", "lstm", "gru"}
    lengths : sequence of int
        The lengths T, each at least 3.
    num_symbols : int
        K, at least 2.
    steps, batch_size, hidden_size, lr, seed, validation_size, forget_bias, clip_norm
        As in :func:`run_adding_experiment`.

    Returns
    -------
    runs : dict
        ``runs[cell, T]`` is a dict with ``"loss"`` (ndarray of shape (steps,)),
        ``"validation_cross_entropy"``, ``"validation_accuracy"`` and ``"seconds"`` (floats).
    """
    num_symbols = _check_positive_int("num_symbols", num_symbols)
    if num_symbols < 2:
        raise ValueError(f"num_symbols must be at least 2, got {num_symbols}")
    batch_size = _check_positive_int("batch_size", batch_size)
    hidden_size = _check_positive_int("hidden_size", hidden_size)
    validation_size = _check_positive_int("validation_size", validation_size)
    return run_long_range_experiment(
        cells,
        lengths,
        build_model=lambda cell: build_copy_classifier(cell, hidden_size, num_symbols, forget_bias),
        batches=lambda length, rng: copy_probe_batches(length, num_symbols, batch_size, rng),
        loss_fn=cross_entropy,
        evaluate=lambda model, length: copy_probe_validation(
            model, length, num_symbols, validation_size
        ),
        steps=steps,
        lr=lr,
        seed=seed,
        clip_norm=clip_norm,
        min_length=3,
    )


# --- verdicts and summaries -------------------------------------------------------------------


def verdict(loss: float, baseline: float | None = None) -> str:
    """Say in words how a held-out loss compares with the trivial predictor's.

    Parameters
    ----------
    loss : float
        A held-out loss: the adding problem's MSE, or the probe's cross-entropy.
    baseline : float, optional
        The trivial predictor's loss; by default the adding problem's 1/6.

    Returns
    -------
    verdict : str
        One of ``VERDICTS``: "learned the task" (below ``LEARNED`` times the baseline), "did
        worse than the baseline" (above ``WORSE`` times it), "stayed near the baseline" (above
        ``NEAR_BASELINE`` times it) or "learned part of the task" (in between).
    """
    baseline = adding_problem_baseline_mse() if baseline is None else float(baseline)
    if not np.isfinite(baseline) or baseline <= 0:
        raise ValueError(f"baseline must be a finite number > 0, got {baseline!r}")
    loss = float(loss)
    if not np.isfinite(loss) or loss < 0:
        raise ValueError(f"loss must be a finite number >= 0, got {loss!r}")
    if loss < LEARNED * baseline:
        return VERDICTS[0]
    if loss > WORSE * baseline:
        return VERDICTS[3]
    if loss > NEAR_BASELINE * baseline:
        return VERDICTS[2]
    return VERDICTS[1]


def _lengths_of(runs: dict, cell: str) -> list[int]:
    lengths = sorted(length for run_cell, length in runs if run_cell == cell)
    if not lengths:
        cells = sorted({run_cell for run_cell, _ in runs})
        raise ValueError(f"runs has no run of cell {cell!r}; it has {cells}")
    return lengths


def _verdicts_of(runs: dict, cell: str, measure: Measure) -> dict[int, str]:
    return {
        length: verdict(runs[cell, length][measure.key], measure.baseline)
        for length in _lengths_of(runs, cell)
    }


def longest_learned(runs: dict, cell: str, measure: Measure = ADDING_MEASURE) -> int | None:
    """The longest length at which ``cell`` learned the task, or None if it learned at none.

    Parameters
    ----------
    runs : dict
        As returned by :func:`run_adding_experiment` or :func:`run_copy_probe_experiment`.
    cell : str
    measure : Measure, default ADDING_MEASURE
        Which loss to judge and against which baseline; ``copy_probe_measure(K)`` for the
        probe.

    Returns
    -------
    length : int or None
    """
    verdicts = _verdicts_of(runs, cell, measure)
    learned = [length for length, words in verdicts.items() if words == VERDICTS[0]]
    return max(learned) if learned else None


def _join(words: Sequence[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def cell_summary(runs: dict, cell: str, name: str, measure: Measure = ADDING_MEASURE) -> str:
    """One clause on what ``cell`` learned, computed from the runs (never written by hand).

    Parameters
    ----------
    runs : dict
        As returned by :func:`run_adding_experiment` or :func:`run_copy_probe_experiment`.
    cell : str
    name : str
        How the prose names the cell, e.g. "vanilla RNN".
    measure : Measure, default ADDING_MEASURE
        Which loss to judge, against which baseline, and how to name the trivial predictor.

    Returns
    -------
    clause : str
        For example "the LSTM learned the task up to T = 50 and did no better than a constant
        at T = 100", or "the GRU learned the task at no length and beat the constant predictor
        at every length".
    """
    verdicts = _verdicts_of(runs, cell, measure)
    failed = [length for length, words in verdicts.items() if words in VERDICTS[2:]]
    best = longest_learned(runs, cell, measure)
    if best is None:
        parts = [f"the {name} learned the task at no length"]
    else:
        parts = [f"the {name} learned the task up to T = {best}"]
    if failed:
        at = _join([f"T = {n}" for n in failed])
        parts.append(f"did no better than {measure.trivial} at {at}")
    else:
        parts.append(f"beat {measure.trivial_definite} at every length")
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
