"""Step 1 of a check: draw the inputs a student's function is run on.

Every run draws fresh random values (so that no answer can be memorised), from a seed that is
printed in every failure message so that the case can be replayed with ``seed=...``. The
*shapes* of the cases are fixed: they are the edge cases a correct implementation must handle
(B = 1, T = 1, D != H, a zero and a nonzero initial state, float32).

Each graded function has named *case sets*:

``"shapes"``
    One small case; only the structure and shapes of the result are judged.
``"visible"``
    The cases the student runs while working (values judged).
``"hidden"``
    The edge cases used for grading.
``"no_mutation"``
    One case; only "did the function modify its arguments" is judged.
``"torch"``
    For the sequence functions: values compared with ``torch.nn.RNN``.
``"gradient_check"``
    For ``rnn_backward``: float64 finite differences instead of the analytic reference.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "Case",
    "new_seed",
    "case_rng",
    "draw_weights",
    "draw_state",
    "draw_rnn_step",
    "draw_rnn_sequence",
    "rnn_step_cases",
    "rnn_sequence_cases",
    "numerical_gradient_cases",
    "clip_grad_norm_cases",
    "TestFunction",
]


class Case(NamedTuple):
    """One set of arguments for the student's function, and how to judge the result."""

    name: str  # what the case is about, in the student's words: "B = 1", "D != H"
    arrays: dict  # keyword arguments, in the order of the function's signature
    dims: dict  # the letters: {"B": 3, "D": 5, "H": 4}
    judge: str  # "shapes", "values" or "no_mutation"
    seed: int
    extra: dict  # anything else the check needs (dh for a backward pass, a test function)

    def describe(self) -> str:
        """``case 'B = 1' (B=1, D=3, H=4, float64, seed 123)``."""
        parts = [f"{letter}={size}" for letter, size in self.dims.items()]
        arrays = list(self.arrays.values())
        for value in self.arrays.values():
            if isinstance(value, dict):
                arrays.extend(value.values())
        dtypes = {array.dtype.name for array in arrays if isinstance(array, np.ndarray)}
        if dtypes:  # a case of plain Python values (a step function, token ids) has none
            parts.append("/".join(sorted(dtypes)))
        parts.append(f"seed {self.seed}")
        return f"case {self.name!r} ({', '.join(parts)})"


def new_seed() -> int:
    """A fresh seed from the operating system's entropy, small enough to read and retype."""
    return int(np.random.SeedSequence().entropy % 2**32)


def case_rng(seed: int, index: int) -> np.random.Generator:
    # One independent stream per case, so that case k does not depend on how many cases
    # come before it.
    return np.random.default_rng([seed, index])


def draw_weights(rng, D, H, dtype, gates=1):
    """``Wx`` (D, G*H), ``Wh`` (H, G*H) and ``b`` (G*H,) for a cell with ``gates`` blocks."""
    # Scaled so that pre-activations are of order 1: tanh is then clearly nonlinear, every
    # gate clearly between 0 and 1, and sigmoid, relu, a missing term or a gate read from the
    # wrong block give values far outside any tolerance.
    G = gates
    return {
        "Wx": (rng.standard_normal((D, G * H)) / np.sqrt(D)).astype(dtype),  # (D, G*H)
        "Wh": (0.8 * rng.standard_normal((H, G * H)) / np.sqrt(H)).astype(dtype),  # (H, G*H)
        "b": (0.5 * rng.standard_normal(G * H)).astype(dtype),  # (G*H,)
    }


def draw_state(rng, B, H, dtype, zero):
    """A hidden state (B, H): zeros, or values inside tanh's range."""
    if zero:
        return np.zeros((B, H), dtype=dtype)  # (B, H)
    return rng.uniform(-0.9, 0.9, size=(B, H)).astype(dtype)  # (B, H), inside tanh's range


def draw_rnn_step(rng, B, D, H, dtype=np.float64, zero_state=False) -> dict:
    """Arguments of ``rnn_step_forward(x, h_prev, Wx, Wh, b)`` and an upstream ``dh_next``."""
    x = rng.standard_normal((B, D)).astype(dtype)  # (B, D)
    h_prev = draw_state(rng, B, H, dtype, zero_state)  # (B, H)
    weights = draw_weights(rng, D, H, dtype)
    arrays = {"x": x, "h_prev": h_prev, **weights}
    dh_next = rng.standard_normal((B, H)).astype(dtype)  # (B, H)
    return {"arrays": arrays, "dh_next": dh_next}


def draw_rnn_sequence(rng, B, T, D, H, dtype=np.float64, zero_state=False) -> dict:
    """Arguments of ``rnn_forward(x, h0, Wx, Wh, b)`` and an upstream ``dh``."""
    x = rng.standard_normal((B, T, D)).astype(dtype)  # (B, T, D)
    h0 = draw_state(rng, B, H, dtype, zero_state)  # (B, H)
    weights = draw_weights(rng, D, H, dtype)
    arrays = {"x": x, "h0": h0, **weights}
    dh = rng.standard_normal((B, T, H)).astype(dtype)  # (B, T, H)
    return {"arrays": arrays, "dh": dh}


def step_case_table(state: str = "h_prev") -> dict:
    """The case sets of a one-step check, as (name, B, D, H, dtype, zero_state) rows.

    ``state`` names the initial state in the case names ("h_prev", or "h_prev and c_prev" for
    the LSTM). The visible case has B, D and H all different so that a swapped axis shows in
    the shape message. Every cell is checked at the same sizes.
    """
    return {
        "shapes": [("B=3, D=5, H=4", 3, 5, 4, np.float64, False)],
        "visible": [(f"nonzero {state}", 3, 5, 4, np.float64, False)],
        "hidden": [
            ("B = 1", 1, 3, 4, np.float64, False),
            ("D != H", 2, 7, 3, np.float64, False),
            ("D == H", 4, 5, 5, np.float64, False),
            (f"zero {state}", 3, 5, 4, np.float64, True),
            ("float32", 3, 5, 4, np.float32, False),
        ],
        "no_mutation": [("no mutation", 2, 4, 5, np.float64, False)],
    }


def sequence_case_table(
    long_length: int = 10, torch_module: str | None = None, gradient_check_H: int = 4
) -> dict:
    """The case sets of a sequence check, as (name, B, T, D, H, dtype, zero_state) rows.

    ``long_length`` is T of the long hidden case; ``torch_module`` ("torch.nn.RNN", ...) adds
    the "torch" set, compared with that module; ``gradient_check_H`` is H of the first
    finite-difference case (small for the gated cells, whose checks cost G times more).
    """
    table = {
        "shapes": [("B=3, T=4, D=5, H=6", 3, 4, 5, 6, np.float64, False)],
        "visible": [("nonzero h0", 3, 4, 5, 6, np.float64, False)],
        "hidden": [
            ("B = 1", 1, 4, 3, 5, np.float64, False),
            ("T = 1", 3, 1, 4, 2, np.float64, False),
            ("D != H", 2, 5, 8, 3, np.float64, False),
            (f"T = {long_length}, nonzero h0", 2, long_length, 3, 4, np.float64, False),
            ("zero h0", 2, 3, 4, 5, np.float64, True),
            ("float32", 3, 4, 5, 6, np.float32, False),
        ],
        "no_mutation": [("no mutation", 2, 3, 4, 5, np.float64, False)],
    }
    if torch_module is not None:
        table["torch"] = [
            (torch_module, 3, 5, 4, 6, np.float64, False),
            (f"{torch_module}, B = 1", 1, 3, 2, 3, np.float64, False),
        ]
    table["gradient_check"] = [
        ("finite differences", 2, 3, 3, gradient_check_H, np.float64, False),
        ("finite differences, T = 1", 1, 1, 2, 3, np.float64, False),
    ]
    return table


_STEP_SHAPES = step_case_table("h_prev")
_SEQUENCE_SHAPES = sequence_case_table(10, "torch.nn.RNN", gradient_check_H=4)


def _unknown(function_name, cases, known):
    names = ", ".join(repr(name) for name in known)
    return ValueError(f"{function_name} has no case set {cases!r}; choose one of {names}")


def rnn_step_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``rnn_step_forward`` / ``rnn_step_backward``."""
    if cases not in _STEP_SHAPES:
        raise _unknown("rnn_step_forward", cases, _STEP_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, D, H, dtype, zero) in enumerate(_STEP_SHAPES[cases]):
        values = draw_rnn_step(case_rng(seed, index), B, D, H, dtype, zero)
        judge = cases if cases in ("shapes", "no_mutation") else "values"
        extra = {"dout": values["dh_next"]}
        drawn.append(Case(name, values["arrays"], {"B": B, "D": D, "H": H}, judge, seed, extra))
    return drawn


def rnn_sequence_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``rnn_forward`` / ``rnn_backward``."""
    if cases not in _SEQUENCE_SHAPES:
        raise _unknown("rnn_forward", cases, _SEQUENCE_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, T, D, H, dtype, zero) in enumerate(_SEQUENCE_SHAPES[cases]):
        values = draw_rnn_sequence(case_rng(seed, index), B, T, D, H, dtype, zero)
        judge = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {"B": B, "T": T, "D": D, "H": H}
        extra = {"dout": values["dh"], "reference": cases}
        drawn.append(Case(name, values["arrays"], dims, judge, seed, extra))
    return drawn


class TestFunction(NamedTuple):
    """A function with a derivative we know in closed form, for checking numerical_gradient."""

    name: str  # as the student reads it: "f(x) = x**3"
    f: object  # callable: ndarray -> ndarray
    derivative: object  # callable: (x, dout) -> gradient of sum(f(x) * dout)


def _test_functions(rng, dtype=np.float64):
    W = rng.standard_normal((4, 3)).astype(dtype)  # (4, 3)
    return {
        "cube": TestFunction("f(x) = x**3", lambda x: x**3, lambda x, dout: 3 * x**2 * dout),
        "sin": TestFunction("f(x) = sin(x)", lambda x: np.sin(x), lambda x, dout: np.cos(x) * dout),
        "matmul": TestFunction("f(x) = x @ W", lambda x: x @ W, lambda x, dout: dout @ W.T),
        "tanh": TestFunction(
            "f(x) = tanh(x)", lambda x: np.tanh(x), lambda x, dout: (1 - np.tanh(x) ** 2) * dout
        ),
        "sum_of_squares": TestFunction(
            "f(x) = sum(x**2) (a scalar)", lambda x: np.sum(x**2), lambda x, dout: 2 * x * dout
        ),
    }


# (name, test function, shape of x, eps or None for the student's default, judged against)
# "derivative": the closed-form derivative; "centred": rnncore's centred difference with the
# same, large eps, which a one-sided difference misses by eps * f''/2.
_NUMERICAL_GRADIENT_CASES = {
    "shapes": [("x of shape (2, 3)", "sin", (2, 3), None, "derivative")],
    "visible": [
        ("f(x) = x**3, x of shape (5,)", "cube", (5,), None, "derivative"),
        ("f(x) = sin(x), x of shape (2, 3)", "sin", (2, 3), None, "derivative"),
    ],
    "centred": [("f(x) = x**3, eps = 1e-3", "cube", (2, 3), 1e-3, "centred")],
    "hidden": [
        ("f(x) = x @ W, x of shape (3, 4)", "matmul", (3, 4), None, "derivative"),
        ("f(x) = tanh(x), x of shape (2, 3, 4)", "tanh", (2, 3, 4), None, "derivative"),
        ("scalar f(x) = sum(x**2)", "sum_of_squares", (3, 2), None, "derivative"),
        ("one element", "cube", (1,), None, "derivative"),
    ],
    "no_mutation": [("no mutation", "sin", (3, 4), None, "no_mutation")],
}


def numerical_gradient_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``numerical_gradient(f, x, dout, eps)``.

    ``arrays`` holds the arguments (``eps`` only when the case sets it; otherwise the
    student's default is used) and ``extra["function"]`` the :class:`TestFunction`.
    """
    if cases not in _NUMERICAL_GRADIENT_CASES:
        raise _unknown("numerical_gradient", cases, _NUMERICAL_GRADIENT_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, key, shape, eps, against) in enumerate(_NUMERICAL_GRADIENT_CASES[cases]):
        rng = case_rng(seed, index)
        test_function = _test_functions(rng)[key]
        x = rng.uniform(-1.5, 1.5, size=shape)  # away from 0 so that x**3 has curvature
        dout = np.asarray(rng.standard_normal(np.shape(test_function.f(x))))
        judge = {"shapes": "shapes", "no_mutation": "no_mutation"}.get(against, "values")
        if cases == "shapes":
            judge = "shapes"
        arrays = {"f": test_function.f, "x": x, "dout": dout}
        if eps is not None:
            arrays["eps"] = eps
        extra = {"function": test_function, "against": against, "eps": eps}
        drawn.append(Case(name, arrays, {}, judge, seed, extra))
    return drawn


# (name, shapes of the gradients, max_norm as a multiple of the true norm, dtype)
_CLIP_CASES = {
    "shapes": [("norm above max_norm", {"dWx": (5, 4), "dWh": (4, 4), "db": (4,)}, 0.5, "f8")],
    "visible": [
        ("norm above max_norm", {"dWx": (5, 4), "dWh": (4, 4), "db": (4,)}, 0.5, "f8"),
        ("one array much larger", {"dWx": (3, 2), "dWh": (2, 2), "db": (2,)}, 0.3, "f8"),
    ],
    "small_norm": [
        ("norm below max_norm", {"dWx": (5, 4), "dWh": (4, 4), "db": (4,)}, 2.0, "f8"),
    ],
    "hidden": [
        ("all gradients zero", {"dWx": (3, 4), "db": (4,)}, 0.0, "f8"),
        ("a single array", {"dW": (6, 3)}, 0.25, "f8"),
        ("float32", {"dWx": (5, 4), "dWh": (4, 4), "db": (4,)}, 0.5, "f4"),
        ("norm exactly max_norm", {"dWx": (2, 3), "db": (3,)}, 1.0, "f8"),
        ("many arrays", {f"dW{k}": (k + 1, 3) for k in range(6)}, 0.1, "f8"),
    ],
    "no_mutation": [
        ("no mutation", {"dWx": (5, 4), "dWh": (4, 4), "db": (4,)}, 0.5, "f8"),
    ],
}


def clip_grad_norm_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``clip_grad_norm(grads, max_norm)``: ``arrays`` is ``{grads, max_norm}``."""
    if cases not in _CLIP_CASES:
        raise _unknown("clip_grad_norm", cases, _CLIP_CASES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, shapes, ratio, dtype) in enumerate(_CLIP_CASES[cases]):
        rng = case_rng(seed, index)
        if ratio == 0.0:
            grads = {key: np.zeros(shape, dtype=dtype) for key, shape in shapes.items()}
            max_norm = 1.0
        else:
            grads = {
                key: (3 * rng.standard_normal(shape)).astype(dtype) for key, shape in shapes.items()
            }
            if name == "one array much larger":
                first = next(iter(grads))
                grads[first] = grads[first] * 100
            norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))
            max_norm = float(ratio * norm)
        judge = cases if cases in ("shapes", "no_mutation") else "values"
        dims = {key: shape for key, shape in shapes.items()}
        drawn.append(Case(name, {"grads": grads, "max_norm": max_norm}, dims, judge, seed, {}))
    return drawn
