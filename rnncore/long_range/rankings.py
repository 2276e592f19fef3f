"""Sentences that compare cells and tasks: which cell learned furthest, and on which task.

Chapter 7 (label ``ch-gru``) runs the adding problem and the copy probe for a vanilla RNN, an
LSTM and a GRU; :func:`adding_sentences` and :func:`probe_sentences` turn those runs into the
clauses its prose glues in, from :func:`~rnncore.long_range.longest_learned` and the other
verdicts, so that what the page claims is what its runs did.
"""

from __future__ import annotations

from collections.abc import Mapping

from rnncore.long_range.runner import smooth
from rnncore.long_range.verdicts import (
    ADDING_MEASURE,
    CELL_NAMES,
    NEAR_BASELINE,
    Measure,
    cell_summary,
    join_words,
    longest_learned,
)

__all__ = [
    "best_lengths",
    "leaders",
    "leaders_clause",
    "adding_sentences",
    "probe_sentences",
]


def _cells_of(runs: Mapping) -> list[str]:
    """The cells of ``runs`` in the order of their first run."""
    if not runs:
        raise ValueError("runs must hold at least one run, got none")
    return list(dict.fromkeys(cell for cell, _ in runs))


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def best_lengths(runs: Mapping, measure: Measure = ADDING_MEASURE) -> dict[str, int]:
    """The longest length at which each cell learned the task, 0 where it learned at none.

    Parameters
    ----------
    runs : dict
        ``runs[cell, T]``, as the long-range experiments return them.
    measure : Measure, default ADDING_MEASURE

    Returns
    -------
    best : dict of str to int
        In the order the cells first appear in ``runs``.
    """
    return {cell: longest_learned(runs, cell, measure) or 0 for cell in _cells_of(runs)}


def leaders(best: Mapping[str, int], names: Mapping[str, str] = CELL_NAMES) -> tuple[list, int]:
    """The cells that learned at the longest length any cell learned, and that length.

    Parameters
    ----------
    best : dict of str to int
        As :func:`best_lengths` returns it (0: learned at no length).
    names : dict of str to str, default CELL_NAMES
        How the prose names each cell.

    Returns
    -------
    names : list of str
        The leaders' names, in the order of ``best``; every cell when none learned.
    top : int
        Their longest length, 0 when no cell learned at any length.
    """
    if not best:
        raise ValueError("best must name at least one cell, got none")
    top = max(best.values())
    return [names[cell] for cell in best if best[cell] == top], top


def leaders_clause(names: list, top: int, task: str) -> str:
    """ "the LSTM and GRU learned the probe at the longest distance, T = 90", or "no cell ...".

    Parameters
    ----------
    names : list of str
        The leaders' names, as :func:`leaders` returns them.
    top : int
        Their length; 0 when no cell learned.
    task : str
        The task in prose, e.g. "the adding problem".

    Returns
    -------
    clause : str
    """
    if top == 0:
        return f"no cell learned {task} at any length"
    return f"the {join_words(names)} learned {task} at the longest distance, T = {top}"


def adding_sentences(runs: Mapping, names: Mapping[str, str] = CELL_NAMES) -> dict[str, str]:
    """What the adding-problem runs of an RNN, an LSTM and a GRU say, in three clauses.

    Parameters
    ----------
    runs : dict
        ``runs[cell, T]`` with ``"validation_mse"``, for the cells "rnn", "lstm" and "gru".
    names : dict of str to str, default CELL_NAMES

    Returns
    -------
    sentences : dict of str to str
        ``"summary"`` (each cell's :func:`~rnncore.long_range.cell_summary`), ``"comparison"``
        (which gated cell learned at longer distances, or, when both learned at every length,
        which reached the lower error at the longest) and ``"gap"`` (which gated cells learned
        where the vanilla RNN did not). No final full stops.
    """
    cells = _cells_of(runs)
    missing = {"rnn", "lstm", "gru"} - set(cells)
    if missing:
        raise ValueError(f"runs must hold the cells rnn, lstm and gru; {sorted(missing)} missing")
    summary = "With this budget, " + "; ".join(
        cell_summary(runs, cell, names[cell]) for cell in cells
    )
    best = best_lengths(runs)
    longest = max(length for _, length in runs)
    if best["gru"] > best["lstm"]:
        comparison = "The GRU learned at longer distances than the LSTM"
    elif best["gru"] < best["lstm"]:
        comparison = "The LSTM learned at longer distances than the GRU"
    elif best["gru"] == longest:
        gru_mse, lstm_mse = (runs[cell, longest]["validation_mse"] for cell in ("gru", "lstm"))
        lower = "GRU" if gru_mse < lstm_mse else "LSTM"
        comparison = (
            f"Both gated cells learned at every length; at T = {longest} the {lower} reached the "
            f"lower error ({min(gru_mse, lstm_mse):.4f} against {max(gru_mse, lstm_mse):.4f})"
        )
    elif best["gru"]:
        comparison = "The GRU and the LSTM stopped learning at the same length"
    else:
        comparison = "Neither the GRU nor the LSTM learned the task at any length"
    beyond_rnn = [names[cell] for cell in ("lstm", "gru") if best[cell] > best["rnn"]]
    if len(beyond_rnn) == 2:
        gap = (
            "Both gated cells learned at lengths where the vanilla RNN did not: that gap, unlike "
            "the order of the two gated cells, is what chapter 6 leads us to expect"
        )
    elif beyond_rnn:
        gap = (
            f"Only the {beyond_rnn[0]} learned at a length where the vanilla RNN did not; with "
            "this small budget the other gated cell did not get there, and more updates would "
            "tell whether it is slower to learn or unable to"
        )
    else:
        gap = (
            "Neither gated cell learned at a length where the vanilla RNN did not, with this budget"
        )
    return {"summary": summary, "comparison": comparison, "gap": gap}


def probe_sentences(
    probe_runs: Mapping,
    probe_measure: Measure,
    adding_runs: Mapping,
    names: Mapping[str, str] = CELL_NAMES,
    window: int = 25,
) -> dict[str, str]:
    """What the copy-probe runs say, alone and beside the adding problem's, in four clauses.

    Parameters
    ----------
    probe_runs : dict
        ``runs[cell, T]`` of :func:`~rnncore.long_range.run_copy_probe_experiment`.
    probe_measure : Measure
        ``copy_probe_measure(K)``.
    adding_runs : dict
        ``runs[cell, T]`` of :func:`~rnncore.long_range.run_adding_experiment`, same cells.
    names : dict of str to str, default CELL_NAMES
    window : int, default 25
        The running mean (:func:`~rnncore.long_range.smooth`) whose last value says whether a
        run's training loss was still on the plateau of a uniform guess at the longest length.

    Returns
    -------
    sentences : dict of str to str
        ``"summary"`` (each cell's summary on the probe), ``"ranking"`` (the leaders of both
        tasks), ``"agreement"`` (whether the two tasks name the same leaders) and
        ``"plateau"`` (which cells' training loss stayed above ``NEAR_BASELINE`` times
        log K). No final full stops.
    """
    cells = _cells_of(probe_runs)
    if set(_cells_of(adding_runs)) != set(cells):
        raise ValueError(
            f"probe_runs and adding_runs must hold the same cells, got {cells} and "
            f"{_cells_of(adding_runs)}"
        )
    summary = "With this budget, " + "; ".join(
        cell_summary(probe_runs, cell, names[cell], probe_measure) for cell in cells
    )
    probe_leaders, probe_top = leaders(best_lengths(probe_runs, probe_measure), names)
    adding_leaders, adding_top = leaders(
        {cell: best_lengths(adding_runs)[cell] for cell in cells}, names
    )
    ranking = (
        _upper_first(leaders_clause(probe_leaders, probe_top, "the probe"))
        + ", while "
        + leaders_clause(adding_leaders, adding_top, "the adding problem")
    )
    if not (probe_top and adding_top):
        agreement = (
            "As one of the two tasks was learned by no cell at any length, the two cannot rank "
            "the cells against each other"
        )
    elif probe_leaders == adding_leaders:
        agreement = "The two tasks agree on which cell carries information furthest"
    else:
        agreement = (
            "The two tasks do not agree on which cell carries information furthest. With one "
            "seed and one budget, a single run decides each entry of a table like this one; the "
            "next section reruns the cells that went furthest on the probe with another seed"
        )
    longest = max(length for _, length in probe_runs)
    stuck = [
        names[cell]
        for cell in cells
        if smooth(probe_runs[cell, longest]["loss"], window=window)[-1]
        > NEAR_BASELINE * probe_measure.baseline
    ]
    if stuck:
        plateau = (
            f"At T = {longest} the training loss of the {join_words(stuck)} was still above "
            f"{100 * NEAR_BASELINE:.0f} % of log K after the last update (right panel): "
            f"{'the run' if len(stuck) == 1 else 'each of these runs'} sat on the plateau of a "
            "uniform guess, where the gradient that would teach it to keep the symbol did not "
            "move it within this budget"
        )
    else:
        plateau = (
            f"At T = {longest} every cell's training loss had left the plateau of a uniform "
            "guess, log K, by the last update (right panel)"
        )
    return {"summary": summary, "ranking": ranking, "agreement": agreement, "plateau": plateau}
