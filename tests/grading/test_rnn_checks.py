"""The RNN checks pass honest implementations and fail each known-wrong one with its message.

The "students" below are written the way students write them (loops, tuples as caches), not
derived from rnncore, so that a check cannot pass them by comparing rnncore with itself.
"""

import re

import numpy as np
import pytest

from rnncore.grading import (
    check_rnn_backward,
    check_rnn_forward,
    check_rnn_step_backward,
    check_rnn_step_forward,
    mistakes,
)

# --- honest students ---------------------------------------------------------------------


def step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, (x, h_prev, Wx, Wh, h_next)


def step_forward_einsum(x, h_prev, Wx, Wh, b):
    a = np.einsum("bd,dh->bh", x, Wx) + np.einsum("bk,kh->bh", h_prev, Wh) + b[None, :]
    h_next = np.tanh(a)
    return h_next, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "h_next": h_next}


def step_forward_float32(x, h_prev, Wx, Wh, b):
    """Computes in float32 whatever it is given: within float32's tolerance."""
    x, h_prev, Wx, Wh, b = (a.astype(np.float32) for a in (x, h_prev, Wx, Wh, b))
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, (x, h_prev, Wx, Wh, h_next)


def forward(x, h0, Wx, Wh, b):
    B, T, D = x.shape
    h = np.zeros((B, T, Wh.shape[0]), dtype=x.dtype)
    caches = []
    h_prev = h0
    for t in range(T):
        h_prev, cache = step_forward(x[:, t], h_prev, Wx, Wh, b)
        h[:, t] = h_prev
        caches.append(cache)
    return h, caches


def forward_stacked(x, h0, Wx, Wh, b):
    """Another loop structure: precomputed input projection, a list of states, np.stack."""
    projected = x @ Wx + b  # (B, T, H)
    states = [h0]
    for t in range(x.shape[1]):
        states.append(np.tanh(projected[:, t] + states[-1] @ Wh))
    h = np.stack(states[1:], axis=1)
    return h, (x, h0, Wx, Wh, h)


def forward_float32(x, h0, Wx, Wh, b):
    return forward(*(a.astype(np.float32) for a in (x, h0, Wx, Wh, b)))


def step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def step_backward_einsum(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = (cache[k] for k in ("x", "h_prev", "Wx", "Wh", "h_next"))
    da = dh_next - dh_next * h_next * h_next
    return (
        np.einsum("bh,dh->bd", da, Wx),
        np.einsum("bh,kh->bk", da, Wh),
        np.einsum("bd,bh->dh", x, da),
        np.einsum("bk,bh->kh", h_prev, da),
        np.einsum("bh->h", da),
    )


def backward(dh, caches):
    B, T, H = dh.shape
    D = caches[0][0].shape[1]
    dx = np.zeros((B, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh_prev = np.zeros((B, H))
    for t in reversed(range(T)):
        dx[:, t], dh_prev, dWx_t, dWh_t, db_t = step_backward(dh[:, t] + dh_prev, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dh_prev, dWx, dWh, db


def backward_stacked(dh, cache):
    """Pairs with forward_stacked: one loop for da, then the weight gradients at once."""
    x, h0, Wx, Wh, h = cache
    B, T, H = h.shape
    da = np.zeros_like(h)
    carried = np.zeros((B, H))
    for t in range(T - 1, -1, -1):
        da[:, t] = (dh[:, t] + carried) * (1 - h[:, t] ** 2)
        carried = da[:, t] @ Wh.T
    h_before = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    dWx = np.einsum("btd,bth->dh", x, da)
    dWh = np.einsum("btk,bth->kh", h_before, da)
    return da @ Wx.T, carried, dWx, dWh, da.sum(axis=(0, 1))


# --- the honest students pass ------------------------------------------------------------

STEP_CASES = ["shapes", "visible", "hidden", "no_mutation"]
SEQUENCE_CASES = ["shapes", "visible", "hidden", "no_mutation", "torch"]


@pytest.mark.parametrize("student", [step_forward, step_forward_einsum, step_forward_float32])
@pytest.mark.parametrize("cases", STEP_CASES)
def test_step_forward_passes_honest_students(student, cases):
    assert check_rnn_step_forward(student, cases=cases) is None


@pytest.mark.parametrize("student", [forward, forward_stacked, forward_float32])
@pytest.mark.parametrize("cases", SEQUENCE_CASES)
def test_forward_passes_honest_students(student, cases):
    assert check_rnn_forward(student, cases=cases) is None


@pytest.mark.parametrize(
    "students",
    [
        (step_forward, step_backward),
        (step_forward_einsum, step_backward_einsum),
        (step_forward_float32, step_backward),
    ],
)
@pytest.mark.parametrize("cases", STEP_CASES)
def test_step_backward_passes_honest_students(students, cases):
    assert check_rnn_step_backward(*students, cases=cases) is None


@pytest.mark.parametrize(
    "students",
    [(forward, backward), (forward_stacked, backward_stacked), (forward_float32, backward)],
)
@pytest.mark.parametrize("cases", [*SEQUENCE_CASES, "gradient_check"])
def test_backward_passes_honest_students(students, cases):
    assert check_rnn_backward(*students, cases=cases) is None


def test_the_course_reference_passes_when_copied_not_called():
    # rnncore's own functions, re-created from their source code, are not "calls to the
    # reference": they pass every case set.
    import inspect

    import rnncore.numpy.rnn as reference

    namespace = dict(vars(reference))
    for name in ("rnn_step_forward", "rnn_forward", "rnn_step_backward", "rnn_backward"):
        exec(inspect.getsource(getattr(reference, name)), namespace)  # new code objects
    check_rnn_step_forward(namespace["rnn_step_forward"], cases="hidden")
    check_rnn_forward(namespace["rnn_forward"], cases="hidden")
    check_rnn_step_backward(
        namespace["rnn_step_forward"], namespace["rnn_step_backward"], cases="hidden"
    )
    check_rnn_backward(namespace["rnn_forward"], namespace["rnn_backward"], cases="torch")


def test_same_seed_same_inputs_and_message():
    def wrong(x, h_prev, Wx, Wh, b):
        return np.tanh(x @ Wx + h_prev @ Wh + 1.5 * b), None

    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as failure:
            check_rnn_step_forward(wrong, seed=1234)
        messages.append(str(failure.value))
    assert messages[0] == messages[1]
    assert "seed=1234" in messages[0]


# --- known mistakes: one handwritten student per mistake in the catalogues -----------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


WRONG_STEP_FORWARD = {
    "sigmoid instead of tanh": lambda x, h, Wx, Wh, b: (sigmoid(x @ Wx + h @ Wh + b), None),
    "relu instead of tanh": lambda x, h, Wx, Wh, b: (np.maximum(0, x @ Wx + h @ Wh + b), None),
    "activation missing": lambda x, h, Wx, Wh, b: (x @ Wx + h @ Wh + b, None),
    "bias missing": lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh), None),
    "initial state ignored": lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + b), None),
    "Wx and Wh swapped": lambda x, h, Wx, Wh, b: (np.tanh(x @ Wh + h @ Wx + b), None),
    "Wh used where Wx belongs": lambda x, h, Wx, Wh, b: (np.tanh(x @ Wh + h @ Wh + b), None),
    "Wh transposed": lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh.T + b), None),
}


def loop_forward(step, keep_state=True, use_h0=True):
    """A student's rnn_forward around a (possibly wrong) step, with two possible loop bugs."""

    def rnn_forward(x, h0, Wx, Wh, b):
        h = np.zeros((x.shape[0], x.shape[1], Wh.shape[1]))
        start = h0 if use_h0 else np.zeros_like(h0)
        h_prev = start
        for t in range(x.shape[1]):
            h_next = step(x[:, t], h_prev, Wx, Wh, b)[0]
            h[:, t] = h_next
            h_prev = h_next if keep_state else start
        return h, None

    return rnn_forward


WRONG_FORWARD = {name: loop_forward(step) for name, step in WRONG_STEP_FORWARD.items()}
WRONG_FORWARD["initial state ignored"] = loop_forward(step_forward, use_h0=False)
WRONG_FORWARD["hidden state not carried over time"] = loop_forward(step_forward, keep_state=False)


def catalogue_names(catalogue):
    return sorted(mistake.name for mistake in catalogue)


def test_every_forward_mistake_has_a_wrong_student():
    assert sorted(WRONG_STEP_FORWARD) == catalogue_names(mistakes.RNN_STEP_FORWARD_MISTAKES)
    assert sorted(WRONG_FORWARD) == catalogue_names(mistakes.RNN_FORWARD_MISTAKES)


@pytest.mark.parametrize("name", sorted(WRONG_STEP_FORWARD))
def test_step_forward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_rnn_step_forward(WRONG_STEP_FORWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_FORWARD))
def test_forward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(name)):
        check_rnn_forward(WRONG_FORWARD[name], cases="visible")


def test_swapped_weights_crash_on_d_not_h_and_are_named():
    with pytest.raises(AssertionError) as failure:
        check_rnn_step_forward(WRONG_STEP_FORWARD["Wx and Wh swapped"], cases="visible")
    message = str(failure.value)
    assert "raised ValueError" in message
    assert "It runs only when D == H" in message
    assert "Wx (D, H) multiplies the input x" in message


def test_sigmoid_message_reads_well():
    with pytest.raises(AssertionError) as failure:
        check_rnn_step_forward(WRONG_STEP_FORWARD["sigmoid instead of tanh"])
    message = str(failure.value)
    assert message.startswith("rnn_step_forward: h_next is wrong (compared with the reference)")
    assert "h_next matches sigmoid(x @ Wx + h_prev @ Wh + b)" in message
    assert "case 'nonzero h_prev' (B=3, D=5, H=4, float64, seed " in message


def test_initial_state_mistake_is_invisible_with_a_zero_state():
    # Not a false alarm: with h_prev = 0 ignoring it gives the right answer, so the hidden
    # set's "zero h_prev" case passes and another case names the mistake.
    with pytest.raises(AssertionError, match="initial state ignored") as failure:
        check_rnn_step_forward(WRONG_STEP_FORWARD["initial state ignored"], cases="hidden")
    assert "zero h_prev" not in str(failure.value)


@pytest.mark.parametrize(
    ("student", "term"),
    [
        (lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + 2 * (h @ Wh) + b), None), "h @ Wh"),
        (lambda x, h, Wx, Wh, b: (np.tanh(0.5 * (x @ Wx) + h @ Wh + b), None), "x @ Wx"),
        (lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh - b), None), "+ b"),
    ],
)
def test_unknown_mistake_is_located_by_switching_terms_off(student, term):
    with pytest.raises(AssertionError, match=re.escape(f"the fault is in the term {term}")):
        check_rnn_step_forward(student)


def test_no_single_term_at_fault():
    def student(x, h, Wx, Wh, b):
        return 0.9 * np.tanh(x @ Wx + h @ Wh + b), None

    with pytest.raises(AssertionError, match="never makes h_next right"):
        check_rnn_step_forward(student)


def test_sequence_term_switch_names_the_recurrent_term():
    def step(x, h, Wx, Wh, b):
        return np.tanh(x @ Wx + 0.5 * (h @ Wh) + b), None

    with pytest.raises(AssertionError, match=re.escape("h @ Wh")):
        check_rnn_forward(loop_forward(step))


# --- shapes, structure, errors ------------------------------------------------------------


def test_shape_message_names_letters_and_numbers():
    def transposed(x, h, Wx, Wh, b):
        return np.tanh(x @ Wx + h @ Wh + b).T, None

    message = re.escape("h_next has shape (4, 3), expected (B, H) = (3, 4). It looks transposed.")
    with pytest.raises(AssertionError, match=message):
        check_rnn_step_forward(transposed, cases="shapes")


def test_time_major_output_is_recognised():
    def time_major(x, h0, Wx, Wh, b):
        h, cache = forward(x, h0, Wx, Wh, b)
        return h.transpose(1, 0, 2), cache

    with pytest.raises(AssertionError, match="time-major"):
        check_rnn_forward(time_major, cases="shapes")


def test_last_state_only_is_recognised():
    def last_only(x, h0, Wx, Wh, b):
        h, cache = forward(x, h0, Wx, Wh, b)
        return h[:, -1], cache

    with pytest.raises(AssertionError, match="one time step only"):
        check_rnn_forward(last_only, cases="shapes")


def test_missing_cache_and_missing_return():
    with pytest.raises(AssertionError, match=re.escape("must return 2 values (h_next, cache)")):
        check_rnn_step_forward(lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh + b),))
    with pytest.raises(AssertionError, match="forget the return statement"):
        check_rnn_step_forward(lambda x, h, Wx, Wh, b: None)


def test_not_implemented_is_reported_as_such():
    def untouched(x, h_prev, Wx, Wh, b):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="it is not written yet"):
        check_rnn_step_forward(untouched, cases="shapes")


def test_an_error_names_the_students_line():
    def broken(x, h_prev, Wx, Wh, b):
        a = x @ Wh  # (B, D) @ (H, H): fails when D != H
        return np.tanh(a), None

    with pytest.raises(AssertionError, match=re.escape("at the line `a = x @ Wh")):
        check_rnn_step_forward(broken, cases="shapes")


def test_a_failure_hides_the_checks_internal_frames():
    with pytest.raises(AssertionError) as failure:
        check_rnn_step_forward(WRONG_STEP_FORWARD["bias missing"])
    assert failure.value.__suppress_context__ and failure.value.__cause__ is None
    assert len(failure.traceback) <= 3  # the test, the check's wrapper


def test_nan_is_reported():
    def nan(x, h, Wx, Wh, b):
        return np.full((x.shape[0], Wh.shape[0]), np.nan), None

    with pytest.raises(AssertionError, match="h_next contains NaN"):
        check_rnn_step_forward(nan, cases="shapes")


def test_integer_output_is_reported():
    with pytest.raises(AssertionError, match="h_next must hold floats, got dtype int"):
        check_rnn_step_forward(lambda x, h, Wx, Wh, b: (np.zeros((3, 4), dtype=int), None))


def test_unknown_case_set_is_a_value_error():
    with pytest.raises(ValueError, match="no case set 'everything'"):
        check_rnn_step_forward(step_forward, cases="everything")


# --- mutation and calling the reference ---------------------------------------------------


def step_forward_in_place(x, h_prev, Wx, Wh, b):
    h_prev[:] = np.tanh(x @ Wx + h_prev @ Wh + b)  # updates the state it was given
    return h_prev, None


def test_in_place_update_fails_only_the_no_mutation_cases():
    check_rnn_step_forward(step_forward_in_place, cases="visible")
    check_rnn_step_forward(step_forward_in_place, cases="hidden")
    with pytest.raises(AssertionError, match="modifies its argument h_prev in place"):
        check_rnn_step_forward(step_forward_in_place, cases="no_mutation")


def test_forward_that_mutates_h0_through_the_step():
    with pytest.raises(AssertionError, match="modifies its argument h0 in place"):
        check_rnn_forward(loop_forward(step_forward_in_place), cases="no_mutation")


def step_backward_in_place(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next
    da *= 1 - h_next**2  # modifies dh_next
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def test_backward_that_mutates_dh_next():
    check_rnn_step_backward(step_forward, step_backward_in_place, cases="visible")
    with pytest.raises(AssertionError, match="rnn_step_backward: it modifies its argument dh_next"):
        check_rnn_step_backward(step_forward, step_backward_in_place, cases="no_mutation")


def test_calling_the_reference_is_detected_under_any_name():
    from rnncore.numpy import rnn_forward as helper  # an alias: same code object

    def student(x, h0, Wx, Wh, b):
        return helper(x, h0, Wx, Wh, b)

    with pytest.raises(AssertionError, match=re.escape("rnncore.numpy.rnn.rnn_forward")):
        check_rnn_forward(student, cases="shapes")


def test_calling_the_reference_step_inside_a_loop_is_detected():
    import rnncore.numpy.rnn as reference

    with pytest.raises(AssertionError, match="calls the course's reference"):
        check_rnn_forward(loop_forward(reference.rnn_step_forward))


def test_calling_the_reference_backward_is_detected():
    import rnncore.numpy as rn

    with pytest.raises(AssertionError, match="rnncore.numpy.rnn.rnn_backward"):
        check_rnn_backward(forward_stacked, lambda dh, cache: rn.rnn_backward(dh, cache))


# --- backward mistakes ----------------------------------------------------------------------


def step_backward_with(tanh_grad="1 - h**2", state="h_prev"):
    def rnn_step_backward(dh_next, cache):
        x, h_prev, Wx, Wh, h_next = cache
        local = {"1 - h**2": 1 - h_next**2, "1 - h": 1 - h_next, "none": 1}[tanh_grad]
        da = dh_next * local
        used = h_prev if state == "h_prev" else h_next
        return da @ Wx.T, da @ Wh.T, x.T @ da, used.T @ da, da.sum(axis=0)

    return rnn_step_backward


WRONG_STEP_BACKWARD = {
    "tanh derivative written as 1 - h": step_backward_with(tanh_grad="1 - h"),
    "tanh derivative missing": step_backward_with(tanh_grad="none"),
    "dWh uses h_next instead of h_prev": step_backward_with(state="h_next"),
}


def bptt_with(step=step_backward, carry=True, overwrite=(), after_loop=(), state="h_prev"):
    """A student's rnn_backward with the usual BPTT bugs.

    ``overwrite``: gradients assigned (=) instead of accumulated (+=) inside the reversed loop,
    so that the step t = 0 is left; ``after_loop``: computed once after the loop from the last
    time step only.
    """

    def rnn_backward(dh, caches):
        B, T, H = dh.shape
        D = caches[0][0].shape[1]
        dx = np.zeros((B, T, D))
        totals = {"dWx": np.zeros((D, H)), "dWh": np.zeros((H, H)), "db": np.zeros(H)}
        dh_prev = np.zeros((B, H))
        for t in reversed(range(T)):
            x_t, h_prev, Wx, Wh, h_next = caches[t]
            cache = (x_t, h_prev if state == "h_prev" else h_next, Wx, Wh, h_next)
            upstream = dh[:, t] + dh_prev if carry else dh[:, t]
            dx[:, t], dh_prev, dWx_t, dWh_t, db_t = step(upstream, cache)
            for name, value in (("dWx", dWx_t), ("dWh", dWh_t), ("db", db_t)):
                if name in overwrite:
                    totals[name] = value
                elif name not in after_loop:
                    totals[name] = totals[name] + value
                elif t == T - 1:
                    totals[name] = value
        return dx, dh_prev, totals["dWx"], totals["dWh"], totals["db"]

    return rnn_backward


WRONG_BACKWARD = {
    "tanh derivative written as 1 - h": bptt_with(step=step_backward_with(tanh_grad="1 - h")),
    "gradient from later time steps not carried back": bptt_with(carry=False),
    "dWh uses h_t instead of h_{t-1}": bptt_with(state="h_t"),
}
for gradient in ("dWh", "db", "dWx"):
    WRONG_BACKWARD[f"{gradient} not accumulated over time (only the step t = 0)"] = bptt_with(
        overwrite=(gradient,)
    )
    WRONG_BACKWARD[f"{gradient} not accumulated over time (only the last step)"] = bptt_with(
        after_loop=(gradient,)
    )


def test_every_backward_mistake_has_a_wrong_student():
    assert sorted(WRONG_STEP_BACKWARD) == catalogue_names(mistakes.RNN_STEP_BACKWARD_MISTAKES)
    assert sorted(WRONG_BACKWARD) == catalogue_names(mistakes.RNN_BACKWARD_MISTAKES)


@pytest.mark.parametrize("name", sorted(WRONG_STEP_BACKWARD))
def test_step_backward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_rnn_step_backward(step_forward, WRONG_STEP_BACKWARD[name], cases="visible")


@pytest.mark.parametrize("name", sorted(WRONG_BACKWARD))
def test_backward_names_each_mistake(name):
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_rnn_backward(forward, WRONG_BACKWARD[name], cases="visible")


def test_backward_says_which_gradient_is_wrong():
    with pytest.raises(AssertionError) as failure:
        check_rnn_backward(forward, WRONG_BACKWARD["dWh uses h_t instead of h_{t-1}"])
    message = str(failure.value)
    assert message.startswith("rnn_backward: dWh is wrong")
    assert "dx, dh0, dWx and db are right" in message


@pytest.mark.parametrize("cases", ["gradient_check", "torch"])
def test_backward_mistakes_fail_against_independent_references(cases):
    with pytest.raises(AssertionError, match="tanh derivative written as 1 - h"):
        check_rnn_backward(forward, WRONG_BACKWARD["tanh derivative written as 1 - h"], cases)


def test_not_accumulating_is_invisible_when_t_is_1():
    # T = 1 has one step only: overwriting and accumulating agree there. The hidden set has
    # longer sequences too, which catch it.
    student = WRONG_BACKWARD["dWh not accumulated over time (only the step t = 0)"]
    with pytest.raises(AssertionError, match="dWh not accumulated") as failure:
        check_rnn_backward(forward, student, cases="hidden")
    assert "'T = 1'" not in str(failure.value)


def test_db_not_summed_over_the_batch_is_a_shape_error():
    def student(dh_next, cache):
        dx, dh_prev, dWx, dWh, _ = step_backward(dh_next, cache)
        return dx, dh_prev, dWx, dWh, dh_next * (1 - cache[4] ** 2)

    with pytest.raises(
        AssertionError, match=re.escape("db has shape (3, 4), expected (H,) = (4,). Sum")
    ):
        check_rnn_step_backward(step_forward, student, cases="shapes")


def test_wrong_forward_is_blamed_before_the_backward():
    with pytest.raises(AssertionError) as failure:
        check_rnn_step_backward(WRONG_STEP_FORWARD["bias missing"], step_backward)
    assert str(failure.value).startswith("rnn_step_forward (which makes the cache for")
    assert "bias missing" in str(failure.value)


def test_gradient_order_is_checked():
    def swapped_order(dh_next, cache):
        dx, dh_prev, dWx, dWh, db = step_backward(dh_next, cache)
        return dh_prev, dx, dWx, dWh, db

    with pytest.raises(
        AssertionError, match=re.escape("dx has shape (3, 4), expected (B, D) = (3, 5)")
    ):
        check_rnn_step_backward(step_forward, swapped_order, cases="shapes")
