"""Checks for the sentiment exercise (a06): padding, pooling over time, a masked loss, packing.

Each check is called from an nbgrader test cell with the student's function::

    check_pad_batch(pad_batch)                       # the visible cases
    check_last_valid_state(last_valid_state, cases="hidden")
    check_classify(classify, cases="bidirectional")

and runs the three steps of :mod:`rnncore.grading` for every case:

1. draw the inputs (``*_cases``): token-id lists, or torch tensors with random values (not
   zeros) in the padding so that reading it shows, or a small
   :class:`~rnncore.torch.sentence_classifier.SentenceClassifier`, from a printed seed;
2. run the student's function on copies of them (:func:`~rnncore.grading.student_run.run_student`);
   :func:`plain_call` turns what it returned into plain data (NumPy arrays, the tensors'
   dtypes and whether they carry a gradient) and records the arguments it modified;
3. judge that plain data against values computed at grading time: the reference
   (:mod:`rnncore.torch.pooling`), :func:`rnncore.torch.padding.masked_mean` of PyTorch's
   cross-entropy, or, for ``classify``, each sentence run alone through the model (B = 1, no
   padding, no packing), and name the known mistakes of
   :mod:`~rnncore.grading.sentiment_mistakes`.

The graded functions work on torch tensors: ``h`` (B, T, H), ``out`` (B, T, 2H), ``logits``
(B, T, C), ``lengths`` a LongTensor (B,) of true lengths, batch-first and right-padded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional

from rnncore.grading import judge, sentiment_mistakes
from rnncore.grading.cell_checks import unknown_cases
from rnncore.grading.inputs import Case, case_rng, new_seed
from rnncore.grading.mistakes import recognise
from rnncore.grading.student_run import run_student
from rnncore.torch import padding, pooling, sentence_classifier

__all__ = [
    "SentimentCase",
    "Returned",
    "plain_call",
    "pad_batch_cases",
    "state_cases",
    "masked_loss_cases",
    "classify_cases",
    "check_pad_batch",
    "check_last_valid_state",
    "check_masked_mean",
    "check_final_states_bidirectional",
    "check_masked_loss",
    "check_classify",
]

# The reference the student re-derives: calling any function of these fails the check.
FORBIDDEN = (pooling, padding, sentence_classifier)
VOCABULARY = 12  # token ids 0..11


class SentimentCase(Case):
    """A :class:`~rnncore.grading.inputs.Case` whose arguments are tensors and token lists."""

    __slots__ = ()

    def describe(self) -> str:
        """``case 'unsorted lengths' (B=4, T=6, H=3, lengths [3, 5, 1, 4], float64, seed 7)``."""
        parts = [f"{letter}={size}" for letter, size in self.dims.items()]
        parts.append(f"lengths {list(self.extra['lengths'])}")
        dtypes = {
            str(value.dtype).replace("torch.", "")
            for value in self.arrays.values()
            if isinstance(value, torch.Tensor) and value.is_floating_point()
        }
        parts.extend(sorted(dtypes))
        parts.append(f"seed {self.seed}")
        return f"case {self.name!r} ({', '.join(parts)})"


# --- step 1: draw the inputs ---------------------------------------------------------------

# (name, lengths, pad_id)
_PAD_BATCH_CASES = {
    "shapes": [("lengths 4, 1, 3", [4, 1, 3], 0)],
    "visible": [("unsorted lengths", [3, 5, 1, 4], 0)],
    "hidden": [
        ("B = 1", [4], 0),
        ("equal lengths (no padding)", [3, 3, 3], 0),
        ("pad_id = 7", [2, 5, 3], 7),
        ("longest sentence last", [1, 2, 6], 0),
        ("one token each", [1, 1], 0),
    ],
    "no_mutation": [("no mutation", [2, 4, 3], 0)],
}


def _tokens(rng, length, pad_id) -> list:
    """``length`` token ids in 1..V-1, never ``pad_id``."""
    choices = [i for i in range(1, VOCABULARY) if i != pad_id]
    return [int(i) for i in rng.choice(choices, size=length)]


def pad_batch_cases(cases: str, seed: int | None = None) -> list[SentimentCase]:
    """Cases for ``pad_batch(sequences, pad_id)``: lists of Python ints."""
    if cases not in _PAD_BATCH_CASES:
        raise unknown_cases("pad_batch", cases, _PAD_BATCH_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, lengths, pad_id) in enumerate(_PAD_BATCH_CASES[cases]):
        rng = case_rng(seed, index)
        sequences = [_tokens(rng, n, pad_id) for n in lengths]
        arrays = {"sequences": sequences, "pad_id": pad_id}
        dims = {"B": len(lengths), "T": max(lengths)}
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        drawn.append(SentimentCase(name, arrays, dims, judged, seed, {"lengths": lengths}))
    return drawn


# (name, lengths, T, H, dtype). The visible case pads to a T longer than every sentence (a
# batch padded to a fixed length), so that an index one past the end still exists and the
# mistake can be named instead of raising.
_STATE_CASES = {
    "shapes": [("lengths 2, 4, 1", [2, 4, 1], 4, 3, torch.float64)],
    "visible": [("unsorted lengths, padded to T = 6", [3, 5, 1, 4], 6, 3, torch.float64)],
    "hidden": [
        ("B = 1", [4], 4, 2, torch.float64),
        ("no padding", [3, 3], 3, 4, torch.float64),
        ("T = 1", [1, 1, 1], 1, 3, torch.float64),
        ("longest sentence fills T", [5, 2, 3], 5, 3, torch.float64),
        ("H = 1", [2, 4, 1], 5, 1, torch.float64),
        ("float32", [3, 1, 2], 4, 5, torch.float32),
    ],
    "no_mutation": [("no mutation", [2, 3], 3, 4, torch.float64)],
}


def state_cases(function: str, cases: str, seed: int | None = None) -> list[SentimentCase]:
    """Cases for ``last_valid_state(h, lengths)``, ``masked_mean(h, lengths)`` and
    ``final_states_bidirectional(out, lengths, hidden_size)`` (``out`` of width 2H)."""
    if cases not in _STATE_CASES:
        raise unknown_cases(function, cases, _STATE_CASES)
    seed = new_seed() if seed is None else seed
    bidirectional = function == "final_states_bidirectional"
    drawn = []
    for index, (name, lengths, T, H, dtype) in enumerate(_STATE_CASES[cases]):
        rng = case_rng(seed, index)
        width = 2 * H if bidirectional else H
        values = torch.from_numpy(rng.standard_normal((len(lengths), T, width)))  # (B, T, F)
        lengths_tensor = torch.tensor(lengths, dtype=torch.long)  # (B,)
        if bidirectional:
            arrays = {"out": values.to(dtype), "lengths": lengths_tensor, "hidden_size": H}
        else:
            arrays = {"h": values.to(dtype), "lengths": lengths_tensor}
        dims = {"B": len(lengths), "T": T, "H": H}
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        drawn.append(SentimentCase(name, arrays, dims, judged, seed, {"lengths": lengths}))
    return drawn


# (name, lengths, T, C, dtype)
_LOSS_CASES = {
    "shapes": [("lengths 2, 4, 1", [2, 4, 1], 4, 3, torch.float64)],
    "visible": [("unsorted lengths", [3, 5, 1, 4], 5, 4, torch.float64)],
    "hidden": [
        ("B = 1, no padding", [4], 4, 3, torch.float64),
        ("T = 1", [1, 1], 1, 3, torch.float64),
        ("long and short sentences", [9, 2, 6], 9, 5, torch.float64),
        ("C = 2", [3, 1, 4], 4, 2, torch.float64),
        ("float32", [3, 5, 2], 5, 4, torch.float32),
    ],
    "no_mutation": [("no mutation", [2, 4, 3], 4, 3, torch.float64)],
}


def masked_loss_cases(cases: str, seed: int | None = None) -> list[SentimentCase]:
    """Cases for ``masked_loss(logits, targets, lengths)``.

    ``logits`` (B, T, C) require gradients; ``targets`` (B, T) hold real class ids on the
    padding too, so that a loss that reads them differs.
    """
    if cases not in _LOSS_CASES:
        raise unknown_cases("masked_loss", cases, _LOSS_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, lengths, T, C, dtype) in enumerate(_LOSS_CASES[cases]):
        rng = case_rng(seed, index)
        B = len(lengths)
        logits = torch.from_numpy(2 * rng.standard_normal((B, T, C))).to(dtype)  # (B, T, C)
        targets = torch.from_numpy(rng.integers(0, C, size=(B, T)))  # (B, T) int64
        arrays = {
            "logits": logits.requires_grad_(True),
            "targets": targets,
            "lengths": torch.tensor(lengths, dtype=torch.long),
        }
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"B": B, "T": T, "C": C}
        drawn.append(SentimentCase(name, arrays, dims, judged, seed, {"lengths": lengths}))
    return drawn


# (name, cell, bidirectional, lengths)
_CLASSIFY_CASES = {
    "shapes": [("GRU, lengths 3, 1, 2", "gru", False, [3, 1, 2])],
    "visible": [("GRU, unsorted lengths", "gru", False, [3, 5, 1, 4])],
    "hidden": [
        ("LSTM, unsorted lengths", "lstm", False, [2, 6, 4, 1]),
        ("B = 1", "gru", False, [5]),
        ("lengths already sorted", "gru", False, [5, 3, 2]),
        ("equal lengths", "lstm", False, [3, 3, 3]),
    ],
    "bidirectional": [
        ("bidirectional GRU, unsorted lengths", "gru", True, [3, 5, 1, 4]),
        ("bidirectional LSTM, unsorted lengths", "lstm", True, [4, 2, 6, 3]),
        ("bidirectional GRU, B = 1", "gru", True, [4]),
    ],
    "no_mutation": [("no mutation", "gru", True, [2, 4, 3])],
}
_CLASSIFY_SIZES = {"V": VOCABULARY, "D": 4, "H": 5, "C": 3}


def classify_cases(cases: str, seed: int | None = None) -> list[SentimentCase]:
    """Cases for ``classify(model, ids, lengths)``: a fresh float64 SentenceClassifier.

    The model pools by the last valid state (both directions' final states when
    bidirectional); ``ids`` are right-padded with ``pad_id = 0``.
    """
    if cases not in _CLASSIFY_CASES:
        raise unknown_cases("classify", cases, _CLASSIFY_CASES)
    seed = new_seed() if seed is None else seed
    sizes = _CLASSIFY_SIZES
    drawn = []
    for index, (name, cell, bidirectional, lengths) in enumerate(_CLASSIFY_CASES[cases]):
        rng = case_rng(seed, index)
        with torch.random.fork_rng(devices=[]):  # the student's own random state is kept
            torch.manual_seed(int(rng.integers(2**31)))
            model = sentence_classifier.SentenceClassifier(
                sizes["V"],
                sizes["D"],
                sizes["H"],
                sizes["C"],
                cell=cell,
                bidirectional=bidirectional,
                pad_id=0,
                dtype=torch.float64,
            )
        ids, lengths_tensor = pooling.pad_batch([_tokens(rng, n, 0) for n in lengths], 0)
        arrays = {"model": model, "ids": ids, "lengths": lengths_tensor}
        dims = {"B": len(lengths), "T": max(lengths), "H": sizes["H"], "C": sizes["C"]}
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        extra = {"lengths": lengths, "cell": cell, "bidirectional": bidirectional}
        drawn.append(SentimentCase(name, arrays, dims, judged, seed, extra))
    return drawn


# --- step 2: run the student's function, keep plain data --------------------------------------


@dataclass(frozen=True)
class Returned:
    """One value the student's function returned, as plain data the judge can read."""

    kind: str  # "tensor", or the name of the Python type returned
    array: Any  # the tensor's values as a NumPy array (None for anything else)
    dtype: str  # "torch.int64", "torch.float32", ... ("" for anything else)
    requires_grad: bool  # whether it is connected to a graph


def _plain(value) -> Returned:
    if isinstance(value, torch.Tensor):
        array = value.detach().cpu().numpy().copy()
        return Returned("tensor", array, str(value.dtype), bool(value.requires_grad))
    return Returned(type(value).__name__, None, "", False)


def _frozen(value):
    """A copy of an argument to compare with afterwards: tensors, token lists, a model."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, torch.nn.Module):
        return {name: p.detach().clone() for name, p in value.state_dict().items()}
    return [list(row) for row in value] if isinstance(value, list) else value


def _unchanged(before, value) -> bool:
    if isinstance(value, torch.Tensor):
        return (
            value.shape == before.shape
            and value.dtype == before.dtype
            and torch.equal(value.detach(), before)
        )
    if isinstance(value, torch.nn.Module):
        after = value.state_dict()
        return after.keys() == before.keys() and all(
            after[name].shape == before[name].shape and torch.equal(after[name], before[name])
            for name in before
        )
    if isinstance(value, list):
        return [list(row) for row in value] == before
    return value == before


def plain_call(student, names):
    """Step 2's adapter: call ``student``, return ``(plain result, modified argument names)``.

    The result becomes a :class:`Returned` (or a tuple of them), so that the judge never
    touches the student's objects; the arguments are compared before and after the call.
    """

    def call(*arguments):
        before = [_frozen(value) for value in arguments]
        returned = student(*arguments)
        modified = tuple(
            name
            for name, old, value in zip(names, before, arguments, strict=True)
            if not _unchanged(old, value)
        )
        if isinstance(returned, tuple | list):
            return tuple(_plain(value) for value in returned), modified
        return _plain(returned), modified

    return call


def _run(student, case):
    return run_student(plain_call(student, list(case.arrays)), case.arrays, FORBIDDEN, ())


# --- step 3: judge ------------------------------------------------------------------------------


def _judge_run(name, case, run, hint="") -> tuple:
    """The structure of a run: no reference called, no error, nothing modified."""
    public = [call for call in run.reference_calls if not call.rsplit(".", 1)[-1].startswith("_")]
    if run.reference_calls:
        judge.fail(
            name,
            case,
            f"it calls the course's reference ({', '.join(public[:3] or run.reference_calls)}) "
            "instead of computing the result itself. Write it with torch operations: the "
            "reference is what your code is graded against, not part of the answer.",
        )
    if run.error is not None and not hint:
        hint = _error_hint(run.error)
    judge.judge_error(name, case, run.error, hint)
    result, modified = run.result
    if case.judge == "no_mutation":
        judge.judge_modified(name, case, modified)
    return result


def _error_hint(error) -> str:
    if isinstance(error, IndexError) and "out of bounds" in str(error):
        return (
            "An index reached past the last step: a sentence of n tokens has its steps at "
            "0..n-1, so its last real step is lengths[b] - 1 (Known mistake: lengths off by one "
            "when indexing with lengths)."
        )
    return ""


def _unpack(name, case, result, names) -> dict:
    """``{output name: Returned}``; fail if the function returned another structure."""
    if len(names) == 1:
        if isinstance(result, tuple):
            judge.fail(
                name, case, f"it must return one tensor, {names[0]}, got a tuple of {len(result)}."
            )
        if result.kind == "NoneType":
            judge.fail(name, case, "it returned None. Did you forget the return statement?")
        return {names[0]: result}
    if not isinstance(result, tuple):
        expected = "(" + ", ".join(names) + ")"
        returned = "None" if result.kind == "NoneType" else result.kind
        judge.fail(name, case, f"it must return a tuple {expected}, got {returned}.")
    return judge.unpack(name, case, result, names)


def _judge_tensor(name, case, output: str, value: Returned, spec: str, integer=False) -> None:
    """Fail unless ``value`` is a torch tensor of the right kind and shape ``spec``."""
    if value.kind != "tensor":
        found = "a NumPy array" if value.kind == "ndarray" else value.kind
        fail_text = f"{output} must be a torch tensor, got {found}"
        judge.fail(name, case, fail_text + ". Build it with torch (torch.tensor, torch.stack).")
    if spec == "" and value.array.shape != ():
        judge.fail(
            name,
            case,
            f"{output} must be a scalar tensor (shape ()), got shape "
            f"{tuple(value.array.shape)}: average the per-step losses into one number.",
        )
    if integer and value.dtype != "torch.int64":
        judge.fail(
            name,
            case,
            f"{output} must be a LongTensor (torch.int64), got {value.dtype}: embeddings and "
            "pack_padded_sequence need int64 ids and lengths.",
        )
    if not integer and not np.issubdtype(value.array.dtype, np.floating):
        judge.fail(name, case, f"{output} must hold floats, got {value.dtype}.")
    if tuple(value.array.shape) != judge.expected_shape(spec, case.dims):
        judge.fail(name, case, judge.shape_message(output, value.array.shape, spec, case.dims))
    if not integer and not np.all(np.isfinite(value.array)):
        judge.fail(name, case, f"{output} contains NaN or infinite values.")


def _judge_values(name, case, outputs: dict, expected: dict, catalogue, against, fault=""):
    arrays = {key: value.array for key, value in outputs.items()}
    expected = {key: np.asarray(value) for key, value in expected.items()}
    dtypes = [array.dtype for array in arrays.values()]
    dtypes += [
        np.dtype(str(v.dtype).replace("torch.", ""))
        for v in case.arrays.values()
        if isinstance(v, torch.Tensor) and v.is_floating_point()
    ]
    tol = judge.tolerance_for(*dtypes)
    wrong = judge.wrong_outputs(arrays, expected, tol)
    if wrong:
        found = recognise(catalogue, case.arrays, case.extra, arrays, expected, tol)
        judge.fail(name, case, judge.values_message(wrong, list(arrays), found, fault, against))


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


# --- the checks ---------------------------------------------------------------------------------


def _judge_pad_batch(case, run) -> None:
    name = "pad_batch"
    result = _judge_run(name, case, run)
    outputs = _unpack(name, case, result, ("ids", "lengths"))
    _judge_tensor(name, case, "ids", outputs["ids"], "B, T", integer=True)
    _judge_tensor(name, case, "lengths", outputs["lengths"], "B", integer=True)
    if case.judge != "values":
        return
    ids, lengths = pooling.pad_batch(**case.arrays)
    expected = {"ids": _numpy(ids), "lengths": _numpy(lengths)}
    fault = "ids[b, :n] is sentence b, then pad_id up to T = the longest length."
    catalogue = sentiment_mistakes.PAD_BATCH_MISTAKES
    _judge_values(name, case, outputs, expected, catalogue, "the reference", fault)


@judge.student_facing
def check_pad_batch(pad_batch, cases="visible", seed=None) -> None:
    """Check ``pad_batch(sequences, pad_id) -> (ids (B, T), lengths (B,))``, both int64.

    Parameters
    ----------
    pad_batch : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run (every failure message prints its seed).

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in pad_batch_cases(cases, seed):  # step 1
        run = _run(pad_batch, case)  # step 2
        _judge_pad_batch(case, run)  # step 3


def _judge_pooled(name, case, run, output, spec, reference, catalogue, fault) -> None:
    result = _judge_run(name, case, run)
    outputs = _unpack(name, case, result, (output,))
    _judge_tensor(name, case, output, outputs[output], spec)
    if case.judge != "values":
        return
    expected = {output: _numpy(reference(**case.arrays))}
    _judge_values(name, case, outputs, expected, catalogue, "the reference", fault)


@judge.student_facing
def check_last_valid_state(last_valid_state, cases="visible", seed=None) -> None:
    """Check ``last_valid_state(h, lengths) -> last (B, H)``, ``last[b] = h[b, lengths[b] - 1]``.

    Parameters
    ----------
    last_valid_state : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in state_cases("last_valid_state", cases, seed):  # step 1
        run = _run(last_valid_state, case)  # step 2
        _judge_pooled(  # step 3
            "last_valid_state",
            case,
            run,
            "last",
            "B, H",
            pooling.last_valid_state,
            sentiment_mistakes.LAST_VALID_STATE_MISTAKES,
            "last[b] is h[b, lengths[b] - 1], the state after sentence b's last real token.",
        )


@judge.student_facing
def check_masked_mean(masked_mean, cases="visible", seed=None) -> None:
    """Check ``masked_mean(h, lengths) -> mean (B, H)``, the mean over each sentence's real steps.

    Parameters
    ----------
    masked_mean : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in state_cases("masked_mean", cases, seed):  # step 1
        run = _run(masked_mean, case)  # step 2
        _judge_pooled(  # step 3
            "masked_mean",
            case,
            run,
            "mean",
            "B, H",
            pooling.masked_mean_over_time,
            sentiment_mistakes.MASKED_MEAN_MISTAKES,
            "mean[b] is the sum of h[b, t] over t < lengths[b], divided by lengths[b].",
        )


@judge.student_facing
def check_final_states_bidirectional(
    final_states_bidirectional, cases="visible", seed=None
) -> None:
    """Check ``final_states_bidirectional(out, lengths, hidden_size) -> final (B, 2H)``.

    ``final[b] = [out[b, lengths[b] - 1, :H], out[b, 0, H:]]``.

    Parameters
    ----------
    final_states_bidirectional : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in state_cases("final_states_bidirectional", cases, seed):  # step 1
        run = _run(final_states_bidirectional, case)  # step 2
        _judge_pooled(  # step 3
            "final_states_bidirectional",
            case,
            run,
            "final",
            "B, 2H",
            pooling.final_states_bidirectional,
            sentiment_mistakes.FINAL_STATES_BIDIRECTIONAL_MISTAKES,
            "final[b] is [out[b, lengths[b] - 1, :H], out[b, 0, H:]].",
        )


def _expected_loss(logits, targets, lengths) -> np.ndarray:
    """The mean cross-entropy over the real steps, from rnncore's masked_mean."""
    with torch.no_grad():
        per_step = functional.cross_entropy(
            logits.double().transpose(1, 2), targets, reduction="none"
        )  # (B, T)
        mask = padding.length_mask(lengths, logits.shape[1])  # (B, T)
        return _numpy(padding.masked_mean(per_step, mask))


def _judge_masked_loss(case, run) -> None:
    name = "masked_loss"
    result = _judge_run(name, case, run)
    outputs = _unpack(name, case, result, ("loss",))
    loss = outputs["loss"]
    _judge_tensor(name, case, "loss", loss, "")
    if not loss.requires_grad:
        judge.fail(
            name,
            case,
            "loss is not connected to logits (it has no grad_fn), so loss.backward() could "
            "not train anything. Compute it with torch operations on logits, without .item(), "
            ".detach(), .numpy() or torch.tensor(...) of a number.",
        )
    if case.judge != "values":
        return
    expected = {"loss": _expected_loss(**case.arrays)}
    fault = "loss is the mean of the per-step cross-entropies over the real steps only."
    catalogue = sentiment_mistakes.MASKED_LOSS_MISTAKES
    _judge_values(name, case, outputs, expected, catalogue, "the reference", fault)


@judge.student_facing
def check_masked_loss(masked_loss, cases="visible", seed=None) -> None:
    """Check ``masked_loss(logits, targets, lengths) -> loss``, a differentiable scalar tensor.

    The loss is the mean cross-entropy over the real steps of a right-padded batch:
    ``sum over b, t < lengths[b] of CE(logits[b, t], targets[b, t]) / lengths.sum()``.

    Parameters
    ----------
    masked_loss : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in masked_loss_cases(cases, seed):  # step 1
        run = _run(masked_loss, case)  # step 2
        _judge_masked_loss(case, run)  # step 3


def _expected_alone(model, ids, lengths) -> np.ndarray:
    """Each sentence run alone: B = 1, no padding, no packing, its final states pooled."""
    H = model.hidden_size
    rows = []
    with torch.no_grad():
        for b, n in enumerate(lengths.tolist()):
            out, _ = model.recurrent(model.embedding(ids[b : b + 1, :n]))  # (1, n, dirs * H)
            final = out[:, -1, :H]  # (1, H), the forward direction after the whole sentence
            if model.bidirectional:
                final = torch.cat([final, out[:, 0, H:]], dim=1)  # (1, 2H)
            rows.append(model.output(final))  # (1, C)
    return _numpy(torch.cat(rows))  # (B, C)


def _classify_hint(error) -> str:
    if isinstance(error, RuntimeError) and "enforce_sorted" in str(error):
        mistake = sentiment_mistakes.ENFORCE_SORTED
        return f"\n    Known mistake: {mistake.name}. {mistake.explanation}"
    if isinstance(error, RuntimeError) and "'lengths' argument should be a 1D CPU" in str(error):
        return "pack_padded_sequence wants lengths on the CPU, as an int64 tensor."
    return ""


def _judge_classify(case, run) -> None:
    name = "classify"
    result = _judge_run(name, case, run, _classify_hint(run.error) if run.error else "")
    outputs = _unpack(name, case, result, ("logits",))
    _judge_tensor(name, case, "logits", outputs["logits"], "B, C")
    if case.judge != "values":
        return
    expected = {"logits": _expected_alone(**case.arrays)}
    fault = (
        "Embed ids, pack them with pack_padded_sequence(embedded, lengths, batch_first=True, "
        "enforce_sorted=False), run model.recurrent, take each sentence's final states, and "
        "apply model.output."
    )
    catalogue = sentiment_mistakes.CLASSIFY_MISTAKES
    against = "each sentence run alone, without padding"
    _judge_values(name, case, outputs, expected, catalogue, against, fault)


@judge.student_facing
def check_classify(classify, cases="visible", seed=None) -> None:
    """Check ``classify(model, ids, lengths) -> logits (B, C)`` against each sentence alone.

    ``model`` is a :class:`~rnncore.torch.sentence_classifier.SentenceClassifier` pooling by
    the last valid state; row b of the logits must equal the model's logits for sentence b
    run by itself (B = 1, no padding, no packing).

    Parameters
    ----------
    classify : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "bidirectional", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in classify_cases(cases, seed):  # step 1
        run = _run(classify, case)  # step 2
        _judge_classify(case, run)  # step 3
