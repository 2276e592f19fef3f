"""Checks for the character language model exercise (a05), written in PyTorch.

Each check is called from an nbgrader test cell with the student's function(s)::

    check_batchify(batchify)                    # the visible cases
    check_batchify(batchify, cases="hidden")    # the edge cases
    check_sample(sample, cases="temperature")   # the distribution of the draws

and runs the three steps of :mod:`rnncore.grading` for every case: draw the inputs (NumPy
values from a printed seed, with fixed edge-case shapes), run the student's function, judge
the outputs against :mod:`rnncore.torch.char_lm` computed on the same inputs, naming the known
mistakes of :mod:`~rnncore.grading.char_lm_mistakes`.

Step 2 differs from :func:`~rnncore.grading.student_run.run_student` in one way: the
arguments here are torch objects that cannot be deep-copied one by one (a state still attached
to its graph; a model and the optimizer that holds its parameters), so each case *builds* its
arguments from the drawn values, once for the student and once more to compare with after the
call. Calls to the reference are watched in the same way
(:func:`~rnncore.grading.student_run.watch_reference_calls`).

Models are small and in float64, so that the reference and the student's computation agree
to rounding; values are compared with float32 tolerances, so that an honest float32
computation passes too. The sampling checks draw a few thousand characters from a model whose
distribution is known and compare the frequencies with it. The last check, which trains a
model with the student's pieces, is in :mod:`~rnncore.grading.char_lm_training`.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable

import numpy as np
import torch
import torch._dynamo  # noqa: F401 (see below)
from torch import nn

from rnncore.grading import char_lm_mistakes as known
from rnncore.grading import judge, mistakes
from rnncore.grading.cell_checks import unknown_cases
from rnncore.grading.inputs import Case, case_rng, new_seed
from rnncore.grading.student_run import StudentRun, watch_reference_calls
from rnncore.shapes import format_shape

__all__ = [
    "check_batchify",
    "check_next_chunk",
    "check_detach_state",
    "check_train_step",
    "check_sample",
    "check_bits_per_character",
]

# torch.optim's first optimizer imports torch._dynamo, which takes seconds: importing it here
# moves that cost to the notebook's import cell, out of the test cells' short time limit.

# float32 tolerances even for the float64 cases: an honest float32 computation passes.
_TOLERANCE = judge.tolerance_for(np.float32)
# Frequencies of N_DRAWS draws: a correct sampler is within 0.045 of each probability with
# probability above 1 - 1e-5 (4.5 standard deviations at p = 1/2), and every known mistake
# of the cases below moves some probability by more than 0.09.
N_DRAWS = 2500
_FREQUENCY_TOLERANCE = judge.Tolerance(0.0, 0.045)


def _forbidden():
    # The reference the student re-derives: calling any function of it fails the check.
    from rnncore.torch import char_lm, decode

    return (char_lm, decode)


# --- step 2: run the student's function on freshly built arguments ------------------------


def _unchanged(before, after) -> bool:
    """Whether ``after`` still equals ``before`` (values, shapes, dtypes, attachment)."""
    if isinstance(before, torch.Tensor):
        return (
            isinstance(after, torch.Tensor)
            and before.shape == after.shape
            and before.dtype == after.dtype
            and torch.equal(before.detach(), after.detach())
            and (before.grad_fn is None) == (after.grad_fn is None)
        )
    if isinstance(before, nn.Module):
        return all(
            torch.equal(value, after.state_dict()[key])
            for key, value in before.state_dict().items()
        )
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and np.array_equal(before, after)
    if isinstance(before, tuple | list):
        return (
            type(before) is type(after)
            and len(before) == len(after)
            and all(_unchanged(b, a) for b, a in zip(before, after, strict=True))
        )
    if before is None:
        return after is None
    return True  # ints and floats cannot change; optimizers and generators are not compared


@contextlib.contextmanager
def _one_thread():
    """Run torch on one thread inside the block: the cases are tiny, and on a loaded machine
    an intra-op thread pool makes some kernels (a softmax over a short axis) 100 times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run_built(
    function: Callable, build: Callable[[], dict], watched=None
) -> tuple[StudentRun, dict]:
    """Step 2: call ``function`` on ``build()``'s arguments, by position; record what happened.

    Returns the run and the arguments the function received (the model after its step).
    """
    arguments, originals = build(), build()
    result, error = None, None
    with _one_thread(), watch_reference_calls(_forbidden()) as calls:
        try:
            result = function(*arguments.values())
        except Exception as exception:  # the student's bug, reported by the judge
            error = exception
    names = arguments.keys() if watched is None else watched
    modified = tuple(name for name in names if not _unchanged(originals[name], arguments[name]))
    return StudentRun(result, error, modified, tuple(calls)), arguments


# --- step 3: judging helpers for tensors ----------------------------------------------------


def _judge_run(name: str, case: Case, run: StudentRun, hint: str = "") -> None:
    if run.reference_calls:
        judge.fail(
            name,
            case,
            f"it calls the course's reference ({', '.join(run.reference_calls)}) instead of "
            "computing the result itself. Write it with PyTorch's tensors: the reference is "
            "what your code is graded against, not part of the answer.",
        )
    judge.judge_error(name, case, run.error, hint)
    if case.judge == "no_mutation":
        judge.judge_modified(name, case, run.modified)


def _judge_ids(name: str, case: Case, label: str, value, spec: str, dims: dict, hint=""):
    """Fail unless ``value`` is an int64 tensor of shape ``spec``."""
    if not isinstance(value, torch.Tensor):
        judge.fail(name, case, f"{label} must be a torch tensor, got {type(value).__name__}.")
    if value.dtype != torch.int64:
        judge.fail(
            name,
            case,
            f"{label} must hold int64 ids (torch.long, what nn.Embedding and cross_entropy "
            f"take), got {value.dtype}.",
        )
    if tuple(value.shape) != judge.expected_shape(spec, dims):
        judge.fail(name, case, judge.shape_message(label, value.shape, spec, dims) + hint)


def _judge_values(name, case, outputs, expected, catalogue, fault, against="the reference"):
    """Fail, naming the known mistakes that match, unless ``outputs`` equal ``expected``."""
    wrong = judge.wrong_outputs(outputs, expected, _TOLERANCE)
    if wrong:
        found = mistakes.recognise(
            catalogue, case.arrays, case.extra, outputs, expected, _TOLERANCE
        )
        judge.fail(name, case, judge.values_message(wrong, list(outputs), found, fault, against))


def _as_number(name: str, case: Case, label: str, value) -> float:
    """A Python number from the student's result; fail on tensors and other types."""
    if isinstance(value, torch.Tensor):
        judge.fail(
            name,
            case,
            f"{label} must be a Python float, got a tensor: return {label}.item() (a tensor "
            "would also keep the graph of the computation alive).",
        )
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        judge.fail(name, case, f"{label} must be a Python float, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        judge.fail(name, case, f"{label} is {value}.")
    return value


# --- models whose drawn values every case rebuilds -----------------------------------------


def _draw_parameters(rng, model: nn.Module, scale: float = 0.5) -> dict:
    return {
        key: scale * rng.standard_normal(tuple(value.shape))
        for key, value in model.state_dict().items()
    }


def _language_model(spec: tuple, parameters: dict | None = None):
    """A float64 CharLanguageModel ``(cell, V, D, H, L)`` holding ``parameters``."""
    from rnncore.torch.models import CharLanguageModel

    cell, V, D, H, L = spec
    model = CharLanguageModel(V, D, H, cell, num_layers=L, fast=True, dtype=torch.float64)
    if parameters is not None:
        model.load_state_dict({key: torch.from_numpy(value) for key, value in parameters.items()})
    return model


def _draw_state(rng, cell: str, L: int, B: int, H: int):
    """NumPy values of a state: (L, B, H), stacked (2, L, B, H) for an LSTM's (h, c)."""
    h = rng.uniform(-0.9, 0.9, size=(L, B, H))  # inside tanh's range
    if cell != "lstm":
        return h[None]
    return np.stack([h, rng.standard_normal((L, B, H))])


def _state_from(values, cell: str):
    if values is None:
        return None
    parts = tuple(torch.from_numpy(part.copy()) for part in values)
    return parts if cell == "lstm" else parts[0]


def _ids_in(kind: str, ids: np.ndarray):
    """The ids as the case passes them: a LongTensor, a NumPy array or a list."""
    if kind == "tensor":
        return torch.from_numpy(ids.copy())
    if kind == "numpy":
        return ids.copy()
    return ids.tolist()


# --- the arguments of each case, built afresh for every call (step 2) ------------------------


def _build_batchify(ids, B, kind) -> dict:
    return {"ids": _ids_in(kind, ids), "batch_size": B}


def _build_next_chunk(streams, start, bptt) -> dict:
    return {"streams": torch.from_numpy(streams.copy()), "start": start, "bptt": bptt}


def _build_detach_state(values, kind) -> dict:
    if values is None:
        return {"state": None}
    # Computed from leaves that require gradients: attached to a graph, as the state a model
    # returns is.
    leaves = [torch.tensor(part / 2, requires_grad=True) for part in values]
    parts = tuple(2 * leaf for leaf in leaves)  # (L, B, H) each
    return {"state": parts if kind == "hc" else parts[0]}


def _build_train_step(spec, parameters, stale, state, inputs, targets, max_norm) -> dict:
    model = _language_model(spec, parameters)
    for key, parameter in model.named_parameters():
        parameter.grad = torch.from_numpy(stale[key].copy())  # left by an earlier step
    return {
        "model": model,
        "state": _state_from(state, spec[0]),
        "inputs": torch.from_numpy(inputs.copy()),
        "targets": torch.from_numpy(targets.copy()),
        "optimizer": torch.optim.SGD(model.parameters(), lr=_LEARNING_RATE),
        "max_norm": max_norm,
    }


def _build_sample(kind, V, logits, prefix, prefix_kind, length, tau, top_k, generator_seed):
    return {
        "model": _HashingModel(V) if kind == "hashing" else _FixedScores(logits),
        "prefix": _ids_in(prefix_kind, prefix),
        "length": length,
        "temperature": tau,
        "top_k": top_k,
        "generator": torch.Generator().manual_seed(generator_seed),
    }


def _build_bits_per_character(spec, parameters, ids, kind, bptt) -> dict:
    return {"model": _language_model(spec, parameters), "ids": _ids_in(kind, ids), "bptt": bptt}


# --- batchify ---------------------------------------------------------------------------------

# (name, len(ids), B, how the ids are passed)
_BATCHIFY_CASES = {
    "shapes": [("len(ids) = 23, B = 4", 23, 4, "tensor")],
    "visible": [
        ("len(ids) = 23, B = 4: a tail of 3", 23, 4, "tensor"),
        ("len(ids) = 30, B = 3: no tail", 30, 3, "tensor"),
    ],
    "hidden": [
        ("B = 1", 9, 1, "tensor"),
        ("N = 2", 11, 5, "tensor"),
        ("ids as a NumPy array", 26, 4, "numpy"),
        ("ids as a list", 17, 2, "list"),
        ("B = 7", 50, 7, "tensor"),
    ],
    "no_mutation": [("no mutation", 20, 3, "tensor")],
}


def batchify_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``batchify(ids, batch_size)``; ``extra["build"]()`` makes the arguments."""
    if cases not in _BATCHIFY_CASES:
        raise unknown_cases("batchify", cases, _BATCHIFY_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, length, B, kind) in enumerate(_BATCHIFY_CASES[cases]):
        ids = case_rng(seed, index).integers(0, 100, size=length)  # (len(ids),)
        arrays = {"ids": ids, "batch_size": B}
        extra = {"build": functools.partial(_build_batchify, ids, B, kind)}
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        drawn.append(Case(name, arrays, {"B": B, "N": length // B}, judged, seed, extra))
    return drawn


@judge.student_facing
def check_batchify(batchify, cases="visible", seed=None) -> None:
    """Check ``batchify(ids, batch_size) -> streams``, a LongTensor (B, N), N = len(ids) // B.

    Stream b is ``ids[b N : (b + 1) N]``; the last ``len(ids) mod B`` ids are dropped.

    Parameters
    ----------
    batchify : callable
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
    name = "batchify"
    for case in batchify_cases(cases, seed):  # step 1
        run, _ = run_built(batchify, case.extra["build"], watched=("ids",))  # step 2
        _judge_run(name, case, run)  # step 3
        _judge_ids(name, case, "streams", run.result, "B, N", case.dims)
        if case.judge == "values":
            B, ids = case.arrays["batch_size"], case.arrays["ids"]
            expected = {"streams": known.batchify_variant(ids, B)}
            outputs = {"streams": run.result.cpu().numpy()}
            fault = "Stream b must be ids[b * N : (b + 1) * N], with N = len(ids) // B."
            _judge_values(name, case, outputs, expected, known.BATCHIFY_MISTAKES, fault)


# --- next_chunk -------------------------------------------------------------------------------

# (name, B, N, start, bptt)
_NEXT_CHUNK_CASES = {
    "shapes": [("B = 3, N = 20, start = 4, bptt = 5", 3, 20, 4, 5)],
    "visible": [
        ("B = 3, N = 20, start = 4, bptt = 5", 3, 20, 4, 5),
        ("the last chunk is shorter: start = 16, bptt = 5, N = 20", 3, 20, 16, 5),
    ],
    "hidden": [
        ("start = 0", 2, 12, 0, 4),
        ("one step left: start = N - 2", 2, 12, 10, 4),
        ("B = 1", 1, 15, 3, 6),
        ("bptt longer than the streams", 2, 8, 0, 50),
        ("bptt = 1", 4, 10, 5, 1),
    ],
    "no_mutation": [("no mutation", 3, 10, 2, 4)],
}


def next_chunk_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``next_chunk(streams, start, bptt)``; T is the chunk's length."""
    if cases not in _NEXT_CHUNK_CASES:
        raise unknown_cases("next_chunk", cases, _NEXT_CHUNK_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, N, start, bptt) in enumerate(_NEXT_CHUNK_CASES[cases]):
        streams = case_rng(seed, index).integers(0, 100, size=(B, N))  # (B, N)
        arrays = {"streams": streams, "start": start, "bptt": bptt}

        build = functools.partial(_build_next_chunk, streams, start, bptt)
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"B": B, "T": min(bptt, N - 1 - start)}
        drawn.append(Case(name, arrays, dims, judged, seed, {"build": build, "N": N}))
    return drawn


@judge.student_facing
def check_next_chunk(next_chunk, cases="visible", seed=None) -> None:
    """Check ``next_chunk(streams, start, bptt) -> (inputs, targets)``, both (B, T).

    T = min(bptt, N - 1 - start); ``targets`` are the inputs' columns shifted by one.

    Parameters
    ----------
    next_chunk : callable
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
    name = "next_chunk"
    for case in next_chunk_cases(cases, seed):  # step 1
        run, _ = run_built(next_chunk, case.extra["build"], watched=("streams",))  # step 2
        _judge_run(name, case, run)  # step 3
        outputs = judge.unpack(name, case, run.result, ["inputs", "targets"])
        start, bptt = case.arrays["start"], case.arrays["bptt"]
        T, N = case.dims["T"], case.extra["N"]
        hint = ""
        if T < bptt:
            hint = (
                f" Here only N - 1 - start = {N - 1 - start} steps are left, fewer than bptt ="
                f" {bptt}: T = min(bptt, N - 1 - start), so that the targets stop at the last "
                "column."
            )
        for label in ("inputs", "targets"):
            _judge_ids(name, case, label, outputs[label], "B, T", case.dims, hint)
        if case.judge == "values":
            inputs, targets = known.next_chunk_variant(case.arrays["streams"], start, bptt)
            expected = {"inputs": inputs, "targets": targets}
            got = {label: value.cpu().numpy() for label, value in outputs.items()}
            fault = (
                "inputs = streams[:, start : start + T] and targets = streams[:, start + 1 : "
                "start + 1 + T]."
            )
            _judge_values(name, case, got, expected, known.NEXT_CHUNK_MISTAKES, fault)


# --- detach_state -----------------------------------------------------------------------------

# (name, "h" / "hc" / None, L, B, H)
_DETACH_CASES = {
    "visible": [("h of a GRU", "h", 1, 3, 4), ("(h, c) of an LSTM", "hc", 1, 3, 4)],
    "hidden": [
        ("None: no state yet", None, 1, 1, 1),
        ("h of two layers", "h", 2, 2, 5),
        ("(h, c) of two layers, B = 1", "hc", 2, 1, 3),
    ],
    "no_mutation": [("no mutation", "hc", 1, 2, 3)],
}


def detach_state_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``detach_state(state)``: a state still attached to a graph (or None)."""
    if cases not in _DETACH_CASES:
        raise unknown_cases("detach_state", cases, _DETACH_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, kind, L, B, H) in enumerate(_DETACH_CASES[cases]):
        rng = case_rng(seed, index)
        values = None if kind is None else rng.uniform(-0.9, 0.9, size=(len(kind), L, B, H))

        build = functools.partial(_build_detach_state, values, kind)
        extra = {"build": build, "kind": kind, "state_values": values}
        judged = "no_mutation" if cases == "no_mutation" else "values"
        drawn.append(Case(name, {}, {"L": L, "B": B, "H": H}, judged, seed, extra))
    return drawn


def _judge_state(name: str, case: Case, label: str, state, kind, spec_dims: dict) -> None:
    """Fail unless ``state`` has the structure ``kind`` ("h", "hc", None) and is detached."""
    shape = (spec_dims["L"], spec_dims["B"], spec_dims["H"])
    if kind is None:
        if state is not None:
            judge.fail(name, case, f"{label} must be None when the state is None.")
        return
    if kind == "h" and not isinstance(state, torch.Tensor):
        judge.fail(
            name,
            case,
            f"{label} must be a tensor h, like the state it replaces, got {type(state).__name__}.",
        )
    if kind == "hc" and not (
        isinstance(state, tuple | list)
        and len(state) == 2
        and all(isinstance(part, torch.Tensor) for part in state)
    ):
        judge.fail(
            name,
            case,
            f"{label} must be a tuple (h, c) of two tensors, like an LSTM's state, got "
            f"{type(state).__name__}.",
        )
    for part_name, part in zip(("h", "c"), known.state_parts(state), strict=False):
        if tuple(part.shape) != shape:
            judge.fail(
                name,
                case,
                f"{part_name} of {label} has shape {format_shape(part.shape)}, expected "
                f"(L, B, H) = {format_shape(shape)}.",
            )
        if part.grad_fn is not None or part.requires_grad:
            mistake = known.STATE_NOT_DETACHED
            judge.fail(
                name,
                case,
                f"{part_name} of {label} is still attached to the graph (requires_grad is "
                f"True).\n    Known mistake: {mistake.name}. {mistake.explanation}",
            )


@judge.student_facing
def check_detach_state(detach_state, cases="visible", seed=None) -> None:
    """Check ``detach_state(state)``: None, h or (h, c), with the same values, detached.

    Parameters
    ----------
    detach_state : callable
        The student's function.
    cases : {"visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    name = "detach_state"
    for case in detach_state_cases(cases, seed):  # step 1
        run, _ = run_built(detach_state, case.extra["build"])  # step 2
        _judge_run(name, case, run)  # step 3
        kind = case.extra["kind"]
        _judge_state(name, case, "the returned state", run.result, kind, case.dims)
        if kind is not None and case.judge == "values":
            outputs = {"state": known.state_array(run.result)}
            expected = {"state": case.extra["state_values"]}
            fault = "Keep the values; cut only the graph: tensor.detach()."
            _judge_values(name, case, outputs, expected, known.DETACH_STATE_MISTAKES, fault)


# --- train_step -------------------------------------------------------------------------------

_V, _D, _H = 11, 6, 8
_LEARNING_RATE = 0.5

# (name, cell, L, B, T, with a state, max_norm / the gradient's norm)
_TRAIN_STEP_CASES = {
    "shapes": [("LSTM, B = 3, T = 5", "lstm", 1, 3, 5, True, 0.5)],
    "visible": [("LSTM from a carried state, gradients clipped", "lstm", 1, 3, 5, True, 0.3)],
    "hidden": [
        ("GRU from no state (None)", "gru", 1, 2, 6, False, 0.5),
        ("vanilla RNN, B = 1, T = 1", "rnn", 1, 1, 1, True, 0.5),
        ("two-layer LSTM", "lstm", 2, 2, 4, True, 0.4),
        ("GRU, gradient norm below max_norm (no clipping)", "gru", 1, 3, 5, True, 3.0),
    ],
    "no_mutation": [("no mutation", "lstm", 1, 2, 4, True, 0.5)],
}


def train_step_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``train_step(model, state, inputs, targets, optimizer, max_norm)``.

    ``extra["build"]()`` makes a float64 CharLanguageModel with the drawn parameters, plain
    SGD over it (lr 0.5) with stale gradients left in ``.grad`` by an earlier step, the state
    and the chunk; ``max_norm`` is a multiple of this step's true gradient norm.
    """
    if cases not in _TRAIN_STEP_CASES:
        raise unknown_cases("train_step", cases, _TRAIN_STEP_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, cell, L, B, T, with_state, ratio) in enumerate(_TRAIN_STEP_CASES[cases]):
        rng = case_rng(seed, index)
        spec = (cell, _V, _D, _H, L)
        parameters = _draw_parameters(rng, _language_model(spec))
        stale = {key: 0.1 * rng.standard_normal(value.shape) for key, value in parameters.items()}
        state = _draw_state(rng, cell, L, B, _H) if with_state else None
        inputs = rng.integers(0, _V, size=(B, T))  # (B, T)
        targets = rng.integers(0, _V, size=(B, T))  # (B, T)

        build = functools.partial(
            _build_train_step, spec, parameters, stale, state, inputs, targets
        )
        max_norm = float(ratio * _gradient_norm(build(None)))
        extra = {
            "build": functools.partial(build, max_norm),
            "cell": cell,
            "state_is_none": state is None,
            "clipping_active": ratio < 1,
        }
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"L": L, "B": B, "H": _H, "T": T}
        drawn.append(Case(name, {"max_norm": max_norm}, dims, judged, seed, extra))
    return drawn


def _gradient_norm(arguments: dict) -> float:
    model, state, inputs, targets = (arguments[k] for k in ("model", "state", "inputs", "targets"))
    logits, _ = model(inputs, state)  # (B, T, V)
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    gradients = torch.autograd.grad(loss, list(model.parameters()))
    return float(torch.sqrt(sum((g**2).sum() for g in gradients)))


@judge.student_facing
def check_train_step(train_step, cases="visible", seed=None) -> None:
    """Check ``train_step(model, state, inputs, targets, optimizer, max_norm) -> (loss, state)``.

    One step: zero the gradients, run the model from ``state``, mean cross-entropy, backward,
    clip the global norm to ``max_norm``, optimizer step. Judged: the loss (a float, before the
    update), the returned state (detached, the model's final state) and the parameters after
    the step, against the reference run on an identical model and optimizer.

    Parameters
    ----------
    train_step : callable
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
    from rnncore.torch import char_lm

    name = "train_step"
    watched = ("state", "inputs", "targets")
    for case in train_step_cases(cases, seed):  # step 1
        run, arguments = run_built(train_step, case.extra["build"], watched)  # step 2
        _judge_run(name, case, run, _graph_hint(run.error))  # step 3
        result = judge.unpack(name, case, run.result, ["loss", "state"])
        loss = _as_number(name, case, "loss", result["loss"])
        kind = "hc" if case.extra["cell"] == "lstm" else "h"
        _judge_state(name, case, "the returned state", result["state"], kind, case.dims)
        if case.judge != "values":
            continue
        outputs = {
            "loss": np.array(loss),
            "state": known.state_array(result["state"]),
            "parameters": known.flat_parameters(arguments["model"]),
        }
        reference = case.extra["build"]()
        expected_loss, expected_state = char_lm.train_step(*reference.values())
        expected = {
            "loss": np.array(expected_loss),
            "state": known.state_array(expected_state),
            "parameters": known.flat_parameters(reference["model"]),
        }
        fault = (
            "In order: optimizer.zero_grad(); logits, state = model(inputs, state); the mean "
            "cross-entropy of logits against targets; loss.backward(); "
            "clip_grad_norm_(model.parameters(), max_norm); optimizer.step()."
        )
        _judge_values(name, case, outputs, expected, known.TRAIN_STEP_MISTAKES, fault)


def _graph_hint(error) -> str:
    if error is not None and "backward through the graph a second time" in str(error):
        mistake = known.STATE_NOT_DETACHED
        return f"\n    Known mistake: {mistake.name}. {mistake.explanation}"
    return ""


# --- sample -----------------------------------------------------------------------------------


class _HashingModel(nn.Module):
    """A model sure of the next id, which depends on every id read before it.

    Its state (1, B, 1) is a running hash of the ids read, ``h <- (31 h + id + 1) mod 1009``,
    and the next id is ``h mod V``; so the right ids come out only when the prefix is read
    whole and every drawn id is fed back with the state.
    """

    def __init__(self, vocab_size: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.sharpness = nn.Parameter(torch.tensor(60.0, dtype=torch.float64))

    def forward(self, tokens, state=None):
        from rnncore.torch.models import _check_tokens

        _check_tokens("tokens", tokens, self.vocab_size)
        B, T = tokens.shape
        h = torch.zeros(B, dtype=torch.int64) if state is None else state[0, :, 0].long()  # (B,)
        following = []
        for t in range(T):
            h = (31 * h + tokens[:, t].long() + 1) % _HASH_MODULUS  # (B,)
            following.append(h % self.vocab_size)
        one_hot = nn.functional.one_hot(torch.stack(following, dim=1), self.vocab_size)
        return self.sharpness * one_hot.double(), h.double()[None, :, None]  # (B, T, V)


class _FixedScores(nn.Module):
    """A model that gives the same scores (V,) at every step, whatever it reads."""

    def __init__(self, logits: np.ndarray):
        super().__init__()
        self.vocab_size = len(logits)
        self.logits = nn.Parameter(torch.tensor(logits, dtype=torch.float64))

    def forward(self, tokens, state=None):
        from rnncore.torch.models import _check_tokens

        _check_tokens("tokens", tokens, self.vocab_size)
        B, T = tokens.shape
        state = torch.zeros(1, B, 1, dtype=torch.float64) if state is None else state
        return self.logits.expand(B, T, self.vocab_size), state  # (B, T, V)


_HASH_MODULUS = 1009


def hashing_ids(prefix, length: int, V: int) -> list[int]:
    """What ``sample`` returns for :class:`_HashingModel`."""
    h = 0
    for token in prefix:
        h = (31 * h + int(token) + 1) % _HASH_MODULUS
    ids = []
    for _ in range(length):
        ids.append(h % V)
        h = (31 * h + ids[-1] + 1) % _HASH_MODULUS
    return ids


_SPREAD = np.array([2.5, 1.5, 1.0, 0.5, 0.0, -0.5, -1.5, -2.5])  # scores, in a drawn order
_HASHING_V = 11

# (name, model "hashing" or "fixed", prefix length, length, temperature, top_k, prefix kind)
_SAMPLE_CASES = {
    "shapes": [("prefix of 3 ids, length = 7", "hashing", 3, 7, 1.0, None, "list")],
    "visible": [("prefix of 3 ids, length = 12", "hashing", 3, 12, 1.0, None, "list")],
    "temperature": [
        ("temperature = 2 (flatter)", "fixed", 2, N_DRAWS, 2.0, None, "list"),
        ("temperature = 0.5 (sharper)", "fixed", 2, N_DRAWS, 0.5, None, "list"),
    ],
    "top_k": [
        ("top_k = 3", "fixed", 2, N_DRAWS, 1.0, 3, "list"),
        ("top_k = 5, temperature = 2", "fixed", 1, N_DRAWS, 2.0, 5, "list"),
    ],
    "hidden": [
        ("a prefix of one id", "hashing", 1, 9, 1.0, None, "list"),
        ("prefix as a LongTensor", "hashing", 4, 6, 0.7, None, "tensor"),
        ("top_k = 1", "hashing", 2, 8, 1.0, 1, "list"),
        ("length = 0", "hashing", 2, 0, 1.0, None, "list"),
        ("the same generator seed gives the same ids", "generator", 2, 200, 1.0, None, "list"),
    ],
    "no_mutation": [("no mutation", "hashing", 3, 5, 1.0, None, "tensor")],
}


def sample_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``sample(model, prefix, length, temperature, top_k, generator)``."""
    if cases not in _SAMPLE_CASES:
        raise unknown_cases("sample", cases, _SAMPLE_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, kind, P, length, tau, top_k, prefix_kind) in enumerate(_SAMPLE_CASES[cases]):
        rng = case_rng(seed, index)
        generator_seed = int(rng.integers(2**31))
        extra = {"kind": kind}
        if kind == "hashing":
            V = _HASHING_V
        else:
            extra["logits"] = rng.permutation(_SPREAD)
            V = len(_SPREAD)
        prefix = rng.integers(0, V, size=P)  # (P,)

        extra["build"] = functools.partial(
            _build_sample,
            kind,
            V,
            extra.get("logits"),
            prefix,
            prefix_kind,
            length,
            tau,
            top_k,
            generator_seed,
        )
        arrays = {"prefix": prefix, "length": length, "temperature": tau, "top_k": top_k}
        judged = "no_mutation" if cases == "no_mutation" else cases
        judged = "values" if judged in ("visible", "hidden") else judged
        drawn.append(Case(name, arrays, {"V": V}, judged, seed, extra))
    return drawn


def _judge_sampled_ids(name: str, case: Case, ids) -> list[int]:
    length, V = case.arrays["length"], case.dims["V"]
    if isinstance(ids, torch.Tensor | np.ndarray):
        judge.fail(
            name,
            case,
            f"it must return a list of int ids, got a {type(ids).__name__}: return ids.tolist().",
        )
    if not isinstance(ids, list | tuple):
        judge.fail(name, case, f"it must return a list of int ids, got {type(ids).__name__}.")
    if len(ids) != length:
        hint = ""
        if len(ids) == length + len(case.arrays["prefix"]):
            hint = " It looks like the prefix is included: return only the new ids."
        judge.fail(name, case, f"it returned {len(ids)} ids, expected length = {length}.{hint}")
    for position, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            judge.fail(
                name,
                case,
                f"ids[{position}] is a {type(value).__name__}; every id must be an int "
                "(ids.tolist() of a LongTensor, or int(tensor) of one id).",
            )
        if not 0 <= value < V:
            judge.fail(
                name, case, f"ids[{position}] = {value} is not an id in 0..V-1 = 0..{V - 1}."
            )
    return [int(value) for value in ids]


_SAMPLE_FAULT = (
    "Read the whole prefix first (logits, state = model(prefix[None], None)), then for every "
    "new id: scores = logits[0, -1] / temperature; keep the top_k highest (the others to "
    "-inf); draw from their softmax with torch.multinomial(..., generator=generator); feed "
    "the drawn id back with the state."
)


@judge.student_facing
def check_sample(sample, cases="visible", seed=None) -> None:
    """Check ``sample(model, prefix, length, temperature, top_k, generator) -> list of ids``.

    ``"visible"`` and ``"hidden"`` use a model sure of each next id, so the ids are known;
    ``"temperature"`` and ``"top_k"`` draw 2500 ids from a model with fixed scores and compare
    their frequencies with ``softmax(scores / temperature)`` over the top k scores.

    Parameters
    ----------
    sample : callable
        The student's function.
    cases : {"shapes", "visible", "temperature", "top_k", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    name = "sample"
    for case in sample_cases(cases, seed):  # step 1
        run, _ = run_built(sample, case.extra["build"], watched=("prefix",))  # step 2
        _judge_run(name, case, run)  # step 3
        ids = _judge_sampled_ids(name, case, run.result)
        kind, judged = case.extra["kind"], case.judge
        if kind == "hashing" and judged == "values":
            prefix = case.arrays["prefix"].tolist()
            expected = hashing_ids(prefix, case.arrays["length"], case.dims["V"])
            if ids != expected:
                position = next(
                    i for i, (a, b) in enumerate(zip(ids, expected, strict=True)) if a != b
                )
                judge.fail(
                    name,
                    case,
                    f"the ids differ from the expected ones from position {position} on: got "
                    f"{ids[position : position + 5]}..., expected "
                    f"{expected[position : position + 5]}... (this model is sure of each next "
                    f"id, given everything read before it).\n    {_SAMPLE_FAULT}",
                )
        elif kind == "generator":
            again, _ = run_built(sample, case.extra["build"])
            if again.error is not None or again.result != run.result:
                judge.fail(
                    name,
                    case,
                    "two calls with generators of the same seed returned different ids. Draw "
                    "with torch.multinomial(probabilities, 1, generator=generator), so that a "
                    "seed reproduces a sample.",
                )
        elif kind == "fixed":
            logits = case.extra["logits"]
            frequencies = np.bincount(ids, minlength=len(logits)) / len(ids)  # (V,)
            distribution = known.sample_distribution(
                logits, case.arrays["temperature"], case.arrays["top_k"]
            )
            outputs, expected = {"frequencies": frequencies}, {"frequencies": distribution}
            wrong = judge.wrong_outputs(outputs, expected, _FREQUENCY_TOLERANCE)
            if wrong:
                found = mistakes.recognise(
                    known.SAMPLE_MISTAKES,
                    case.arrays,
                    case.extra,
                    outputs,
                    expected,
                    _FREQUENCY_TOLERANCE,
                )
                against = f"softmax(scores / temperature) over the top k, {len(ids)} draws"
                message = judge.values_message(
                    wrong, ["frequencies"], found, _SAMPLE_FAULT, against
                )
                message += f"\n    The scores were {np.round(logits, 2).tolist()}."
                judge.fail(name, case, message)


# --- bits_per_character -----------------------------------------------------------------------

# (name, cell, L, N, bptt, how the ids are passed)
_BPC_CASES = {
    "visible": [("LSTM, N = 61, bptt = 8: a shorter last chunk", "lstm", 1, 61, 8, "tensor")],
    "hidden": [
        ("bptt = 1", "gru", 1, 20, 1, "tensor"),
        ("bptt longer than the text", "lstm", 1, 15, 40, "tensor"),
        ("N = 2", "gru", 1, 2, 3, "tensor"),
        ("ids as a NumPy array", "rnn", 1, 30, 7, "numpy"),
        ("ids as a list, two layers", "lstm", 2, 25, 6, "list"),
    ],
    "no_mutation": [("no mutation", "gru", 1, 30, 7, "tensor")],
}


def bits_per_character_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``bits_per_character(model, ids, bptt)``."""
    if cases not in _BPC_CASES:
        raise unknown_cases("bits_per_character", cases, _BPC_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, cell, L, N, bptt, kind) in enumerate(_BPC_CASES[cases]):
        rng = case_rng(seed, index)
        spec = (cell, _V, _D, _H, L)
        parameters = _draw_parameters(rng, _language_model(spec), scale=0.8)
        ids = rng.integers(0, _V, size=N)  # (N,)

        build = functools.partial(_build_bits_per_character, spec, parameters, ids, kind, bptt)
        judged = "no_mutation" if cases == "no_mutation" else "values"
        arrays = {"ids": ids, "bptt": bptt}
        drawn.append(Case(name, arrays, {"N": N}, judged, seed, {"build": build}))
    return drawn


@judge.student_facing
def check_bits_per_character(bits_per_character, cases="visible", seed=None) -> None:
    """Check ``bits_per_character(model, ids, bptt) -> float``.

    The ids are read as one stream in chunks of ``bptt``, carrying the state; the result is
    the mean cross-entropy of the N - 1 next-character predictions, divided by ln 2.

    Parameters
    ----------
    bits_per_character : callable
        The student's function.
    cases : {"visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    from rnncore.torch import char_lm

    name = "bits_per_character"
    for case in bits_per_character_cases(cases, seed):  # step 1
        run, _ = run_built(bits_per_character, case.extra["build"], ("model", "ids"))  # step 2
        _judge_run(name, case, run)  # step 3
        value = _as_number(name, case, "bpc", run.result)
        if case.judge == "values":
            reference = case.extra["build"]()
            expected = {"bpc": np.array(char_lm.bits_per_character(*reference.values()))}
            fault = (
                "Sum the cross-entropy (in nats) of every next-character prediction, carrying "
                "the state from chunk to chunk, then divide by N - 1 and by ln 2."
            )
            outputs = {"bpc": np.array(value)}
            catalogue = known.BITS_PER_CHARACTER_MISTAKES
            _judge_values(name, case, outputs, expected, catalogue, fault)
