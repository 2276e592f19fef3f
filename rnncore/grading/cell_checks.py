"""What the checks of the gated cells share: the LSTM's (a03) and the GRU's (a04).

A gated cell's exercise has the same four functions as the vanilla RNN's (a step and a sequence,
forward and backward) and weight adapters for its ``torch.nn`` module. The checks differ only
in sizes, references and catalogues of mistakes, which a :class:`ForwardSpec` or
:class:`BackwardSpec` holds; this module runs the three steps of :mod:`rnncore.grading` for
any of them:

1. draw the inputs (:func:`step_cases`, :func:`sequence_cases`, :func:`torch_parameters`);
2. run the student's function on copies of them
   (:func:`~rnncore.grading.student_run.run_student`, :func:`with_module_after`);
3. judge the result (:func:`judge_forward`, :func:`judge_backward`, :func:`judge_module`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from rnncore.grading import judge, mistakes
from rnncore.grading.inputs import Case, case_rng, draw_state, draw_weights, new_seed
from rnncore.grading.student_run import run_student
from rnncore.numpy import gradcheck

__all__ = [
    "ForwardSpec",
    "BackwardSpec",
    "unknown_cases",
    "step_cases",
    "sequence_cases",
    "tolerance",
    "judge_forward",
    "check_forward",
    "judge_backward",
    "check_backward",
    "finite_difference_gradients",
    "torch_parameters",
    "torch_module",
    "module_arrays",
    "with_module_after",
    "judge_values",
    "judge_module",
]


# --- step 1: draw the inputs ---------------------------------------------------------------


def unknown_cases(function_name, cases, known) -> ValueError:
    """The error for a case set that a check does not have."""
    names = ", ".join(repr(name) for name in known)
    return ValueError(f"{function_name} has no case set {cases!r}; choose one of {names}")


def _draw_step(rng, B, D, H, gates, dtype, zero_state, cell_state) -> tuple[dict, dict]:
    """Arguments of ``step_forward(x, h_prev, [c_prev,] Wx, Wh, b)`` and upstream gradients."""
    arrays = {
        "x": rng.standard_normal((B, D)).astype(dtype),  # (B, D)
        "h_prev": draw_state(rng, B, H, dtype, zero_state),  # (B, H)
    }
    if cell_state and zero_state:
        arrays["c_prev"] = np.zeros((B, H), dtype=dtype)  # (B, H)
    elif cell_state:
        arrays["c_prev"] = rng.standard_normal((B, H)).astype(dtype)  # (B, H), any real value
    arrays.update(draw_weights(rng, D, H, dtype, gates=gates))
    upstream = {"dout": rng.standard_normal((B, H)).astype(dtype)}  # (B, H), dh_next
    if cell_state:
        upstream["dc_next"] = rng.standard_normal((B, H)).astype(dtype)  # (B, H)
    return arrays, upstream


def step_cases(
    function_name: str,
    shapes: dict,
    cases: str,
    seed: int | None,
    gates: int,
    cell_state: bool = False,
) -> list[Case]:
    """Cases for a cell's step functions.

    ``shapes[cases]`` lists ``(name, B, D, H, dtype, zero_state)``; ``extra["dout"]`` is
    ``dh_next`` (and ``extra["dc_next"]`` the cell state's gradient when ``cell_state``).
    """
    if cases not in shapes:
        raise unknown_cases(function_name, cases, shapes)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, D, H, dtype, zero) in enumerate(shapes[cases]):
        rng = case_rng(seed, index)
        arrays, extra = _draw_step(rng, B, D, H, gates, dtype, zero, cell_state)
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        drawn.append(Case(name, arrays, {"B": B, "D": D, "H": H}, judged, seed, extra))
    return drawn


def sequence_cases(
    function_name: str, shapes: dict, cases: str, seed: int | None, gates: int
) -> list[Case]:
    """Cases for a cell's sequence functions ``forward(x, h0, Wx, Wh, b)``.

    ``shapes[cases]`` lists ``(name, B, T, D, H, dtype, zero_state)``; ``extra["dout"]`` is an
    upstream ``dh`` (B, T, H) and ``extra["reference"]`` the case set's name.
    """
    if cases not in shapes:
        raise unknown_cases(function_name, cases, shapes)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, T, D, H, dtype, zero) in enumerate(shapes[cases]):
        rng = case_rng(seed, index)
        arrays = {
            "x": rng.standard_normal((B, T, D)).astype(dtype),  # (B, T, D)
            "h0": draw_state(rng, B, H, dtype, zero),  # (B, H)
            **draw_weights(rng, D, H, dtype, gates=gates),
        }
        dh = rng.standard_normal((B, T, H)).astype(dtype)  # (B, T, H)
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"B": B, "T": T, "D": D, "H": H}
        drawn.append(Case(name, arrays, dims, judged, seed, {"dout": dh, "reference": cases}))
    return drawn


# --- steps 2 and 3 for the forward and backward passes --------------------------------------


def tolerance(case, outputs: dict) -> judge.Tolerance:
    """By the least precise dtype among the case's arrays and the outputs."""
    dtypes = [a.dtype for a in case.arrays.values() if isinstance(a, np.ndarray)]
    dtypes += [o.dtype for o in outputs.values() if isinstance(o, np.ndarray)]
    return judge.tolerance_for(*dtypes)


class ForwardSpec(NamedTuple):
    """What differs between the forward checks: the function, its outputs and references."""

    name: str
    outputs: dict  # output name -> letters, in the order the function returns them
    mistakes: tuple
    fault: str  # what to look at when no known mistake matches
    expected: Callable  # case -> ({output name: expected array}, what they come from)
    forbidden: tuple  # the reference modules the student must not call


class BackwardSpec(NamedTuple):
    """What differs between the backward checks."""

    name: str
    forward: ForwardSpec  # the student's forward makes the cache
    upstream: dict  # argument name -> key of case.extra, in the signature's order, before cache
    gradients: dict  # gradient name -> letters, in the order the function returns them
    mistakes: tuple
    expected: Callable  # case -> ({gradient name: expected array}, what they come from)


def _judge_run(function_name: str, case, run) -> None:
    judge.judge_reference_calls(function_name, case, run.reference_calls)
    judge.judge_error(function_name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(function_name, case, run.modified)


def _judge_expected(
    function_name, case, outputs, expected, against, catalogue, fault, tol, letters=None
):
    wrong = judge.wrong_outputs(outputs, expected, tol)
    if wrong:
        found = mistakes.recognise(catalogue, case.arrays, case.extra, outputs, expected, tol)
        related = judge.relations(outputs, expected, wrong, tol, letters, case.dims)
        message = judge.values_message(wrong, list(outputs), found, fault, against, related)
        judge.fail(function_name, case, message)


def judge_forward(spec: ForwardSpec, case, run, function_name=None):
    """Step 3 for a forward function: judge one run; return (outputs, cache)."""
    function_name = function_name or spec.name
    _judge_run(function_name, case, run)
    result = judge.unpack(function_name, case, run.result, (*spec.outputs, "cache"))
    outputs = {name: result[name] for name in spec.outputs}
    for name, letters in spec.outputs.items():
        judge.judge_array(function_name, case, name, outputs[name], letters, case.dims)
    if case.judge == "values":
        expected, against = spec.expected(case)
        tol = tolerance(case, outputs)
        _judge_expected(
            function_name,
            case,
            outputs,
            expected,
            against,
            spec.mistakes,
            spec.fault,
            tol,
            spec.outputs,
        )
    return outputs, result["cache"]


def check_forward(spec: ForwardSpec, student, cases: list) -> None:
    """Steps 2 and 3 for every drawn case of a forward function."""
    for case in cases:  # step 1 drew them
        run = run_student(student, case.arrays, spec.forbidden)  # step 2
        judge_forward(spec, case, run)  # step 3


def upstream_arguments(spec: BackwardSpec, case) -> dict:
    """The backward's upstream gradients, by argument name."""
    return {argument: case.extra[key] for argument, key in spec.upstream.items()}


def judge_backward(spec: BackwardSpec, case, run, forward_outputs: dict) -> None:
    """Step 3 for a backward function: judge the gradients of one run."""
    _judge_run(spec.name, case, run)
    gradients = judge.unpack(spec.name, case, run.result, list(spec.gradients))
    for name, letters in spec.gradients.items():
        judge.judge_array(spec.name, case, name, gradients[name], letters, case.dims)
    if case.judge != "values":
        return
    expected, against = spec.expected(case)
    # A float32 forward makes float32-accurate gradients even if they come back as float64.
    tol = tolerance(case, {**gradients, **forward_outputs})
    _judge_expected(
        spec.name, case, gradients, expected, against, spec.mistakes, "", tol, spec.gradients
    )


def check_backward(spec: BackwardSpec, student_forward, student_backward, cases) -> None:
    """Steps 2 and 3 for a backward function, its cache made by the student's forward."""
    # The forward is judged first, on the same case: a wrong forward is then reported as
    # such, not as wrong gradients.
    forward_name = f"{spec.forward.name} (which makes the cache for {spec.name})"
    forbidden = spec.forward.forbidden
    for case in cases:  # step 1 drew them
        forward_run = run_student(student_forward, case.arrays, forbidden)  # step 2
        outputs, cache = judge_forward(spec.forward, case, forward_run, forward_name)
        arguments = {**upstream_arguments(spec, case), "cache": cache}
        backward_run = run_student(student_backward, arguments, forbidden)  # step 2
        judge_backward(spec, case, backward_run, outputs)  # step 3


def finite_difference_gradients(forward: Callable, arrays: dict, names: Sequence, dout) -> dict:
    """``{name: gradient of sum(forward(**arrays) * dout)}`` by float64 centred differences.

    ``names`` are the gradients' names, in the order of ``arrays`` (``dx`` for ``x``, ...).
    """
    expected = {}
    for name, argument in zip(names, arrays, strict=True):

        def forward_of(value, argument=argument):
            return forward(**{**arrays, argument: value})

        expected[name] = gradcheck.numerical_gradient(forward_of, arrays[argument], dout)
    return expected


# --- the weight adapters of a torch.nn module ------------------------------------------------

TORCH_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def torch_parameters(rng, D, H, gates, dtype) -> dict:
    """Random parameters of a one-layer torch.nn cell module, named like torch's (NumPy)."""
    G = gates
    shapes = {
        "weight_ih_l0": (G * H, D),
        "weight_hh_l0": (G * H, H),
        "bias_ih_l0": (G * H,),
        "bias_hh_l0": (G * H,),
    }
    return {
        name: (0.5 * rng.standard_normal(shape)).astype(dtype) for name, shape in shapes.items()
    }


def torch_module(kind: str, parameters: dict, D, H, dtype):
    """A batch-first ``torch.nn.<kind>`` ("LSTM", "GRU") holding the given parameters."""
    import torch

    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    module = getattr(torch.nn, kind)(D, H, batch_first=True, dtype=torch_dtype)
    with torch.no_grad():
        for name, value in parameters.items():
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return module


def module_arrays(module) -> dict:
    """The module's parameters as new NumPy arrays, named like torch's."""
    return {name: getattr(module, name).detach().cpu().numpy().copy() for name in TORCH_NAMES}


def with_module_after(student: Callable, position: int) -> Callable:
    """Step 2 for an adapter that changes a module in place: also return the module's arrays.

    The judge then sees plain arrays (what the module holds after the call), never the module.
    """

    def call(*arguments):
        returned = student(*arguments)
        return returned, module_arrays(arguments[position])

    return call


def judge_values(name, case, outputs, expected, catalogue, against) -> None:
    """Fail, naming the known mistakes that match, unless ``outputs`` equal ``expected``."""
    tol = tolerance(case, outputs)
    _judge_expected(name, case, outputs, expected, against, catalogue, "", tol)


def judge_module(name, case, run, expected, catalogue, effective, letters) -> None:
    """Step 3 for an adapter that changes the module: its parameters after the call.

    ``effective`` maps the module's arrays to what the cell computes with (the sum of two
    biases, say), named as in ``letters`` (output name -> shape in letters).
    """
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    judge.judge_modified(name, case, run.modified)
    _, after = run.result
    outputs = effective(after)
    for output, spec in letters.items():
        judge.judge_array(name, case, output, outputs[output], spec, case.dims)
    judge_values(name, case, outputs, expected, catalogue, "the expected module parameters")
