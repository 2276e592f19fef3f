"""Checks for the CTC exercise (a07): the loss, its gradient and greedy decoding, in NumPy.

Each check is called from an nbgrader test cell with the student's function::

    check_extend_with_blanks(extend_with_blanks)
    check_ctc_forward(ctc_forward, cases="long")          # T = 500: log space or underflow
    check_ctc_backward(ctc_backward, cases="torch")       # dlogits against torch.nn.CTCLoss
    check_ctc_greedy_decode(ctc_greedy_decode, cases="hidden")

and runs the three steps of :mod:`rnncore.grading` for every case: draw the inputs (random
logits, labels with and without equal neighbours, the blank at 0, in the middle or last, T at
its minimum L + repeats), run the student's function on copies
(:func:`~rnncore.grading.student_run.run_student`), and judge the result against
:mod:`rnncore.numpy.ctc`, ``torch.nn.CTCLoss`` (``reduction="sum"``, float64) or centred finite
differences of the loss, computed at grading time. The known mistakes are in
:mod:`~rnncore.grading.ctc_mistakes`.

``ctc_backward`` receives the reference's ``log_alphas``, so that its grade does not depend on
the student's ``ctc_forward``. Log arrays hold ``-inf`` (log 0) for unreachable states; a value
below -1e30 counts as log 0 too. Comparisons replace -inf by a finite stand-in far from every
real value (and +inf likewise), so that the judge's tolerances and the catalogue of mistakes
work on them unchanged; messages show -inf again.

Letters: T frames, V symbols (the blank included), L labels, S = 2L + 1.
"""

from __future__ import annotations

import sys

import numpy as np

from rnncore.grading import ctc_mistakes, judge, mistakes
from rnncore.grading.inputs import Case, case_rng, new_seed
from rnncore.grading.judge import Tolerance
from rnncore.grading.student_run import run_student
from rnncore.numpy import ctc as reference_ctc
from rnncore.numpy import gradcheck
from rnncore.numpy.layers import log_softmax
from rnncore.shapes import format_shape

__all__ = [
    "ctc_cases",
    "extend_cases",
    "decode_cases",
    "check_extend_with_blanks",
    "check_ctc_forward",
    "check_ctc_backward",
    "check_ctc_greedy_decode",
]


def _forbidden() -> tuple:
    """The references the student re-derives; torch's CTC decoder only if already imported."""
    modules = [reference_ctc]
    decode = sys.modules.get("rnncore.torch.decode")  # importing it would import torch
    if decode is not None:
        modules.append(decode)
    return tuple(modules)


def _unknown(function_name, cases, known) -> ValueError:
    names = ", ".join(repr(name) for name in known)
    return ValueError(f"{function_name} has no case set {cases!r}; choose one of {names}")


# --- step 1: draw the inputs ---------------------------------------------------------------


def draw_labels(rng, kind: str, L: int, V: int, blank: int) -> np.ndarray:
    """(L,) int64 labels: "distinct" (no equal neighbours), "repeat" (at least one pair of
    equal neighbours when L >= 2) or "same" (one label L times)."""
    symbols = [k for k in range(V) if k != blank]
    if kind == "same":
        return np.full(L, rng.choice(symbols), dtype=np.int64)
    labels = [int(rng.choice(symbols))]
    for _ in range(1, L):
        choices = [k for k in symbols if k != labels[-1]] if kind == "distinct" else symbols
        labels.append(int(rng.choice(choices)))
    if kind == "repeat" and L >= 2 and minimum_frames(np.array(labels)) == L:
        where = int(rng.integers(1, L))
        labels[where] = labels[where - 1]
    return np.array(labels, dtype=np.int64)


def minimum_frames(labels) -> int:
    """L + the number of equal neighbours: the fewest frames that can emit ``labels``."""
    return int(len(labels) + np.sum(labels[1:] == labels[:-1]))


# (name, T, V, kind of labels, L, blank); T = "min" is L + repeats, the least feasible.
_CTC_SHAPES = {
    "shapes": [("T=9, V=5, L=3", 9, 5, "repeat", 3, 0)],
    "visible": [
        ("a repeated label", 10, 5, "repeat", 4, 0),
        ("no repeated label", 8, 6, "distinct", 3, 0),
    ],
    "hidden": [
        ("L = 1", 6, 4, "distinct", 1, 0),
        ("T = 1, L = 1", 1, 3, "distinct", 1, 0),
        ("minimum T = L + repeats", "min", 4, "repeat", 5, 0),
        ("every label the same", "min", 3, "same", 3, 0),
        ("blank is the last symbol", 11, 5, "repeat", 4, 4),
        ("blank in the middle", 9, 6, "repeat", 3, 2),
    ],
    "long": [("T = 500", 500, 8, "repeat", 40, 0)],
    "torch": [
        ("torch.nn.CTCLoss", 12, 6, "repeat", 4, 0),
        ("torch.nn.CTCLoss, minimum T", "min", 5, "repeat", 4, 0),
        ("torch.nn.CTCLoss, L = 1, blank last", 5, 4, "distinct", 1, 3),
    ],
    "gradient_check": [
        ("finite differences", 7, 4, "repeat", 3, 0),
        ("finite differences, minimum T", "min", 4, "repeat", 3, 1),
    ],
    "no_mutation": [("no mutation", 6, 4, "repeat", 3, 0)],
}


def ctc_cases(function: str, cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``ctc_forward`` and ``ctc_backward``.

    ``arrays`` holds ``log_probs`` (T, V), ``labels`` (L,) and ``blank``, and for
    ``ctc_backward`` the reference's ``log_alphas`` (T, S); ``extra["logits"]`` (T, V) are the
    logits whose log-softmax is ``log_probs``.
    """
    known = [c for c in _CTC_SHAPES if function == "ctc_backward" or c != "gradient_check"]
    if cases not in known:
        raise _unknown(function, cases, known)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, T, V, kind, L, blank) in enumerate(_CTC_SHAPES[cases]):
        rng = case_rng(seed, index)
        labels = draw_labels(rng, kind, L, V, blank)  # (L,)
        T = minimum_frames(labels) if T == "min" else T
        # Scaled so that the frames disagree clearly: a wrong recursion moves the loss by
        # far more than any tolerance.
        logits = 2.0 * rng.standard_normal((T, V))  # (T, V)
        if cases == "long":
            # The last frame leans to the blank, so that the paths ending on the trailing
            # blank carry a clear share of p even after 500 frames: a final sum that leaves
            # them out is then caught on every draw, not on most.
            logits[-1, blank] = logits[-1].max() + 4.0
        arrays = {"log_probs": log_softmax(logits), "labels": labels, "blank": blank}
        if function == "ctc_backward":
            arrays["log_alphas"] = reference_ctc.ctc_forward(**arrays)[1]  # (T, S)
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"T": T, "V": V, "L": L, "S": 2 * L + 1}
        drawn.append(Case(name, arrays, dims, judged, seed, {"logits": logits, "set": cases}))
    return drawn


# (name, kind of labels, L, V, blank)
_EXTEND_SHAPES = {
    "visible": [("labels with a repeat", "repeat", 4, 5, 0)],
    "hidden": [
        ("L = 1", "distinct", 1, 4, 0),
        ("blank is the last symbol", "repeat", 5, 6, 5),
        ("blank in the middle", "distinct", 3, 5, 2),
        ("L = 30", "repeat", 30, 10, 0),
    ],
    "no_mutation": [("no mutation", "repeat", 4, 5, 0)],
}


def extend_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``extend_with_blanks(labels, blank)``."""
    if cases not in _EXTEND_SHAPES:
        raise _unknown("extend_with_blanks", cases, _EXTEND_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, kind, L, V, blank) in enumerate(_EXTEND_SHAPES[cases]):
        labels = draw_labels(case_rng(seed, index), kind, L, V, blank)  # (L,)
        judged = "no_mutation" if cases == "no_mutation" else "values"
        arrays = {"labels": labels, "blank": blank}
        drawn.append(Case(name, arrays, {"L": L, "V": V}, judged, seed, {}))
    return drawn


def draw_best_path(rng, kind: str, T: int, V: int, blank: int) -> np.ndarray:
    """(T,) a path to be read by greedy decoding.

    "designed": labels on 1 to 3 frames each, blanks between them (always between equal
    labels); it starts with a label on two frames, a blank and the same label again, so that
    merging repeats and removing blanks in either order both show; when the blank is not 0,
    that first label is 0, so that decoding with 0 taken for the blank shows too (otherwise
    it reads like not removing the blanks at all). "random": any symbols; "all blank";
    "no blank".
    """
    symbols = [k for k in range(V) if k != blank]
    if kind == "random":
        return rng.integers(0, V, size=T)
    if kind == "all blank":
        return np.full(T, blank)
    if kind == "no blank":
        return rng.choice(symbols, size=T)
    first = 0 if blank != 0 else int(rng.choice(symbols))
    path = [blank] * int(rng.integers(0, 2)) + [first, first, blank, first]
    while len(path) < T:
        label = int(rng.choice(symbols))
        if path and path[-1] != blank and rng.random() < 0.5:
            label = path[-1]  # an equal neighbour: a blank goes between them
            path.append(blank)
        path += [label] * int(rng.integers(1, 4)) + [blank] * int(rng.integers(0, 2))
    return np.array(path[:T])


# (name, kind of path, T, V, blank)
_DECODE_SHAPES = {
    "visible": [
        ("labels separated by blanks", "designed", 16, 5, 0),
        ("random scores", "random", 12, 4, 0),
    ],
    "hidden": [
        ("blank is the last symbol", "designed", 20, 6, 5),
        ("blank in the middle", "designed", 14, 5, 2),
        ("T = 1", "no blank", 1, 3, 0),
        ("every frame blank", "all blank", 6, 4, 0),
        ("no blank frame", "no blank", 8, 4, 1),
        ("T = 200", "random", 200, 7, 0),
    ],
    "no_mutation": [("no mutation", "designed", 10, 4, 0)],
}


def decode_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``ctc_greedy_decode(log_probs, blank)``; ``extra["path"]`` is the best path."""
    if cases not in _DECODE_SHAPES:
        raise _unknown("ctc_greedy_decode", cases, _DECODE_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, kind, T, V, blank) in enumerate(_DECODE_SHAPES[cases]):
        rng = case_rng(seed, index)
        path = draw_best_path(rng, kind, T, V, blank)  # (T,)
        logits = rng.standard_normal((T, V))  # (T, V)
        if kind != "random":
            logits[np.arange(T), path] += 4.0  # the path's symbols win every frame
        log_probs = log_softmax(logits)  # (T, V)
        path = np.argmax(log_probs, axis=1)  # (T,)
        judged = "no_mutation" if cases == "no_mutation" else "values"
        arrays = {"log_probs": log_probs, "blank": blank}
        drawn.append(Case(name, arrays, {"T": T, "V": V}, judged, seed, {"path": path}))
    return drawn


# --- log 0 and its stand-ins ---------------------------------------------------------------

LOG_ZERO = -1e30  # a value at or below it counts as log 0 (-inf)


def _stand_ins(expected) -> tuple[float, float]:
    """Finite values for -inf and +inf, far outside the expected array's finite values."""
    expected = np.asarray(expected, dtype=np.float64)
    finite = np.abs(expected[np.isfinite(expected)])
    span = max(1.0, float(finite.max(initial=0.0)))
    return -(2 * span + 10), 2 * span + 10


def _encode(value, stand_ins) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    low, high = stand_ins
    return np.where(value <= LOG_ZERO, low, np.where(value >= -LOG_ZERO, high, value))


def _decode(number: float, stand_ins) -> float:
    low, high = stand_ins
    return -np.inf if number == low else np.inf if number == high else number


def _encoded(predict, stand_ins: dict):
    """A mistake's prediction with the case's stand-ins for the infinities."""

    def predict_encoded(arrays, extra):
        predicted = predict(arrays, extra)
        if predicted is None:
            return None
        return {name: _encode(value, stand_ins[name]) for name, value in predicted.items()}

    return predict_encoded


def _judge_values(name, case, outputs, expected, catalogue, against, tolerance, fault=""):
    """Fail, naming the known mistakes that match, unless ``outputs`` equal ``expected``.

    Like :func:`rnncore.grading.cell_checks.judge_values`, on arrays that may hold -inf.
    """
    stand_ins = {output: _stand_ins(value) for output, value in expected.items()}
    encoded = {output: _encode(value, stand_ins[output]) for output, value in outputs.items()}
    wanted = {output: _encode(value, stand_ins[output]) for output, value in expected.items()}
    wrong = judge.wrong_outputs(encoded, wanted, tolerance)
    if not wrong:
        return
    catalogue = tuple(m._replace(predict=_encoded(m.predict, stand_ins)) for m in catalogue)
    found = mistakes.recognise(catalogue, case.arrays, case.extra, encoded, wanted, tolerance)
    shown = {
        output: mismatch._replace(
            actual=_decode(mismatch.actual, stand_ins[output]),
            expected=_decode(mismatch.expected, stand_ins[output]),
        )
        for output, mismatch in wrong.items()
    }
    judge.fail(name, case, judge.values_message(shown, list(outputs), found, fault, against))


# --- step 3: structure ---------------------------------------------------------------------

_NAN_HINT = (
    " A log-sum-exp of terms that are all -inf gives NaN when it is written "
    "m + log(sum(exp(a - m))) with m = -inf, since -inf - (-inf) is NaN: use np.logaddexp, "
    "which handles -inf, or return -inf when m is -inf."
)


def _known(mistake) -> str:
    return f"\n    Known mistake: {mistake.name}. {mistake.explanation}"


def _judge_run(name, case, run) -> None:
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(name, case, run.modified)


def _judge_number(name, case, output, value) -> np.float64:
    """A real number (Python or NumPy scalar, or a 0-d array), returned as float64."""
    if isinstance(value, np.ndarray):
        if value.ndim > 0:
            shape = format_shape(value.shape)
            judge.fail(
                name,
                case,
                f"{output} must be a number, got an array of shape {shape}. Return a scalar, "
                "for example float(...).",
            )
        value = value[()]  # the 0-d array's scalar
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        judge.fail(name, case, f"{output} must be a number, got {type(value).__name__}.")
    number = np.float64(value)
    if np.isnan(number):
        hint = _NAN_HINT
        if case.extra.get("set") == "long":
            hint = _known(mistakes.Mistake(*ctc_mistakes.UNDERFLOW, None))
        judge.fail(name, case, f"{output} is NaN.{hint}")
    return number


def _judge_log_array(name, case, output, value, spec, shape_mistakes=None) -> None:
    """A float ndarray of shape ``spec`` holding log values: -inf allowed, NaN and +inf not."""
    if not isinstance(value, np.ndarray):
        judge.fail(name, case, f"{output} must be a NumPy array, got {type(value).__name__}.")
    if not np.issubdtype(value.dtype, np.floating):
        judge.fail(name, case, f"{output} must hold floats, got dtype {value.dtype}.")
    if tuple(value.shape) != judge.expected_shape(spec, case.dims):
        message = judge.shape_message(output, value.shape, spec, case.dims)
        message += " (S = 2L + 1 states: the labels with blanks.)" if "S" in spec else ""
        mistake = (shape_mistakes or {}).get(tuple(value.shape))
        judge.fail(name, case, message + (_known(mistake) if mistake else ""))
    if np.any(np.isnan(value)):
        judge.fail(name, case, f"{output} contains NaN.{_NAN_HINT}")
    if np.any(value == np.inf):
        judge.fail(name, case, f"{output} contains +inf; log probabilities are at most 0.")


# --- extend_with_blanks --------------------------------------------------------------------


def _judge_extend(case, run) -> None:
    name = "extend_with_blanks"
    _judge_run(name, case, run)
    result = run.result
    if not isinstance(result, np.ndarray):
        judge.fail(name, case, f"it must return a NumPy array, got {type(result).__name__}.")
    if not np.issubdtype(result.dtype, np.integer):
        judge.fail(
            name,
            case,
            f"extended must hold integers (symbol indices), got dtype {result.dtype}. "
            "np.zeros makes floats: use np.full(2 * L + 1, blank) or pass dtype=labels.dtype.",
        )
    labels, blank = case.arrays["labels"], case.arrays["blank"]
    expected = reference_ctc.extend_with_blanks(labels, blank)  # (S,)
    if result.shape != expected.shape:
        found = [
            mistake
            for mistake in ctc_mistakes.EXTEND_WITH_BLANKS_MISTAKES
            if np.array_equal(mistake.predict(case.arrays, case.extra)["extended"], result)
        ]
        message = (
            f"extended has shape {format_shape(result.shape)}, expected (2L + 1,) = "
            f"{format_shape(expected.shape)}."
        )
        judge.fail(name, case, message + "".join(_known(mistake) for mistake in found))
    if case.judge != "values":
        return
    outputs, wanted = {"extended": result}, {"extended": expected}
    fault = "Put the blank at the even positions 0, 2, ..., 2L and the labels at 1, 3, ..., 2L - 1."
    _judge_values(
        name,
        case,
        outputs,
        wanted,
        ctc_mistakes.EXTEND_WITH_BLANKS_MISTAKES,
        "the reference",
        Tolerance(0.0, 0.0),
        fault,
    )


@judge.student_facing
def check_extend_with_blanks(extend_with_blanks, cases="visible", seed=None) -> None:
    """Check ``extend_with_blanks(labels, blank) -> extended``, an int array of shape (2L + 1,).

    Parameters
    ----------
    extend_with_blanks : callable
        The student's function.
    cases : {"visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run (every failure message prints its seed).

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in extend_cases(cases, seed):  # step 1
        run = run_student(extend_with_blanks, case.arrays, _forbidden())  # step 2
        _judge_extend(case, run)  # step 3


# --- ctc_forward ---------------------------------------------------------------------------

_BLANKS_NOT_INSERTED = mistakes.Mistake(
    "blanks not inserted",
    "log_alphas has one column per label. The recursion runs over the 2L + 1 states of the "
    "labels with blanks, l' = (-, l_1, -, l_2, ..., l_L, -): use extend_with_blanks.",
    None,
)

_FORWARD_FAULT = (
    "Check the recursion: log alpha_t(s) = log_probs[t, l'_s] + logsumexp of log alpha_{t-1} "
    "at s, s - 1 and (when l'_s is a label unlike l'_{s-2}) s - 2; and "
    "nll = -logaddexp(log alpha_{T-1}(S-1), log alpha_{T-1}(S-2))."
)


def torch_ctc(logits, labels, blank) -> tuple[float, np.ndarray]:
    """``torch.nn.CTCLoss(reduction="sum")`` in float64 on the log-softmax of ``logits`` (T, V):
    the loss and its gradient with respect to the logits (T, V)."""
    import torch

    x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)  # (T, V)
    log_probs = torch.log_softmax(x, dim=-1)[:, None]  # (T, 1, V), time-major as torch wants
    loss = torch.nn.CTCLoss(blank=int(blank), reduction="sum")(
        log_probs,
        torch.tensor(np.asarray(labels)[None], dtype=torch.long),  # (1, L)
        torch.tensor([x.shape[0]]),
        torch.tensor([len(labels)]),
    )
    loss.backward()
    return float(loss.item()), x.grad.numpy().copy()


def _tolerance(case, *arrays) -> Tolerance:
    floats = [a.dtype for a in (*case.arrays.values(), *arrays) if isinstance(a, np.ndarray)]
    return judge.tolerance_for(*floats)


def _judge_forward(case, run) -> None:
    name = "ctc_forward"
    _judge_run(name, case, run)
    result = judge.unpack(name, case, run.result, ("nll", "log_alphas"))
    nll = _judge_number(name, case, "nll", result["nll"])
    shape_mistakes = {(case.dims["T"], case.dims["L"]): _BLANKS_NOT_INSERTED}
    _judge_log_array(name, case, "log_alphas", result["log_alphas"], "T, S", shape_mistakes)
    if case.judge != "values":
        return
    expected_nll, expected_alphas = reference_ctc.ctc_forward(**case.arrays)
    against = "the reference"
    if case.extra["set"] == "torch":
        expected_nll, _ = torch_ctc(
            case.extra["logits"], case.arrays["labels"], case.arrays["blank"]
        )
        against = "torch.nn.CTCLoss(reduction='sum') for nll, the reference for log_alphas"
    outputs = {"nll": nll, "log_alphas": result["log_alphas"]}
    expected = {"nll": np.float64(expected_nll), "log_alphas": expected_alphas}
    tolerance = _tolerance(case, result["log_alphas"])
    _judge_values(
        name,
        case,
        outputs,
        expected,
        ctc_mistakes.CTC_FORWARD_MISTAKES,
        against,
        tolerance,
        _FORWARD_FAULT,
    )


@judge.student_facing
def check_ctc_forward(ctc_forward, cases="visible", seed=None) -> None:
    """Check ``ctc_forward(log_probs, labels, blank) -> (nll, log_alphas)``.

    ``nll`` is a number, :math:`-\\log p(l \\mid x)`; ``log_alphas`` (T, S) holds
    :math:`\\log \\alpha_t(s)`, -inf where a state cannot be reached.

    Parameters
    ----------
    ctc_forward : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "long", "torch", "no_mutation"}
        Which case set to run: ``"long"`` has T = 500, whose probabilities underflow float64;
        ``"torch"`` compares the loss with ``torch.nn.CTCLoss``.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in ctc_cases("ctc_forward", cases, seed):  # step 1
        run = run_student(ctc_forward, case.arrays, _forbidden())  # step 2
        _judge_forward(case, run)  # step 3


# --- ctc_backward --------------------------------------------------------------------------

# Finite differences of the loss are accurate to about 1e-9 (roundoff over eps = 1e-6).
_AGAINST_FINITE_DIFFERENCES = Tolerance(rtol=1e-5, atol=1e-7)


def _finite_difference_dlogits(case) -> np.ndarray:
    labels, blank = case.arrays["labels"], case.arrays["blank"]

    def loss(logits):
        return reference_ctc.ctc_forward(log_softmax(logits), labels, blank)[0]

    return gradcheck.numerical_gradient(loss, case.extra["logits"], 1.0)  # (T, V)


def _judge_backward(case, run) -> None:
    name = "ctc_backward"
    _judge_run(name, case, run)
    result = judge.unpack(name, case, run.result, ("log_betas", "dlogits"))
    _judge_log_array(name, case, "log_betas", result["log_betas"], "T, S")
    hint = _NAN_HINT
    if case.extra["set"] == "long":
        hint = _known(mistakes.Mistake(*ctc_mistakes.UNDERFLOW, None))
    judge.judge_array(name, case, "dlogits", result["dlogits"], "T, V", case.dims, hint)
    if case.judge != "values":
        return
    expected_betas, expected_dlogits = reference_ctc.ctc_backward(**case.arrays)
    against = "the reference"
    tolerance = _tolerance(case, result["log_betas"], result["dlogits"])
    arrays = case.arrays
    if case.extra["set"] == "torch":
        _, expected_dlogits = torch_ctc(case.extra["logits"], arrays["labels"], arrays["blank"])
        against = "torch.nn.CTCLoss(reduction='sum') for dlogits, the reference for log_betas"
    elif case.extra["set"] == "gradient_check":
        expected_dlogits = _finite_difference_dlogits(case)
        against = "finite differences (float64) for dlogits, the reference for log_betas"
        tolerance = _AGAINST_FINITE_DIFFERENCES
    outputs = {"log_betas": result["log_betas"], "dlogits": result["dlogits"]}
    expected = {"log_betas": expected_betas, "dlogits": expected_dlogits}
    _judge_values(
        name, case, outputs, expected, ctc_mistakes.CTC_BACKWARD_MISTAKES, against, tolerance
    )


@judge.student_facing
def check_ctc_backward(ctc_backward, cases="visible", seed=None) -> None:
    """Check ``ctc_backward(log_probs, labels, blank, log_alphas) -> (log_betas, dlogits)``.

    ``log_alphas`` is the reference's, so that this check does not depend on the student's
    ``ctc_forward``. ``log_betas`` (T, S) leaves out the frame t (:math:`\\sum_s \\alpha_t(s)
    \\beta_t(s) = p` at every t); ``dlogits`` (T, V) is the gradient of the nll with respect to
    the logits whose log-softmax is ``log_probs``.

    Parameters
    ----------
    ctc_backward : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "long", "torch", "gradient_check", "no_mutation"}
        Which case set to run: ``"torch"`` compares dlogits with the gradient of
        ``torch.nn.CTCLoss``, ``"gradient_check"`` with float64 finite differences.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in ctc_cases("ctc_backward", cases, seed):  # step 1
        run = run_student(ctc_backward, case.arrays, _forbidden())  # step 2
        _judge_backward(case, run)  # step 3


# --- ctc_greedy_decode ---------------------------------------------------------------------


def _as_symbols(name, case, result) -> list:
    """The decoded labels as a list of ints; fail unless they are a sequence of integers."""
    if isinstance(result, np.ndarray):
        if result.ndim != 1 or not (result.size == 0 or np.issubdtype(result.dtype, np.integer)):
            judge.fail(
                name,
                case,
                f"it must return a list of ints, got an array of shape "
                f"{format_shape(result.shape)} and dtype {result.dtype}.",
            )
        return [int(k) for k in result]
    if not isinstance(result, list | tuple):
        judge.fail(name, case, f"it must return a list of ints, got {type(result).__name__}.")
    for symbol in result:
        if isinstance(symbol, bool) or not isinstance(symbol, int | np.integer):
            judge.fail(
                name,
                case,
                f"it must return a list of ints (symbol indices), found {symbol!r} of type "
                f"{type(symbol).__name__}. Use int(...) on each symbol.",
            )
    return [int(k) for k in result]


def _judge_decode(case, run) -> None:
    name = "ctc_greedy_decode"
    _judge_run(name, case, run)
    decoded = _as_symbols(name, case, run.result)
    if case.judge != "values":
        return
    expected = reference_ctc.ctc_greedy_decode(**case.arrays)
    if decoded == expected:
        return
    found = [
        mistake
        for mistake in ctc_mistakes.CTC_GREEDY_DECODE_MISTAKES
        if mistake.predict(case.arrays, case.extra)["decoded"] == decoded
        and mistake.predict(case.arrays, case.extra)["decoded"] != expected
    ]
    path = " ".join(str(int(k)) for k in case.extra["path"])
    message = (
        f"it returned {decoded}, expected {expected} (blank = {case.arrays['blank']}; the best "
        f"path, the argmax of every frame, is {path})."
    )
    message += "".join(_known(mistake) for mistake in found)
    if not found:
        message += "\n    " + ctc_mistakes.DECODE_STEPS
    judge.fail(name, case, message)


@judge.student_facing
def check_ctc_greedy_decode(ctc_greedy_decode, cases="visible", seed=None) -> None:
    """Check ``ctc_greedy_decode(log_probs, blank) -> list of int``.

    Parameters
    ----------
    ctc_greedy_decode : callable
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
    for case in decode_cases(cases, seed):  # step 1
        run = run_student(ctc_greedy_decode, case.arrays, _forbidden())  # step 2
        _judge_decode(case, run)  # step 3
