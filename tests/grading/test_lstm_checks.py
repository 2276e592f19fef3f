"""The LSTM checks pass honest implementations and fail each known-wrong one with its message.

The "students" below are written the way students write them (loops, tuples as caches), not
derived from rnncore, so that a check cannot pass them by comparing rnncore with itself.
"""

import re

import numpy as np
import pytest
import torch

from rnncore.grading import (
    check_lstm_backward,
    check_lstm_forward,
    check_lstm_params_from_torch,
    check_lstm_params_to_torch,
    check_lstm_step_backward,
    check_lstm_step_forward,
    check_set_forget_bias,
    mistakes,
)

# --- honest students ---------------------------------------------------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def step_forward_with(order="ifgo", tanh_c=True, use_c_prev=True):
    """A student's lstm_step_forward; the switches are the known mistakes."""

    def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
        H = h_prev.shape[1]
        a = x @ Wx + h_prev @ Wh + b
        blocks = {gate: a[:, k * H : (k + 1) * H] for k, gate in enumerate(order)}
        i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
        g = np.tanh(blocks["g"])
        c_next = (f * c_prev if use_c_prev else 0) + i * g
        h_next = o * (np.tanh(c_next) if tanh_c else c_next)
        return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c_next)

    return lstm_step_forward


step_forward = step_forward_with()


def step_forward_float32(x, h_prev, c_prev, Wx, Wh, b):
    """Computes in float32 whatever it is given: within float32's tolerance."""
    return step_forward(*(a.astype(np.float32) for a in (x, h_prev, c_prev, Wx, Wh, b)))


def step_backward_with(h_path="full", f_on_dc_prev=True):
    def lstm_step_backward(dh_next, dc_next, cache):
        x, h_prev, c_prev, Wx, Wh, i, f, g, o, c_next = cache
        tanh_c = np.tanh(c_next)
        through_h = {
            "full": dh_next * o * (1 - tanh_c**2),
            "no tanh derivative": dh_next * o,
            "missing": 0,
        }[h_path]
        dc = dc_next + through_h
        da = np.hstack(
            [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2)]
            + [dh_next * tanh_c * o * (1 - o)]
        )
        dc_prev = dc * f if f_on_dc_prev else dc
        return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)

    return lstm_step_backward


step_backward = step_backward_with()


def forward_with(step=step_forward, carry_c=True):
    def lstm_forward(x, h0, Wx, Wh, b):
        B, T, D = x.shape
        H = h0.shape[1]
        h = np.zeros((B, T, H), dtype=np.result_type(x, h0))
        caches = []
        h_prev, c_prev = h0, np.zeros_like(h0)
        for t in range(T):
            h_prev, c_next, cache = step(x[:, t], h_prev, c_prev, Wx, Wh, b)
            h[:, t] = h_prev
            caches.append(cache)
            c_prev = c_next if carry_c else np.zeros_like(h0)
        return h, caches

    return lstm_forward


forward = forward_with()


def forward_float32(x, h0, Wx, Wh, b):
    return forward(*(a.astype(np.float32) for a in (x, h0, Wx, Wh, b)))


def backward_with(step=step_backward, carry_h=True, carry_c=True):
    def lstm_backward(dh, caches):
        B, T, H = dh.shape
        D = caches[0][0].shape[1]
        dx = np.zeros((B, T, D))
        dWx, dWh, db = 0, 0, 0
        dh_prev, dc_prev = np.zeros((B, H)), np.zeros((B, H))
        for t in reversed(range(T)):
            dx[:, t], dh_step, dc_step, dWx_t, dWh_t, db_t = step(
                dh[:, t] + dh_prev, dc_prev, caches[t]
            )
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
            dh_prev = dh_step if carry_h or t == 0 else np.zeros((B, H))
            dc_prev = dc_step if carry_c else np.zeros((B, H))
        return dx, dh_prev, dWx, dWh, db

    return lstm_backward


backward = backward_with()


def forward_vectorised(x, h0, Wx, Wh, b):
    """Another structure: one input projection, gates kept in one array, cache as a dict."""
    B, T, D = x.shape
    H = h0.shape[1]
    projected = np.einsum("btd,dk->btk", x, Wx) + b
    h, c = [h0], [np.zeros_like(h0)]
    gates = []
    for t in range(T):
        a = projected[:, t] + h[-1] @ Wh
        act = np.concatenate([sigmoid(a[:, : 2 * H]), np.tanh(a[:, 2 * H : 3 * H])], axis=1)
        act = np.concatenate([act, sigmoid(a[:, 3 * H :])], axis=1)
        gates.append(act)
        c.append(act[:, H : 2 * H] * c[-1] + act[:, :H] * act[:, 2 * H : 3 * H])
        h.append(act[:, 3 * H :] * np.tanh(c[-1]))
    return np.stack(h[1:], axis=1), {"x": x, "h": h, "c": c, "gates": gates, "Wx": Wx, "Wh": Wh}


def backward_vectorised(dh, cache):
    x, h, c, gates, Wx, Wh = (cache[k] for k in ("x", "h", "c", "gates", "Wx", "Wh"))
    B, T, H = dh.shape
    da_all = np.zeros((B, T, 4 * H))
    dh_next, dc_next = np.zeros((B, H)), np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        i, f, g, o = np.split(gates[t], 4, axis=1)
        total = dh[:, t] + dh_next
        tanh_c = np.tanh(c[t + 1])
        dc = dc_next + total * o * (1 - tanh_c**2)
        da_all[:, t] = np.hstack(
            [dc * g * i * (1 - i), dc * c[t] * f * (1 - f), dc * i * (1 - g**2)]
            + [total * tanh_c * o * (1 - o)]
        )
        dh_next, dc_next = da_all[:, t] @ Wh.T, dc * f
    h_before = np.stack(h[:-1], axis=1)
    return (
        da_all @ Wx.T,
        dh_next,
        np.einsum("btd,btk->dk", x, da_all),
        np.einsum("bth,btk->hk", h_before, da_all),
        da_all.sum(axis=(0, 1)),
    )


def params_from_torch(module):
    Wx = module.weight_ih_l0.detach().numpy().T.copy()
    Wh = module.weight_hh_l0.detach().numpy().T.copy()
    b = (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy()
    return Wx, Wh, b


def params_from_torch_state_dict(module):
    state = {name: value.numpy() for name, value in module.state_dict().items()}
    return (
        state["weight_ih_l0"].T,
        state["weight_hh_l0"].T,
        state["bias_ih_l0"] + state["bias_hh_l0"],
    )


def params_to_torch(Wx, Wh, b, module):
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        module.bias_ih_l0.copy_(torch.from_numpy(b))
        module.bias_hh_l0.zero_()
    return module


def params_to_torch_half_each(Wx, Wh, b, module):
    """Another split of b between the two biases: same sum, same LSTM."""
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx).T)
        module.weight_hh_l0.copy_(torch.as_tensor(Wh).T)
        module.bias_ih_l0.copy_(torch.as_tensor(b / 2))
        module.bias_hh_l0.copy_(torch.as_tensor(b / 2))
    return module


def set_forget_bias(module, value=1.0):
    H = module.hidden_size
    with torch.no_grad():
        module.bias_ih_l0[H : 2 * H] = value
        module.bias_hh_l0[H : 2 * H] = 0
    return module


def set_forget_bias_keep_ih(module, value=1.0):
    """Another split: keep bias_ih, make bias_hh make up the difference."""
    H = module.hidden_size
    with torch.no_grad():
        module.bias_hh_l0[H : 2 * H] = value - module.bias_ih_l0[H : 2 * H]
    return module


# --- the honest students pass ------------------------------------------------------------

STEP_CASES = ["shapes", "visible", "hidden", "no_mutation"]
SEQUENCE_CASES = ["shapes", "visible", "hidden", "no_mutation"]


@pytest.mark.parametrize("student", [step_forward, step_forward_float32])
@pytest.mark.parametrize("cases", STEP_CASES)
def test_step_forward_passes_honest_students(student, cases):
    assert check_lstm_step_forward(student, cases=cases) is None


@pytest.mark.parametrize("student", [forward, forward_vectorised, forward_float32])
@pytest.mark.parametrize("cases", [*SEQUENCE_CASES, "torch"])
def test_forward_passes_honest_students(student, cases):
    assert check_lstm_forward(student, cases=cases) is None


@pytest.mark.parametrize("forward_step", [step_forward, step_forward_float32])
@pytest.mark.parametrize("cases", STEP_CASES)
def test_step_backward_passes_honest_students(forward_step, cases):
    assert check_lstm_step_backward(forward_step, step_backward, cases=cases) is None


@pytest.mark.parametrize(
    "students",
    [(forward, backward), (forward_vectorised, backward_vectorised), (forward_float32, backward)],
)
@pytest.mark.parametrize("cases", [*SEQUENCE_CASES, "gradient_check"])
def test_backward_passes_honest_students(students, cases):
    assert check_lstm_backward(*students, cases=cases) is None


@pytest.mark.parametrize("cases", ["visible", "hidden"])
def test_adapters_pass_honest_students(cases):
    for student in (params_from_torch, params_from_torch_state_dict):
        assert check_lstm_params_from_torch(student, cases=cases) is None
    for student in (params_to_torch, params_to_torch_half_each):
        assert check_lstm_params_to_torch(student, cases=cases) is None
    for student in (set_forget_bias, set_forget_bias_keep_ih):
        assert check_set_forget_bias(student, cases=cases) is None


def test_the_course_reference_passes_when_copied_not_called():
    import inspect

    import rnncore.numpy.lstm as reference

    namespace = dict(vars(reference))
    for name in ("lstm_step_forward", "lstm_step_backward"):
        exec(inspect.getsource(getattr(reference, name)), namespace)  # new code objects
    check_lstm_step_forward(namespace["lstm_step_forward"], cases="hidden")
    check_lstm_step_backward(
        namespace["lstm_step_forward"], namespace["lstm_step_backward"], cases="hidden"
    )


def test_same_seed_same_inputs_and_message():
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as failure:
            check_lstm_step_forward(step_forward_with(order="figo"), seed=4321)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "seed=4321" in messages[0]


# --- known mistakes: one handwritten student per mistake in the catalogues -----------------

WRONG_STEP_FORWARD = {
    "gates i and f swapped": step_forward_with(order="figo"),
    "gates g and o swapped": step_forward_with(order="ifog"),
    "tanh of c missing from h": step_forward_with(tanh_c=False),
    "previous cell state ignored": step_forward_with(use_c_prev=False),
}

WRONG_FORWARD = {
    "gates i and f swapped": forward_with(step_forward_with(order="figo")),
    "gates g and o swapped": forward_with(step_forward_with(order="ifog")),
    "tanh of c missing from h": forward_with(step_forward_with(tanh_c=False)),
    "cell state not carried over time": forward_with(carry_c=False),
}

WRONG_STEP_BACKWARD = {
    "gradient from h_next to the cell state missing": step_backward_with(h_path="missing"),
    "tanh derivative missing on the path from h to c": step_backward_with(
        h_path="no tanh derivative"
    ),
    "dc_prev not multiplied by the forget gate": step_backward_with(f_on_dc_prev=False),
}

WRONG_BACKWARD = {
    "cell gradient not carried back over time": backward_with(carry_c=False),
    "gradient from later time steps not carried back": backward_with(carry_h=False),
    "gradient from h to the cell state missing": backward_with(
        step_backward_with(h_path="missing")
    ),
}


def catalogue_names(catalogue):
    return sorted(mistake.name for mistake in catalogue)


def test_every_mistake_has_a_wrong_student():
    assert sorted(WRONG_STEP_FORWARD) == catalogue_names(mistakes.LSTM_STEP_FORWARD_MISTAKES)
    assert sorted(WRONG_FORWARD) == catalogue_names(mistakes.LSTM_FORWARD_MISTAKES)
    assert sorted(WRONG_STEP_BACKWARD) == catalogue_names(mistakes.LSTM_STEP_BACKWARD_MISTAKES)
    assert sorted(WRONG_BACKWARD) == catalogue_names(mistakes.LSTM_BACKWARD_MISTAKES)
    assert sorted(WRONG_FROM_TORCH) == catalogue_names(mistakes.LSTM_PARAMS_FROM_TORCH_MISTAKES)
    assert sorted(WRONG_TO_TORCH) == catalogue_names(mistakes.LSTM_PARAMS_TO_TORCH_MISTAKES)
    assert sorted(WRONG_FORGET_BIAS) == catalogue_names(mistakes.SET_FORGET_BIAS_MISTAKES)


@pytest.mark.parametrize("name", sorted(WRONG_STEP_FORWARD))
def test_step_forward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_lstm_step_forward(WRONG_STEP_FORWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_FORWARD))
def test_forward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_lstm_forward(WRONG_FORWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_STEP_BACKWARD))
def test_step_backward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_lstm_step_backward(step_forward, WRONG_STEP_BACKWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_BACKWARD))
def test_backward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_lstm_backward(forward, WRONG_BACKWARD[name], cases="visible")


def test_gate_mistake_message_reads_well():
    with pytest.raises(AssertionError) as failure:
        check_lstm_step_forward(WRONG_STEP_FORWARD["gates i and f swapped"])
    message = str(failure.value)
    assert message.startswith("lstm_step_forward: h_next and c_next are wrong")
    assert "input and forget gates are swapped" in message
    assert "case 'nonzero h_prev and c_prev' (B=3, D=5, H=4, float64, seed " in message


def test_tanh_mistake_says_c_next_is_right():
    with pytest.raises(AssertionError) as failure:
        check_lstm_step_forward(WRONG_STEP_FORWARD["tanh of c missing from h"])
    assert "h_next is wrong (compared with the reference); c_next is right" in str(failure.value)


def test_an_unknown_mistake_gets_the_general_hint():
    def student(x, h_prev, c_prev, Wx, Wh, b):
        h_next, c_next, cache = step_forward(x, h_prev, c_prev, Wx, Wh, 1.5 * b)
        return h_next, c_next, cache

    with pytest.raises(AssertionError, match=re.escape("Check the gate order")):
        check_lstm_step_forward(student)


@pytest.mark.parametrize("cases", ["torch", "hidden"])
def test_forward_mistakes_fail_the_other_case_sets(cases):
    with pytest.raises(AssertionError, match="cell state not carried over time"):
        check_lstm_forward(WRONG_FORWARD["cell state not carried over time"], cases=cases)


def test_backward_mistake_fails_against_finite_differences():
    student = WRONG_BACKWARD["cell gradient not carried back over time"]
    with pytest.raises(AssertionError, match="finite differences") as failure:
        check_lstm_backward(forward, student, cases="gradient_check")
    assert "Known mistake: cell gradient not carried back over time" in str(failure.value)


def test_shape_errors_name_letters_and_numbers():
    def student(dh_next, dc_next, cache):
        dx, dh_prev, dc_prev, dWx, dWh, db = step_backward(dh_next, dc_next, cache)
        return dx, dh_prev, dc_prev, dWx, dWh, db.reshape(4, -1)

    with pytest.raises(AssertionError, match=re.escape("db has shape (4, 4), expected (4H,)")):
        check_lstm_step_backward(step_forward, student, cases="shapes")


def test_wrong_forward_is_blamed_before_the_backward():
    with pytest.raises(AssertionError) as failure:
        check_lstm_backward(WRONG_FORWARD["gates g and o swapped"], backward)
    assert str(failure.value).startswith("lstm_forward (which makes the cache for")


def test_not_implemented_is_reported_as_such():
    def student(x, h0, Wx, Wh, b):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="it is not written yet"):
        check_lstm_forward(student, cases="shapes")


# --- behaviour: modified inputs and calls to the reference -------------------------------


def step_forward_in_place(x, h_prev, c_prev, Wx, Wh, b):
    h_next, c_next, cache = step_forward(x, h_prev, c_prev, Wx, Wh, b)
    c_prev[:] = c_next  # updates the state it was given
    return h_next, c_prev, cache


def test_in_place_update_fails_only_the_no_mutation_cases():
    check_lstm_step_forward(step_forward_in_place, cases="hidden")
    with pytest.raises(AssertionError, match="modifies its argument c_prev in place"):
        check_lstm_step_forward(step_forward_in_place, cases="no_mutation")


def test_backward_that_mutates_dc_next():
    def student(dh_next, dc_next, cache):
        result = step_backward(dh_next, dc_next, cache)
        dc_next *= 0
        return result

    check_lstm_step_backward(step_forward, student, cases="visible")
    with pytest.raises(AssertionError, match="it modifies its argument dc_next in place"):
        check_lstm_step_backward(step_forward, student, cases="no_mutation")


def test_calling_the_reference_is_detected_under_any_name():
    from rnncore.numpy import lstm_forward as helper

    def student(x, h0, Wx, Wh, b):
        return helper(x, h0, Wx, Wh, b)

    with pytest.raises(AssertionError, match=re.escape("rnncore.numpy.lstm.lstm_forward")):
        check_lstm_forward(student, cases="shapes")


def test_calling_the_interop_reference_is_detected():
    from rnncore.torch.interop import numpy_params_from_torch

    def student(module):
        params = numpy_params_from_torch(module)
        return params["Wx"], params["Wh"], params["b"]

    with pytest.raises(AssertionError, match="calls the course's reference"):
        check_lstm_params_from_torch(student)


# --- the weight adapters -----------------------------------------------------------------


def swap_g_o(array):
    H = array.shape[-1] // 4
    return np.concatenate([array[..., : 2 * H], array[..., 3 * H :], array[..., 2 * H : 3 * H]], -1)


def from_torch_ih_only(module):
    Wx, Wh, _ = params_from_torch(module)
    return Wx, Wh, module.bias_ih_l0.detach().numpy().copy()


def from_torch_reordered(module):
    return tuple(swap_g_o(array) for array in params_from_torch(module))


def to_torch_both(Wx, Wh, b, module):
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_hh_l0.copy_(torch.as_tensor(b))
    return module


def to_torch_bias_hh_kept(Wx, Wh, b, module):
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
    return module


def to_torch_reordered(Wx, Wh, b, module):
    return params_to_torch(swap_g_o(Wx), swap_g_o(Wh), swap_g_o(b), module)


def forget_bias_both(module, value=1.0):
    H = module.hidden_size
    with torch.no_grad():
        module.bias_ih_l0[H : 2 * H] = value
        module.bias_hh_l0[H : 2 * H] = value
    return module


def forget_bias_added(module, value=1.0):
    H = module.hidden_size
    with torch.no_grad():
        module.bias_ih_l0[H : 2 * H] += value
    return module


def forget_bias_input_block(module, value=1.0):
    H = module.hidden_size
    with torch.no_grad():
        module.bias_ih_l0[:H] = value
        module.bias_hh_l0[:H] = 0
    return module


WRONG_FROM_TORCH = {
    "bias_hh left out": from_torch_ih_only,
    "gate blocks reordered as i, f, o, g": from_torch_reordered,
}
WRONG_TO_TORCH = {
    "b copied into both biases": to_torch_both,
    "bias_hh left as it was": to_torch_bias_hh_kept,
    "gate blocks reordered as i, f, o, g": to_torch_reordered,
}
WRONG_FORGET_BIAS = {
    "forget bias set on both biases": forget_bias_both,
    "value added to the forget bias": forget_bias_added,
    "bias set on the input gate's block": forget_bias_input_block,
}


@pytest.mark.parametrize("cases", ["visible", "hidden"])
@pytest.mark.parametrize(
    ("check", "catalogue", "name"),
    [(check_lstm_params_from_torch, WRONG_FROM_TORCH, name) for name in WRONG_FROM_TORCH]
    + [(check_lstm_params_to_torch, WRONG_TO_TORCH, name) for name in WRONG_TO_TORCH]
    + [(check_set_forget_bias, WRONG_FORGET_BIAS, name) for name in WRONG_FORGET_BIAS],
)
def test_adapters_name_each_mistake(check, catalogue, name, cases):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check(catalogue[name], cases=cases)


def test_double_forget_bias_message_reads_well():
    with pytest.raises(AssertionError) as failure:
        check_set_forget_bias(forget_bias_both)
    message = str(failure.value)
    assert message.startswith("set_forget_bias: bias_ih_l0 + bias_hh_l0 is wrong")
    assert "weight_ih_l0 and weight_hh_l0 are right" in message
    assert "effective bias is 2 * value" in message


def test_untransposed_weights_are_a_shape_error():
    def student(module):
        return (
            module.weight_ih_l0.detach().numpy(),
            module.weight_hh_l0.detach().numpy().T,
            (module.bias_ih_l0 + module.bias_hh_l0).detach().numpy(),
        )

    with pytest.raises(AssertionError, match=re.escape("It looks transposed.")):
        check_lstm_params_from_torch(student)


def test_to_torch_must_not_modify_its_arrays():
    def student(Wx, Wh, b, module):
        b[:] = 0
        return params_to_torch(Wx, Wh, b, module)

    with pytest.raises(AssertionError, match="modifies its argument b in place"):
        check_lstm_params_to_torch(student)


def test_unknown_case_set_is_a_value_error():
    with pytest.raises(ValueError, match="no case set 'torch'"):
        check_lstm_backward(forward, backward, cases="torch")
    with pytest.raises(ValueError, match="no case set 'sometimes'"):
        check_set_forget_bias(set_forget_bias, cases="sometimes")
