"""Known wrong versions of the graded functions, recognised by name.

Each :class:`Mistake` computes, from the case's inputs, what a function with that one mistake
returns. When a student's output is wrong, the judge computes every mistake's prediction and
names the ones the student's output matches ("your output matches sigmoid instead of tanh").
A mistake predicts only the outputs it changes (``dWh`` for "dWh from one time step"), so
that it is recognised even when the rest of the student's function is right.

Mistakes that are not about values are recognised by the judge from the run itself:
"input modified in place" (:func:`rnncore.grading.judge.judge_modified`) and "the reference
called instead of the student's own code" (:func:`rnncore.grading.judge.judge_reference_calls`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from rnncore.grading.judge import Tolerance, compare

__all__ = [
    "Mistake",
    "recognise",
    "RNN_STEP_FORWARD_MISTAKES",
    "RNN_FORWARD_MISTAKES",
    "RNN_STEP_BACKWARD_MISTAKES",
    "RNN_BACKWARD_MISTAKES",
    "NUMERICAL_GRADIENT_MISTAKES",
    "CLIP_GRAD_NORM_MISTAKES",
    "BEHAVIOUR_MISTAKES",
    "LSTM_STEP_FORWARD_MISTAKES",
    "LSTM_FORWARD_MISTAKES",
    "LSTM_STEP_BACKWARD_MISTAKES",
    "LSTM_BACKWARD_MISTAKES",
    "LSTM_PARAMS_FROM_TORCH_MISTAKES",
    "LSTM_PARAMS_TO_TORCH_MISTAKES",
    "SET_FORGET_BIAS_MISTAKES",
]


class Mistake(NamedTuple):
    """One known wrong version of a function."""

    name: str  # short, in the student's terms: "sigmoid instead of tanh"
    explanation: str  # what to change
    predict: Callable  # (arrays: dict, extra: dict) -> {output name: array}, or None


def recognise(
    mistakes: Sequence[Mistake],
    arrays: dict,
    extra: dict,
    outputs: dict,
    expected: dict,
    tolerance: Tolerance,
) -> list[Mistake]:
    """The mistakes whose prediction matches the student's ``outputs``.

    A mistake matches when every output it predicts is close to the student's, and at least
    one predicted output differs from the reference (otherwise the mistake is invisible on
    these inputs, for example "initial state ignored" with a zero initial state).
    """
    matched = []
    for mistake in mistakes:
        try:
            predicted = mistake.predict(arrays, extra)
        except ValueError:  # shapes the mistake cannot run on (x @ Wh with D != H)
            continue
        if not predicted:
            continue
        if any(np.shape(outputs[name]) != np.shape(value) for name, value in predicted.items()):
            continue
        visible = any(
            compare(value, expected[name], tolerance) is not None
            for name, value in predicted.items()
        )
        if visible and all(
            compare(outputs[name], value, tolerance) is None for name, value in predicted.items()
        ):
            matched.append(mistake)
    return matched


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda a: np.maximum(a, 0),
    "identity": lambda a: a,
}


def _pre_activation(x, h_prev, Wx, Wh, b, weights="right", bias=True):
    """``x @ Wx + h_prev @ Wh + b``, or one of the usual wrong pairings of weights."""
    if weights == "right":
        a = x @ Wx + h_prev @ Wh  # (B, H)
    elif weights == "swapped":
        a = x @ Wh + h_prev @ Wx  # (B, H), only runs when D == H
    elif weights == "Wh for Wx":
        a = x @ Wh + h_prev @ Wh  # (B, H), only runs when D == H
    elif weights == "Wh transposed":
        a = x @ Wx + h_prev @ Wh.T  # (B, H)
    else:
        raise KeyError(weights)
    return a + b if bias else a


def _step(arrays, activation="tanh", weights="right", bias=True, use_state=True):
    x, h_prev, Wx, Wh, b = arrays.values()
    if x.shape[1] != Wh.shape[0] and weights in ("swapped", "Wh for Wx"):
        raise ValueError("needs D == H")
    state = h_prev if use_state else np.zeros_like(h_prev)  # (B, H)
    return _ACTIVATIONS[activation](_pre_activation(x, state, Wx, Wh, b, weights, bias))


def _sequence(arrays, activation="tanh", weights="right", bias=True, use_h0=True, carry=True):
    x, h0, Wx, Wh, b = arrays.values()
    B, T, D = x.shape
    if D != Wh.shape[0] and weights in ("swapped", "Wh for Wx"):
        raise ValueError("needs D == H")
    start = h0 if use_h0 else np.zeros_like(h0)  # (B, H)
    h = np.empty((B, T, Wh.shape[0]), dtype=np.result_type(x, h0))  # (B, T, H)
    h_prev = start
    for t in range(T):
        a = _pre_activation(x[:, t], h_prev, Wx, Wh, b, weights, bias)  # (B, H)
        h[:, t] = _ACTIVATIONS[activation](a)
        h_prev = h[:, t] if carry else start
    return h


def _forward_mistakes(output: str, predict: Callable, state: str) -> tuple:
    """The same forward mistakes for the step (``h_next``) and the sequence (``h``)."""
    formula = "x @ Wx + h_prev @ Wh + b" if output == "h_next" else "x_t @ Wx + h_{t-1} @ Wh + b"
    return (
        Mistake(
            "sigmoid instead of tanh",
            f"{output} matches sigmoid({formula}). The vanilla RNN squashes with tanh, whose "
            "values lie in (-1, 1); sigmoid is for gates.",
            lambda arrays, extra: {output: predict(arrays, activation="sigmoid")},
        ),
        Mistake(
            "relu instead of tanh",
            f"{output} matches relu({formula}). Use np.tanh.",
            lambda arrays, extra: {output: predict(arrays, activation="relu")},
        ),
        Mistake(
            "activation missing",
            f"{output} matches {formula} without tanh. Apply np.tanh to the sum.",
            lambda arrays, extra: {output: predict(arrays, activation="identity")},
        ),
        Mistake(
            "bias missing",
            f"{output} matches tanh({formula.replace(' + b', '')}): add the bias b.",
            lambda arrays, extra: {output: predict(arrays, bias=False)},
        ),
        Mistake(
            "initial state ignored",
            f"{output} matches a computation that starts from zeros instead of {state}. "
            f"Use the {state} you are given: it carries what came before.",
            lambda arrays, extra: {
                output: predict(arrays, **{"use_state" if output == "h_next" else "use_h0": False})
            },
        ),
        Mistake(
            "Wx and Wh swapped",
            f"{output} matches x @ Wh + h @ Wx. Wx (D, H) multiplies the input x, Wh (H, H) "
            "multiplies the previous hidden state.",
            lambda arrays, extra: {output: predict(arrays, weights="swapped")},
        ),
        Mistake(
            "Wh used where Wx belongs",
            f"{output} matches x @ Wh + h @ Wh. The input term is x @ Wx.",
            lambda arrays, extra: {output: predict(arrays, weights="Wh for Wx")},
        ),
        Mistake(
            "Wh transposed",
            f"{output} matches h @ Wh.T. In the course's row-vector maths the recurrent term "
            "is h_prev @ Wh, with Wh of shape (H, H) indexed (from unit, to unit).",
            lambda arrays, extra: {output: predict(arrays, weights="Wh transposed")},
        ),
    )


RNN_STEP_FORWARD_MISTAKES = _forward_mistakes("h_next", _step, "h_prev")

RNN_FORWARD_MISTAKES = _forward_mistakes("h", _sequence, "h0") + (
    Mistake(
        "hidden state not carried over time",
        "h matches a loop in which every step starts from h0 instead of the previous step's "
        "hidden state. Inside the loop, set h_prev to the h_next you just computed.",
        lambda arrays, extra: {"h": _sequence(arrays, carry=False)},
    ),
)


def _step_gradients(arrays, dout, tanh_grad="1 - h**2", state_for_dWh="h_prev"):
    x, h_prev, Wx, Wh, b = arrays.values()
    h_next = _step(arrays)  # (B, H)
    local = {"1 - h**2": 1 - h_next**2, "1 - h": 1 - h_next, "none": 1.0}[tanh_grad]
    da = dout * local  # (B, H)
    state = h_prev if state_for_dWh == "h_prev" else h_next  # (B, H)
    return {
        "dx": da @ Wx.T,  # (B, D)
        "dh_prev": da @ Wh.T,  # (B, H)
        "dWx": x.T @ da,  # (D, H)
        "dWh": state.T @ da,  # (H, H)
        "db": da.sum(axis=0),  # (H,)
    }


_TANH_GRADIENT = "The derivative of tanh is 1 - tanh(a)**2 = 1 - h**2, with h the step's output."

RNN_STEP_BACKWARD_MISTAKES = (
    Mistake(
        "tanh derivative written as 1 - h",
        "Your gradients match da = dh_next * (1 - h_next). " + _TANH_GRADIENT,
        lambda arrays, extra: _step_gradients(arrays, extra["dout"], tanh_grad="1 - h"),
    ),
    Mistake(
        "tanh derivative missing",
        "Your gradients match da = dh_next, without the derivative of tanh. " + _TANH_GRADIENT,
        lambda arrays, extra: _step_gradients(arrays, extra["dout"], tanh_grad="none"),
    ),
    Mistake(
        "dWh uses h_next instead of h_prev",
        "dWh matches h_next.T @ da. Wh multiplied h_prev in the forward pass, so "
        "dWh = h_prev.T @ da.",
        lambda arrays, extra: {
            "dWh": _step_gradients(arrays, extra["dout"], state_for_dWh="h_next")["dWh"]
        },
    ),
)


def _bptt(arrays, dh, tanh_grad="1 - h**2", carry=True, single_step=None, state="h_prev"):
    """Backpropagation through time with switches for the usual mistakes.

    ``single_step=("dWh", t)`` keeps only step t's contribution to dWh (not accumulated).
    """
    x, h0, Wx, Wh, b = arrays.values()
    h = _sequence(arrays)  # (B, T, H)
    B, T, H = h.shape
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (B, T, H), h_{t-1}
    gradients = {
        "dx": np.zeros_like(x),  # (B, T, D)
        "dWx": np.zeros_like(Wx),  # (D, H)
        "dWh": np.zeros_like(Wh),  # (H, H)
        "db": np.zeros_like(b),  # (H,)
    }
    future = np.zeros((B, H), dtype=h.dtype)  # (B, H), gradient arriving from step t + 1
    for t in reversed(range(T)):
        total = dh[:, t] + (future if carry else 0)  # (B, H)
        local = {"1 - h**2": 1 - h[:, t] ** 2, "1 - h": 1 - h[:, t]}[tanh_grad]
        da = total * local  # (B, H)
        state_t = h_before[:, t] if state == "h_prev" else h[:, t]  # (B, H)
        contributions = {
            "dWx": x[:, t].T @ da,  # (D, H)
            "dWh": state_t.T @ da,  # (H, H)
            "db": da.sum(axis=0),  # (H,)
        }
        for name, value in contributions.items():
            if single_step is not None and single_step[0] == name:
                if t == single_step[1]:
                    gradients[name] = value
            else:
                gradients[name] = gradients[name] + value
        gradients["dx"][:, t] = da @ Wx.T  # (B, D)
        future = da @ Wh.T  # (B, H)
    return {
        "dx": gradients["dx"],
        "dh0": future,
        "dWx": gradients["dWx"],
        "dWh": gradients["dWh"],
        "db": gradients["db"],
    }


def _one_step_only(name: str) -> tuple:
    def predict_first(arrays, extra):
        return {name: _bptt(arrays, extra["dout"], single_step=(name, 0))[name]}

    def predict_last(arrays, extra):
        T = arrays["x"].shape[1]
        return {name: _bptt(arrays, extra["dout"], single_step=(name, T - 1))[name]}

    explanation = (
        f"{name} matches the contribution of a single time step. {name} is a sum over all "
        f"time steps: start from zeros before the loop and add ({name} += ...) at every step."
    )
    return (
        Mistake(
            f"{name} not accumulated over time (only the step t = 0)", explanation, predict_first
        ),
        Mistake(
            f"{name} not accumulated over time (only the last step)", explanation, predict_last
        ),
    )


RNN_BACKWARD_MISTAKES = (
    Mistake(
        "tanh derivative written as 1 - h",
        "Your gradients match da_t = (...) * (1 - h_t). " + _TANH_GRADIENT,
        lambda arrays, extra: _bptt(arrays, extra["dout"], tanh_grad="1 - h"),
    ),
    Mistake(
        "gradient from later time steps not carried back",
        "Your gradients match a backward pass in which step t only receives dh[:, t]. The "
        "hidden state h_t also feeds step t + 1, so add the gradient dh_prev returned by step "
        "t + 1 to dh[:, t] before backpropagating through step t.",
        lambda arrays, extra: _bptt(arrays, extra["dout"], carry=False),
    ),
    *_one_step_only("dWh"),
    *_one_step_only("db"),
    *_one_step_only("dWx"),
    Mistake(
        "dWh uses h_t instead of h_{t-1}",
        "dWh matches sum_t h_t.T @ da_t. Wh multiplies the previous state, so "
        "dWh = sum_t h_{t-1}.T @ da_t, with h_{-1} = h0.",
        lambda arrays, extra: {"dWh": _bptt(arrays, extra["dout"], state="h_t")["dWh"]},
    ),
)


def _finite_difference(f, x, dout, eps, kind="centred", weighted=True, denominator=None):
    point = x.astype(np.float64).copy()
    grad = np.zeros(x.shape)
    weights = dout if weighted else 1.0
    for index in np.ndindex(x.shape):
        original = point[index]
        point[index] = original + eps
        plus = np.sum(np.asarray(f(point)) * weights)
        point[index] = original - eps if kind == "centred" else original
        minus = np.sum(np.asarray(f(point)) * weights)
        point[index] = original
        step = (2 * eps if kind == "centred" else eps) if denominator is None else denominator
        grad[index] = (plus - minus) / step
    return grad


def _numerical(kind="centred", weighted=True, halve=False):
    def predict(arrays, extra):
        f, x, dout = extra["function"].f, arrays["x"], arrays["dout"]
        eps = extra["eps"] if extra["eps"] is not None else 1e-6
        denominator = eps if halve else None
        return {"grad": _finite_difference(f, x, dout, eps, kind, weighted, denominator)}

    return predict


NUMERICAL_GRADIENT_MISTAKES = (
    Mistake(
        "one-sided difference",
        "Your result matches (f(x + eps) - f(x)) / eps, whose error shrinks like eps. Use the "
        "centred difference (f(x + eps) - f(x - eps)) / (2 eps): its error shrinks like eps**2.",
        _numerical(kind="one-sided"),
    ),
    Mistake(
        "dout ignored",
        "Your result matches the gradient of sum(f(x)), not of sum(f(x) * dout). Multiply "
        "the difference f(x + eps) - f(x - eps) by dout before summing.",
        _numerical(weighted=False),
    ),
    Mistake(
        "divided by eps instead of 2 eps",
        "Your result is twice the gradient: the two points x + eps and x - eps are 2 eps "
        "apart, so divide by 2 * eps.",
        _numerical(halve=True),
    ),
)


def _global_norm(grads):
    return float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values())))


def _clip(arrays, extra, how):
    grads, max_norm = arrays["grads"], arrays["max_norm"]
    norm = _global_norm(grads)
    if how == "per array":
        clipped = {}
        for name, g in grads.items():
            own = float(np.sqrt(np.sum(g.astype(np.float64) ** 2)))
            clipped[name] = g * (max_norm / own) if own > max_norm else g.copy()
        return {"clipped": clipped}
    if how == "by value":
        return {"clipped": {name: np.clip(g, -max_norm, max_norm) for name, g in grads.items()}}
    if how == "always":
        if norm == 0:
            return None
        return {"clipped": {name: g * (max_norm / norm) for name, g in grads.items()}}
    if how == "norm after":
        return {"total_norm": np.float64(min(norm, max_norm))}
    if how == "squared":
        return {"total_norm": np.float64(norm**2)}
    if how == "sum of norms":
        total = sum(float(np.sqrt(np.sum(g.astype(np.float64) ** 2))) for g in grads.values())
        clipped = {
            name: g * (max_norm / total) if total > max_norm else g.copy()
            for name, g in grads.items()
        }
        return {"clipped": clipped, "total_norm": np.float64(total)}
    raise KeyError(how)


CLIP_GRAD_NORM_MISTAKES = (
    Mistake(
        "each array clipped on its own",
        "Your clipped gradients match clipping every array by its own norm. Clip by the "
        "global norm sqrt(sum over all arrays of sum(g**2)), with one scale for all arrays, "
        "so that the direction of the whole gradient is kept.",
        lambda arrays, extra: _clip(arrays, extra, "per array"),
    ),
    Mistake(
        "clipped by value",
        "Your clipped gradients match np.clip(g, -max_norm, max_norm). Clipping by norm "
        "multiplies every array by max_norm / total_norm when total_norm > max_norm.",
        lambda arrays, extra: _clip(arrays, extra, "by value"),
    ),
    Mistake(
        "rescaled even when the norm is small",
        "Your clipped gradients have norm max_norm even though the total norm was below it. "
        "Only scale when total_norm > max_norm; otherwise return the gradients unchanged.",
        lambda arrays, extra: _clip(arrays, extra, "always"),
    ),
    Mistake(
        "norm after clipping returned",
        "total_norm matches the norm after clipping. Return the norm before clipping: it is "
        "what you monitor to see gradients explode.",
        lambda arrays, extra: _clip(arrays, extra, "norm after"),
    ),
    Mistake(
        "square root missing",
        "total_norm matches the sum of squares. The L2 norm is its square root.",
        lambda arrays, extra: _clip(arrays, extra, "squared"),
    ),
    Mistake(
        "norms of the arrays added",
        "total_norm matches the sum of the arrays' norms. The global norm is "
        "sqrt(sum of the squared norms), as if all arrays were one long vector.",
        lambda arrays, extra: _clip(arrays, extra, "sum of norms"),
    ),
)

# Recognised from the run, not from values (see the module docstring).
BEHAVIOUR_MISTAKES = (
    "input modified in place",
    "the course's reference called instead of your own code",
)


# --- LSTM (assignment a03) ---------------------------------------------------------------
# The gates are stacked i, f, g, o along the last axis. ``order`` names the gate that a wrong
# student reads from each block: "figo" swaps i and f, "ifog" reads PyTorch's i, f, g, o as
# i, f, o, g.


def _lstm_gates(a, H, order="ifgo"):
    blocks = {gate: a[..., k * H : (k + 1) * H] for k, gate in enumerate(order)}
    i, f, o = (_sigmoid(blocks[gate]) for gate in "ifo")  # each (B, H)
    return i, f, np.tanh(blocks["g"]), o


def _lstm_step(x, h_prev, c_prev, Wx, Wh, b, order="ifgo", tanh_c=True, use_c_prev=True):
    H = Wh.shape[0]
    i, f, g, o = _lstm_gates(x @ Wx + h_prev @ Wh + b, H, order)  # each (B, H)
    c_next = (f * c_prev if use_c_prev else 0) + i * g  # (B, H)
    h_next = o * (np.tanh(c_next) if tanh_c else c_next)  # (B, H)
    return h_next, c_next


def _lstm_sequence(arrays, order="ifgo", tanh_c=True, carry_c=True):
    x, h0, Wx, Wh, b = arrays.values()
    B, T, _ = x.shape
    H = Wh.shape[0]
    h = np.empty((B, T, H), dtype=np.result_type(x, h0))  # (B, T, H)
    h_prev, c_prev = h0, np.zeros_like(h0)  # (B, H), (B, H)
    for t in range(T):
        h_prev, c_next = _lstm_step(x[:, t], h_prev, c_prev, Wx, Wh, b, order, tanh_c)
        h[:, t] = h_prev
        c_prev = c_next if carry_c else np.zeros_like(h0)
    return h


_GATE_ORDER = (
    "The four blocks of H columns of Wx, Wh and b are the gates i, f, g, o, in this order "
    "(PyTorch's): a[:, :H] is i, a[:, H:2H] is f, a[:, 2H:3H] is g, a[:, 3H:] is o."
)


def _lstm_forward_mistakes(outputs: tuple, predict: Callable) -> tuple:
    """Mistakes shared by lstm_step_forward (h_next, c_next) and lstm_forward (h)."""

    def keep(predicted):
        return dict(zip(outputs, predicted, strict=False))

    def h_only(predicted):
        return {outputs[0]: predicted[0]}

    return (
        Mistake(
            "gates i and f swapped",
            "Your output matches an LSTM whose input and forget gates are swapped. " + _GATE_ORDER,
            lambda arrays, extra: keep(predict(arrays, order="figo")),
        ),
        Mistake(
            "gates g and o swapped",
            "Your output matches an LSTM that reads the blocks as i, f, o, g. " + _GATE_ORDER,
            lambda arrays, extra: keep(predict(arrays, order="ifog")),
        ),
        Mistake(
            "tanh of c missing from h",
            f"{outputs[0]} matches o * c. The hidden state squashes the cell state: "
            "h = o * tanh(c).",
            lambda arrays, extra: h_only(predict(arrays, tanh_c=False)),
        ),
    )


def _step_prediction(arrays, **switches):
    return _lstm_step(*arrays.values(), **switches)


def _sequence_prediction(arrays, **switches):
    return (_lstm_sequence(arrays, **switches),)


LSTM_STEP_FORWARD_MISTAKES = _lstm_forward_mistakes(("h_next", "c_next"), _step_prediction) + (
    Mistake(
        "previous cell state ignored",
        "c_next matches i * g: the cell state keeps what the forget gate lets through, "
        "c_next = f * c_prev + i * g.",
        lambda arrays, extra: dict(
            zip(("h_next", "c_next"), _step_prediction(arrays, use_c_prev=False), strict=True)
        ),
    ),
)

LSTM_FORWARD_MISTAKES = _lstm_forward_mistakes(("h",), _sequence_prediction) + (
    Mistake(
        "cell state not carried over time",
        "h matches a loop in which every step starts from a zero cell state. Inside the loop, "
        "pass the c_next you just computed as the next step's c_prev (and h_next as h_prev).",
        lambda arrays, extra: {"h": _lstm_sequence(arrays, carry_c=False)},
    ),
)


def _lstm_step_backward(x, h_prev, c_prev, Wx, Wh, b, dh_next, dc_next, h_path="full"):
    """One step's gradients; ``h_path`` is how dh_next reaches the cell state."""
    H = Wh.shape[0]
    i, f, g, o = _lstm_gates(x @ Wx + h_prev @ Wh + b, H)  # each (B, H)
    tanh_c = np.tanh(f * c_prev + i * g)  # (B, H)
    through_h = {
        "full": dh_next * o * (1 - tanh_c**2),
        "no tanh derivative": dh_next * o,
        "missing": 0.0,
    }[h_path]
    dc = dc_next + through_h  # (B, H)
    da = np.concatenate(
        [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2)]
        + [dh_next * tanh_c * o * (1 - o)],
        axis=-1,
    )  # (B, 4H)
    return {
        "dx": da @ Wx.T,  # (B, D)
        "dh_prev": da @ Wh.T,  # (B, H)
        "dc_prev": dc * f,  # (B, H)
        "dWx": x.T @ da,  # (D, 4H)
        "dWh": h_prev.T @ da,  # (H, 4H)
        "db": da.sum(axis=0),  # (4H,)
        "dc": dc,  # (B, H), for the mistake "dc_prev not multiplied by f"
    }


def _step_backward_prediction(arrays, extra, **switches):
    gradients = _lstm_step_backward(*arrays.values(), extra["dout"], extra["dc_next"], **switches)
    gradients.pop("dc")
    return gradients


_CELL_GRADIENT = (
    "The cell state reaches the loss directly (dc_next) and through h = o * tanh(c), so "
    "dc = dc_next + dh_next * o * (1 - tanh(c_next)**2)."
)

LSTM_STEP_BACKWARD_MISTAKES = (
    Mistake(
        "gradient from h_next to the cell state missing",
        "Your gradients match dc = dc_next. " + _CELL_GRADIENT,
        lambda arrays, extra: _step_backward_prediction(arrays, extra, h_path="missing"),
    ),
    Mistake(
        "tanh derivative missing on the path from h to c",
        "Your gradients match dc = dc_next + dh_next * o. " + _CELL_GRADIENT,
        lambda arrays, extra: _step_backward_prediction(arrays, extra, h_path="no tanh derivative"),
    ),
    Mistake(
        "dc_prev not multiplied by the forget gate",
        "dc_prev matches dc. c_next = f * c_prev + i * g, so dc_prev = dc * f.",
        lambda arrays, extra: {
            "dc_prev": _lstm_step_backward(*arrays.values(), extra["dout"], extra["dc_next"])["dc"]
        },
    ),
)


def _lstm_bptt(arrays, dh, carry_h=True, carry_c=True, h_path="full"):
    x, h0, Wx, Wh, b = arrays.values()
    B, T, _ = x.shape
    H = Wh.shape[0]
    h_prev, c_prev = h0, np.zeros_like(h0)  # (B, H), (B, H)
    steps = []  # the inputs of every step
    for t in range(T):
        steps.append((x[:, t], h_prev, c_prev))
        h_prev, c_prev = _lstm_step(x[:, t], h_prev, c_prev, Wx, Wh, b)
    gradients = {
        "dx": np.zeros_like(x),  # (B, T, D)
        "dWx": np.zeros_like(Wx),  # (D, 4H)
        "dWh": np.zeros_like(Wh),  # (H, 4H)
        "db": np.zeros_like(b),  # (4H,)
    }
    dh_future = np.zeros((B, H), dtype=dh.dtype)  # (B, H), from step t + 1
    dc_future = np.zeros((B, H), dtype=dh.dtype)  # (B, H)
    for t in reversed(range(T)):
        x_t, h_before, c_before = steps[t]
        step = _lstm_step_backward(
            x_t, h_before, c_before, Wx, Wh, b, dh[:, t] + dh_future, dc_future, h_path
        )
        gradients["dx"][:, t] = step["dx"]
        for name in ("dWx", "dWh", "db"):
            gradients[name] = gradients[name] + step[name]
        dh_future = step["dh_prev"] if carry_h else np.zeros_like(dh_future)
        dc_future = step["dc_prev"] if carry_c else np.zeros_like(dc_future)
    # dh0 is the gradient that reaches h0, carried or not
    dh0 = step["dh_prev"]
    return {"dx": gradients["dx"], "dh0": dh0, **{k: gradients[k] for k in ("dWx", "dWh", "db")}}


LSTM_BACKWARD_MISTAKES = (
    Mistake(
        "cell gradient not carried back over time",
        "Your gradients match a backward pass in which every step starts with dc_next = 0. "
        "The cell state c_t also feeds step t + 1: pass the dc_prev returned by step t + 1 as "
        "the dc_next of step t.",
        lambda arrays, extra: _lstm_bptt(arrays, extra["dout"], carry_c=False),
    ),
    Mistake(
        "gradient from later time steps not carried back",
        "Your gradients match a backward pass in which step t only receives dh[:, t]. The "
        "hidden state h_t also feeds step t + 1, so add the dh_prev returned by step t + 1 "
        "to dh[:, t] before backpropagating through step t.",
        lambda arrays, extra: _lstm_bptt(arrays, extra["dout"], carry_h=False),
    ),
    Mistake(
        "gradient from h to the cell state missing",
        "Your gradients match dc = dc_next at every step. " + _CELL_GRADIENT,
        lambda arrays, extra: _lstm_bptt(arrays, extra["dout"], h_path="missing"),
    ),
)


# Weight adapters. ``extra["torch"]`` holds the torch.nn.LSTM's parameters before the
# student's function ran, as NumPy arrays named like torch's: weight_ih_l0 (4H, D),
# weight_hh_l0 (4H, H), bias_ih_l0 (4H,), bias_hh_l0 (4H,).
_EFFECTIVE_BIAS = "bias_ih_l0 + bias_hh_l0"


def _swap_g_o(array):
    """Swap the last two blocks of the gate axis (the last axis): i, f, g, o -> i, f, o, g."""
    H = array.shape[-1] // 4
    i_f, g, o = array[..., : 2 * H], array[..., 2 * H : 3 * H], array[..., 3 * H :]
    return np.concatenate([i_f, o, g], axis=-1)


def _from_torch(extra, biases="both", order="ifgo"):
    weights = extra["torch"]
    b = weights["bias_ih_l0"] + (weights["bias_hh_l0"] if biases == "both" else 0)
    params = {"Wx": weights["weight_ih_l0"].T, "Wh": weights["weight_hh_l0"].T, "b": b}
    if order == "ifog":
        params = {name: _swap_g_o(value) for name, value in params.items()}
    return params


LSTM_PARAMS_FROM_TORCH_MISTAKES = (
    Mistake(
        "bias_hh left out",
        "b matches bias_ih_l0 alone. PyTorch adds both biases to the same pre-activation, so "
        "the one bias of the course is their sum: b = bias_ih_l0 + bias_hh_l0.",
        lambda arrays, extra: {"b": _from_torch(extra, biases="ih")["b"]},
    ),
    Mistake(
        "gate blocks reordered as i, f, o, g",
        "Your weights have the blocks g and o swapped. PyTorch stacks the gates i, f, g, o, "
        "the same order as the course: a transpose is the whole mapping, no block moves.",
        lambda arrays, extra: _from_torch(extra, order="ifog"),
    ),
)


def _to_torch(arrays, extra, biases="split", order="ifgo"):
    Wx, Wh, b = arrays["Wx"], arrays["Wh"], arrays["b"]
    if order == "ifog":
        Wx, Wh, b = _swap_g_o(Wx), _swap_g_o(Wh), _swap_g_o(b)
    effective = {
        "split": b,
        "both": 2 * b,
        "bias_hh unchanged": b + extra["torch"]["bias_hh_l0"],
    }[biases]
    return {"weight_ih_l0": Wx.T, "weight_hh_l0": Wh.T, _EFFECTIVE_BIAS: effective}


LSTM_PARAMS_TO_TORCH_MISTAKES = (
    Mistake(
        "b copied into both biases",
        f"{_EFFECTIVE_BIAS} matches 2 * b. PyTorch adds both biases, so copying b into each "
        "counts it twice: set bias_ih_l0 = b and bias_hh_l0 = 0.",
        lambda arrays, extra: {
            _EFFECTIVE_BIAS: _to_torch(arrays, extra, biases="both")[_EFFECTIVE_BIAS]
        },
    ),
    Mistake(
        "bias_hh left as it was",
        f"{_EFFECTIVE_BIAS} matches b plus the module's old bias_hh_l0. PyTorch adds both "
        "biases: set bias_hh_l0 to zero (or split b between the two).",
        lambda arrays, extra: {
            _EFFECTIVE_BIAS: _to_torch(arrays, extra, biases="bias_hh unchanged")[_EFFECTIVE_BIAS]
        },
    ),
    Mistake(
        "gate blocks reordered as i, f, o, g",
        "The module's weights have the blocks g and o swapped. PyTorch stacks the gates i, "
        "f, g, o, the same order as the course: a transpose is the whole mapping.",
        lambda arrays, extra: _to_torch(arrays, extra, order="ifog"),
    ),
)


def _forget_bias(extra, how):
    weights = extra["torch"]
    value = extra["value"]
    H = weights["bias_ih_l0"].shape[0] // 4
    effective = weights["bias_ih_l0"] + weights["bias_hh_l0"]  # (4H,)
    forget = slice(H, 2 * H)
    if how == "both":
        effective[forget] = 2 * value
    elif how == "added":
        effective[forget] += value
    elif how == "input gate":
        effective[:H] = value
    else:
        raise KeyError(how)
    return {_EFFECTIVE_BIAS: effective}


_FORGET = (
    "PyTorch adds bias_ih_l0 and bias_hh_l0, so the forget gate's effective bias is the sum "
    "of their blocks [H:2H]: set one to value and the other to 0."
)

SET_FORGET_BIAS_MISTAKES = (
    Mistake(
        "forget bias set on both biases",
        "The forget gate's effective bias is 2 * value: you set bias_ih_l0[H:2H] and "
        "bias_hh_l0[H:2H] both to value. " + _FORGET,
        lambda arrays, extra: _forget_bias(extra, "both"),
    ),
    Mistake(
        "value added to the forget bias",
        "The forget gate's effective bias is its old value plus value; it must equal value. "
        + _FORGET,
        lambda arrays, extra: _forget_bias(extra, "added"),
    ),
    Mistake(
        "bias set on the input gate's block",
        "You set the first block [0:H], which is the input gate i. The gates are stacked i, "
        "f, g, o: the forget gate is the block [H:2H].",
        lambda arrays, extra: _forget_bias(extra, "input gate"),
    ),
)
