"""Checks for the vanilla RNN exercises: forward and backward, one step and a whole sequence.

Each check is called from an nbgrader test cell with the student's function(s)::

    check_rnn_step_forward(rnn_step_forward)                    # the visible cases
    check_rnn_step_forward(rnn_step_forward, cases="hidden")    # the edge cases
    check_rnn_backward(rnn_forward, rnn_backward, cases="gradient_check")

and runs the three steps of :mod:`rnncore.grading` for every case: draw the inputs
(:mod:`~rnncore.grading.inputs`), run the student's function on copies of them
(:mod:`~rnncore.grading.student_run`), judge the result (:mod:`~rnncore.grading.judge`).
Expected values come from :mod:`rnncore.numpy.rnn`, ``torch.nn.RNN`` or finite differences,
computed on the drawn inputs. A check returns None when everything is right (so that nbgrader
gives full points), and raises AssertionError naming the problem otherwise.

The backward checks take the student's forward function too: the cache is whatever that
forward returns, and the backward pass is judged on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from rnncore.grading import inputs, judge, mistakes, torch_reference
from rnncore.grading.student_run import run_student
from rnncore.numpy import gradcheck
from rnncore.numpy import rnn as reference_rnn

__all__ = [
    "check_rnn_step_forward",
    "check_rnn_forward",
    "check_rnn_step_backward",
    "check_rnn_backward",
]

# The reference the student re-derives: calling any function of it fails the check.
FORBIDDEN = (reference_rnn,)


class ForwardSpec(NamedTuple):
    """What differs between the step and the sequence forward checks."""

    name: str
    output: str  # "h_next" or "h"
    output_letters: str  # "B, H" or "B, T, H"
    state: str  # "h_prev" or "h0"
    letters: dict  # letters of each argument, for the hint on shape errors
    reference: Callable  # the rnncore function
    mistakes: tuple
    draw: Callable  # (rng, dims) -> the arrays of a case with these sizes


class BackwardSpec(NamedTuple):
    """What differs between the step and the sequence backward checks."""

    name: str
    forward: ForwardSpec
    upstream: str  # "dh_next" or "dh"
    gradients: dict  # gradient name -> letters, in the order the function returns them
    reference: Callable
    mistakes: tuple


STEP_FORWARD = ForwardSpec(
    "rnn_step_forward",
    "h_next",
    "B, H",
    "h_prev",
    {"x": "B, D", "h_prev": "B, H", "Wx": "D, H", "Wh": "H, H", "b": "H"},
    reference_rnn.rnn_step_forward,
    mistakes.RNN_STEP_FORWARD_MISTAKES,
    lambda rng, d: inputs.draw_rnn_step(rng, d["B"], d["D"], d["H"])["arrays"],
)

SEQUENCE_FORWARD = ForwardSpec(
    "rnn_forward",
    "h",
    "B, T, H",
    "h0",
    {"x": "B, T, D", "h0": "B, H", "Wx": "D, H", "Wh": "H, H", "b": "H"},
    reference_rnn.rnn_forward,
    mistakes.RNN_FORWARD_MISTAKES,
    lambda rng, d: inputs.draw_rnn_sequence(rng, d["B"], d["T"], d["D"], d["H"])["arrays"],
)

STEP_BACKWARD = BackwardSpec(
    "rnn_step_backward",
    STEP_FORWARD,
    "dh_next",
    {"dx": "B, D", "dh_prev": "B, H", "dWx": "D, H", "dWh": "H, H", "db": "H"},
    reference_rnn.rnn_step_backward,
    mistakes.RNN_STEP_BACKWARD_MISTAKES,
)

SEQUENCE_BACKWARD = BackwardSpec(
    "rnn_backward",
    SEQUENCE_FORWARD,
    "dh",
    {"dx": "B, T, D", "dh0": "B, H", "dWx": "D, H", "dWh": "H, H", "db": "H"},
    reference_rnn.rnn_backward,
    mistakes.RNN_BACKWARD_MISTAKES,
)

_SWITCHES = {"Wx": "x @ Wx", "Wh": "h @ Wh", "b": "+ b"}


def _tolerance(case, outputs: dict) -> judge.Tolerance:
    dtypes = [a.dtype for a in case.arrays.values()] + [o.dtype for o in outputs.values()]
    return judge.tolerance_for(*dtypes)


def _shape_error_hint(spec: ForwardSpec, probe, case) -> str:
    """When the function crashes on D != H: does it run with D == H, and match a mistake?"""
    dims = case.dims
    if dims["D"] == dims["H"]:
        return ""
    letters = ", ".join(f"{name} ({spec.letters[name]})" for name in spec.letters)
    hint = f"Check which arrays you multiply: the shapes are {letters}."
    square = spec.draw(np.random.default_rng(case.seed), {**dims, "D": dims["H"]})
    run = probe(square)
    if run.error is not None or not isinstance(run.result, tuple | list) or not run.result:
        return hint
    output = run.result[0]
    expected = spec.reference(**square)[0]
    if not isinstance(output, np.ndarray) or output.shape != expected.shape:
        return hint
    tolerance = judge.tolerance_for(output.dtype, expected.dtype)
    found = mistakes.recognise(
        spec.mistakes, square, {}, {spec.output: output}, {spec.output: expected}, tolerance
    )
    if found:
        return (
            "It runs only when D == H, and then its output matches a known mistake."
            f"\n    Known mistake: {found[0].name}. {found[0].explanation}"
        )
    return hint + " (It runs when D == H: a weight is probably used in the wrong place.)"


def _term_at_fault(spec: ForwardSpec, probe, case, tolerance) -> str:
    """Switch the inputs off one at a time, in the student's function and the reference alike.

    If zeroing one input (Wx, Wh, b or the initial state) makes the two agree, the mistake is
    in the term that input belongs to.
    """
    fixed = []
    for name in ("Wx", "Wh", "b", spec.state):
        arrays = dict(case.arrays)
        arrays[name] = np.zeros_like(arrays[name])
        run = probe(arrays)
        if run.error is not None or not isinstance(run.result, tuple | list) or not run.result:
            continue
        output = run.result[0]
        expected = spec.reference(**arrays)[0]
        if isinstance(output, np.ndarray) and output.shape == expected.shape:
            if judge.compare(output, expected, tolerance) is None:
                fixed.append(name)
    if not fixed:
        return (
            "Setting Wx, Wh, b or " + spec.state + " to zero one at a time never makes "
            f"{spec.output} right, so the fault is not in one term alone: check the activation "
            "and how the terms are added."
        )
    terms = sorted({_SWITCHES.get(name, "h @ Wh") for name in fixed})
    return (
        f"{spec.output} becomes right when {' or '.join(fixed)} is set to zero (in your "
        f"function and in the reference alike), so the fault is in the term "
        f"{' / '.join(terms)}."
    )


def _expected_forward(spec: ForwardSpec, case) -> tuple[dict, str]:
    if case.extra.get("reference") == "torch":
        return torch_reference.torch_rnn_forward(**case.arrays), "torch.nn.RNN"
    return {spec.output: spec.reference(**case.arrays)[0]}, "the reference"


def _prober(student):
    """Step 2 again, on inputs the judge chooses: runs for diagnosis (switching terms off)."""
    return lambda arrays: run_student(student, arrays, FORBIDDEN)


def _judge_forward(spec: ForwardSpec, case, run, probe, function_name=None):
    """Step 3 for a forward function: judge one run; return (output, cache).

    ``probe(arrays)`` runs the student's function on other inputs; the judge asks for it only
    to diagnose a failure (which term is at fault, does it run when D == H).
    """
    function_name = function_name or spec.name
    judge.judge_reference_calls(function_name, case, run.reference_calls)
    if run.error is not None:
        hint = _shape_error_hint(spec, probe, case) if _is_shape_error(run.error) else ""
        judge.judge_error(function_name, case, run.error, hint)
    if case.judge == "no_mutation":
        judge.judge_modified(function_name, case, run.modified)
    outputs = judge.unpack(function_name, case, run.result, (spec.output, "cache"))
    output, cache = outputs[spec.output], outputs["cache"]
    judge.judge_array(function_name, case, spec.output, output, spec.output_letters, case.dims)
    if case.judge != "values":
        return output, cache
    expected, against = _expected_forward(spec, case)
    tolerance = _tolerance(case, {spec.output: output})
    wrong = judge.wrong_outputs({spec.output: output}, expected, tolerance)
    if wrong:
        found = mistakes.recognise(
            spec.mistakes, case.arrays, case.extra, {spec.output: output}, expected, tolerance
        )
        fault = "" if found else _term_at_fault(spec, probe, case, tolerance)
        judge.fail(
            function_name,
            case,
            judge.values_message(
                wrong,
                [spec.output],
                found,
                fault,
                against,
                judge.relations(
                    {spec.output: output},
                    expected,
                    wrong,
                    tolerance,
                    {spec.output: spec.output_letters},
                    case.dims,
                ),
            ),
        )
    return output, cache


def _check_forward(spec: ForwardSpec, student, cases: list) -> None:
    probe = _prober(student)
    for case in cases:  # step 1 drew them
        run = run_student(student, case.arrays, FORBIDDEN)  # step 2
        _judge_forward(spec, case, run, probe)  # step 3


def _is_shape_error(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, ValueError) and (
        "matmul" in text or "shape" in text or "broadcast" in text or "aligned" in text
    )


@judge.student_facing
def check_rnn_step_forward(rnn_step_forward, cases="visible", seed=None) -> None:
    """Check a student's ``rnn_step_forward(x, h_prev, Wx, Wh, b) -> (h_next, cache)``.

    Parameters
    ----------
    rnn_step_forward : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run (see :mod:`rnncore.grading.inputs`).
    seed : int, optional
        Replays the inputs of an earlier run (every failure message prints its seed).

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    _check_forward(STEP_FORWARD, rnn_step_forward, inputs.rnn_step_cases(cases, seed))


@judge.student_facing
def check_rnn_forward(rnn_forward, cases="visible", seed=None) -> None:
    """Check a student's ``rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)``, h of shape (B, T, H).

    Parameters
    ----------
    rnn_forward : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation", "torch"}
        Which case set to run; ``"torch"`` compares with ``torch.nn.RNN``.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    _check_forward(SEQUENCE_FORWARD, rnn_forward, inputs.rnn_sequence_cases(cases, seed))


def _expected_gradients(spec: BackwardSpec, case) -> tuple[dict, str]:
    arrays, dout = case.arrays, case.extra["dout"]
    names = list(spec.gradients)
    if case.extra.get("reference") == "torch":
        return torch_reference.torch_rnn_backward(**arrays, dh=dout), "torch.nn.RNN's autograd"
    if case.extra.get("reference") == "gradient_check":
        expected = {}
        for name, gradient in zip(names, spec.forward.letters, strict=True):

            def forward_of(value, argument=gradient):
                changed = {**arrays, argument: value}
                return spec.forward.reference(**changed)[0]

            expected[name] = gradcheck.numerical_gradient(forward_of, arrays[gradient], dout)
        return expected, "finite differences (float64)"
    _, cache = spec.forward.reference(**arrays)
    return dict(zip(names, spec.reference(dout, cache), strict=True)), "the reference"


def _judge_backward(spec: BackwardSpec, case, run, forward_output) -> None:
    """Step 3 for a backward function: judge the gradients of one run."""
    judge.judge_reference_calls(spec.name, case, run.reference_calls)
    judge.judge_error(spec.name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(spec.name, case, run.modified)
    gradients = judge.unpack(spec.name, case, run.result, list(spec.gradients))
    for name, letters in spec.gradients.items():
        judge.judge_array(spec.name, case, name, gradients[name], letters, case.dims)
    if case.judge != "values":
        return
    expected, against = _expected_gradients(spec, case)
    # A float32 forward makes float32-accurate gradients even if they come back as float64.
    tolerance = _tolerance(case, {**gradients, spec.forward.output: forward_output})
    wrong = judge.wrong_outputs(gradients, expected, tolerance)
    if wrong:
        found = mistakes.recognise(
            spec.mistakes, case.arrays, case.extra, gradients, expected, tolerance
        )
        related = judge.relations(gradients, expected, wrong, tolerance, spec.gradients, case.dims)
        message = judge.values_message(wrong, list(spec.gradients), found, "", against, related)
        judge.fail(spec.name, case, message)


def _check_backward(spec: BackwardSpec, student_forward, student_backward, cases) -> None:
    # The forward is judged first, on the same case: a wrong forward is then reported as
    # such, not as wrong gradients. The cache is whatever the student's forward returns.
    forward_name = f"{spec.forward.name} (which makes the cache for {spec.name})"
    probe = _prober(student_forward)
    for case in cases:  # step 1 drew them
        forward_run = run_student(student_forward, case.arrays, FORBIDDEN)  # step 2
        output, cache = _judge_forward(spec.forward, case, forward_run, probe, forward_name)
        arguments = {spec.upstream: case.extra["dout"], "cache": cache}
        backward_run = run_student(student_backward, arguments, FORBIDDEN)  # step 2
        _judge_backward(spec, case, backward_run, output)  # step 3


@judge.student_facing
def check_rnn_step_backward(
    rnn_step_forward, rnn_step_backward, cases="visible", seed=None
) -> None:
    """Check a student's ``rnn_step_backward(dh_next, cache) -> (dx, dh_prev, dWx, dWh, db)``.

    The cache is what the student's ``rnn_step_forward`` returns on the same inputs.

    Parameters
    ----------
    rnn_step_forward, rnn_step_backward : callable
        The student's functions.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    cases = inputs.rnn_step_cases(cases, seed)
    _check_backward(STEP_BACKWARD, rnn_step_forward, rnn_step_backward, cases)


@judge.student_facing
def check_rnn_backward(rnn_forward, rnn_backward, cases="visible", seed=None) -> None:
    """Check a student's ``rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)`` (BPTT).

    The cache is what the student's ``rnn_forward`` returns on the same inputs.

    Parameters
    ----------
    rnn_forward, rnn_backward : callable
        The student's functions.
    cases : {"shapes", "visible", "hidden", "no_mutation", "torch", "gradient_check"}
        Which case set to run; ``"torch"`` compares with torch.nn.RNN's autograd and
        ``"gradient_check"`` with float64 finite differences.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    cases = inputs.rnn_sequence_cases(cases, seed)
    _check_backward(SEQUENCE_BACKWARD, rnn_forward, rnn_backward, cases)
