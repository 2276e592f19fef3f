"""Checks for the LSTM exercise (a03): forward and backward, and the weights of torch.nn.LSTM.

Each check is called from an nbgrader test cell with the student's function(s)::

    check_lstm_step_forward(lstm_step_forward)                  # the visible cases
    check_lstm_step_forward(lstm_step_forward, cases="hidden")  # the edge cases
    check_lstm_backward(lstm_forward, lstm_backward, cases="gradient_check")
    check_set_forget_bias(set_forget_bias)

and runs the three steps of :mod:`rnncore.grading` for every case: draw the inputs (the
``draw_*`` and ``*_cases`` functions below, in the manner of :mod:`~rnncore.grading.inputs`),
run the student's function on copies of them (:func:`~rnncore.grading.student_run.run_student`),
judge the result (:mod:`~rnncore.grading.judge`). Expected values come from
:mod:`rnncore.numpy.lstm`, ``torch.nn.LSTM`` or finite differences, computed on the drawn inputs.

The student's functions have the signatures of :mod:`rnncore.numpy.lstm`, batch-first, with the
gates stacked i, f, g, o (``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b`` (4H,)), except that the
sequence functions have no initial cell state: ``lstm_forward(x, h0, Wx, Wh, b)`` starts from
``c0 = 0`` and ``lstm_backward(dh, cache)`` returns ``(dx, dh0, dWx, dWh, db)``, without ``dc0``.

The weight adapters work on a one-layer ``torch.nn.LSTM`` (``module``):
``lstm_params_from_torch(module) -> (Wx, Wh, b)`` (NumPy arrays),
``lstm_params_to_torch(Wx, Wh, b, module)`` and ``set_forget_bias(module, value=1.0)``, the
last two changing the module in place. They are judged by equality of the module's parameters
(the two biases by their sum, the only thing the LSTM computes with).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from rnncore.grading import judge, mistakes
from rnncore.grading.inputs import Case, case_rng, draw_state, draw_weights, new_seed
from rnncore.grading.student_run import run_student
from rnncore.numpy import gradcheck
from rnncore.numpy import lstm as reference_lstm

__all__ = [
    "draw_lstm_step",
    "draw_lstm_sequence",
    "lstm_step_cases",
    "lstm_sequence_cases",
    "lstm_adapter_cases",
    "check_lstm_step_forward",
    "check_lstm_forward",
    "check_lstm_step_backward",
    "check_lstm_backward",
    "check_lstm_params_from_torch",
    "check_lstm_params_to_torch",
    "check_set_forget_bias",
]

EFFECTIVE_BIAS = "bias_ih_l0 + bias_hh_l0"
_TORCH_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def _forbidden():
    # The reference the student re-derives: calling any function of it fails the check.
    from rnncore.torch import interop

    return (reference_lstm, interop)


def _forbidden_numpy():
    # The NumPy checks do not import torch, so that they start quickly.
    return (reference_lstm,)


# --- step 1: draw the inputs ---------------------------------------------------------------


def draw_lstm_step(rng, B, D, H, dtype=np.float64, zero_state=False) -> dict:
    """Arguments of ``lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)`` and upstream gradients."""
    x = rng.standard_normal((B, D)).astype(dtype)  # (B, D)
    h_prev = draw_state(rng, B, H, dtype, zero_state)  # (B, H)
    if zero_state:
        c_prev = np.zeros((B, H), dtype=dtype)  # (B, H)
    else:
        c_prev = rng.standard_normal((B, H)).astype(dtype)  # (B, H), any real value
    arrays = {"x": x, "h_prev": h_prev, "c_prev": c_prev, **draw_weights(rng, D, H, dtype, gates=4)}
    dh_next = rng.standard_normal((B, H)).astype(dtype)  # (B, H)
    dc_next = rng.standard_normal((B, H)).astype(dtype)  # (B, H)
    return {"arrays": arrays, "dh_next": dh_next, "dc_next": dc_next}


def draw_lstm_sequence(rng, B, T, D, H, dtype=np.float64, zero_state=False) -> dict:
    """Arguments of ``lstm_forward(x, h0, Wx, Wh, b)`` and an upstream ``dh``."""
    x = rng.standard_normal((B, T, D)).astype(dtype)  # (B, T, D)
    h0 = draw_state(rng, B, H, dtype, zero_state)  # (B, H)
    arrays = {"x": x, "h0": h0, **draw_weights(rng, D, H, dtype, gates=4)}
    dh = rng.standard_normal((B, T, H)).astype(dtype)  # (B, T, H)
    return {"arrays": arrays, "dh": dh}


# (name, B, D, H, dtype, zero_state)
_STEP_SHAPES = {
    "shapes": [("B=3, D=5, H=4", 3, 5, 4, np.float64, False)],
    "visible": [("nonzero h_prev and c_prev", 3, 5, 4, np.float64, False)],
    "hidden": [
        ("B = 1", 1, 3, 4, np.float64, False),
        ("D != H", 2, 7, 3, np.float64, False),
        ("D == H", 4, 5, 5, np.float64, False),
        ("zero h_prev and c_prev", 3, 5, 4, np.float64, True),
        ("float32", 3, 5, 4, np.float32, False),
    ],
    "no_mutation": [("no mutation", 2, 4, 5, np.float64, False)],
}

# (name, B, T, D, H, dtype, zero_state)
_SEQUENCE_SHAPES = {
    "shapes": [("B=3, T=4, D=5, H=6", 3, 4, 5, 6, np.float64, False)],
    "visible": [("nonzero h0", 3, 4, 5, 6, np.float64, False)],
    "hidden": [
        ("B = 1", 1, 4, 3, 5, np.float64, False),
        ("T = 1", 3, 1, 4, 2, np.float64, False),
        ("D != H", 2, 5, 8, 3, np.float64, False),
        ("T = 8, nonzero h0", 2, 8, 3, 4, np.float64, False),
        ("zero h0", 2, 3, 4, 5, np.float64, True),
        ("float32", 3, 4, 5, 6, np.float32, False),
    ],
    "no_mutation": [("no mutation", 2, 3, 4, 5, np.float64, False)],
    "torch": [
        ("torch.nn.LSTM", 3, 5, 4, 6, np.float64, False),
        ("torch.nn.LSTM, B = 1", 1, 3, 2, 3, np.float64, False),
    ],
    "gradient_check": [
        ("finite differences", 2, 3, 3, 2, np.float64, False),
        ("finite differences, T = 1", 1, 1, 2, 3, np.float64, False),
    ],
}

# (name, D, H, dtype, value of the forget bias or None for the student's default)
_ADAPTER_SHAPES = {
    "visible": [("D != H", 5, 3, np.float64, None)],
    "hidden": [
        ("D == H", 4, 4, np.float64, 0.5),
        ("H = 1", 3, 1, np.float64, 2.0),
        ("float32 module", 2, 5, np.float32, 1.5),
    ],
}


def _unknown(function_name, cases, known):
    names = ", ".join(repr(name) for name in known)
    return ValueError(f"{function_name} has no case set {cases!r}; choose one of {names}")


def lstm_step_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``lstm_step_forward`` / ``lstm_step_backward``."""
    if cases not in _STEP_SHAPES:
        raise _unknown("lstm_step_forward", cases, _STEP_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, D, H, dtype, zero) in enumerate(_STEP_SHAPES[cases]):
        values = draw_lstm_step(case_rng(seed, index), B, D, H, dtype, zero)
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        extra = {"dout": values["dh_next"], "dc_next": values["dc_next"]}
        dims = {"B": B, "D": D, "H": H}
        drawn.append(Case(name, values["arrays"], dims, judged, seed, extra))
    return drawn


def lstm_sequence_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``lstm_forward`` / ``lstm_backward``."""
    if cases not in _SEQUENCE_SHAPES:
        raise _unknown("lstm_forward", cases, _SEQUENCE_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, T, D, H, dtype, zero) in enumerate(_SEQUENCE_SHAPES[cases]):
        values = draw_lstm_sequence(case_rng(seed, index), B, T, D, H, dtype, zero)
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"B": B, "T": T, "D": D, "H": H}
        extra = {"dout": values["dh"], "reference": cases}
        drawn.append(Case(name, values["arrays"], dims, judged, seed, extra))
    return drawn


def _torch_parameters(rng, D, H, dtype) -> dict:
    """Random parameters of a one-layer torch.nn.LSTM, named like torch's, as NumPy arrays."""
    shapes = {
        "weight_ih_l0": (4 * H, D),
        "weight_hh_l0": (4 * H, H),
        "bias_ih_l0": (4 * H,),
        "bias_hh_l0": (4 * H,),
    }
    return {
        name: (0.5 * rng.standard_normal(shape)).astype(dtype) for name, shape in shapes.items()
    }


def _torch_module(parameters: dict, D, H, dtype):
    import torch

    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    module = torch.nn.LSTM(D, H, batch_first=True, dtype=torch_dtype)
    with torch.no_grad():
        for name, value in parameters.items():
            getattr(module, name).copy_(torch.from_numpy(value))
    return module


def _module_arrays(module) -> dict:
    """The module's parameters as new NumPy arrays, named like torch's."""
    return {name: getattr(module, name).detach().cpu().numpy().copy() for name in _TORCH_NAMES}


def lstm_adapter_cases(function: str, cases: str, seed: int | None = None) -> list[Case]:
    """Cases for the weight adapters; ``function`` is the adapter's name.

    ``arrays`` holds the adapter's arguments, ``extra["torch"]`` the module's parameters
    before the call (NumPy arrays named like torch's) and ``extra["value"]`` the forget bias
    the module must end with.
    """
    if cases not in _ADAPTER_SHAPES:
        raise _unknown(function, cases, _ADAPTER_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, D, H, dtype, value) in enumerate(_ADAPTER_SHAPES[cases]):
        rng = case_rng(seed, index)
        parameters = _torch_parameters(rng, D, H, dtype)
        module = _torch_module(parameters, D, H, dtype)
        if function == "lstm_params_from_torch":
            arrays = {"module": module}
        elif function == "lstm_params_to_torch":
            arrays = {**draw_weights(rng, D, H, dtype, gates=4), "module": module}
        else:  # set_forget_bias: value only when the case sets it, else the student's default
            arrays = {"module": module} | ({} if value is None else {"value": value})
        extra = {"torch": parameters, "value": 1.0 if value is None else value}
        drawn.append(Case(name, arrays, {"D": D, "H": H}, "values", seed, extra))
    return drawn


# --- step 3: judge (step 2 is run_student, called by each check) ---------------------------


def _tolerance(case, outputs: dict) -> judge.Tolerance:
    dtypes = [a.dtype for a in case.arrays.values() if isinstance(a, np.ndarray)]
    dtypes += [o.dtype for o in outputs.values() if isinstance(o, np.ndarray)]
    return judge.tolerance_for(*dtypes)


class ForwardSpec(NamedTuple):
    """What differs between the step and the sequence forward checks."""

    name: str
    outputs: dict  # output name -> letters, in the order the function returns them
    mistakes: tuple
    fault: str  # what to look at when no known mistake matches


STEP_FORWARD = ForwardSpec(
    "lstm_step_forward",
    {"h_next": "B, H", "c_next": "B, H"},
    mistakes.LSTM_STEP_FORWARD_MISTAKES,
    "Check the gate order (blocks of H columns: i, f, g, o), the activations (sigmoid for i, "
    "f and o, tanh for g), c_next = f * c_prev + i * g and h_next = o * tanh(c_next).",
)

SEQUENCE_FORWARD = ForwardSpec(
    "lstm_forward",
    {"h": "B, T, H"},
    mistakes.LSTM_FORWARD_MISTAKES,
    "Check your step (the gate order i, f, g, o; c = f * c_prev + i * g; h = o * tanh(c)) and "
    "that the loop starts from h0 and a zero cell state and carries both states.",
)


def _torch_lstm_forward(x, h0, Wx, Wh, b) -> dict:
    """``{"h": (B, T, H)}`` from ``torch.nn.LSTM`` with the course's weights, c0 = 0."""
    import torch

    D, H = Wx.shape[0], Wh.shape[0]
    parameters = {
        "weight_ih_l0": np.ascontiguousarray(Wx.T, dtype=np.float64),  # (4H, D)
        "weight_hh_l0": np.ascontiguousarray(Wh.T, dtype=np.float64),  # (4H, H)
        "bias_ih_l0": np.asarray(b, dtype=np.float64),  # (4H,)
        "bias_hh_l0": np.zeros(4 * H),  # (4H,)
    }
    module = _torch_module(parameters, D, H, np.float64)
    state = torch.tensor(h0[None], dtype=torch.float64)  # (1, B, H)
    with torch.no_grad():
        h, _ = module(torch.tensor(x, dtype=torch.float64), (state, torch.zeros_like(state)))
    return {"h": h.numpy()}  # (B, T, H)


def _expected_forward(spec: ForwardSpec, case) -> tuple[dict, str]:
    if case.extra.get("reference") == "torch":
        return _torch_lstm_forward(**case.arrays), "torch.nn.LSTM"
    if spec is STEP_FORWARD:
        h_next, c_next, _ = reference_lstm.lstm_step_forward(**case.arrays)
        return {"h_next": h_next, "c_next": c_next}, "the reference"
    return {"h": reference_lstm.lstm_forward(**case.arrays)[0]}, "the reference"


def _judge_forward(spec: ForwardSpec, case, run, function_name=None):
    """Step 3 for a forward function: judge one run; return (outputs, cache)."""
    function_name = function_name or spec.name
    judge.judge_reference_calls(function_name, case, run.reference_calls)
    judge.judge_error(function_name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(function_name, case, run.modified)
    result = judge.unpack(function_name, case, run.result, (*spec.outputs, "cache"))
    outputs = {name: result[name] for name in spec.outputs}
    for name, letters in spec.outputs.items():
        judge.judge_array(function_name, case, name, outputs[name], letters, case.dims)
    if case.judge == "values":
        expected, against = _expected_forward(spec, case)
        tolerance = _tolerance(case, outputs)
        wrong = judge.wrong_outputs(outputs, expected, tolerance)
        if wrong:
            found = mistakes.recognise(
                spec.mistakes, case.arrays, case.extra, outputs, expected, tolerance
            )
            message = judge.values_message(wrong, list(outputs), found, spec.fault, against)
            judge.fail(function_name, case, message)
    return outputs, result["cache"]


def _check_forward(spec: ForwardSpec, student, cases: list) -> None:
    forbidden = _forbidden_numpy()
    for case in cases:  # step 1 drew them
        run = run_student(student, case.arrays, forbidden)  # step 2
        _judge_forward(spec, case, run)  # step 3


@judge.student_facing
def check_lstm_step_forward(lstm_step_forward, cases="visible", seed=None) -> None:
    """Check ``lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b) -> (h_next, c_next, cache)``.

    Parameters
    ----------
    lstm_step_forward : callable
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
    _check_forward(STEP_FORWARD, lstm_step_forward, lstm_step_cases(cases, seed))


@judge.student_facing
def check_lstm_forward(lstm_forward, cases="visible", seed=None) -> None:
    """Check ``lstm_forward(x, h0, Wx, Wh, b) -> (h, cache)``, c0 = 0, h of shape (B, T, H).

    Parameters
    ----------
    lstm_forward : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation", "torch"}
        Which case set to run; ``"torch"`` compares with ``torch.nn.LSTM``.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    _check_forward(SEQUENCE_FORWARD, lstm_forward, lstm_sequence_cases(cases, seed))


class BackwardSpec(NamedTuple):
    """What differs between the step and the sequence backward checks."""

    name: str
    forward: ForwardSpec
    upstream: tuple  # names of the upstream gradients, then "cache"
    gradients: dict  # gradient name -> letters, in the order the function returns them
    mistakes: tuple


STEP_BACKWARD = BackwardSpec(
    "lstm_step_backward",
    STEP_FORWARD,
    ("dh_next", "dc_next"),
    {
        "dx": "B, D",
        "dh_prev": "B, H",
        "dc_prev": "B, H",
        "dWx": "D, 4H",
        "dWh": "H, 4H",
        "db": "4H",
    },
    mistakes.LSTM_STEP_BACKWARD_MISTAKES,
)

SEQUENCE_BACKWARD = BackwardSpec(
    "lstm_backward",
    SEQUENCE_FORWARD,
    ("dh",),
    {"dx": "B, T, D", "dh0": "B, H", "dWx": "D, 4H", "dWh": "H, 4H", "db": "4H"},
    mistakes.LSTM_BACKWARD_MISTAKES,
)


def _upstream(spec: BackwardSpec, case) -> dict:
    if spec is STEP_BACKWARD:
        return {"dh_next": case.extra["dout"], "dc_next": case.extra["dc_next"]}
    return {"dh": case.extra["dout"]}


def _expected_gradients(spec: BackwardSpec, case) -> tuple[dict, str]:
    arrays, names = case.arrays, list(spec.gradients)
    if spec is STEP_BACKWARD:
        _, _, cache = reference_lstm.lstm_step_forward(**arrays)
        gradients = reference_lstm.lstm_step_backward(*_upstream(spec, case).values(), cache)
        return dict(zip(names, gradients, strict=True)), "the reference"
    dh = case.extra["dout"]
    if case.extra.get("reference") == "gradient_check":
        expected = {}
        for name, argument in zip(names, arrays, strict=True):

            def forward_of(value, argument=argument):
                return reference_lstm.lstm_forward(**{**arrays, argument: value})[0]

            expected[name] = gradcheck.numerical_gradient(forward_of, arrays[argument], dh)
        return expected, "finite differences (float64)"
    _, cache = reference_lstm.lstm_forward(**arrays)
    gradients = reference_lstm.lstm_backward(dh, cache)[:5]  # without dc0
    return dict(zip(names, gradients, strict=True)), "the reference"


def _judge_backward(spec: BackwardSpec, case, run, forward_outputs: dict) -> None:
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
    tolerance = _tolerance(case, {**gradients, **forward_outputs})
    wrong = judge.wrong_outputs(gradients, expected, tolerance)
    if wrong:
        found = mistakes.recognise(
            spec.mistakes, case.arrays, case.extra, gradients, expected, tolerance
        )
        message = judge.values_message(wrong, list(spec.gradients), found, "", against)
        judge.fail(spec.name, case, message)


def _check_backward(spec: BackwardSpec, student_forward, student_backward, cases) -> None:
    # The forward is judged first, on the same case: a wrong forward is then reported as
    # such, not as wrong gradients. The cache is whatever the student's forward returns.
    forward_name = f"{spec.forward.name} (which makes the cache for {spec.name})"
    forbidden = _forbidden_numpy()
    for case in cases:  # step 1 drew them
        forward_run = run_student(student_forward, case.arrays, forbidden)  # step 2
        outputs, cache = _judge_forward(spec.forward, case, forward_run, forward_name)
        arguments = {**_upstream(spec, case), "cache": cache}
        backward_run = run_student(student_backward, arguments, forbidden)  # step 2
        _judge_backward(spec, case, backward_run, outputs)  # step 3


@judge.student_facing
def check_lstm_step_backward(
    lstm_step_forward, lstm_step_backward, cases="visible", seed=None
) -> None:
    """Check ``lstm_step_backward(dh_next, dc_next, cache)``.

    It returns ``(dx, dh_prev, dc_prev, dWx, dWh, db)``; the cache is what the student's
    ``lstm_step_forward`` returns on the same inputs.

    Parameters
    ----------
    lstm_step_forward, lstm_step_backward : callable
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
    cases = lstm_step_cases(cases, seed)
    _check_backward(STEP_BACKWARD, lstm_step_forward, lstm_step_backward, cases)


@judge.student_facing
def check_lstm_backward(lstm_forward, lstm_backward, cases="visible", seed=None) -> None:
    """Check ``lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)`` (BPTT, no dc0).

    The cache is what the student's ``lstm_forward`` returns on the same inputs.

    Parameters
    ----------
    lstm_forward, lstm_backward : callable
        The student's functions.
    cases : {"shapes", "visible", "hidden", "no_mutation", "gradient_check"}
        Which case set to run; ``"gradient_check"`` compares with float64 finite differences.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    if cases == "torch":
        raise _unknown("lstm_backward", cases, [c for c in _SEQUENCE_SHAPES if c != "torch"])
    cases = lstm_sequence_cases(cases, seed)
    _check_backward(SEQUENCE_BACKWARD, lstm_forward, lstm_backward, cases)


# --- the weight adapters --------------------------------------------------------------------


def _with_module_after(student: Callable, position: int) -> Callable:
    """Step 2 for an adapter that changes a module in place: also return the module's arrays.

    The judge then sees plain arrays (what the module holds after the call), never the module.
    """

    def call(*arguments):
        returned = student(*arguments)
        return returned, _module_arrays(arguments[position])

    return call


def _effective(parameters: dict) -> dict:
    """The module's weights and the sum of its biases (the only thing the LSTM computes with)."""
    return {
        "weight_ih_l0": parameters["weight_ih_l0"],
        "weight_hh_l0": parameters["weight_hh_l0"],
        EFFECTIVE_BIAS: parameters["bias_ih_l0"] + parameters["bias_hh_l0"],
    }


_MODULE_LETTERS = {"weight_ih_l0": "4H, D", "weight_hh_l0": "4H, H", EFFECTIVE_BIAS: "4H"}


def _judge_values(name, case, outputs, expected, catalogue, against) -> None:
    tolerance = _tolerance(case, outputs)
    wrong = judge.wrong_outputs(outputs, expected, tolerance)
    if wrong:
        found = mistakes.recognise(catalogue, case.arrays, case.extra, outputs, expected, tolerance)
        judge.fail(name, case, judge.values_message(wrong, list(expected), found, "", against))


def _judge_from_torch(case, run) -> None:
    """Step 3 for lstm_params_from_torch: (Wx, Wh, b) equal the module's, transposed."""
    name = "lstm_params_from_torch"
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    letters = {"Wx": "D, 4H", "Wh": "H, 4H", "b": "4H"}
    outputs = judge.unpack(name, case, run.result, list(letters))
    for output, spec in letters.items():
        judge.judge_array(name, case, output, outputs[output], spec, case.dims)
    parameters = case.extra["torch"]
    expected = {
        "Wx": parameters["weight_ih_l0"].T,  # (D, 4H)
        "Wh": parameters["weight_hh_l0"].T,  # (H, 4H)
        "b": parameters["bias_ih_l0"] + parameters["bias_hh_l0"],  # (4H,)
    }
    _judge_values(
        name,
        case,
        outputs,
        expected,
        mistakes.LSTM_PARAMS_FROM_TORCH_MISTAKES,
        "the module's parameters",
    )


def _judge_module(name, case, run, expected, catalogue) -> None:
    """Step 3 for an adapter that changes the module: its parameters after the call."""
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    judge.judge_modified(name, case, run.modified)
    _, after = run.result
    outputs = _effective(after)
    for output, spec in _MODULE_LETTERS.items():
        judge.judge_array(name, case, output, outputs[output], spec, case.dims)
    _judge_values(name, case, outputs, expected, catalogue, "the expected module parameters")


@judge.student_facing
def check_lstm_params_from_torch(lstm_params_from_torch, cases="visible", seed=None) -> None:
    """Check ``lstm_params_from_torch(module) -> (Wx, Wh, b)`` on a one-layer torch.nn.LSTM.

    ``Wx = weight_ih_l0.T`` (D, 4H), ``Wh = weight_hh_l0.T`` (H, 4H) and
    ``b = bias_ih_l0 + bias_hh_l0`` (4H,), as NumPy arrays in the module's dtype.

    Parameters
    ----------
    lstm_params_from_torch : callable
        The student's function.
    cases : {"visible", "hidden"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    forbidden = _forbidden()
    for case in lstm_adapter_cases("lstm_params_from_torch", cases, seed):  # step 1
        run = run_student(lstm_params_from_torch, case.arrays, forbidden, watched=())  # step 2
        _judge_from_torch(case, run)  # step 3


@judge.student_facing
def check_lstm_params_to_torch(lstm_params_to_torch, cases="visible", seed=None) -> None:
    """Check ``lstm_params_to_torch(Wx, Wh, b, module)``, which loads the weights in place.

    Afterwards ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T`` and
    ``bias_ih_l0 + bias_hh_l0 = b``; Wx, Wh and b are left unchanged.

    Parameters
    ----------
    lstm_params_to_torch : callable
        The student's function.
    cases : {"visible", "hidden"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    forbidden = _forbidden()
    name = "lstm_params_to_torch"
    for case in lstm_adapter_cases(name, cases, seed):  # step 1
        student = _with_module_after(lstm_params_to_torch, 3)
        run = run_student(student, case.arrays, forbidden, watched=("Wx", "Wh", "b"))  # step 2
        Wx, Wh, b = case.arrays["Wx"], case.arrays["Wh"], case.arrays["b"]
        expected = {"weight_ih_l0": Wx.T, "weight_hh_l0": Wh.T, EFFECTIVE_BIAS: b}
        _judge_module(name, case, run, expected, mistakes.LSTM_PARAMS_TO_TORCH_MISTAKES)


@judge.student_facing
def check_set_forget_bias(set_forget_bias, cases="visible", seed=None) -> None:
    """Check ``set_forget_bias(module, value=1.0)``, which sets the forget gate's bias in place.

    Afterwards the effective forget bias ``(bias_ih_l0 + bias_hh_l0)[H:2H]`` equals ``value``
    (not ``2 * value``), and the other gates' biases and the weights are unchanged.

    Parameters
    ----------
    set_forget_bias : callable
        The student's function.
    cases : {"visible", "hidden"}
        ``"visible"`` uses the default value 1.0; ``"hidden"`` passes other values.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    forbidden = _forbidden()
    name = "set_forget_bias"
    for case in lstm_adapter_cases(name, cases, seed):  # step 1
        student = _with_module_after(set_forget_bias, 0)
        run = run_student(student, case.arrays, forbidden, watched=())  # step 2
        expected = _effective(case.extra["torch"])
        H = case.dims["H"]
        expected[EFFECTIVE_BIAS][H : 2 * H] = case.extra["value"]
        _judge_module(name, case, run, expected, mistakes.SET_FORGET_BIAS_MISTAKES)
