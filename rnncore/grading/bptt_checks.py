"""Checks for the tools of backpropagation through time: a gradient check and gradient clipping.

``check_numerical_gradient`` judges a student's ``numerical_gradient(f, x, dout, eps)`` on test
functions whose derivatives are known in closed form (x**3, sin, tanh, a matrix product, a
scalar sum of squares), and, with a large ``eps``, against the course's centred difference, which
tells a centred difference from a one-sided one. ``check_clip_grad_norm`` judges
``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)`` against
:func:`rnncore.numpy.optim.clip_grad_norm`.
"""

from __future__ import annotations

import numpy as np

from rnncore.grading import inputs, judge, mistakes
from rnncore.grading.student_run import run_student
from rnncore.numpy import gradcheck, optim

__all__ = ["check_numerical_gradient", "check_gradient_check", "check_clip_grad_norm"]

# A finite difference with eps = 1e-6 differs from the exact derivative by about 1e-9
# (roundoff) or eps**2 (truncation); a one-sided one by about eps, which these tolerances
# accept: the "centred" case, with eps = 1e-3, is the one that tells the two apart.
_AGAINST_DERIVATIVE = judge.Tolerance(rtol=1e-4, atol=1e-5)
# The student's centred difference against the course's, with the same eps: equal to roundoff.
_AGAINST_CENTRED = judge.Tolerance(rtol=1e-6, atol=1e-9)


@judge.student_facing
def check_numerical_gradient(numerical_gradient, cases="visible", seed=None) -> None:
    """Check a student's ``numerical_gradient(f, x, dout, eps=1e-6)``.

    It must return the gradient of ``sum(f(x) * dout)`` with respect to ``x`` by centred
    differences, an array of the shape of ``x``, and leave ``x`` unchanged.

    Parameters
    ----------
    numerical_gradient : callable
        The student's function.
    cases : {"shapes", "visible", "centred", "hidden", "no_mutation"}
        Which case set to run (see :mod:`rnncore.grading.inputs`).
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in inputs.numerical_gradient_cases(cases, seed):  # step 1
        watched = ["x", "dout"]
        run = run_student(numerical_gradient, case.arrays, (gradcheck,), watched)  # step 2
        _judge_numerical_gradient(case, run)  # step 3


def _judge_numerical_gradient(case, run) -> None:
    """Step 3: judge one run of the student's numerical_gradient."""
    name = "numerical_gradient"
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(name, case, run.modified)
    x, dout = case.arrays["x"], case.arrays["dout"]
    judge.judge_like(name, case, "the gradient", run.result, "x", x)
    if case.judge != "values":
        return
    test_function = case.extra["function"]
    if case.extra["against"] == "centred":
        eps = case.extra["eps"]
        expected = gradcheck.numerical_gradient(test_function.f, x, dout, eps)
        tolerance = _AGAINST_CENTRED
        against = f"the centred difference with eps = {eps:g}"
    else:
        expected = test_function.derivative(x, dout)
        tolerance = _AGAINST_DERIVATIVE
        against = f"the exact derivative of {test_function.name}"
    outputs, expected = {"grad": run.result}, {"grad": expected}
    wrong = judge.wrong_outputs(outputs, expected, tolerance)
    if wrong:
        found = mistakes.recognise(
            mistakes.NUMERICAL_GRADIENT_MISTAKES,
            case.arrays,
            case.extra,
            outputs,
            expected,
            tolerance,
        )
        judge.fail(name, case, judge.values_message(wrong, ["grad"], found, "", against))


# The gradient check is the numerical gradient; both names read naturally in a notebook.
check_gradient_check = check_numerical_gradient


def _flatten(result: dict | None) -> dict | None:
    """``{"clipped": {"dWx": a}, "total_norm": n}`` -> ``{"clipped['dWx']": a, "total_norm": n}``.

    One name per array, so that the judge can say which array is wrong.
    """
    if result is None:
        return None
    flat = {}
    for key, value in result.items():
        if isinstance(value, dict):
            flat.update({f"{key}[{name!r}]": array for name, array in value.items()})
        else:
            flat[key] = np.asarray(value)
    return flat


_CLIP_MISTAKES = tuple(
    mistake._replace(predict=lambda arrays, extra, m=mistake: _flatten(m.predict(arrays, extra)))
    for mistake in mistakes.CLIP_GRAD_NORM_MISTAKES
)


def _judge_clip_result(name, case, result, grads) -> dict:
    """Fail unless ``result`` is ``(dict with the keys of grads, a number)``; flatten it."""
    parts = judge.unpack(name, case, result, ("clipped", "total_norm"))
    clipped, total_norm = parts["clipped"], parts["total_norm"]
    if not isinstance(clipped, dict):
        judge.fail(name, case, f"clipped must be a dict like grads, got {type(clipped).__name__}.")
    if set(clipped) != set(grads):
        judge.fail(
            name,
            case,
            f"clipped must have the keys of grads, {sorted(grads)}, got {sorted(clipped)}.",
        )
    for key, gradient in grads.items():
        judge.judge_like(
            name,
            case,
            f"clipped[{key!r}]",
            clipped[key],
            f"grads[{key!r}]",
            gradient,
            " When every gradient is zero the norm is zero: return the gradients unchanged "
            "instead of dividing by it.",
        )
    if np.ndim(total_norm) != 0 or not np.isreal(total_norm):
        judge.fail(name, case, f"total_norm must be a number, got {total_norm!r}.")
    if not np.isfinite(float(total_norm)):
        judge.fail(name, case, f"total_norm must be finite, got {float(total_norm)}.")
    return _flatten({"clipped": {key: clipped[key] for key in grads}, "total_norm": total_norm})


@judge.student_facing
def check_clip_grad_norm(clip_grad_norm, cases="visible", seed=None) -> None:
    """Check a student's ``clip_grad_norm(grads, max_norm) -> (clipped, total_norm)``.

    ``clipped`` holds new arrays scaled by ``max_norm / total_norm`` when the global L2 norm
    ``total_norm`` (over all arrays together) exceeds ``max_norm``, and copies otherwise;
    ``grads`` is left unchanged.

    Parameters
    ----------
    clip_grad_norm : callable
        The student's function.
    cases : {"shapes", "visible", "small_norm", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in inputs.clip_grad_norm_cases(cases, seed):  # step 1
        run = run_student(clip_grad_norm, case.arrays, (optim,))  # step 2
        _judge_clip(case, run)  # step 3


def _judge_clip(case, run) -> None:
    """Step 3: judge one run of the student's clip_grad_norm."""
    name = "clip_grad_norm"
    grads = case.arrays["grads"]
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(name, case, run.modified)
    outputs = _judge_clip_result(name, case, run.result, grads)
    if case.judge != "values":
        return
    clipped, total_norm = optim.clip_grad_norm(**case.arrays)
    expected = _flatten({"clipped": clipped, "total_norm": total_norm})
    dtypes = [g.dtype for g in grads.values()] + [o.dtype for o in outputs.values()]
    tolerance = judge.tolerance_for(*dtypes)
    wrong = judge.wrong_outputs(outputs, expected, tolerance)
    if wrong:
        found = mistakes.recognise(
            _CLIP_MISTAKES, case.arrays, case.extra, outputs, expected, tolerance
        )
        message = judge.values_message(wrong, list(expected), found, "", "the reference")
        judge.fail(name, case, message)
