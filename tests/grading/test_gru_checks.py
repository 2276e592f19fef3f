"""The GRU checks pass honest implementations and fail each known-wrong one with its message.

The "students" below are written the way students write them (loops, tuples as caches), not
derived from rnncore, so that a check cannot pass them by comparing rnncore with itself.
"""

import inspect
import re

import numpy as np
import pytest
import torch

from rnncore.grading import (
    check_flip_update_gate,
    check_gru_backward,
    check_gru_forward,
    check_gru_params_to_torch,
    check_gru_step_backward,
    check_gru_step_forward,
    gru_mistakes,
)

# --- honest students ---------------------------------------------------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def step_forward_with(
    order="rzn", update="seed", reset="before", candidate_tanh=True, candidate_sigmoid=False
):
    """A student's gru_step_forward; the switches are the known mistakes."""

    def gru_step_forward(x, h_prev, Wx, Wh, b):
        H = h_prev.shape[1]
        a = x @ Wx + b
        blocks = {gate: slice(k * H, (k + 1) * H) for k, gate in enumerate(order)}
        r = sigmoid(a[:, blocks["r"]] + h_prev @ Wh[:, blocks["r"]])
        z = sigmoid(a[:, blocks["z"]] + h_prev @ Wh[:, blocks["z"]])
        if reset == "before":
            recurrent = (r * h_prev) @ Wh[:, 2 * H :]
        elif reset == "after":
            recurrent = r * (h_prev @ Wh[:, 2 * H :])
        else:
            recurrent = h_prev @ Wh[:, 2 * H :]
        candidate = a[:, 2 * H :] + recurrent
        if candidate_sigmoid:
            candidate = sigmoid(candidate)
        elif candidate_tanh:
            candidate = np.tanh(candidate)
        if update == "seed":
            h_next = (1 - z) * h_prev + z * candidate
        else:
            h_next = z * h_prev + (1 - z) * candidate
        return h_next, (x, h_prev, Wx, Wh, r, z, candidate)

    return gru_step_forward


step_forward = step_forward_with()


def step_forward_float32(x, h_prev, Wx, Wh, b):
    """Computes in float32 whatever it is given: within float32's tolerance."""
    return step_forward(*(a.astype(np.float32) for a in (x, h_prev, Wx, Wh, b)))


def step_backward_with(direct=True, through_reset=True, dWh_n_input="r * h_prev"):
    def gru_step_backward(dh_next, cache):
        x, h_prev, Wx, Wh, r, z, candidate = cache
        H = h_prev.shape[1]
        da_n = dh_next * z * (1 - candidate**2)
        da_z = dh_next * (candidate - h_prev) * z * (1 - z)
        d_reset = da_n @ Wh[:, 2 * H :].T
        da_r = d_reset * h_prev * r * (1 - r)
        da = np.hstack([da_r, da_z, da_n])
        dh_prev = da[:, : 2 * H] @ Wh[:, : 2 * H].T
        if direct:
            dh_prev = dh_prev + dh_next * (1 - z)
        if through_reset:
            dh_prev = dh_prev + d_reset * r
        n_input = r * h_prev if dWh_n_input == "r * h_prev" else h_prev
        dWh = np.hstack([h_prev.T @ da[:, : 2 * H], n_input.T @ da_n])
        return da @ Wx.T, dh_prev, x.T @ da, dWh, da.sum(axis=0)

    return gru_step_backward


step_backward = step_backward_with()


def forward_with(step=step_forward, carry=True):
    def gru_forward(x, h0, Wx, Wh, b):
        B, T, D = x.shape
        H = h0.shape[1]
        h = np.zeros((B, T, H), dtype=np.result_type(x, h0))
        caches = []
        h_prev = h0
        for t in range(T):
            h_next, cache = step(x[:, t], h_prev, Wx, Wh, b)
            h[:, t] = h_next
            caches.append(cache)
            h_prev = h_next if carry else h0
        return h, caches

    return gru_forward


forward = forward_with()


def forward_float32(x, h0, Wx, Wh, b):
    return forward(*(a.astype(np.float32) for a in (x, h0, Wx, Wh, b)))


def backward_with(step=step_backward, carry=True):
    def gru_backward(dh, caches):
        B, T, H = dh.shape
        D = caches[0][0].shape[1]
        dx = np.zeros((B, T, D))
        dWx, dWh, db = 0, 0, 0
        dh_prev = np.zeros((B, H))
        for t in reversed(range(T)):
            dx[:, t], dh_step, dWx_t, dWh_t, db_t = step(dh[:, t] + dh_prev, caches[t])
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
            dh_prev = dh_step if carry or t == 0 else np.zeros((B, H))
        return dx, dh_prev, dWx, dWh, db

    return gru_backward


backward = backward_with()


def forward_vectorised(x, h0, Wx, Wh, b):
    """Another structure: one input projection, the cache as a dict of lists."""
    B, T, D = x.shape
    H = h0.shape[1]
    projected = np.einsum("btd,dk->btk", x, Wx) + b
    h, gates = [h0], []
    for t in range(T):
        rz = sigmoid(projected[:, t, : 2 * H] + h[-1] @ Wh[:, : 2 * H])
        r, z = np.split(rz, 2, axis=1)
        n = np.tanh(projected[:, t, 2 * H :] + (r * h[-1]) @ Wh[:, 2 * H :])
        gates.append((r, z, n))
        h.append(h[-1] + z * (n - h[-1]))
    return np.stack(h[1:], axis=1), {"x": x, "h": h, "gates": gates, "Wx": Wx, "Wh": Wh}


def backward_vectorised(dh, cache):
    x, h, gates, Wx, Wh = (cache[k] for k in ("x", "h", "gates", "Wx", "Wh"))
    B, T, H = dh.shape
    da_all = np.zeros((B, T, 3 * H))
    reset_h = np.zeros((B, T, H))
    dh_next = np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        r, z, n = gates[t]
        total = dh[:, t] + dh_next
        da_n = total * z * (1 - n**2)
        d_reset = da_n @ Wh[:, 2 * H :].T
        da_all[:, t] = np.hstack(
            [d_reset * h[t] * r * (1 - r), total * (n - h[t]) * z * (1 - z), da_n]
        )
        reset_h[:, t] = r * h[t]
        dh_next = total * (1 - z) + d_reset * r + da_all[:, t, : 2 * H] @ Wh[:, : 2 * H].T
    h_before = np.stack(h[:-1], axis=1)
    dWh = np.concatenate(
        [
            np.einsum("bth,btk->hk", h_before, da_all[:, :, : 2 * H]),
            np.einsum("bth,btk->hk", reset_h, da_all[:, :, 2 * H :]),
        ],
        axis=1,
    )
    return (
        da_all @ Wx.T,
        dh_next,
        np.einsum("btd,btk->dk", x, da_all),
        dWh,
        da_all.sum(axis=(0, 1)),
    )


def flip_update_gate(Wx, Wh, b):
    H = Wh.shape[0]
    flipped = []
    for array in (Wx, Wh, b):
        array = array.copy()
        array[..., H : 2 * H] = -array[..., H : 2 * H]
        flipped.append(array)
    return tuple(flipped)


def flip_update_gate_by_signs(Wx, Wh, b):
    """Another way: multiply by a row of signs."""
    H = Wh.shape[0]
    signs = np.concatenate([np.ones(H), -np.ones(H), np.ones(H)]).astype(b.dtype)
    return Wx * signs, Wh * signs, b * signs


def params_to_torch(Wx, Wh, b, b_hn, module):
    H = b_hn.shape[0]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_hh_l0.zero_()
        module.bias_hh_l0[2 * H :] = torch.as_tensor(b_hn)
    return module


def params_to_torch_split(Wx, Wh, b, b_hn, module):
    """Another split of the r and z biases between the two biases: same sum, same GRU."""
    H = b_hn.shape[0]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(Wx.T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(Wh.T.copy()))
        module.bias_ih_l0.copy_(torch.from_numpy(np.concatenate([b[: 2 * H] / 2, b[2 * H :]])))
        module.bias_hh_l0.copy_(torch.from_numpy(np.concatenate([b[: 2 * H] / 2, b_hn])))
    return module


# --- the honest students pass ------------------------------------------------------------

STEP_CASES = ["shapes", "visible", "hidden", "no_mutation"]
SEQUENCE_CASES = ["shapes", "visible", "hidden", "no_mutation"]
ADAPTER_CASES = ["visible", "hidden", "torch"]


@pytest.mark.parametrize("student", [step_forward, step_forward_float32])
@pytest.mark.parametrize("cases", STEP_CASES)
def test_step_forward_passes_honest_students(student, cases):
    assert check_gru_step_forward(student, cases=cases) is None


@pytest.mark.parametrize("student", [forward, forward_vectorised, forward_float32])
@pytest.mark.parametrize("cases", SEQUENCE_CASES)
def test_forward_passes_honest_students(student, cases):
    assert check_gru_forward(student, cases=cases) is None


@pytest.mark.parametrize("forward_step", [step_forward, step_forward_float32])
@pytest.mark.parametrize("cases", STEP_CASES)
def test_step_backward_passes_honest_students(forward_step, cases):
    assert check_gru_step_backward(forward_step, step_backward, cases=cases) is None


@pytest.mark.parametrize(
    "students",
    [(forward, backward), (forward_vectorised, backward_vectorised), (forward_float32, backward)],
)
@pytest.mark.parametrize("cases", [*SEQUENCE_CASES, "gradient_check"])
def test_backward_passes_honest_students(students, cases):
    assert check_gru_backward(*students, cases=cases) is None


@pytest.mark.parametrize("cases", ADAPTER_CASES)
def test_mappings_pass_honest_students(cases):
    for student in (flip_update_gate, flip_update_gate_by_signs):
        assert check_flip_update_gate(student, cases=cases) is None
    for student in (params_to_torch, params_to_torch_split):
        assert check_gru_params_to_torch(student, cases=cases) is None


def test_the_course_reference_passes_when_copied_not_called():
    import rnncore.numpy.gru.common as common
    import rnncore.numpy.gru.reset_before as reference

    namespace = dict(vars(common)) | dict(vars(reference))
    sources = [getattr(common, name) for name in ("check_gru_arguments", "flip_update_gate")]
    sources += [getattr(reference, name) for name in ("gru_step_forward", "gru_step_backward")]
    sources += [reference.gru_forward, reference.gru_backward]
    for function in sources:
        exec(inspect.getsource(function), namespace)  # new code objects
    check_gru_step_forward(namespace["gru_step_forward"], cases="hidden")
    check_gru_step_backward(
        namespace["gru_step_forward"], namespace["gru_step_backward"], cases="hidden"
    )
    check_gru_backward(namespace["gru_forward"], namespace["gru_backward"], cases="hidden")
    check_flip_update_gate(namespace["flip_update_gate"], cases="torch")


def test_same_seed_same_inputs_and_message():
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as failure:
            check_gru_step_forward(step_forward_with(update="torch"), seed=4321)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "seed=4321" in messages[0]


# --- known mistakes: one handwritten student per mistake in the catalogues -----------------

WRONG_STEP_FORWARD = {
    "update-gate sign reversed": step_forward_with(update="torch"),
    "reset gate applied after the product": step_forward_with(reset="after"),
    "gates r and z swapped": step_forward_with(order="zrn"),
    "reset gate missing": step_forward_with(reset="missing"),
    "tanh missing from the candidate": step_forward_with(candidate_tanh=False),
    "sigmoid instead of tanh in the candidate": step_forward_with(candidate_sigmoid=True),
}

WRONG_FORWARD = {name: forward_with(student) for name, student in WRONG_STEP_FORWARD.items()} | {
    "hidden state not carried over time": forward_with(carry=False),
    "initial state ignored": lambda x, h0, Wx, Wh, b: forward(x, np.zeros_like(h0), Wx, Wh, b),
}

WRONG_STEP_BACKWARD = {
    "direct path (1 - z) * h_prev missing from dh_prev": step_backward_with(direct=False),
    "path through r * h_prev missing from dh_prev": step_backward_with(through_reset=False),
    "dWh's candidate block uses h_prev instead of r * h_prev": step_backward_with(
        dWh_n_input="h_prev"
    ),
}

WRONG_BACKWARD = {
    "gradient from later time steps not carried back": backward_with(carry=False),
    "direct path (1 - z) * h_prev missing from dh_prev": backward_with(
        step_backward_with(direct=False)
    ),
    "path through r * h_prev missing from dh_prev": backward_with(
        step_backward_with(through_reset=False)
    ),
    "dWh's candidate block uses h_{t-1} instead of r_t * h_{t-1}": backward_with(
        step_backward_with(dWh_n_input="h_prev")
    ),
}


def flip_everything(Wx, Wh, b):
    return -Wx, -Wh, -b


def flip_one_minus(Wx, Wh, b):
    H = Wh.shape[0]
    Wx, Wh, b = Wx.copy(), Wh.copy(), b.copy()
    for array in (Wx, Wh, b):
        array[..., H : 2 * H] = 1 - array[..., H : 2 * H]
    return Wx, Wh, b


def flip_reset_block(Wx, Wh, b):
    H = Wh.shape[0]
    signs = np.concatenate([-np.ones(H), np.ones(2 * H)])
    return Wx * signs, Wh * signs, b * signs


def flip_weights_only(Wx, Wh, b):
    flipped_x, flipped_h, _ = flip_update_gate(Wx, Wh, b)
    return flipped_x, flipped_h, b.copy()


WRONG_FLIP = {
    "every block negated": flip_everything,
    "1 - weights instead of their negative": flip_one_minus,
    "reset block flipped instead of the update block": flip_reset_block,
    "bias not flipped": flip_weights_only,
}


def to_torch_without_b_hn(Wx, Wh, b, b_hn, module):
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_hh_l0.zero_()
    return module


def to_torch_folded(Wx, Wh, b, b_hn, module):
    H = b_hn.shape[0]
    b = b.copy()
    b[2 * H :] += b_hn  # as if b_hn could join the input bias
    return to_torch_without_b_hn(Wx, Wh, b, b_hn, module)


def to_torch_both(Wx, Wh, b, b_hn, module):
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_hh_l0.copy_(torch.as_tensor(b))
    return module


def to_torch_bias_hh_kept(Wx, Wh, b, b_hn, module):
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
    return module


def swap_r_z(array):
    H = array.shape[-1] // 3
    return np.concatenate([array[..., H : 2 * H], array[..., :H], array[..., 2 * H :]], -1)


def to_torch_reshaped(Wx, Wh, b, b_hn, module):
    H = b_hn.shape[0]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.reshape(3 * H, -1)))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.reshape(3 * H, H)))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_hh_l0.zero_()
        module.bias_hh_l0[2 * H :] = torch.as_tensor(b_hn)
    return module


def to_torch_reordered(Wx, Wh, b, b_hn, module):
    return params_to_torch(swap_r_z(Wx), swap_r_z(Wh), swap_r_z(b), b_hn, module)


WRONG_TO_TORCH = {
    "b_hn left out": to_torch_without_b_hn,
    "b_hn folded into bias_ih": to_torch_folded,
    "b copied into both biases": to_torch_both,
    "reshape instead of transpose": to_torch_reshaped,
    "bias_hh left as it was": to_torch_bias_hh_kept,
    "gate blocks reordered as z, r, n": to_torch_reordered,
}


def catalogue_names(catalogue):
    return sorted(mistake.name for mistake in catalogue)


def test_every_mistake_has_a_wrong_student():
    assert sorted(WRONG_STEP_FORWARD) == catalogue_names(gru_mistakes.GRU_STEP_FORWARD_MISTAKES)
    assert sorted(WRONG_FORWARD) == catalogue_names(gru_mistakes.GRU_FORWARD_MISTAKES)
    assert sorted(WRONG_STEP_BACKWARD) == catalogue_names(gru_mistakes.GRU_STEP_BACKWARD_MISTAKES)
    assert sorted(WRONG_BACKWARD) == catalogue_names(gru_mistakes.GRU_BACKWARD_MISTAKES)
    assert sorted(WRONG_FLIP) == catalogue_names(gru_mistakes.FLIP_UPDATE_GATE_MISTAKES)
    assert sorted(WRONG_FLIP) == catalogue_names(gru_mistakes.FLIP_UPDATE_GATE_TORCH_MISTAKES)
    assert sorted(WRONG_TO_TORCH) == catalogue_names(gru_mistakes.GRU_PARAMS_TO_TORCH_MISTAKES)
    assert sorted(WRONG_TO_TORCH) == catalogue_names(
        gru_mistakes.GRU_PARAMS_TO_TORCH_OUTPUT_MISTAKES
    )


def known(name):
    return re.escape(f"Known mistake: {name}")


@pytest.mark.parametrize("cases", ["visible", "hidden"])
@pytest.mark.parametrize("name", sorted(WRONG_STEP_FORWARD))
def test_step_forward_names_each_mistake(name, cases):
    with pytest.raises(AssertionError, match=known(name)):
        check_gru_step_forward(WRONG_STEP_FORWARD[name], cases=cases)


@pytest.mark.parametrize("name", sorted(WRONG_FORWARD))
def test_forward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=known(name)):
        check_gru_forward(WRONG_FORWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_STEP_BACKWARD))
def test_step_backward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=known(name)):
        check_gru_step_backward(step_forward, WRONG_STEP_BACKWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_BACKWARD))
def test_backward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=known(name)):
        check_gru_backward(forward, WRONG_BACKWARD[name], cases="visible")


@pytest.mark.parametrize("cases", ADAPTER_CASES)
@pytest.mark.parametrize(
    ("check", "catalogue", "name"),
    [(check_flip_update_gate, WRONG_FLIP, name) for name in WRONG_FLIP]
    + [(check_gru_params_to_torch, WRONG_TO_TORCH, name) for name in WRONG_TO_TORCH],
)
def test_mappings_name_each_mistake(check, catalogue, name, cases):
    with pytest.raises(AssertionError, match=known(name)):
        check(catalogue[name], cases=cases)


def test_update_sign_message_reads_well():
    with pytest.raises(AssertionError) as failure:
        check_gru_step_forward(WRONG_STEP_FORWARD["update-gate sign reversed"])
    message = str(failure.value)
    assert message.startswith("gru_step_forward: h_next is wrong (compared with the reference)")
    assert "h = (1 - z) * h_prev + z * h~" in message
    assert "case 'nonzero h_prev' (B=3, D=5, H=4, float64, seed " in message


def test_reset_after_message_names_the_placement():
    with pytest.raises(AssertionError) as failure:
        check_gru_forward(WRONG_FORWARD["reset gate applied after the product"], cases="hidden")
    assert "scales h_prev before the product" in str(failure.value)


def test_an_unknown_mistake_gets_the_general_hint():
    def student(x, h_prev, Wx, Wh, b):
        return step_forward(x, h_prev, Wx, Wh, 1.5 * b)

    with pytest.raises(AssertionError, match=re.escape("Check the gate order (blocks of H")):
        check_gru_step_forward(student)


def test_backward_mistake_fails_against_finite_differences():
    student = WRONG_BACKWARD["path through r * h_prev missing from dh_prev"]
    with pytest.raises(AssertionError, match="finite differences") as failure:
        check_gru_backward(forward, student, cases="gradient_check")
    assert "Known mistake: path through r * h_prev missing from dh_prev" in str(failure.value)


def test_flip_compared_with_torch_says_so():
    with pytest.raises(AssertionError) as failure:
        check_flip_update_gate(flip_weights_only, cases="torch")
    message = str(failure.value)
    assert message.startswith("flip_update_gate: h is wrong (compared with the reset-after GRU")
    assert "case 'torch.nn.GRU' (B=3, T=5, D=4, H=6" in message


def test_to_torch_message_names_the_bias_at_fault():
    with pytest.raises(AssertionError) as failure:
        check_gru_params_to_torch(to_torch_folded)
    message = str(failure.value)
    assert "bias_ih_l0[2H:] and bias_hh_l0[2H:] are wrong" in message
    assert "weight_ih_l0, weight_hh_l0 and (bias_ih_l0 + bias_hh_l0)[:2H] are right" in message


def test_shape_errors_name_letters_and_numbers():
    def student(dh_next, cache):
        dx, dh_prev, dWx, dWh, db = step_backward(dh_next, cache)
        return dx, dh_prev, dWx, dWh, db.reshape(3, -1)

    with pytest.raises(AssertionError, match=re.escape("db has shape (3, 4), expected (3H,)")):
        check_gru_step_backward(step_forward, student, cases="shapes")


def test_wrong_forward_is_blamed_before_the_backward():
    with pytest.raises(AssertionError) as failure:
        check_gru_backward(WRONG_FORWARD["gates r and z swapped"], backward)
    assert str(failure.value).startswith("gru_forward (which makes the cache for")


def test_not_implemented_is_reported_as_such():
    def student(Wx, Wh, b):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="it is not written yet"):
        check_flip_update_gate(student)


# --- behaviour: modified inputs and calls to the reference -------------------------------


def step_forward_in_place(x, h_prev, Wx, Wh, b):
    h_next, cache = step_forward(x, h_prev, Wx, Wh, b)
    h_prev[:] = h_next  # updates the state it was given
    return h_prev, cache


def test_in_place_update_fails_only_the_no_mutation_cases():
    check_gru_step_forward(step_forward_in_place, cases="hidden")
    with pytest.raises(AssertionError, match="modifies its argument h_prev in place"):
        check_gru_step_forward(step_forward_in_place, cases="no_mutation")


def test_flip_in_place_always_fails():
    def student(Wx, Wh, b):
        H = Wh.shape[0]
        for array in (Wx, Wh, b):
            array[..., H : 2 * H] *= -1
        return Wx, Wh, b

    with pytest.raises(AssertionError, match="modifies its arguments Wx, Wh and b in place"):
        check_flip_update_gate(student)


def test_to_torch_must_not_modify_its_arrays():
    def student(Wx, Wh, b, b_hn, module):
        b_hn[:] = 0
        return params_to_torch(Wx, Wh, b, b_hn, module)

    with pytest.raises(AssertionError, match="modifies its argument b_hn in place"):
        check_gru_params_to_torch(student, cases="torch")


def test_calling_the_reference_is_detected_under_any_name():
    from rnncore.numpy import gru_forward as helper

    def student(x, h0, Wx, Wh, b):
        return helper(x, h0, Wx, Wh, b)

    with pytest.raises(AssertionError, match=re.escape("rnncore.numpy.gru.gru_forward")):
        check_gru_forward(student, cases="shapes")


def test_calling_the_reference_flip_is_detected():
    from rnncore.numpy.gru import flip_update_gate as helper

    with pytest.raises(AssertionError, match=re.escape("rnncore.numpy.gru.flip_update_gate")):
        check_flip_update_gate(lambda Wx, Wh, b: helper(Wx, Wh, b))


def test_calling_the_interop_reference_is_detected():
    from rnncore.torch.interop import params_to_torch as helper

    def student(Wx, Wh, b, b_hn, module):
        arrays = {"Wx": Wx, "Wh": Wh, "b": b, "b_hn": b_hn}
        return helper([[{name: torch.as_tensor(a) for name, a in arrays.items()}]], module)

    with pytest.raises(AssertionError, match="calls the course's reference"):
        check_gru_params_to_torch(student)


def test_unknown_case_set_is_a_value_error():
    with pytest.raises(ValueError, match="no case set 'gradient_check'"):
        check_gru_forward(forward, cases="gradient_check")
    with pytest.raises(ValueError, match="no case set 'torch'"):
        check_gru_backward(forward, backward, cases="torch")
    with pytest.raises(ValueError, match="no case set 'sometimes'"):
        check_flip_update_gate(flip_update_gate, cases="sometimes")


# --- what a wrong gradient is, when no known mistake matches ---------------------------------


def step_backward_dz_sign_flipped(dh_next, cache):
    """da_z with (h_prev - candidate) instead of (candidate - h_prev)."""
    dx, dh_prev, dWx, dWh, db = step_backward(dh_next, cache)
    x, h_prev, Wx, Wh, r, z, candidate = cache
    H = h_prev.shape[1]
    da_z = dh_next * (candidate - h_prev) * z * (1 - z)
    dWx, dWh, db = dWx.copy(), dWh.copy(), db.copy()
    dWx[:, H : 2 * H] -= 2 * x.T @ da_z
    dWh[:, H : 2 * H] -= 2 * h_prev.T @ da_z
    db[H : 2 * H] -= 2 * da_z.sum(axis=0)
    dx = dx - 2 * da_z @ Wx[:, H : 2 * H].T
    dh_prev = dh_prev - 2 * da_z @ Wh[:, H : 2 * H].T
    return dx, dh_prev, dWx, dWh, db


def backward_db_averaged(dh, caches):
    dx, dh0, dWx, dWh, db = backward(dh, caches)
    return dx, dh0, dWx, dWh, db / dh.shape[0]


def test_a_gate_block_error_names_the_gate():
    with pytest.raises(AssertionError) as failure:
        check_gru_step_backward(step_forward, step_backward_dz_sign_flipped, cases="visible")
    assert "only the columns of z (update gate)" in str(failure.value)


def test_a_bias_gradient_averaged_over_the_batch_says_so():
    with pytest.raises(AssertionError) as failure:
        check_gru_backward(forward, backward_db_averaged, cases="visible")
    message = str(failure.value)
    assert "db: it is the expected value divided by the batch size B" in message
    assert "averaged where a sum is expected?" in message
