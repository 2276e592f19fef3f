"""The last check of the character language model exercise (a05): train with the pieces.

:func:`check_char_lm_training` trains a small GRU language model for a fixed budget
(:data:`TRAINING`) on the first characters of the course's corpus with the student's
``batchify``, ``next_chunk`` and ``train_step``, then the same model from the same seed with
:mod:`rnncore.torch.char_lm`'s, and compares their held-out bits per character (measured by
the reference's :func:`~rnncore.torch.char_lm.bits_per_character` for both). The expected
number is computed at grading time, never stored. Both runs use one thread, so that they do
the same work, and give the same numbers, on every machine; together they take a few seconds.
"""

from __future__ import annotations

import math
import time

import torch

from rnncore.grading import char_lm_mistakes as known
from rnncore.grading import judge
from rnncore.grading.char_lm_checks import _forbidden, _graph_hint, _judge_run, _one_thread
from rnncore.grading.inputs import Case
from rnncore.grading.student_run import StudentRun, watch_reference_calls

__all__ = ["TRAINING", "train_with", "check_char_lm_training"]


#: The experiment the training check runs twice (the student's pieces, then the reference's).
TRAINING = {
    "characters": 36_000,  # the first characters of the course's corpus
    "held_out": 4_000,  # of which the last ones are held out
    "batch_size": 16,
    "bptt": 32,
    "steps": 120,
    "cell": "gru",
    "embedding_dim": 16,
    "hidden_size": 96,
    "learning_rate": 0.01,
    "max_norm": 1.0,
    "seed": 0,
    "slack_bits": 0.15,  # allowed above the reference's held-out bits per character
}


def _training_data():
    from rnncore.data.text import CharVocabulary, load_python_corpus

    text = load_python_corpus(max_chars=TRAINING["characters"])
    vocabulary = CharVocabulary.from_text(text)
    ids = vocabulary.encode(text)  # (N,)
    cut = len(ids) - TRAINING["held_out"]
    return ids[:cut], ids[cut:], vocabulary.size


def train_with(batchify, next_chunk, train_step, train_ids, V: int, watch: bool = False):
    """Train a fresh, seeded model with the given pieces; return it and the last loss.

    The loop: streams = batchify(train_ids, B); walk them bptt columns at a time with
    next_chunk, carrying the state that train_step returns (from None at each pass).
    """
    from rnncore.torch.models import CharLanguageModel

    torch.manual_seed(TRAINING["seed"])
    model = CharLanguageModel(
        V, TRAINING["embedding_dim"], TRAINING["hidden_size"], TRAINING["cell"], fast=True
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAINING["learning_rate"])
    bptt, steps, state, loss = TRAINING["bptt"], 0, None, float("nan")
    streams = batchify(torch.from_numpy(train_ids.copy()), TRAINING["batch_size"])
    N = streams.shape[1]
    model.train()
    while steps < TRAINING["steps"]:
        state = None
        for start in range(0, N - 1, bptt):
            inputs, targets = next_chunk(streams, start, bptt)
            loss, state = train_step(model, state, inputs, targets, optimizer, TRAINING["max_norm"])
            if watch and any(part.grad_fn is not None for part in known.state_parts(state)):
                raise _Detached()
            steps += 1
            if steps == TRAINING["steps"]:
                break
    return model, loss


class _Detached(Exception):
    """Raised inside the student's training when a returned state is still attached."""


@judge.student_facing
def check_char_lm_training(batchify, next_chunk, train_step, seed=None) -> None:
    """Train with the student's pieces; the held-out bits per character must near the reference's.

    A GRU language model is trained for a fixed number of steps (:data:`TRAINING`) on the
    first characters of the course's corpus (:func:`rnncore.data.text.load_python_corpus`),
    with the student's ``batchify``, ``next_chunk`` and ``train_step``, then the same model,
    from the same seed, with the reference's. Both are scored on the held-out end of the text
    by :func:`rnncore.torch.char_lm.bits_per_character`; the student's must be at most
    ``TRAINING["slack_bits"]`` above the reference's.

    Parameters
    ----------
    batchify, next_chunk, train_step : callable
        The student's functions.
    seed : None
        Unused: the experiment is fixed (accepted so that every check has the same call).

    Raises
    ------
    AssertionError
        With the two numbers, and the piece at fault when it can be named.
    """
    from rnncore.torch import char_lm

    name = "the training of your language model"
    case = Case("training", {}, {}, "values", TRAINING["seed"], {})
    train_ids, held_out, V = _training_data()
    with _one_thread():  # the same work, and the same numbers, on every machine
        began = time.perf_counter()
        result, error = None, None
        with watch_reference_calls(_forbidden()) as calls:
            try:
                result = train_with(batchify, next_chunk, train_step, train_ids, V, watch=True)
            except _Detached:
                mistake = known.STATE_NOT_DETACHED
                judge.fail(
                    name,
                    case,
                    "train_step returned a state that is still attached to the graph.\n    "
                    f"Known mistake: {mistake.name}. {mistake.explanation}",
                )
            except Exception as exception:  # the student's bug, reported by the judge
                error = exception
        seconds = time.perf_counter() - began
        run = StudentRun(result, error, (), tuple(calls))
        _judge_run(name, case, run, _graph_hint(error))
        model, _ = result
        reference_model, _ = train_with(
            char_lm.batchify, char_lm.next_chunk, char_lm.train_step, train_ids, V
        )
        bptt = TRAINING["bptt"] * 4
        got = char_lm.bits_per_character(model, held_out, bptt)
        expected = char_lm.bits_per_character(reference_model, held_out, bptt)
    limit = expected + TRAINING["slack_bits"]
    if not got <= limit:
        judge.fail(
            name,
            case,
            f"after {TRAINING['steps']} steps of training with your batchify, next_chunk and "
            f"train_step ({seconds:.1f} s), the model scores {got:.3f} bits per character on "
            f"the held-out text; the same training with the course's reference scores "
            f"{expected:.3f}, and at most {limit:.3f} passes (a model that knows nothing "
            f"scores log2 V = {math.log2(V):.3f}). {_training_fault(batchify, next_chunk)}",
        )


def _training_fault(batchify, next_chunk) -> str:
    """Which of the student's data pieces differ from the reference on a small input."""
    from rnncore.torch import char_lm

    ids = torch.arange(23)
    try:
        if not torch.equal(batchify(ids, 4), char_lm.batchify(ids, 4)):
            return "Your batchify's streams differ from the reference's: fix it first."
        streams = char_lm.batchify(ids, 2)
        for got, expected in zip(
            next_chunk(streams, 3, 4), char_lm.next_chunk(streams, 3, 4), strict=True
        ):
            if not torch.equal(got, expected):
                return "Your next_chunk's chunks differ from the reference's: fix it first."
    except Exception:  # the checks of those functions name the problem
        return "Your batchify or next_chunk fails on a small input: fix it first."
    return (
        "Your batchify and next_chunk agree with the reference, so look at train_step: the "
        "state must be carried (not reset) and detached, the targets shifted, the gradients "
        "zeroed, clipped and applied."
    )
