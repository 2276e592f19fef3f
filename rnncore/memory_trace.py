r"""How much of the copy probe's symbol a network still holds, watched while it trains.

The one-symbol copy probe of :mod:`rnncore.long_range` shows a symbol at step 0 and asks for
it at step T - 1. A read-out can only name the symbol if the last hidden state still depends
on it. :func:`final_state_measures` measures that dependence directly: feed the K sequences that
differ only in their symbol and see how far apart their last hidden states are (and, for an
LSTM, its cell states, and how large they are).
:func:`trace_copy_probe` trains one model exactly as
:func:`~rnncore.long_range.run_copy_probe_experiment` does (same seeding, batches, Adam and
clipping, so the same run gives the same losses) and takes these measures every few updates,
so that a chapter can show whether training builds, keeps or destroys the memory the network
starts with.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from rnncore.data.tasks import copy_task
from rnncore.long_range import (
    _check_positive_int,
    build_copy_classifier,
    check_probe_sizes,
    copy_probe_batches,
    copy_probe_validation,
    cross_entropy,
    start_run,
)
from rnncore.torch.models import SequenceClassifier
from rnncore.torch.train import train

__all__ = ["every_symbol", "final_state_measures", "trace_copy_probe"]


def every_symbol(length: int, num_symbols: int) -> torch.Tensor:
    """The K probe sequences of length T that differ only in the symbol at step 0.

    The layout is :func:`~rnncore.data.tasks.copy_task`'s with S = 1 and delay T - 2: symbol
    ``k`` at step 0 in row ``k``, blanks, the go marker at step T - 2, a blank at step T - 1.

    Parameters
    ----------
    length : int
        T, at least 3.
    num_symbols : int
        K, at least 2.

    Returns
    -------
    x : Tensor of shape (K, T, K + 2)
        One-hot float32 inputs.
    """
    T, K = check_probe_sizes(length, num_symbols)
    ids, _ = copy_task(1, 1, T - 2, K, np.random.default_rng(0), one_hot=False)  # (1, T)
    ids = np.repeat(ids, K, axis=0)  # (K, T)
    ids[:, 0] = np.arange(K)  # every symbol once, with the same blanks and go marker after it
    return torch.from_numpy(np.eye(K + 2, dtype=np.float32)[ids])  # (K, T, K + 2)


def _rms_spread(states: torch.Tensor) -> float:
    """Root-mean-square distance of K states (K, H) from their mean over K."""
    states = states.double()
    return float((states - states.mean(dim=0)).pow(2).mean().sqrt())


def final_state_measures(model: SequenceClassifier, length: int, num_symbols: int) -> dict:
    r"""How far apart the last states of the K one-symbol sequences are, and, for an LSTM, how big.

    With :math:`h^{(k)}` the hidden state after step T - 1 of the sequence whose symbol is
    ``k`` (:func:`every_symbol`) and :math:`\bar h` their mean over k, the **spread** is

    .. math::

        s_h = \sqrt{\frac{1}{KH} \sum_{k=0}^{K-1} \lVert h^{(k)} - \bar h \rVert^2}.

    :math:`s_h = 0` means the last hidden state is the same whatever the symbol was: no
    read-out can name it, and no gradient reaches the weights that read the symbol. For scale,
    states whose units sit at -1 or +1 depending on the symbol have :math:`s_h` near 1; float32
    rounding leaves a floor near 1e-8 under a symbol that is lost.

    For an LSTM, whose hidden state is :math:`h = o \odot \tanh(c)`, the same spread of the
    cell states, :math:`s_c`, says whether the cell still holds the symbol, and the **cell
    size** :math:`\overline{|c|}`, the mean of :math:`|c^{(k)}_j|` over k and the units j,
    says whether tanh is flat there (:math:`\tanh'(c) = 1 - \tanh^2 c`) and hides it from h.

    Parameters
    ----------
    model : SequenceClassifier
        One forward layer (not bidirectional), on the CPU, with K + 2 input features.
    length : int
        T, at least 3.
    num_symbols : int
        K, at least 2.

    Returns
    -------
    measures : dict of float
        ``"spread"`` (:math:`s_h`); for an LSTM also ``"cell_spread"`` (:math:`s_c`) and
        ``"cell_size"`` (:math:`\overline{|c|}`).
    """
    if model.bidirectional or model.input_size != num_symbols + 2:
        raise ValueError(
            f"model must be a one-direction SequenceClassifier reading K + 2 = "
            f"{num_symbols + 2} features, got input_size={model.input_size}, "
            f"bidirectional={model.bidirectional}"
        )
    x = every_symbol(length, num_symbols)  # (K, T, K + 2)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            hidden, state = model.recurrent(x)  # (K, T, H); state (1, K, H) or a pair of them
    finally:
        model.train(was_training)
    measures = {"spread": _rms_spread(hidden[:, -1])}  # h after step T - 1: (K, H)
    if isinstance(state, tuple):  # the LSTM's (h_n, c_n)
        cell = state[1][-1]  # (K, H)
        measures["cell_spread"] = _rms_spread(cell)
        measures["cell_size"] = float(cell.double().abs().mean())
    return measures


def trace_copy_probe(
    cell: str,
    length: int,
    *,
    num_symbols: int,
    steps: int,
    every: int,
    batch_size: int,
    hidden_size: int,
    lr: float,
    seed: int = 0,
    forget_bias: float | None = 1.0,
    clip_norm: float = 1.0,
    validation_size: int = 2048,
) -> dict:
    """Train one copy-probe model; take :func:`final_state_measures` every ``every`` updates.

    The run is the one :func:`~rnncore.long_range.run_copy_probe_experiment` makes for
    ``(cell, length)`` with the same arguments: the same weights, batches and losses. Training
    goes in pieces of ``every`` updates with one optimizer and one stream of batches, and
    measuring uses no randomness, so the pieces add up to the same run.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    length : int
        T, at least 3.
    num_symbols, steps, batch_size, hidden_size, lr, seed, forget_bias, clip_norm, validation_size
        As in :func:`~rnncore.long_range.run_copy_probe_experiment`.
    every : int
        Updates between two measurements.

    Returns
    -------
    trace : dict
        ``"updates"`` (int ndarray of shape (M,): 0, every, 2 every, ..., steps); for each
        key of :func:`final_state_measures` (``"spread"``, and for an LSTM ``"cell_spread"``
        and ``"cell_size"``) an ndarray of shape (M,), its value after that many updates;
        ``"loss"`` (ndarray of shape (steps,), the training loss of every update),
        ``"validation_cross_entropy"``, ``"validation_accuracy"`` and ``"seconds"`` (floats).
    """
    steps, every = _check_positive_int("steps", steps), _check_positive_int("every", every)
    start = time.perf_counter()
    model, stream, optimizer = start_run(
        lambda c: build_copy_classifier(c, hidden_size, num_symbols, forget_bias),
        cell,
        lambda T, rng: copy_probe_batches(T, num_symbols, batch_size, rng),
        length,
        lr,
        seed,
    )
    updates, measured, losses = [0], [final_state_measures(model, length, num_symbols)], []
    while len(losses) < steps:
        piece = min(every, steps - len(losses))
        history = train(
            model,
            stream,
            cross_entropy,
            optimizer,
            steps=piece,
            device="cpu",
            clip_norm=clip_norm,
            progress=False,
        )
        losses += [record["loss"] for record in history]
        updates.append(len(losses))
        measured.append(final_state_measures(model, length, num_symbols))
    return {
        "updates": np.array(updates),  # (M,)
        **{key: np.array([m[key] for m in measured]) for key in measured[0]},  # (M,) each
        "loss": np.array(losses),  # (steps,)
        **copy_probe_validation(model, length, num_symbols, validation_size),
        "seconds": time.perf_counter() - start,
    }
