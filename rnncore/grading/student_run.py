"""Step 2 of a check: run the student's function, and record everything the judge needs.

The student's function receives *copies* of the inputs, so that the reference and later cases
never see a modification; the originals are compared with the copies afterwards to tell
whether the function modified its arguments.

Calls to the reference are detected with a profiler hook (:func:`sys.setprofile`) that is
active only while the student's function runs: the hook compares the code object of every
Python function that starts with the code objects of the forbidden rnncore modules. Unlike
replacing module attributes with spies, this also catches a reference imported earlier under
another name (``from rnncore.numpy.rnn import rnn_forward as helper``), because an alias shares
the code object. It costs nothing outside the student's call and chains any profiler already
installed.
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

__all__ = ["StudentRun", "run_student", "reference_code_objects", "watch_reference_calls"]


class StudentRun(NamedTuple):
    """What happened when the student's function ran on one case."""

    result: Any  # what the function returned (None if it raised)
    error: BaseException | None  # the exception it raised, if any
    modified: tuple  # names of the arguments it modified in place
    reference_calls: tuple  # qualified names of forbidden reference functions it called


def reference_code_objects(modules: Iterable[ModuleType]) -> dict:
    """Map the code object of every function and method defined in ``modules`` to its name.

    For a package, functions it imports from its own submodules count too (``rnncore.numpy.gru``
    re-exports those of ``rnncore.numpy.gru.reset_before``); what a module imports from
    elsewhere (NumPy, a shared helper) does not.
    """
    codes = {}
    for module in modules:
        for name, value in vars(module).items():
            defined_in = getattr(value, "__module__", None) or ""
            if defined_in != module.__name__ and not defined_in.startswith(module.__name__ + "."):
                continue
            if inspect.isfunction(value):
                codes[value.__code__] = f"{module.__name__}.{name}"
            elif inspect.isclass(value):
                for method_name, method in vars(value).items():
                    if inspect.isfunction(method):
                        codes[method.__code__] = f"{module.__name__}.{name}.{method_name}"
    return codes


@contextmanager
def watch_reference_calls(modules: Iterable[ModuleType]):
    """Collect, in a list, the names of the functions of ``modules`` called inside the block."""
    codes = reference_code_objects(modules)
    calls: list[str] = []
    previous = sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call":
            name = codes.get(frame.f_code)
            if name is not None and name not in calls:
                calls.append(name)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(profiler)
    try:
        yield calls
    finally:
        sys.setprofile(previous)


def _snapshot(value):
    # Deep copies keep dicts of arrays (clip_grad_norm's grads) and NamedTuple caches intact.
    return copy.deepcopy(value)


def _same(before, after) -> bool:
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and before.dtype == after.dtype
            and np.array_equal(before, after, equal_nan=True)
        )
    if isinstance(before, dict):
        return (
            isinstance(after, dict)
            and before.keys() == after.keys()
            and all(_same(before[key], after[key]) for key in before)
        )
    if isinstance(before, tuple | list):
        return (
            type(before) is type(after)
            and len(before) == len(after)
            and all(_same(b, a) for b, a in zip(before, after, strict=True))
        )
    if callable(before):
        return True
    return bool(np.all(before == after))


def run_student(
    function: Callable,
    arguments: dict,
    forbidden: Iterable[ModuleType] = (),
    watched: Iterable[str] | None = None,
) -> StudentRun:
    """Call ``function(*arguments.values())`` on copies of the arguments.

    The arguments are passed by position, in the order of the assignment's signature, so
    that a student who renamed a parameter (``prev_h`` for ``h_prev``) is still graded.

    Parameters
    ----------
    function : callable
        The student's function.
    arguments : dict
        Keyword arguments; they are copied, and the copies are what the function receives.
    forbidden : iterable of modules
        Reference modules the student must not call (detected with :func:`watch_reference_calls`).
    watched : iterable of str, optional
        Names of the arguments to check for modification; default all of them.

    Returns
    -------
    StudentRun
    """
    given = {name: _snapshot(value) for name, value in arguments.items()}
    originals = {name: _snapshot(value) for name, value in arguments.items()}
    result, error = None, None
    with watch_reference_calls(forbidden) as calls:
        try:
            result = function(*given.values())
        except Exception as exception:  # the student's bug, reported by the judge
            error = exception
    names = arguments.keys() if watched is None else watched
    modified = tuple(name for name in names if not _same(originals[name], given[name]))
    return StudentRun(result, error, modified, tuple(calls))
