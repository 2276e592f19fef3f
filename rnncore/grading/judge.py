"""Step 3 of a check: judge what the student's function did, and say what is wrong.

Judging is pure: every function here takes arrays, names and shapes (never the student's
function), so that it can run outside the student's kernel, on outputs sent to a trusted
process. A failed judgement raises :class:`AssertionError` with a message in the student's
terms: the output at fault, shapes in letters and numbers, and, when known, the mistake by name.

Tolerances depend on the least precise dtype involved (the inputs' or the student's output's):
an honest float32 implementation passes float64 cases with float32 tolerances.
"""

from __future__ import annotations

import functools
import importlib.util
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnncore.shapes import format_shape

__all__ = [
    "Tolerance",
    "Mismatch",
    "tolerance_for",
    "compare",
    "describe_mismatch",
    "expected_shape",
    "shape_message",
    "fail",
    "student_facing",
    "judge_reference_calls",
    "judge_error",
    "judge_modified",
    "unpack",
    "judge_array",
    "judge_like",
    "wrong_outputs",
    "relation",
    "relations",
    "values_message",
]


class Tolerance(NamedTuple):
    """Close means ``|actual - expected| <= atol * scale + rtol * |expected|``.

    ``scale = max(1, max|expected|)``, so that ``atol`` is relative to the array's size.
    """

    rtol: float
    atol: float


# By the machine epsilon of the least precise dtype: float64, float32, float16.
_TOLERANCES = ((1e-12, Tolerance(1e-6, 1e-8)), (1e-6, Tolerance(1e-4, 1e-5)))
_LOOSEST = Tolerance(1e-2, 1e-2)


def tolerance_for(*dtypes) -> Tolerance:
    """The tolerance for comparing arrays of the given dtypes (non-float dtypes are ignored)."""
    epsilons = [np.finfo(dtype).eps for dtype in dtypes if np.issubdtype(dtype, np.floating)]
    epsilon = max(epsilons, default=np.finfo(np.float64).eps)
    for limit, tolerance in _TOLERANCES:
        if epsilon <= limit:
            return tolerance
    return _LOOSEST


class Mismatch(NamedTuple):
    """Where an array differs from the expected one."""

    wrong: int  # number of entries outside the tolerance
    size: int
    index: tuple  # index of the largest difference
    actual: float
    expected: float


def compare(actual, expected, tolerance: Tolerance) -> Mismatch | None:
    """None if ``actual`` is close to ``expected`` (same shape assumed), else a Mismatch."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    difference = np.abs(actual - expected)  # NaN where either is NaN
    allowed = tolerance.atol * scale + tolerance.rtol * np.abs(expected)
    bad = ~(difference <= allowed)  # NaN counts as bad
    if not bad.any():
        return None
    worst = np.where(np.isnan(difference), np.inf, difference)
    index = np.unravel_index(int(np.argmax(worst)), actual.shape) if actual.ndim else ()
    return Mismatch(
        int(bad.sum()),
        int(bad.size),
        tuple(int(i) for i in index),
        float(actual[index]),
        float(expected[index]),
    )


def describe_mismatch(name: str, mismatch: Mismatch) -> str:
    """``12 of 16 entries of dWh differ; the largest difference is at dWh[0, 2]: ...``."""
    where = f"{name}[{', '.join(str(i) for i in mismatch.index)}]" if mismatch.index else name
    return (
        f"{mismatch.wrong} of {mismatch.size} entries of {name} differ; the largest "
        f"difference is at {where}: got {mismatch.actual:.6g}, expected {mismatch.expected:.6g}"
    )


def _join(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _letters(spec: str) -> list[str]:
    return [term.strip() for term in spec.split(",") if term.strip()]


def expected_shape(spec: str, dims: dict) -> tuple:
    """``expected_shape("B, T, H", {"B": 3, "T": 4, "H": 6}) == (3, 4, 6)``; ``"4H"`` works too."""
    shape = []
    for term in _letters(spec):
        digits = term.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        letter = term[len(digits) :]
        factor = int(digits) if digits else 1
        shape.append(factor * dims[letter] if letter else factor)
    return tuple(shape)


def _spec_text(spec: str) -> str:
    letters = _letters(spec)
    return "(" + ", ".join(letters) + (",)" if len(letters) == 1 else ")")


def _shape_hint(actual: tuple, expected: tuple, spec: str) -> str:
    """A likely cause for the common wrong shapes, or an empty string."""
    letters = _letters(spec)
    if len(actual) == len(expected) == 2 and actual == expected[::-1]:
        return " It looks transposed."
    if len(expected) == 3 and letters[:2] == ["B", "T"]:
        if actual == (expected[1], expected[0], expected[2]):
            return " It looks time-major (T, B, ...): the course is batch-first, (B, T, ...)."
        if actual == (expected[0], expected[2]):
            return " It looks like one time step only: return every time step."
    if len(expected) == 1 and len(actual) >= 2 and actual[-1] == expected[0]:
        return " Sum over the batch (and time) axes: a bias gradient has one entry per unit."
    return ""


def shape_message(name: str, actual: Sequence[int], spec: str, dims: dict) -> str:
    """``h_next has shape (4, 3), expected (B, H) = (3, 4).`` with a hint when one applies."""
    expected = expected_shape(spec, dims)
    actual = tuple(int(n) for n in actual)
    return (
        f"{name} has shape {format_shape(actual)}, expected {_spec_text(spec)} = "
        f"{format_shape(expected)}.{_shape_hint(actual, expected, spec)}"
    )


def fail(function_name: str, case, message: str):
    """Raise the AssertionError a student reads: the function, the problem, then the case."""
    replay = f"seed={case.seed}"
    raise AssertionError(
        f"{function_name}: {message}\n    [on {case.describe()}; rerun the check with {replay} "
        "to get the same inputs]"
    )


def student_facing(check):
    """Decorate a public check so that a failure shows the message, not the checks' insides.

    The AssertionError is raised again from the check itself, without the chain of internal
    frames, so that the notebook's traceback is a few lines long and ends with the message.
    """

    @functools.wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except AssertionError as failure:
            message = str(failure)
        raise AssertionError(message) from None

    return checked


def _torch_folder() -> tuple[str, ...]:
    # Found without importing torch, so that the NumPy checks still start quickly; torch's
    # own frames are then skipped like NumPy's when naming the student's line.
    spec = importlib.util.find_spec("torch")
    return (str(Path(spec.origin).resolve().parent),) if spec and spec.origin else ()


_LIBRARY_FOLDERS = (
    str(Path(np.__file__).resolve().parent),
    str(Path(__file__).resolve().parents[1]),  # rnncore
    *_torch_folder(),
)


def _student_line(error: BaseException) -> str:
    """`` (your line 7: `h = x @ Wh`)``: the last line of the student's code in the traceback."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [
        frame
        for frame in frames
        if not str(Path(frame.filename).resolve()).startswith(_LIBRARY_FOLDERS)
    ]
    if not own or not own[-1].line:
        return ""
    frame = own[-1]
    return f" (in {frame.name}, at the line `{frame.line.strip()}`)"


def judge_reference_calls(function_name: str, case, calls: Iterable[str]) -> None:
    """Fail if the student's function called the reference it is meant to re-derive."""
    calls = list(calls)
    if calls:
        fail(
            function_name,
            case,
            f"it calls the course's reference ({', '.join(calls)}) instead of computing the "
            "result itself. Write the computation with NumPy: the reference is what your "
            "code is graded against, not part of the answer.",
        )


def judge_error(function_name: str, case, error: BaseException | None, hint: str = "") -> None:
    """Fail if the student's function raised; say what was raised and, if known, why."""
    if error is None:
        return
    if isinstance(error, NotImplementedError):
        message = "it is not written yet (it raises NotImplementedError): replace "
        message += "`raise NotImplementedError()` with your code."
    else:
        message = f"it raised {type(error).__name__}: {error}{_student_line(error)}."
    fail(function_name, case, message + (" " + hint if hint else ""))


def judge_modified(function_name: str, case, modified: Iterable[str]) -> None:
    """Fail if the student's function modified any of its arguments in place."""
    modified = list(modified)
    if modified:
        fail(
            function_name,
            case,
            f"it modifies its argument{'s' if len(modified) > 1 else ''} {_join(modified)} in "
            "place. Leave the inputs as they were: the caller still needs them. Compute new "
            "arrays (c = a + b, not a += b or a[:] = ...), or work on a copy.",
        )


def unpack(function_name: str, case, result, names: Sequence[str]) -> dict:
    """Split a returned tuple into named outputs; fail if its structure is wrong."""
    expected = "(" + ", ".join(names) + ")"
    if not isinstance(result, tuple | list):
        fail(
            function_name,
            case,
            f"it must return a tuple {expected}, got {type(result).__name__}"
            + (". Did you forget the return statement?" if result is None else "."),
        )
    if len(result) != len(names):
        fail(
            function_name,
            case,
            f"it must return {len(names)} values {expected}, got {len(result)}.",
        )
    return dict(zip(names, result, strict=True))


def judge_array(
    function_name: str, case, name: str, value, spec: str, dims: dict, nan_hint: str = ""
) -> None:
    """Fail unless ``value`` is a finite floating-point ndarray of shape ``spec``.

    ``spec`` is a shape in letters (``"B, T, H"``) whose sizes are in ``dims``.
    """
    if not isinstance(value, np.ndarray):
        fail(function_name, case, f"{name} must be a NumPy array, got {type(value).__name__}.")
    if not np.issubdtype(value.dtype, np.floating):
        fail(function_name, case, f"{name} must hold floats, got dtype {value.dtype}.")
    if tuple(value.shape) != expected_shape(spec, dims):
        fail(function_name, case, shape_message(name, value.shape, spec, dims))
    if not np.all(np.isfinite(value)):
        fail(function_name, case, f"{name} contains NaN or infinite values.{nan_hint}")


def judge_like(
    function_name: str, case, name: str, value, like_name: str, like, nan_hint: str = ""
) -> None:
    """Fail unless ``value`` is a finite float ndarray with the shape of ``like`` (its input)."""
    if not isinstance(value, np.ndarray):
        fail(function_name, case, f"{name} must be a NumPy array, got {type(value).__name__}.")
    if not np.issubdtype(value.dtype, np.floating):
        fail(function_name, case, f"{name} must hold floats, got dtype {value.dtype}.")
    if value.shape != np.shape(like):
        fail(
            function_name,
            case,
            f"{name} has shape {format_shape(value.shape)}, expected the shape of {like_name}, "
            f"{format_shape(np.shape(like))}.",
        )
    if not np.all(np.isfinite(value)):
        fail(function_name, case, f"{name} contains NaN or infinite values.{nan_hint}")


def wrong_outputs(outputs: dict, expected: dict, tolerance: Tolerance) -> dict:
    """``{name: Mismatch}`` for each output that is not close to the expected one."""
    wrong = {}
    for name, value in expected.items():
        mismatch = compare(outputs[name], value, tolerance)
        if mismatch is not None:
            wrong[name] = mismatch
    return wrong


# The gates stacked along the last axis of an LSTM's (G = 4) and a GRU's (G = 3) arrays.
GATE_NAMES = {
    4: ("i (input gate)", "f (forget gate)", "g (candidate)", "o (output gate)"),
    3: ("r (reset gate)", "z (update gate)", "n (candidate)"),
}
_SIZES = {"B": "the batch size B", "T": "the number of steps T", "BT": "B·T"}


def _scale_words(factor: float, dims: dict) -> str:
    """``"divided by B = 3: averaged over the batch where a sum is expected?"`` and the like."""
    named = {letter: dims[letter] for letter in ("B", "T") if letter in dims}
    if "B" in named and "T" in named:
        named["BT"] = named["B"] * named["T"]
    for inverse, verb in ((True, "divided"), (False, "multiplied")):
        n = 1.0 / factor if inverse else factor
        rounded = round(n)
        if rounded >= 2 and abs(n - rounded) <= 1e-6 * rounded:
            for letter, size in named.items():
                if size == rounded and size > 1:
                    why = (
                        "averaged where a sum is expected?"
                        if inverse
                        else "summed where a mean is expected?"
                    )
                    return f"{verb} by {_SIZES[letter]} = {size}: {why}"
            return f"{verb} by {rounded}"
    return f"multiplied by {factor:.4g}"


def _gate_blocks(actual, expected, tolerance: Tolerance, letters: str, dims: dict) -> str:
    """Which gate blocks of an array stacked along its last axis differ, or a swap of two."""
    last = _letters(letters)[-1] if letters else ""
    digits = last.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if last[len(digits) :] != "H" or not digits or int(digits) not in GATE_NAMES:
        return ""
    G, H = int(digits), dims.get("H")
    if not H or actual.shape[-1] != G * H:
        return ""
    blocks = lambda a: [a[..., k * H : (k + 1) * H] for k in range(G)]  # noqa: E731
    got, want = blocks(actual), blocks(expected)
    names = GATE_NAMES[G]
    bad = [k for k in range(G) if compare(got[k], want[k], tolerance) is not None]
    if len(bad) == 2:
        j, k = bad
        if (
            compare(got[j], want[k], tolerance) is None
            and compare(got[k], want[j], tolerance) is None
        ):
            return f"its blocks of {names[j]} and {names[k]} are swapped"
    if 0 < len(bad) < G:
        where = _join([f"{names[k]} ([..., {k}H:{k + 1}H])".replace("0H", "0") for k in bad])
        return f"only the columns of {where} differ; the other gates are right"
    return ""


def _time_steps(actual, expected, tolerance: Tolerance, letters: str) -> str:
    """For (B, T, ...) arrays: whether only the last step, or only the first, is right."""
    if not letters or _letters(letters)[:2] != ["B", "T"] or actual.ndim < 2:
        return ""
    T = actual.shape[1]
    if T < 2:
        return ""
    right = [compare(actual[:, t], expected[:, t], tolerance) is None for t in range(T)]
    if right[-1] and not any(right[:-1]):
        return (
            "only its last time step is right: the gradient does not reach the earlier steps "
            "(is the gradient carried back through the state, step after step?)"
        )
    if right[0] and not any(right[1:]):
        return "only its first time step is right"
    return ""


def relation(
    actual, expected, tolerance: Tolerance, letters: str = "", dims: dict | None = None
) -> str:
    """What a wrong array is, relative to the expected one, when a simple relation holds.

    Tried in turn: all zeros; a scalar multiple (the opposite sign, a factor 1/B, 1/T or
    1/(B·T) or their inverses, named with the sizes in ``dims``); the transpose; which gate
    blocks differ (``letters`` ending in ``3H`` or ``4H``, with ``dims["H"]``), or two swapped;
    for (B, T, ...) arrays, only the last (or first) time step right. Pure: arrays in, words
    out, for the messages of :func:`values_message`.

    Returns
    -------
    words : str
        A clause such as ``"it has the opposite sign"``, or ``""`` when no relation holds.
    """
    dims = dims or {}
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return ""
    if not np.any(expected):
        return ""
    if compare(actual, np.zeros_like(actual), tolerance) is None:
        return "it is all zeros"
    factor = float(np.sum(actual * expected) / np.sum(expected * expected))
    if abs(factor - 1.0) > 1e-3 and compare(actual, factor * expected, tolerance) is None:
        if abs(factor + 1.0) <= 1e-3:
            return "it is the expected value with the opposite sign (a sign error)"
        return "it is the expected value " + _scale_words(factor, dims)
    if (
        actual.ndim == 2
        and actual.shape[0] == actual.shape[1]
        and compare(actual, expected.T, tolerance) is None
    ):
        return "it is the transpose of the expected value"
    return _gate_blocks(actual, expected, tolerance, letters, dims) or _time_steps(
        actual, expected, tolerance, letters
    )


def relations(
    outputs: dict,
    expected: dict,
    wrong: dict,
    tolerance: Tolerance,
    letters: dict | None = None,
    dims: dict | None = None,
) -> dict:
    """``{name: clause}`` of :func:`relation` for each wrong output where one holds."""
    letters = letters or {}
    found = {}
    for name in wrong:
        words = relation(outputs[name], expected[name], tolerance, letters.get(name, ""), dims)
        if words:
            found[name] = words
    return found


def values_message(
    wrong: dict,
    all_names: Sequence[str],
    mistakes: Sequence = (),
    fault: str = "",
    against: str = "the reference",
    related: dict | None = None,
) -> str:
    """The message for wrong values: which outputs, where, and the mistake or term at fault.

    ``related`` (from :func:`relations`) adds, when no known mistake matched, what each wrong
    output is relative to the expected one ("dWh: it has the opposite sign ...").
    """
    names = list(wrong)
    right = [name for name in all_names if name not in wrong]
    verb = "is" if len(names) == 1 else "are"
    message = f"{_join(names)} {verb} wrong (compared with {against})"
    if right:
        message += f"; {_join(right)} {'is' if len(right) == 1 else 'are'} right"
    message += ". " + describe_mismatch(names[0], wrong[names[0]]) + "."
    for mistake in mistakes:
        message += f"\n    Known mistake: {mistake.name}. {mistake.explanation}"
    if not mistakes:
        for name, words in (related or {}).items():
            message += f"\n    {name}: {words}."
    if fault and not mistakes:
        message += f"\n    {fault}"
    return message
