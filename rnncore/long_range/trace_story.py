r"""What the traced copy-probe runs of chapter 7 show, as a lead sentence and one row per setting.

Chapter 7 (label ``ch-gru``) traces the LSTM on the copy probe
(:func:`~rnncore.memory_trace.trace_copy_probe`) with two forget biases and two Adam learning
rates. :func:`trace_story` reads the four traces and says what happened in each setting: the
spread :math:`s_h` of the last hidden states over the K symbols before and after training,
the cell's spread :math:`s_c` and size :math:`\overline{|c|}`, and where tanh flattened
(:math:`\tanh'(c) = 1 - \tanh^2 c`). :func:`rerun_sentence` says what the probe's leaders did
with another seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from rnncore.long_range.verdicts import CELL_NAMES, VERDICTS, Measure, join_words, verdict

__all__ = ["TraceStory", "setting_label", "trace_story", "rerun_sentence"]

_TRACE_KEYS = ("spread", "cell_spread", "cell_size", "updates", "validation_cross_entropy")


class TraceStory(NamedTuple):
    """The traces of four settings in words.

    Attributes
    ----------
    lead : str
        One sentence before the table: which settings learned the probe.
    rows : dict
        ``{(forget_bias, lr): clause}``, what the trace of that setting shows.
    conclusion : str
        What the four traces say together.
    """

    lead: str
    rows: dict
    conclusion: str


def setting_label(forget_bias: float, lr: float) -> str:
    """How the prose names a traced setting: ``"forget bias 3, lr 1e-03"``."""
    return f"forget bias {forget_bias:.0f}, lr {lr:.0e}"


def _learned(run: Mapping, measure: Measure) -> bool:
    return verdict(run["validation_cross_entropy"], measure.baseline) == VERDICTS[0]


def _check_traces(traces: Mapping) -> tuple[float, float, float, float]:
    """(table bias, larger bias, large step, small step), or ValueError on another layout."""
    biases = sorted({bias for bias, _ in traces})
    steps = sorted({lr for _, lr in traces})
    settings = {(bias, lr) for bias in biases for lr in steps}
    if len(biases) != 2 or len(steps) != 2 or set(traces) != settings:
        raise ValueError(
            "traces must hold every (forget_bias, lr) of two forget biases and two learning "
            f"rates, got {sorted(traces)}"
        )
    for setting, run in traces.items():
        missing = [key for key in _TRACE_KEYS if key not in run]
        if missing:
            raise ValueError(f"the trace of {setting} lacks {missing}: pass trace_copy_probe's")
    return biases[0], biases[1], steps[1], steps[0]


def trace_story(
    traces: Mapping,
    other_seeds: Mapping,
    measure: Measure,
    *,
    length: int,
    seeds: Sequence[int],
) -> TraceStory:
    """What four traced LSTM runs show, one clause per setting.

    The story the chapter was written about: only the larger forget bias with the smaller step
    learns. The table's bias leaves nothing of the symbol in the untrained last state; the
    larger bias leaves a small trace, which large Adam steps destroy (the cell grows until tanh
    is flat) and small steps keep and enlarge. When the runs do not fit that pattern, every row
    says plainly what its trace did, and the lead says which runs learned.

    Parameters
    ----------
    traces : dict
        ``{(forget_bias, lr): trace}`` for two forget biases and two learning rates, each trace
        as :func:`~rnncore.memory_trace.trace_copy_probe` returns it (of an LSTM).
    other_seeds : dict
        ``{((forget_bias, lr), seed): trace}``: reruns of settings with other seeds; those of
        the larger bias and smaller step are counted.
    measure : Measure
        ``copy_probe_measure(K)``, to judge each run's held-out cross-entropy.
    length : int
        T, the probe's length; the symbol crosses T - 1 steps.
    seeds : sequence of int
        The seeds of the reruns.

    Returns
    -------
    story : TraceStory
        No final full stops.
    """
    table_bias, larger_bias, large_step, small_step = _check_traces(traces)
    learned = [setting for setting, run in traces.items() if _learned(run, measure)]
    if learned != [(larger_bias, small_step)]:
        return TraceStory(
            lead=(
                "On the machine that built this page the four traces did not fall into the "
                "pattern this section was written about (only the larger forget bias with the "
                "smaller step learning the probe). The runs that learned: "
                + (", ".join(setting_label(*s) for s in learned) or "none")
                + "; read the figure and the rows below for where the symbol was lost"
            ),
            rows={
                setting: (
                    f"s_h went from {run['spread'][0]:.0e} to {run['spread'][-1]:.0e} and the "
                    f"mean |c| ended at {run['cell_size'][-1]:.1f}; the run "
                    + verdict(run["validation_cross_entropy"], measure.baseline)
                )
                for setting, run in traces.items()
            },
            conclusion=(
                "The figure shows, for each setting, when the symbol left h and whether the cell "
                "still held it"
            ),
        )
    failed, kept = traces[larger_bias, large_step], traces[larger_bias, small_step]
    collapse = int(np.argmax(failed["spread"] < failed["spread"][0] / 100))  # 0: never
    peak = int(np.argmax(failed["cell_size"]))
    peak_size = failed["cell_size"][peak]
    reruns = [
        _learned(other_seeds[(larger_bias, small_step), seed], measure)
        for seed in seeds
        if ((larger_bias, small_step), seed) in other_seeds
    ]
    if reruns and all(reruns):
        rerun_clause = "the reruns with seeds " + join_words([str(seed) for seed in seeds])
    else:
        rerun_clause = f"{sum(reruns)} of the {len(reruns)} reruns with other seeds"
    rows = {
        (table_bias, large_step): (
            f"the untrained LSTM's last state held s_h = "
            f"{traces[table_bias, large_step]['spread'][0]:.0e} of the symbol, at the level of "
            f"rounding: after {length - 1} steps of a forget gate well below 1 nothing was left "
            "to read, so the read-out could not pick the symbol up and no gradient told the "
            "cell to keep it"
        ),
        (table_bias, small_step): (
            "a smaller step changed nothing: the untrained state was the same, with nothing in "
            "it to keep"
        ),
        (larger_bias, large_step): (
            f"a forget bias of {larger_bias:.0f} keeps more of the cell at every step: the "
            f"untrained network started with s_h = {failed['spread'][0]:.0e}, a small trace, but "
            "one a read-out can use. Training destroyed it: "
            + (
                f"s_h fell below a hundredth of its start within {failed['updates'][collapse]} "
                "updates"
                if collapse
                else "s_h fell"
            )
            + f" and ended at {failed['spread'][-1]:.0e}, while the cell still held "
            f"s_c = {failed['cell_spread'][-1]:.0e} of the symbol. Within "
            f"{failed['updates'][peak]} updates the cell had grown from a mean |c| of "
            f"{failed['cell_size'][0]:.1f} to {peak_size:.1f}, where "
            f"tanh'(c) = {1 - np.tanh(peak_size) ** 2:.0e}: h = o tanh(c) no longer showed the "
            "symbol, and the gradient that would bring it back passes through the same tanh'"
        ),
        (larger_bias, small_step): (
            "the trace survived long enough for the read-out to use it, and from then on "
            f"training enlarged it, to s_h = {kept['spread'][-1]:.1f}, with the symbol written as "
            f"large cell values of either sign (s_c = {kept['cell_spread'][-1]:.1f}): the run "
            f"learned the probe, and so did {rerun_clause}"
        ),
    }
    return TraceStory(
        lead=(f"Only the forget bias of {larger_bias:.0f} with the smaller step learned the probe"),
        rows={setting: rows[setting] for setting in traces},
        conclusion=(
            "Adam's step for each weight is about the learning rate in size, whatever the size "
            "of its gradient, and at the start, with the loss at log K and a faint symbol, the "
            "gradient is mostly about everything else. The plateau was not a limit of the LSTM: "
            "it needed a memory to start from and steps small enough to keep it, and neither "
            "alone was enough"
        ),
    )


def rerun_sentence(
    reruns: Mapping,
    measure: Measure,
    *,
    length: int,
    seed: int,
    names: Mapping[str, str] = CELL_NAMES,
) -> str:
    """What the probe's leaders did when rerun with another seed, and what that means.

    Parameters
    ----------
    reruns : dict
        ``{cell: run}`` of the leaders rerun at their length with seed ``seed`` (each run with
        ``"validation_cross_entropy"`` and ``"validation_accuracy"``); empty when no cell
        learned the probe.
    measure : Measure
        ``copy_probe_measure(K)``.
    length : int
        The leaders' length T.
    seed : int
        The seed of the reruns.
    names : dict of str to str, default CELL_NAMES

    Returns
    -------
    sentence : str
        No final full stop.
    """
    if not reruns:
        return "No cell learned the probe at any length, so there was no leader to rerun"
    verdicts = {
        cell: verdict(run["validation_cross_entropy"], measure.baseline)
        for cell, run in reruns.items()
    }
    sentence = (
        f"The table's longest distance belonged to the "
        f"{join_words([names[cell] for cell in reruns])} at T = {length}. "
        f"Rerun with seed {seed} and nothing else changed, "
        + "; ".join(
            f"the {names[cell]} {verdicts[cell]} "
            f"(accuracy {100 * run['validation_accuracy']:.1f} %)"
            for cell, run in reruns.items()
        )
    )
    if any(words != VERDICTS[0] for words in verdicts.values()):
        sentence += (
            ". A single run per entry decides such a table, in both directions: a lucky seed "
            "can put a cell ahead, as the step size above put the LSTM behind. Before ranking "
            "cells on a probe like this one, run several seeds per entry and tune the step "
            "size for each cell"
        )
    return sentence
