"""Long-range memory experiments: train cells at growing lengths, two tasks, one machinery.

Chapters 6 (label ``ch-lstm``) and 7 (``ch-gru``) ask the same question of different cells:
up to which sequence length T does a recurrent network, trained with a fixed budget, still
learn a task whose answer depends on something it saw up to T - 1 steps earlier? This package
holds that experiment once, so that both chapters run exactly the same code. One module a job:

``runner``
    :class:`Task` (what distinguishes a task), :func:`run_task` and
    :func:`run_long_range_experiment`, the one training loop: for every cell and every length,
    the recurrent layer (``torch.nn``, for speed) and its linear read-out are trained on fresh
    batches with Adam and gradients clipped to norm 1, then measured on held-out sequences.
``adding``
    The adding problem (:func:`adding_task`, :func:`run_adding_experiment`), scored by the
    held-out MSE against the 1/6 of a constant predictor.
``copy_probe``
    The one-symbol copy probe (:func:`copy_probe_task`, :func:`run_copy_probe_experiment`),
    scored by the held-out cross-entropy against the log K of a uniform guess.
``verdicts``
    :func:`verdict` (chapter 5's thresholds), :class:`Measure` and the clauses built from the
    verdicts (:func:`cell_summary`, :func:`lengths_summary`).
``rankings``, ``trace_story``
    The sentences of chapter 7: which cell learned furthest on which task, and what the traced
    LSTM runs show.

Every public name is importable from ``rnncore.long_range`` itself.
"""

# rnncore.memory_trace checks its arguments with the same function.
from rnncore.long_range._checks import _check_positive_int as _check_positive_int
from rnncore.long_range.adding import (
    adding_batches,
    adding_task,
    build_regressor,
    mse,
    run_adding_experiment,
    validation_mse,
)
from rnncore.long_range.copy_probe import (
    build_copy_classifier,
    check_probe_sizes,
    copy_probe_batches,
    copy_probe_measure,
    copy_probe_task,
    copy_probe_validation,
    cross_entropy,
    run_copy_probe_experiment,
)
from rnncore.long_range.rankings import (
    adding_sentences,
    best_lengths,
    leaders,
    leaders_clause,
    probe_sentences,
)
from rnncore.long_range.runner import Task, run_long_range_experiment, run_task, smooth, start_run
from rnncore.long_range.trace_story import TraceStory, rerun_sentence, setting_label, trace_story
from rnncore.long_range.verdicts import (
    ADDING_MEASURE,
    CELL_NAMES,
    LEARNED,
    NEAR_BASELINE,
    VERDICTS,
    WORSE,
    Measure,
    cell_summary,
    join_words,
    lengths_summary,
    longest_learned,
    verdict,
    verdicts_by_length,
)

__all__ = [
    "LEARNED",
    "NEAR_BASELINE",
    "WORSE",
    "VERDICTS",
    "CELL_NAMES",
    "Measure",
    "ADDING_MEASURE",
    "Task",
    "start_run",
    "run_long_range_experiment",
    "run_task",
    "adding_batches",
    "mse",
    "build_regressor",
    "validation_mse",
    "adding_task",
    "run_adding_experiment",
    "check_probe_sizes",
    "copy_probe_batches",
    "cross_entropy",
    "build_copy_classifier",
    "copy_probe_validation",
    "copy_probe_measure",
    "copy_probe_task",
    "run_copy_probe_experiment",
    "verdict",
    "verdicts_by_length",
    "longest_learned",
    "join_words",
    "cell_summary",
    "lengths_summary",
    "best_lengths",
    "leaders",
    "leaders_clause",
    "adding_sentences",
    "probe_sentences",
    "TraceStory",
    "setting_label",
    "trace_story",
    "rerun_sentence",
    "smooth",
]
