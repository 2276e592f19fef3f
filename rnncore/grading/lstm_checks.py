"""Checks for the LSTM exercise (a03): forward and backward, and the weights of torch.nn.LSTM.

Each check is called from an nbgrader test cell with the student's function(s)::

    check_lstm_step_forward(lstm_step_forward)                  # the visible cases
    check_lstm_step_forward(lstm_step_forward, cases="hidden")  # the edge cases
    check_lstm_backward(lstm_forward, lstm_backward, cases="gradient_check")
    check_set_forget_bias(set_forget_bias)

and runs the three steps of :mod:`rnncore.grading` for every case: draw the inputs (the
``*_cases`` functions below, in the manner of :mod:`~rnncore.grading.inputs`),
run the student's function on copies of them (:func:`~rnncore.grading.student_run.run_student`),
judge the result (:mod:`~rnncore.grading.judge`; the machinery shared with the GRU is in
:mod:`~rnncore.grading.cell_checks`). Expected values come from
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

import numpy as np

from rnncore.grading import cell_checks, judge, mistakes
from rnncore.grading.cell_checks import BackwardSpec, ForwardSpec, unknown_cases
from rnncore.grading.inputs import (
    Case,
    case_rng,
    draw_weights,
    new_seed,
    sequence_case_table,
    step_case_table,
)
from rnncore.grading.student_run import run_student
from rnncore.numpy import lstm as reference_lstm

__all__ = [
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


def _forbidden():
    # The reference the student re-derives: calling any function of it fails the check.
    from rnncore.torch import interop

    return (reference_lstm, interop)


# The NumPy checks do not import torch, so that they start quickly.
_FORBIDDEN_NUMPY = (reference_lstm,)


# --- step 1: draw the inputs ---------------------------------------------------------------

_STEP_SHAPES = step_case_table("h_prev and c_prev")
_SEQUENCE_SHAPES = sequence_case_table(8, "torch.nn.LSTM", gradient_check_H=2)

# (name, D, H, dtype, value of the forget bias or None for the student's default)
_ADAPTER_SHAPES = {
    "visible": [("D != H", 5, 3, np.float64, None)],
    "hidden": [
        ("D == H", 4, 4, np.float64, 0.5),
        ("H = 1", 3, 1, np.float64, 2.0),
        ("float32 module", 2, 5, np.float32, 1.5),
    ],
}


def lstm_step_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``lstm_step_forward`` / ``lstm_step_backward``."""
    name = "lstm_step_forward"
    return cell_checks.step_cases(name, _STEP_SHAPES, cases, seed, gates=4, cell_state=True)


def lstm_sequence_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``lstm_forward`` / ``lstm_backward``."""
    return cell_checks.sequence_cases("lstm_forward", _SEQUENCE_SHAPES, cases, seed, gates=4)


def lstm_adapter_cases(function: str, cases: str, seed: int | None = None) -> list[Case]:
    """Cases for the weight adapters; ``function`` is the adapter's name.

    ``arrays`` holds the adapter's arguments, ``extra["torch"]`` the module's parameters
    before the call (NumPy arrays named like torch's) and ``extra["value"]`` the forget bias
    the module must end with.
    """
    if cases not in _ADAPTER_SHAPES:
        raise unknown_cases(function, cases, _ADAPTER_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, D, H, dtype, value) in enumerate(_ADAPTER_SHAPES[cases]):
        rng = case_rng(seed, index)
        parameters = cell_checks.torch_parameters(rng, D, H, 4, dtype)
        module = cell_checks.torch_module("LSTM", parameters, D, H, dtype)
        if function == "lstm_params_from_torch":
            arrays = {"module": module}
        elif function == "lstm_params_to_torch":
            arrays = {**draw_weights(rng, D, H, dtype, gates=4), "module": module}
        else:  # set_forget_bias: value only when the case sets it, else the student's default
            arrays = {"module": module} | ({} if value is None else {"value": value})
        extra = {"torch": parameters, "value": 1.0 if value is None else value}
        drawn.append(Case(name, arrays, {"D": D, "H": H}, "values", seed, extra))
    return drawn


# --- the references (step 3 compares with them) ----------------------------------------------


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
    module = cell_checks.torch_module("LSTM", parameters, D, H, np.float64)
    state = torch.tensor(h0[None], dtype=torch.float64)  # (1, B, H)
    with torch.no_grad():
        h, _ = module(torch.tensor(x, dtype=torch.float64), (state, torch.zeros_like(state)))
    return {"h": h.numpy()}  # (B, T, H)


def _expected_step(case) -> tuple[dict, str]:
    h_next, c_next, _ = reference_lstm.lstm_step_forward(**case.arrays)
    return {"h_next": h_next, "c_next": c_next}, "the reference"


def _expected_sequence(case) -> tuple[dict, str]:
    if case.extra.get("reference") == "torch":
        return _torch_lstm_forward(**case.arrays), "torch.nn.LSTM"
    return {"h": reference_lstm.lstm_forward(**case.arrays)[0]}, "the reference"


_STEP_GRADIENTS = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")
_SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")


def _expected_step_gradients(case) -> tuple[dict, str]:
    _, _, cache = reference_lstm.lstm_step_forward(**case.arrays)
    gradients = reference_lstm.lstm_step_backward(case.extra["dout"], case.extra["dc_next"], cache)
    return dict(zip(_STEP_GRADIENTS, gradients, strict=True)), "the reference"


def _expected_sequence_gradients(case) -> tuple[dict, str]:
    arrays, dh = case.arrays, case.extra["dout"]
    if case.extra.get("reference") == "gradient_check":

        def forward(**arguments):
            return reference_lstm.lstm_forward(**arguments)[0]

        gradients = cell_checks.finite_difference_gradients(
            forward, arrays, _SEQUENCE_GRADIENTS, dh
        )
        return gradients, "finite differences (float64)"
    _, cache = reference_lstm.lstm_forward(**arrays)
    gradients = reference_lstm.lstm_backward(dh, cache)[:5]  # without dc0
    return dict(zip(_SEQUENCE_GRADIENTS, gradients, strict=True)), "the reference"


STEP_FORWARD = ForwardSpec(
    "lstm_step_forward",
    {"h_next": "B, H", "c_next": "B, H"},
    mistakes.LSTM_STEP_FORWARD_MISTAKES,
    "Check the gate order (blocks of H columns: i, f, g, o), the activations (sigmoid for i, "
    "f and o, tanh for g), c_next = f * c_prev + i * g and h_next = o * tanh(c_next).",
    _expected_step,
    _FORBIDDEN_NUMPY,
)

SEQUENCE_FORWARD = ForwardSpec(
    "lstm_forward",
    {"h": "B, T, H"},
    mistakes.LSTM_FORWARD_MISTAKES,
    "Check your step (the gate order i, f, g, o; c = f * c_prev + i * g; h = o * tanh(c)) and "
    "that the loop starts from h0 and a zero cell state and carries both states.",
    _expected_sequence,
    _FORBIDDEN_NUMPY,
)

STEP_BACKWARD = BackwardSpec(
    "lstm_step_backward",
    STEP_FORWARD,
    {"dh_next": "dout", "dc_next": "dc_next"},
    {
        "dx": "B, D",
        "dh_prev": "B, H",
        "dc_prev": "B, H",
        "dWx": "D, 4H",
        "dWh": "H, 4H",
        "db": "4H",
    },
    mistakes.LSTM_STEP_BACKWARD_MISTAKES,
    _expected_step_gradients,
)

SEQUENCE_BACKWARD = BackwardSpec(
    "lstm_backward",
    SEQUENCE_FORWARD,
    {"dh": "dout"},
    {"dx": "B, T, D", "dh0": "B, H", "dWx": "D, 4H", "dWh": "H, 4H", "db": "4H"},
    mistakes.LSTM_BACKWARD_MISTAKES,
    _expected_sequence_gradients,
)


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
    cell_checks.check_forward(STEP_FORWARD, lstm_step_forward, lstm_step_cases(cases, seed))


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
    cell_checks.check_forward(SEQUENCE_FORWARD, lstm_forward, lstm_sequence_cases(cases, seed))


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
    cell_checks.check_backward(STEP_BACKWARD, lstm_step_forward, lstm_step_backward, cases)


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
        raise unknown_cases("lstm_backward", cases, [c for c in _SEQUENCE_SHAPES if c != "torch"])
    cases = lstm_sequence_cases(cases, seed)
    cell_checks.check_backward(SEQUENCE_BACKWARD, lstm_forward, lstm_backward, cases)


# --- the weight adapters --------------------------------------------------------------------


def _effective(parameters: dict) -> dict:
    """The module's weights and the sum of its biases (the only thing the LSTM computes with)."""
    return {
        "weight_ih_l0": parameters["weight_ih_l0"],
        "weight_hh_l0": parameters["weight_hh_l0"],
        EFFECTIVE_BIAS: parameters["bias_ih_l0"] + parameters["bias_hh_l0"],
    }


_MODULE_LETTERS = {"weight_ih_l0": "4H, D", "weight_hh_l0": "4H, H", EFFECTIVE_BIAS: "4H"}


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
    cell_checks.judge_values(
        name,
        case,
        outputs,
        expected,
        mistakes.LSTM_PARAMS_FROM_TORCH_MISTAKES,
        "the module's parameters",
    )


def _judge_module(name, case, run, expected, catalogue) -> None:
    cell_checks.judge_module(name, case, run, expected, catalogue, _effective, _MODULE_LETTERS)


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
        student = cell_checks.with_module_after(lstm_params_to_torch, 3)
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
        student = cell_checks.with_module_after(set_forget_bias, 0)
        run = run_student(student, case.arrays, forbidden, watched=())  # step 2
        expected = _effective(case.extra["torch"])
        H = case.dims["H"]
        expected[EFFECTIVE_BIAS][H : 2 * H] = case.extra["value"]
        _judge_module(name, case, run, expected, mistakes.SET_FORGET_BIAS_MISTAKES)
