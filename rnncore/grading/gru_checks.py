"""Checks for the GRU exercise (a04): the seed's GRU forward and backward, and torch.nn.GRU.

Each check is called from an nbgrader test cell with the student's function(s)::

    check_gru_step_forward(gru_step_forward)                  # the visible cases
    check_gru_step_forward(gru_step_forward, cases="hidden")  # the edge cases
    check_gru_backward(gru_forward, gru_backward, cases="gradient_check")
    check_gru_params_to_torch(gru_params_to_torch, cases="torch")

and runs the three steps of :mod:`rnncore.grading` for every case (the machinery is
:mod:`~rnncore.grading.cell_checks`, shared with the LSTM's checks). Expected values come from
:mod:`rnncore.numpy.gru`, from finite differences or from ``torch.nn.GRU``, computed on the
drawn inputs; the known mistakes are in :mod:`~rnncore.grading.gru_mistakes`.

The student's GRU is the seed's, with the signatures of :mod:`rnncore.numpy.gru`: reset gate
applied to ``h_prev`` before the product and ``h_next = (1 - z) * h_prev + z * h~``, gates
stacked r, z, n (``Wx`` (D, 3H), ``Wh`` (H, 3H), ``b`` (3H,)). ``torch.nn.GRU`` computes the
other form (reset after the product, with its own hidden bias ``b_hn``, and
``h_next = (1 - z) * n + z * h_prev``), so the seed's GRU has no torch.nn.GRU to be compared
with. What does map is checked instead:

* ``flip_update_gate(Wx, Wh, b) -> (Wx, Wh, b)`` turns one update-gate convention into the
  other (negate the z block); the ``"torch"`` cases load its result into ``torch.nn.GRU`` and
  compare the output with a reset-after GRU that uses the seed's update sign;
* ``gru_params_to_torch(Wx, Wh, b, b_hn, module)`` loads the parameters of
  :func:`rnncore.numpy.gru.gru_reset_after_forward` into a ``torch.nn.GRU``, in place; the
  ``"torch"`` cases compare the module's output with that function's.
"""

from __future__ import annotations

import numpy as np

from rnncore.grading import cell_checks, gru_mistakes, judge
from rnncore.grading.cell_checks import BackwardSpec, ForwardSpec, unknown_cases
from rnncore.grading.inputs import (
    Case,
    case_rng,
    draw_state,
    draw_weights,
    new_seed,
    sequence_case_table,
    step_case_table,
)
from rnncore.grading.student_run import run_student
from rnncore.numpy import gru as reference_gru

__all__ = [
    "gru_step_cases",
    "gru_sequence_cases",
    "gru_adapter_cases",
    "check_gru_step_forward",
    "check_gru_forward",
    "check_gru_step_backward",
    "check_gru_backward",
    "check_flip_update_gate",
    "check_gru_params_to_torch",
]


def _forbidden():
    # The reference the student re-derives: calling any function of it fails the check.
    from rnncore.torch import interop

    return (reference_gru, interop)


# The NumPy checks do not import torch, so that they start quickly.
_FORBIDDEN_NUMPY = (reference_gru,)


# --- step 1: draw the inputs ---------------------------------------------------------------

_STEP_SHAPES = step_case_table("h_prev")
_SEQUENCE_SHAPES = sequence_case_table(8, None, gradient_check_H=2)

# (name, B, T, D, H, dtype); B and T size the input sequence of the "torch" cases.
_ADAPTER_SHAPES = {
    "visible": [("D != H", 2, 3, 5, 3, np.float64)],
    "hidden": [
        ("D == H", 2, 3, 4, 4, np.float64),
        ("H = 1", 2, 3, 3, 1, np.float64),
        ("float32", 2, 3, 2, 5, np.float32),
    ],
    "torch": [
        ("torch.nn.GRU", 3, 5, 4, 6, np.float64),
        ("torch.nn.GRU, B = 1, T = 1", 1, 1, 3, 2, np.float64),
    ],
}


def gru_step_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``gru_step_forward`` / ``gru_step_backward``."""
    return cell_checks.step_cases("gru_step_forward", _STEP_SHAPES, cases, seed, gates=3)


def gru_sequence_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``gru_forward`` / ``gru_backward``."""
    return cell_checks.sequence_cases("gru_forward", _SEQUENCE_SHAPES, cases, seed, gates=3)


def gru_adapter_cases(function: str, cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``flip_update_gate`` and ``gru_params_to_torch``.

    ``arrays`` holds the function's arguments; ``extra`` an input sequence ``x`` (B, T, D), a
    state ``h0`` (B, H), a hidden bias ``b_hn`` (H,) and, for ``gru_params_to_torch``, the
    module's parameters before the call (``extra["torch"]``, NumPy arrays named like torch's).
    """
    if cases not in _ADAPTER_SHAPES:
        raise unknown_cases(function, cases, _ADAPTER_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, T, D, H, dtype) in enumerate(_ADAPTER_SHAPES[cases]):
        rng = case_rng(seed, index)
        arrays = draw_weights(rng, D, H, dtype, gates=3)
        b_hn = (0.5 * rng.standard_normal(H)).astype(dtype)  # (H,)
        extra = {
            "x": rng.standard_normal((B, T, D)),  # (B, T, D)
            "h0": draw_state(rng, B, H, np.float64, zero=False),  # (B, H)
            "b_hn": b_hn,
            "reference": cases,
        }
        if function == "gru_params_to_torch":
            extra["torch"] = cell_checks.torch_parameters(rng, D, H, 3, dtype)
            module = cell_checks.torch_module("GRU", extra["torch"], D, H, dtype)
            arrays = {**arrays, "b_hn": b_hn, "module": module}
        dims = {"B": B, "T": T, "D": D, "H": H} if cases == "torch" else {"D": D, "H": H}
        drawn.append(Case(name, arrays, dims, "values", seed, extra))
    return drawn


# --- the references (step 3 compares with them) ----------------------------------------------

_STEP_GRADIENTS = ("dx", "dh_prev", "dWx", "dWh", "db")
_SEQUENCE_GRADIENTS = ("dx", "dh0", "dWx", "dWh", "db")


def _expected_step(case) -> tuple[dict, str]:
    return {"h_next": reference_gru.gru_step_forward(**case.arrays)[0]}, "the reference"


def _expected_sequence(case) -> tuple[dict, str]:
    return {"h": reference_gru.gru_forward(**case.arrays)[0]}, "the reference"


def _expected_step_gradients(case) -> tuple[dict, str]:
    _, cache = reference_gru.gru_step_forward(**case.arrays)
    gradients = reference_gru.gru_step_backward(case.extra["dout"], cache)
    return dict(zip(_STEP_GRADIENTS, gradients, strict=True)), "the reference"


def _expected_sequence_gradients(case) -> tuple[dict, str]:
    arrays, dh = case.arrays, case.extra["dout"]
    if case.extra.get("reference") == "gradient_check":

        def forward(**arguments):
            return reference_gru.gru_forward(**arguments)[0]

        gradients = cell_checks.finite_difference_gradients(
            forward, arrays, _SEQUENCE_GRADIENTS, dh
        )
        return gradients, "finite differences (float64)"
    _, cache = reference_gru.gru_forward(**arrays)
    gradients = reference_gru.gru_backward(dh, cache)
    return dict(zip(_SEQUENCE_GRADIENTS, gradients, strict=True)), "the reference"


_FAULT = (
    "Check the gate order (blocks of H columns: r, z, n), the activations (sigmoid for r and "
    "z, tanh for the candidate), h~ = tanh(x Wx_n + (r * h_prev) Wh_n + b_n) and "
    "h_next = (1 - z) * h_prev + z * h~."
)

STEP_FORWARD = ForwardSpec(
    "gru_step_forward",
    {"h_next": "B, H"},
    gru_mistakes.GRU_STEP_FORWARD_MISTAKES,
    _FAULT,
    _expected_step,
    _FORBIDDEN_NUMPY,
)

SEQUENCE_FORWARD = ForwardSpec(
    "gru_forward",
    {"h": "B, T, H"},
    gru_mistakes.GRU_FORWARD_MISTAKES,
    _FAULT.replace("h_next", "h_t").replace("h_prev", "h_{t-1}")
    + " The loop starts from h0 and carries h from one step to the next.",
    _expected_sequence,
    _FORBIDDEN_NUMPY,
)

STEP_BACKWARD = BackwardSpec(
    "gru_step_backward",
    STEP_FORWARD,
    {"dh_next": "dout"},
    {"dx": "B, D", "dh_prev": "B, H", "dWx": "D, 3H", "dWh": "H, 3H", "db": "3H"},
    gru_mistakes.GRU_STEP_BACKWARD_MISTAKES,
    _expected_step_gradients,
)

SEQUENCE_BACKWARD = BackwardSpec(
    "gru_backward",
    SEQUENCE_FORWARD,
    {"dh": "dout"},
    {"dx": "B, T, D", "dh0": "B, H", "dWx": "D, 3H", "dWh": "H, 3H", "db": "3H"},
    gru_mistakes.GRU_BACKWARD_MISTAKES,
    _expected_sequence_gradients,
)


# --- the checks of the forward and backward passes ------------------------------------------


@judge.student_facing
def check_gru_step_forward(gru_step_forward, cases="visible", seed=None) -> None:
    """Check ``gru_step_forward(x, h_prev, Wx, Wh, b) -> (h_next, cache)`` (the seed's GRU).

    Parameters
    ----------
    gru_step_forward : callable
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
    cell_checks.check_forward(STEP_FORWARD, gru_step_forward, gru_step_cases(cases, seed))


@judge.student_facing
def check_gru_forward(gru_forward, cases="visible", seed=None) -> None:
    """Check ``gru_forward(x, h0, Wx, Wh, b) -> (h, cache)``, h of shape (B, T, H).

    Parameters
    ----------
    gru_forward : callable
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
    if cases == "gradient_check":
        raise unknown_cases("gru_forward", cases, [c for c in _SEQUENCE_SHAPES if c != cases])
    cell_checks.check_forward(SEQUENCE_FORWARD, gru_forward, gru_sequence_cases(cases, seed))


@judge.student_facing
def check_gru_step_backward(gru_step_forward, gru_step_backward, cases="visible", seed=None):
    """Check ``gru_step_backward(dh_next, cache) -> (dx, dh_prev, dWx, dWh, db)``.

    The cache is what the student's ``gru_step_forward`` returns on the same inputs.

    Parameters
    ----------
    gru_step_forward, gru_step_backward : callable
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
    cases = gru_step_cases(cases, seed)
    cell_checks.check_backward(STEP_BACKWARD, gru_step_forward, gru_step_backward, cases)


@judge.student_facing
def check_gru_backward(gru_forward, gru_backward, cases="visible", seed=None) -> None:
    """Check ``gru_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)`` (BPTT).

    The cache is what the student's ``gru_forward`` returns on the same inputs.

    Parameters
    ----------
    gru_forward, gru_backward : callable
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
    cases = gru_sequence_cases(cases, seed)
    cell_checks.check_backward(SEQUENCE_BACKWARD, gru_forward, gru_backward, cases)


# --- the mappings to torch.nn.GRU ------------------------------------------------------------

_WEIGHT_LETTERS = {"Wx": "D, 3H", "Wh": "H, 3H", "b": "3H"}


def _torch_gru_output(extra, parameters: dict, D, H) -> dict:
    """``{"h": (B, T, H)}``: torch.nn.GRU holding ``parameters`` run on the case's x and h0."""
    import torch

    as_float64 = {name: np.asarray(value, dtype=np.float64) for name, value in parameters.items()}
    module = cell_checks.torch_module("GRU", as_float64, D, H, np.float64)
    x = torch.tensor(extra["x"], dtype=torch.float64)  # (B, T, D)
    h0 = torch.tensor(extra["h0"][None], dtype=torch.float64)  # (1, B, H)
    with torch.no_grad():
        h, _ = module(x, h0)  # (B, T, H)
    return {"h": h.numpy()}


def _judge_flip(case, run) -> None:
    """Step 3 for flip_update_gate: its arrays, or what torch.nn.GRU computes with them."""
    name = "flip_update_gate"
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    judge.judge_modified(name, case, run.modified)
    outputs = judge.unpack(name, case, run.result, list(_WEIGHT_LETTERS))
    for output, letters in _WEIGHT_LETTERS.items():
        judge.judge_array(name, case, output, outputs[output], letters, case.dims)
    if case.extra["reference"] != "torch":
        flipped = reference_gru.flip_update_gate(**case.arrays)
        expected = dict(zip(_WEIGHT_LETTERS, flipped, strict=True))
        catalogue = gru_mistakes.FLIP_UPDATE_GATE_MISTAKES
        cell_checks.judge_values(name, case, outputs, expected, catalogue, "the reference")
        return
    D, H = case.dims["D"], case.dims["H"]
    hidden_bias = np.concatenate([np.zeros(2 * H), case.extra["b_hn"]])  # (3H,)
    loaded = {
        "weight_ih_l0": outputs["Wx"].T,  # (3H, D)
        "weight_hh_l0": outputs["Wh"].T,  # (3H, H)
        "bias_ih_l0": outputs["b"],  # (3H,)
        "bias_hh_l0": hidden_bias,  # (3H,)
    }
    got = _torch_gru_output(case.extra, loaded, D, H)
    # The GRU that flip_update_gate must carry over: reset after the product (as torch.nn.GRU),
    # update in the seed's direction, with the given parameters.
    x, h0, b_hn = case.extra["x"], case.extra["h0"], case.extra["b_hn"]
    arrays = case.arrays
    expected = {
        "h": gru_mistakes.gru_sequence(
            x, h0, arrays["Wx"], arrays["Wh"], arrays["b"], b_hn, reset="after", update="seed"
        )
    }
    cell_checks.judge_values(
        name,
        case,
        got,
        expected,
        gru_mistakes.FLIP_UPDATE_GATE_TORCH_MISTAKES,
        "the reset-after GRU with the seed's update gate",
    )


@judge.student_facing
def check_flip_update_gate(flip_update_gate, cases="visible", seed=None) -> None:
    """Check ``flip_update_gate(Wx, Wh, b) -> (Wx, Wh, b)``, which maps z to 1 - z.

    The z block ``[H:2H]`` of the three arrays is negated and nothing else changes; the
    arguments are left unchanged. The ``"torch"`` cases load the result into ``torch.nn.GRU``
    (``bias_hh_l0 = [0, 0, b_hn]``) and compare its output with the reset-after GRU computed
    with the original parameters and the seed's update gate, ``h = (1 - z) h_prev + z n``.

    Parameters
    ----------
    flip_update_gate : callable
        The student's function.
    cases : {"visible", "hidden", "torch"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    # NumPy's reference only: the visible cases then start without importing torch.
    for case in gru_adapter_cases("flip_update_gate", cases, seed):  # step 1
        run = run_student(flip_update_gate, case.arrays, _FORBIDDEN_NUMPY)  # step 2
        _judge_flip(case, run)  # step 3


def _effective(parameters: dict) -> dict:
    """What torch.nn.GRU computes with: the weights, the r and z bias sums, the n biases."""
    H = parameters["weight_hh_l0"].shape[1]
    bias_ih, bias_hh = parameters["bias_ih_l0"], parameters["bias_hh_l0"]
    return {
        "weight_ih_l0": parameters["weight_ih_l0"],  # (3H, D)
        "weight_hh_l0": parameters["weight_hh_l0"],  # (3H, H)
        gru_mistakes.RZ_BIAS: bias_ih[: 2 * H] + bias_hh[: 2 * H],  # (2H,)
        gru_mistakes.IH_N_BIAS: bias_ih[2 * H :],  # (H,)
        gru_mistakes.HH_N_BIAS: bias_hh[2 * H :],  # (H,)
    }


_MODULE_LETTERS = {
    "weight_ih_l0": "3H, D",
    "weight_hh_l0": "3H, H",
    gru_mistakes.RZ_BIAS: "2H",
    gru_mistakes.IH_N_BIAS: "H",
    gru_mistakes.HH_N_BIAS: "H",
}


def _judge_to_torch(case, run) -> None:
    """Step 3 for gru_params_to_torch: the module's parameters, or its output."""
    name = "gru_params_to_torch"
    arrays = case.arrays
    if case.extra["reference"] != "torch":
        H = case.dims["H"]
        expected = {
            "weight_ih_l0": arrays["Wx"].T,  # (3H, D)
            "weight_hh_l0": arrays["Wh"].T,  # (3H, H)
            gru_mistakes.RZ_BIAS: arrays["b"][: 2 * H],  # (2H,)
            gru_mistakes.IH_N_BIAS: arrays["b"][2 * H :],  # (H,)
            gru_mistakes.HH_N_BIAS: arrays["b_hn"],  # (H,)
        }
        catalogue = gru_mistakes.GRU_PARAMS_TO_TORCH_MISTAKES
        cell_checks.judge_module(name, case, run, expected, catalogue, _effective, _MODULE_LETTERS)
        return
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    judge.judge_modified(name, case, run.modified)
    _, after = run.result
    got = _torch_gru_output(case.extra, after, case.dims["D"], case.dims["H"])
    x, h0 = case.extra["x"], case.extra["h0"]
    weights = {key: arrays[key] for key in ("Wx", "Wh", "b", "b_hn")}
    expected = {"h": reference_gru.gru_reset_after_forward(x, h0, **weights)[0]}
    cell_checks.judge_values(
        name,
        case,
        got,
        expected,
        gru_mistakes.GRU_PARAMS_TO_TORCH_OUTPUT_MISTAKES,
        "rnncore.numpy.gru.gru_reset_after_forward",
    )


@judge.student_facing
def check_gru_params_to_torch(gru_params_to_torch, cases="visible", seed=None) -> None:
    """Check ``gru_params_to_torch(Wx, Wh, b, b_hn, module)``, which loads a reset-after GRU.

    Afterwards ``weight_ih_l0 = Wx.T``, ``weight_hh_l0 = Wh.T``, the r and z blocks of
    ``bias_ih_l0 + bias_hh_l0`` equal ``b[:2H]``, ``bias_ih_l0[2H:] = b[2H:]`` and
    ``bias_hh_l0[2H:] = b_hn``; the arrays are left unchanged. The ``"torch"`` cases run the
    module and compare its output with :func:`rnncore.numpy.gru.gru_reset_after_forward`.

    Parameters
    ----------
    gru_params_to_torch : callable
        The student's function.
    cases : {"visible", "hidden", "torch"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    forbidden = _forbidden()
    watched = ("Wx", "Wh", "b", "b_hn")
    for case in gru_adapter_cases("gru_params_to_torch", cases, seed):  # step 1
        student = cell_checks.with_module_after(gru_params_to_torch, 4)
        run = run_student(student, case.arrays, forbidden, watched=watched)  # step 2
        _judge_to_torch(case, run)  # step 3
