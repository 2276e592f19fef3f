r"""Held-out losses in words: the verdicts of chapter 5, and the sentences built from them.

:func:`verdict` compares a held-out loss :math:`\ell` with the trivial predictor's
:math:`\ell_0` (a :class:`Measure` says which loss and which baseline):

.. math::

    \text{learned the task} \iff \ell < 0.1\,\ell_0, \qquad
    \text{near the baseline} \iff \ell > 0.8\,\ell_0, \qquad
    \text{worse} \iff \ell > 1.2\,\ell_0,

with :math:`\ell_0 = 1/6` (MSE) for the adding problem and :math:`\ell_0 = \log K` (nats) for
the copy probe. :func:`longest_learned`, :func:`cell_summary` and :func:`lengths_summary` turn
the verdicts of many runs into the clauses the chapters glue into their prose, so that every
claim on a page is computed from its runs, never written by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from rnncore.data.tasks import adding_problem_baseline_mse

__all__ = [
    "LEARNED",
    "NEAR_BASELINE",
    "WORSE",
    "VERDICTS",
    "CELL_NAMES",
    "Measure",
    "ADDING_MEASURE",
    "verdict",
    "verdicts_by_length",
    "longest_learned",
    "join_words",
    "cell_summary",
    "lengths_summary",
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
CELL_NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}  # how the prose names them


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


def _lengths_of(runs: Mapping, cell: str) -> list[int]:
    lengths = sorted(length for run_cell, length in runs if run_cell == cell)
    if not lengths:
        cells = sorted({run_cell for run_cell, _ in runs})
        raise ValueError(f"runs has no run of cell {cell!r}; it has {cells}")
    return lengths


def verdicts_by_length(runs: Mapping, cell: str, measure: Measure = ADDING_MEASURE) -> dict:
    """The verdict of every run of ``cell``, by length.

    Parameters
    ----------
    runs : dict
        ``runs[cell, T]`` a dict holding ``measure.key``, as the experiments return them.
    cell : str
    measure : Measure, default ADDING_MEASURE

    Returns
    -------
    verdicts : dict of int to str
        ``{T: verdict}`` in increasing T.
    """
    return {
        length: verdict(runs[cell, length][measure.key], measure.baseline)
        for length in _lengths_of(runs, cell)
    }


def longest_learned(runs: Mapping, cell: str, measure: Measure = ADDING_MEASURE) -> int | None:
    """The longest length at which ``cell`` learned the task, or None if it learned at none.

    Parameters
    ----------
    runs : dict
        As returned by :func:`~rnncore.long_range.run_adding_experiment` or
        :func:`~rnncore.long_range.run_copy_probe_experiment`.
    cell : str
    measure : Measure, default ADDING_MEASURE
        Which loss to judge and against which baseline; ``copy_probe_measure(K)`` for the
        probe.

    Returns
    -------
    length : int or None
    """
    verdicts = verdicts_by_length(runs, cell, measure)
    learned = [length for length, words in verdicts.items() if words == VERDICTS[0]]
    return max(learned) if learned else None


def join_words(words: Sequence[str]) -> str:
    """Join words as prose lists them: ``["a", "b", "c"]`` -> ``"a, b and c"``.

    Parameters
    ----------
    words : sequence of str
        At least one.

    Returns
    -------
    text : str
    """
    words = list(words)
    if not words or not all(isinstance(word, str) for word in words):
        raise ValueError(f"words must be a non-empty sequence of str, got {words!r}")
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def cell_summary(runs: Mapping, cell: str, name: str, measure: Measure = ADDING_MEASURE) -> str:
    """One clause on what ``cell`` learned, computed from the runs (never written by hand).

    Parameters
    ----------
    runs : dict
        As returned by :func:`~rnncore.long_range.run_adding_experiment` or
        :func:`~rnncore.long_range.run_copy_probe_experiment`.
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
    verdicts = verdicts_by_length(runs, cell, measure)
    failed = [length for length, words in verdicts.items() if words in VERDICTS[2:]]
    best = longest_learned(runs, cell, measure)
    if best is None:
        parts = [f"the {name} learned the task at no length"]
    else:
        parts = [f"the {name} learned the task up to T = {best}"]
    if failed:
        at = join_words([f"T = {n}" for n in failed])
        parts.append(f"did no better than {measure.trivial} at {at}")
    else:
        parts.append(f"beat {measure.trivial_definite} at every length")
    return " and ".join(parts)


def lengths_summary(
    losses: Mapping[int, float], baseline: float, subject: str = "the network"
) -> str:
    """What one network learned at each length, in two sentences (chapter 5's summary).

    The lengths are grouped by :func:`verdict`: "Within this budget the network learned the
    task at T = 10 and learned part of the task at T = 25 and T = 50", then a second sentence
    on where it failed. A run that did worse than the baseline counts as one that stayed near
    it: neither beat the trivial predictor.

    Parameters
    ----------
    losses : dict of int to float
        ``{T: held-out loss}``, at least one length.
    baseline : float
        The trivial predictor's loss (the adding problem's 1/6).
    subject : str, default "the network"
        How the prose names the network.

    Returns
    -------
    summary : str
        Without a final full stop, for a glue role followed by one.
    """
    if not losses:
        raise ValueError("losses must hold the loss of at least one length, got none")
    groups: dict[str, list[int]] = {}
    for length in sorted(losses):
        words = verdict(losses[length], baseline)
        groups.setdefault(VERDICTS[2] if words == VERDICTS[3] else words, []).append(length)
    clauses = [
        f"{words} at {join_words([f'T = {length}' for length in groups[words]])}"
        for words in VERDICTS[:3]
        if words in groups
    ]
    summary = f"Within this budget {subject} " + join_words(clauses)
    near = groups.get(VERDICTS[2], [])
    others = set(losses) - set(near)
    if near and others and min(near) > max(others):
        return summary + (
            f". From T = {min(near)} on, the same network, optimiser and budget do no "
            "better than a constant"
        )
    if near and not others:
        return (
            summary + ". It learned nothing at any length: the budget is too small for this network"
        )
    if not near:
        return summary + (
            ". No length stayed near the baseline in this run: it does not show the "
            "failure, and a smaller budget or longer sequences would"
        )
    return summary
