"""Known wrong versions of the GRU exercise's functions (a04), recognised by name.

The catalogues work as those of :mod:`rnncore.grading.mistakes`: each :class:`Mistake`
computes, from a case's inputs, what a function with that one mistake returns, and the judge
names the mistakes that the student's output matches.

The GRU here is the seed's (reset gate applied to ``h_prev`` before the product,
``h_next = (1 - z) * h_prev + z * h~``), gates stacked r, z, n. The small loops below are
written from the equations, apart from :mod:`rnncore.numpy.gru`, with switches for the
mistakes; ``update="torch"`` and ``reset="after"`` give PyTorch's form, which the adapters'
checks compare with.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnncore.grading.mistakes import Mistake

__all__ = [
    "RZ_BIAS",
    "IH_N_BIAS",
    "HH_N_BIAS",
    "gru_sequence",
    "effective_h",
    "GRU_STEP_FORWARD_MISTAKES",
    "GRU_FORWARD_MISTAKES",
    "GRU_STEP_BACKWARD_MISTAKES",
    "GRU_BACKWARD_MISTAKES",
    "FLIP_UPDATE_GATE_MISTAKES",
    "FLIP_UPDATE_GATE_TORCH_MISTAKES",
    "GRU_PARAMS_TO_TORCH_MISTAKES",
    "GRU_PARAMS_TO_TORCH_OUTPUT_MISTAKES",
]


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def _block(array, gate, H, order="rzn"):
    """The H columns of ``gate`` when the blocks are read in ``order``."""
    k = order.index(gate)
    return array[..., k * H : (k + 1) * H]


def _gru_step(
    x,
    h_prev,
    Wx,
    Wh,
    b,
    b_hn=None,
    order="rzn",
    update="seed",
    reset="before",
    candidate="tanh",
):
    """One GRU step with switches; ``reset`` is "before", "after" or "missing"; ``candidate``
    is the candidate's squashing function, "tanh", "sigmoid" or "none"."""
    H = Wh.shape[0]
    a_x = x @ Wx + b  # (B, 3H)
    r = _sigmoid(_block(a_x, "r", H, order) + h_prev @ _block(Wh, "r", H, order))  # (B, H)
    z = _sigmoid(_block(a_x, "z", H, order) + h_prev @ _block(Wh, "z", H, order))  # (B, H)
    Wh_n = Wh[:, 2 * H :]  # (H, H)
    if reset == "before":
        hidden = (r * h_prev) @ Wh_n  # (B, H)
    elif reset == "after":
        hidden = r * (h_prev @ Wh_n + (0 if b_hn is None else b_hn))  # (B, H)
    else:
        hidden = h_prev @ Wh_n  # (B, H)
    a_n = a_x[:, 2 * H :] + hidden  # (B, H)
    squash = {"tanh": np.tanh, "sigmoid": _sigmoid, "none": lambda a: a}[candidate]
    candidate = squash(a_n)  # (B, H)
    if update == "seed":
        return (1 - z) * h_prev + z * candidate  # (B, H)
    return z * h_prev + (1 - z) * candidate  # (B, H), PyTorch's direction of z


def gru_sequence(x, h0, Wx, Wh, b, b_hn=None, carry=True, **switches):
    """Every hidden state (B, T, H) of the GRU of :func:`_gru_step` with ``switches``."""
    B, T, _ = x.shape
    h = np.empty((B, T, Wh.shape[0]), dtype=np.result_type(x, h0))  # (B, T, H)
    h_prev = h0
    for t in range(T):
        h[:, t] = _gru_step(x[:, t], h_prev, Wx, Wh, b, b_hn, **switches)
        h_prev = h[:, t] if carry else h0
    return h


_GATES = (
    "The three blocks of H columns of Wx, Wh and b are r, z, n, in this order (PyTorch's): "
    "a[:, :H] is the reset gate, a[:, H:2H] the update gate, a[:, 2H:] the candidate."
)
_EQUATIONS = "h~ = tanh(x Wx_n + (r * h_prev) Wh_n + b_n) and h_next = (1 - z) * h_prev + z * h~"


def _forward_mistakes(output: str, predict: Callable) -> tuple:
    """Mistakes shared by gru_step_forward (``h_next``) and gru_forward (``h``)."""

    def mistake(name, explanation, **switches):
        return Mistake(name, explanation, lambda arrays, extra: {output: predict(arrays, switches)})

    return (
        mistake(
            "update-gate sign reversed",
            f"{output} matches h = z * h_prev + (1 - z) * h~: the update gate points the other "
            "way (that is PyTorch's convention, and Cho et al.'s). In this assignment z is the "
            "share of the new candidate: h = (1 - z) * h_prev + z * h~.",
            update="torch",
        ),
        mistake(
            "reset gate applied after the product",
            f"{output} matches h~ = tanh(x Wx_n + r * (h_prev Wh_n) + b_n), PyTorch's placement. "
            "In this assignment the reset gate scales h_prev before the product: "
            "h~ = tanh(x Wx_n + (r * h_prev) Wh_n + b_n).",
            reset="after",
        ),
        mistake(
            "gates r and z swapped",
            f"{output} matches a GRU that reads the first block as z and the second as r. "
            + _GATES,
            order="zrn",
        ),
        mistake(
            "reset gate missing",
            f"{output} matches h~ = tanh(x Wx_n + h_prev Wh_n + b_n), without r. The reset gate "
            "decides how much of h_prev the candidate sees: (r * h_prev) Wh_n.",
            reset="missing",
        ),
        mistake(
            "tanh missing from the candidate",
            f"{output} matches h~ = x Wx_n + (r * h_prev) Wh_n + b_n without tanh. The candidate "
            "is squashed into (-1, 1) like the vanilla RNN's state: apply np.tanh.",
            candidate="none",
        ),
        mistake(
            "sigmoid instead of tanh in the candidate",
            f"{output} matches h~ = sigmoid(x Wx_n + (r * h_prev) Wh_n + b_n). The gates r and z "
            "use the sigmoid, to lie in (0, 1); the candidate is a new state and uses tanh, to "
            "lie in (-1, 1) like the vanilla RNN's.",
            candidate="sigmoid",
        ),
    )


def _step_prediction(arrays, switches):
    return _gru_step(*arrays.values(), **switches)


def _sequence_prediction(arrays, switches):
    return gru_sequence(*arrays.values(), **switches)


GRU_STEP_FORWARD_MISTAKES = _forward_mistakes("h_next", _step_prediction)

GRU_FORWARD_MISTAKES = _forward_mistakes("h", _sequence_prediction) + (
    Mistake(
        "hidden state not carried over time",
        "h matches a loop in which every step starts from h0 instead of the previous step's "
        "hidden state. Inside the loop, set h_prev to the h_next you just computed.",
        lambda arrays, extra: {"h": gru_sequence(*arrays.values(), carry=False)},
    ),
    Mistake(
        "initial state ignored",
        "h matches a loop that starts from zeros instead of h0. The first step's h_prev is the "
        "h0 you are given (the state carried over from an earlier chunk, say), not zeros.",
        lambda arrays, extra: {
            "h": gru_sequence(*{**arrays, "h0": np.zeros_like(arrays["h0"])}.values())
        },
    ),
)


# --- backward ------------------------------------------------------------------------------


def _step_gradients(
    x, h_prev, Wx, Wh, b, dh_next, direct=True, through_reset=True, dWh_n_input="r * h_prev"
):
    """One step's gradients (seed's GRU) with switches for the usual mistakes."""
    H = Wh.shape[0]
    a_x = x @ Wx + b  # (B, 3H)
    r = _sigmoid(a_x[:, :H] + h_prev @ Wh[:, :H])  # (B, H)
    z = _sigmoid(a_x[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H])  # (B, H)
    reset_h_prev = r * h_prev  # (B, H)
    candidate = np.tanh(a_x[:, 2 * H :] + reset_h_prev @ Wh[:, 2 * H :])  # (B, H)
    da_n = dh_next * z * (1 - candidate**2)  # (B, H)
    da_z = dh_next * (candidate - h_prev) * z * (1 - z)  # (B, H)
    d_reset_h_prev = da_n @ Wh[:, 2 * H :].T  # (B, H)
    da_r = d_reset_h_prev * h_prev * r * (1 - r)  # (B, H)
    da = np.concatenate([da_r, da_z, da_n], axis=1)  # (B, 3H)
    dh_prev = da[:, : 2 * H] @ Wh[:, : 2 * H].T  # (B, H), through the gates r and z
    if direct:
        dh_prev = dh_prev + dh_next * (1 - z)
    if through_reset:
        dh_prev = dh_prev + d_reset_h_prev * r
    n_input = reset_h_prev if dWh_n_input == "r * h_prev" else h_prev  # (B, H)
    return {
        "dx": da @ Wx.T,  # (B, D)
        "dh_prev": dh_prev,  # (B, H)
        "dWx": x.T @ da,  # (D, 3H)
        "dWh": np.concatenate([h_prev.T @ da[:, : 2 * H], n_input.T @ da_n], axis=1),  # (H, 3H)
        "db": da.sum(axis=0),  # (3H,)
    }


def _step_backward(only=None, **switches):
    def predict(arrays, extra):
        gradients = _step_gradients(*arrays.values(), extra["dout"], **switches)
        return gradients if only is None else {only: gradients[only]}

    return predict


_DH_PREV = (
    "h_prev reaches h_next three ways: directly through (1 - z) * h_prev, through the "
    "candidate's product (r * h_prev) Wh_n, and through the gates r and z. dh_prev adds all "
    "three: dh_next * (1 - z) + (da_n Wh_n^T) * r + [da_r, da_z] Wh_rz^T."
)

GRU_STEP_BACKWARD_MISTAKES = (
    Mistake(
        "direct path (1 - z) * h_prev missing from dh_prev",
        "dh_prev matches a sum without dh_next * (1 - z). " + _DH_PREV,
        _step_backward(only="dh_prev", direct=False),
    ),
    Mistake(
        "path through r * h_prev missing from dh_prev",
        "dh_prev matches a sum without (da_n Wh_n^T) * r. " + _DH_PREV,
        _step_backward(only="dh_prev", through_reset=False),
    ),
    Mistake(
        "dWh's candidate block uses h_prev instead of r * h_prev",
        "dWh[:, 2H:] matches h_prev.T @ da_n. Wh_n multiplied r * h_prev in the forward pass, "
        "so its gradient is (r * h_prev).T @ da_n.",
        _step_backward(only="dWh", dWh_n_input="h_prev"),
    ),
)


def _bptt(arrays, dh, carry=True, **switches):
    """Backpropagation through time for the seed's GRU, built on :func:`_step_gradients`."""
    x, h0, Wx, Wh, b = arrays.values()
    h = gru_sequence(x, h0, Wx, Wh, b)  # (B, T, H)
    B, T, H = h.shape
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (B, T, H), h_{t-1}
    gradients = {"dx": np.zeros_like(x), "dWx": 0, "dWh": 0, "db": 0}
    dh_future = np.zeros((B, H), dtype=dh.dtype)  # (B, H), from step t + 1
    for t in reversed(range(T)):
        step = _step_gradients(x[:, t], h_before[:, t], Wx, Wh, b, dh[:, t] + dh_future, **switches)
        gradients["dx"][:, t] = step["dx"]
        for name in ("dWx", "dWh", "db"):
            gradients[name] = gradients[name] + step[name]
        dh_future = step["dh_prev"] if carry else np.zeros_like(dh_future)
    # dh0 is the gradient that reaches h0, carried or not
    dx, dWx, dWh, db = (gradients[name] for name in ("dx", "dWx", "dWh", "db"))
    return {"dx": dx, "dh0": step["dh_prev"], "dWx": dWx, "dWh": dWh, "db": db}


def _sequence_backward(only=None, **switches):
    def predict(arrays, extra):
        gradients = _bptt(arrays, extra["dout"], **switches)
        return gradients if only is None else {only: gradients[only]}

    return predict


GRU_BACKWARD_MISTAKES = (
    Mistake(
        "gradient from later time steps not carried back",
        "Your gradients match a backward pass in which step t only receives dh[:, t]. The "
        "hidden state h_t also feeds step t + 1, so add the dh_prev returned by step t + 1 "
        "to dh[:, t] before backpropagating through step t.",
        _sequence_backward(carry=False),
    ),
    Mistake(
        "direct path (1 - z) * h_prev missing from dh_prev",
        "Your gradients match a backward pass whose dh_prev lacks dh_next * (1 - z) at every "
        "step. " + _DH_PREV,
        _sequence_backward(direct=False),
    ),
    Mistake(
        "path through r * h_prev missing from dh_prev",
        "Your gradients match a backward pass whose dh_prev lacks (da_n Wh_n^T) * r at every "
        "step. " + _DH_PREV,
        _sequence_backward(through_reset=False),
    ),
    Mistake(
        "dWh's candidate block uses h_{t-1} instead of r_t * h_{t-1}",
        "dWh[:, 2H:] matches sum_t h_{t-1}.T @ da_n. Wh_n multiplied r_t * h_{t-1}, so its "
        "gradient is sum_t (r_t * h_{t-1}).T @ da_n.",
        _sequence_backward(only="dWh", dWh_n_input="h_prev"),
    ),
)


# --- the update gate's sign: flip_update_gate(Wx, Wh, b) -> (Wx, Wh, b) ----------------------


def _flip(arrays, how):
    flipped = {}
    for name in ("Wx", "Wh", "b"):
        array = arrays[name].copy()
        H = array.shape[-1] // 3
        if how == "all":
            array = -array
        elif how == "one minus":
            array[..., H : 2 * H] = 1 - array[..., H : 2 * H]
        elif how == "r block":
            array[..., :H] *= -1
        elif how == "weights only":
            if name != "b":
                array[..., H : 2 * H] *= -1
        else:
            raise KeyError(how)
        flipped[name] = array
    return flipped


_SIGN = (
    "Since sigmoid(-a) = 1 - sigmoid(a), negating the update gate's pre-activation, and only "
    "it, turns z into 1 - z: negate the z block [H:2H] of Wx, Wh and b."
)

FLIP_UPDATE_GATE_MISTAKES = (
    Mistake(
        "every block negated",
        "Your arrays are the negatives of the given ones in every block. Negating r and n "
        "changes the reset gate and the candidate too. " + _SIGN,
        lambda arrays, extra: _flip(arrays, "all"),
    ),
    Mistake(
        "1 - weights instead of their negative",
        "Your z block is 1 - W. 1 - z is a statement about the gate's value, not its "
        "weights: sigmoid(1 - a) is not 1 - sigmoid(a). " + _SIGN,
        lambda arrays, extra: _flip(arrays, "one minus"),
    ),
    Mistake(
        "reset block flipped instead of the update block",
        "You negated the first block [0:H], which is the reset gate r. The gates are stacked "
        "r, z, n. " + _SIGN,
        lambda arrays, extra: _flip(arrays, "r block"),
    ),
    Mistake(
        "bias not flipped",
        "Your Wx and Wh are right but b is unchanged. The bias is part of the pre-activation: "
        + _SIGN,
        lambda arrays, extra: _flip(arrays, "weights only"),
    ),
)


def _torch_output(predict):
    """A flip mistake's effect on torch.nn.GRU's output, the "torch" cases' judged output."""

    def predict_h(arrays, extra):
        flipped = predict(arrays, extra)
        return {"h": _torch_form_h(extra, flipped["Wx"], flipped["Wh"], flipped["b"])}

    return predict_h


def _torch_form_h(extra, Wx, Wh, b):
    """h (B, T, H) of PyTorch's GRU with these weights and the case's b_hn."""
    switches = {"reset": "after", "update": "torch"}
    return gru_sequence(extra["x"], extra["h0"], Wx, Wh, b, extra["b_hn"], **switches)


FLIP_UPDATE_GATE_TORCH_MISTAKES = tuple(
    Mistake(mistake.name, mistake.explanation, _torch_output(mistake.predict))
    for mistake in FLIP_UPDATE_GATE_MISTAKES
)


# --- gru_params_to_torch(Wx, Wh, b, b_hn, module) ----------------------------------------------
# The judged outputs are what torch.nn.GRU computes with: the weights, the sums of the two
# biases for r and z, and the n blocks of the two biases apart (b_hn sits inside r * (...)).

RZ_BIAS = "(bias_ih_l0 + bias_hh_l0)[:2H]"
IH_N_BIAS = "bias_ih_l0[2H:]"
HH_N_BIAS = "bias_hh_l0[2H:]"


def _swap_r_z(array):
    """Swap the first two blocks of the gate axis (the last axis): r, z, n -> z, r, n."""
    H = array.shape[-1] // 3
    return np.concatenate([array[..., H : 2 * H], array[..., :H], array[..., 2 * H :]], -1)


def _to_torch(arrays, extra, how):
    """The effective parameters after the mistake ``how`` (its name), or after none."""
    Wx, Wh, b, b_hn = arrays["Wx"], arrays["Wh"], arrays["b"], arrays["b_hn"]
    old = extra["torch"]
    H = b_hn.shape[0]
    if how == "gate blocks reordered as z, r, n":
        Wx, Wh, b = _swap_r_z(Wx), _swap_r_z(Wh), _swap_r_z(b)
    weight_ih, weight_hh = Wx.T, Wh.T  # (3H, D), (3H, H)
    if how == "reshape instead of transpose":
        weight_ih, weight_hh = Wx.reshape(Wx.shape[::-1]), Wh.reshape(Wh.shape[::-1])
    rz, ih_n, hh_n = b[: 2 * H], b[2 * H :], b_hn
    if how == "b_hn left out":
        hh_n = np.zeros_like(b_hn)
    elif how == "b_hn folded into bias_ih":
        ih_n, hh_n = b[2 * H :] + b_hn, np.zeros_like(b_hn)
    elif how == "b copied into both biases":
        rz, hh_n = 2 * b[: 2 * H], b[2 * H :]
    elif how == "bias_hh left as it was":
        rz, hh_n = b[: 2 * H] + old["bias_hh_l0"][: 2 * H], old["bias_hh_l0"][2 * H :]
    return {
        "weight_ih_l0": weight_ih,  # (3H, D)
        "weight_hh_l0": weight_hh,  # (3H, H)
        RZ_BIAS: rz,  # (2H,)
        IH_N_BIAS: ih_n,  # (H,)
        HH_N_BIAS: hh_n,  # (H,)
    }


def effective_h(extra, effective: dict):
    """h (B, T, H) of torch.nn.GRU holding ``effective`` parameters, on the case's x and h0."""
    Wx, Wh = effective["weight_ih_l0"].T, effective["weight_hh_l0"].T  # (D, 3H), (H, 3H)
    b = np.concatenate([effective[RZ_BIAS], effective[IH_N_BIAS]])  # (3H,)
    return _torch_form_h({**extra, "b_hn": effective[HH_N_BIAS]}, Wx, Wh, b)


_TWO_BIASES = (
    "torch.nn.GRU adds bias_ih_l0 and bias_hh_l0 for r and z, but keeps the n blocks apart: "
    "n = tanh(x W_in + bias_ih_l0[2H:] + r * (h W_hn + bias_hh_l0[2H:])). So bias_ih_l0 = b, "
    "bias_hh_l0[:2H] = 0 and bias_hh_l0[2H:] = b_hn."
)

_TO_TORCH = (
    ("b_hn left out", "bias_hh_l0[2H:] is zero: b_hn is lost. " + _TWO_BIASES),
    (
        "b_hn folded into bias_ih",
        "bias_ih_l0[2H:] matches b_n + b_hn. b_hn sits inside the reset gate's product, "
        "r * (h W_hn + b_hn), so it cannot join the input bias. " + _TWO_BIASES,
    ),
    ("b copied into both biases", "The r and z biases count b twice. " + _TWO_BIASES),
    ("bias_hh left as it was", "The module's old bias_hh_l0 is still added. " + _TWO_BIASES),
    (
        "gate blocks reordered as z, r, n",
        "The module's first two blocks are swapped. torch.nn.GRU stacks the gates r, z, n, "
        "the same order as the course: a transpose is the whole mapping of the weights.",
    ),
    (
        "reshape instead of transpose",
        "weight_ih_l0 matches Wx.reshape(3H, D): the right shape, but the numbers in the wrong "
        "places. torch.nn stores the column form, the transpose of the course's matrices: "
        "weight_ih_l0 = Wx.T and weight_hh_l0 = Wh.T.",
    ),
)


def _to_torch_predict(how, output):
    def predict(arrays, extra):
        effective = _to_torch(arrays, extra, how)
        return effective if output == "parameters" else {"h": effective_h(extra, effective)}

    return predict


GRU_PARAMS_TO_TORCH_MISTAKES = tuple(
    Mistake(name, explanation, _to_torch_predict(name, "parameters"))
    for name, explanation in _TO_TORCH
)

GRU_PARAMS_TO_TORCH_OUTPUT_MISTAKES = tuple(
    Mistake(name, explanation, _to_torch_predict(name, "h")) for name, explanation in _TO_TORCH
)
