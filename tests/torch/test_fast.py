"""rnncore.torch.fast computes what the readable layers, the cells and torch.nn compute.

Forward and every gradient (x, h0, c0, Wx, Wh, b, b_hn), float64, tolerance 1e-10, against
three references: the readable :mod:`rnncore.torch.layers` (autograd through cells), the
functional cells looped by hand, and torch.nn with weights moved by rnncore.torch.interop.
The loss reads every output (the whole sequence and the final states), so a wrong gradient
on any path of the backward shows. Each comparison is also run on a wrong variant (gates
swapped, a different upstream gradient) to prove it can fail.
"""

import re

import pytest
import torch

from rnncore.torch import cells, fast, interop, layers

F64 = torch.float64
TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}
CELLS = ["rnn", "rnn_relu", "lstm", "gru"]
TORCH_NN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
SHAPES = [(1, 1, 3, 2), (1, 4, 2, 5), (3, 1, 4, 4), (2, 5, 4, 3), (4, 7, 2, 6)]  # B, T, D, H


def gates_of(cell: str) -> int:
    return {"lstm": 4, "gru": 3}.get(cell, 1)


def make_case(cell, B, T, D, H, seed=0, dtype=F64, device="cpu"):
    """Random weights, inputs and upstream gradients, as plain (non-leaf-free) tensors."""
    generator = torch.Generator(device=device).manual_seed(seed)
    options = {"dtype": dtype, "device": device}

    def draw(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=generator, **options)

    G = gates_of(cell)
    params = {"Wx": draw(D, G * H, scale=0.5), "Wh": draw(H, G * H, scale=0.5), "b": draw(G * H)}
    if cell == "gru":
        params["b_hn"] = draw(H)
    inputs = {"x": draw(B, T, D), "h0": draw(B, H)}
    if cell == "lstm":
        inputs["c0"] = draw(B, H)
    upstream = {"h": draw(B, T, H), "h_last": draw(B, H), "c_last": draw(B, H)}
    return params, inputs, upstream


def leaves(tensors: dict) -> dict:
    return {name: t.detach().clone().requires_grad_(True) for name, t in tensors.items()}


def loss_of(upstream, h, h_last, c_last=None):
    """A scalar that reads every output, each weighted by its own random upstream gradient."""
    loss = (h * upstream["h"]).sum() + (h_last * upstream["h_last"]).sum()
    if c_last is not None:
        loss = loss + (c_last * upstream["c_last"]).sum()
    return loss


def run_fast(cell, params, inputs, upstream):
    """Outputs and gradients of every input of the fast path."""
    p, i = leaves(params), leaves(inputs)
    c_last = None
    if cell in ("rnn", "rnn_relu"):
        nonlinearity = "relu" if cell == "rnn_relu" else "tanh"
        h, h_last = fast.rnn_sequence_fast(i["x"], i["h0"], **p, nonlinearity=nonlinearity)
    elif cell == "lstm":
        h, (h_last, c_last) = fast.lstm_sequence_fast(i["x"], i["h0"], i["c0"], **p)
    else:
        h, h_last = fast.gru_sequence_fast(i["x"], i["h0"], **p)
    return collect(upstream, {**i, **p}, h, h_last, c_last)


def collect(upstream, named_leaves, h, h_last, c_last):
    loss_of(upstream, h, h_last, c_last).backward()
    outputs = {"h": h.detach(), "h_last": h_last.detach()}
    if c_last is not None:
        outputs["c_last"] = c_last.detach()
    outputs.update({f"d{name}": t.grad for name, t in named_leaves.items()})
    return outputs


def run_readable_layer(cell, params, inputs, upstream):
    """The same through rnncore.torch.layers (one layer, its parameters set to params)."""
    D, H = inputs["x"].shape[2], inputs["h0"].shape[1]
    if cell == "rnn_relu":
        layer = layers.RNN(D, H, nonlinearity="relu", dtype=params["Wx"].dtype)
    else:
        layer = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell](
            D, H, dtype=params["Wx"].dtype
        )
    layer = layer.to(params["Wx"].device)
    weights = layer.weights[0][0]
    with torch.no_grad():
        for name, value in params.items():
            weights[name].copy_(value)
    i = leaves(inputs)
    if cell == "lstm":
        h, (h_n, c_n) = layer(i["x"], (i["h0"][None], i["c0"][None]))
        h_last, c_last = h_n[0], c_n[0]
    else:
        h, h_n = layer(i["x"], i["h0"][None])
        h_last, c_last = h_n[0], None
    return collect(upstream, {**i, **weights}, h, h_last, c_last)


def run_cells(cell, params, inputs, upstream):
    """The same with the functional cells looped by hand over x.unbind(1)."""
    p, i = leaves(params), leaves(inputs)
    h, c = i["h0"], i.get("c0")
    hidden_states = []
    for x_t in i["x"].unbind(1):
        if cell in ("rnn", "rnn_relu"):
            nonlinearity = "relu" if cell == "rnn_relu" else "tanh"
            h = cells.rnn_cell(x_t, h, **p, nonlinearity=nonlinearity)
        elif cell == "lstm":
            h, c = cells.lstm_cell(x_t, h, c, **p)
        else:
            h = cells.gru_cell(x_t, h, **p)
        hidden_states.append(h)
    return collect(upstream, {**i, **p}, torch.stack(hidden_states, dim=1), h, c)


def run_torch_nn(cell, params, inputs, upstream):
    """The same through torch.nn, weights loaded by interop; gradients mapped back."""
    D, H = inputs["x"].shape[2], inputs["h0"].shape[1]
    options = {"dtype": params["Wx"].dtype, "device": params["Wx"].device}
    extra = {"nonlinearity": "relu"} if cell == "rnn_relu" else {}
    module = TORCH_NN[cell.split("_")[0]](D, H, batch_first=True, **options, **extra)
    interop.params_to_torch([[params]], module)
    i = leaves(inputs)
    if cell == "lstm":
        h, (h_n, c_n) = module(i["x"], (i["h0"][None], i["c0"][None]))
        h_last, c_last = h_n[0], c_n[0]
    else:
        h, h_n = module(i["x"], i["h0"][None])
        h_last, c_last = h_n[0], None
    outputs = collect(upstream, i, h, h_last, c_last)
    # b enters where bias_ih does; b_hn is the n block of bias_hh (see interop).
    outputs["dWx"] = module.weight_ih_l0.grad.T
    outputs["dWh"] = module.weight_hh_l0.grad.T
    outputs["db"] = module.bias_ih_l0.grad
    if cell == "gru":
        outputs["db_hn"] = module.bias_hh_l0.grad[2 * H :]
    return outputs


def assert_same(actual: dict, desired: dict, tolerance=TOLERANCE) -> None:
    assert set(actual) == set(desired)
    for name in desired:
        torch.testing.assert_close(actual[name], desired[name], **tolerance, msg=name)


REFERENCES = {"layers": run_readable_layer, "cells": run_cells, "torch.nn": run_torch_nn}


@pytest.mark.parametrize("reference", list(REFERENCES))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B{}_T{}_D{}_H{}".format(*s))
@pytest.mark.parametrize("cell", CELLS)
def test_fast_matches_reference_forward_and_every_gradient(cell, shape, reference):
    params, inputs, upstream = make_case(cell, *shape, seed=sum(shape))
    expected = REFERENCES[reference](cell, params, inputs, upstream)
    assert_same(run_fast(cell, params, inputs, upstream), expected)


def swap_first_two_gates(params: dict, H: int) -> dict:
    """LSTM i <-> f, GRU r <-> z; for the RNN (one gate), Wh transposed."""
    swapped = dict(params)
    if params["Wh"].shape[1] == H:
        swapped["Wh"] = params["Wh"].T.contiguous()
        return swapped
    for name in ("Wx", "Wh", "b"):
        first, second, rest = params[name].split([H, H, params[name].shape[-1] - 2 * H], dim=-1)
        swapped[name] = torch.cat([second, first, rest], dim=-1)
    return swapped


@pytest.mark.parametrize("cell", CELLS)
def test_parity_check_fails_on_swapped_gates(cell):
    """The comparison above can fail: the fast path with two gates swapped is caught."""
    B, T, D, H = 2, 4, 3, 5
    params, inputs, upstream = make_case(cell, B, T, D, H, seed=1)
    expected = run_readable_layer(cell, params, inputs, upstream)
    wrong = run_fast(cell, swap_first_two_gates(params, H), inputs, upstream)
    with pytest.raises(AssertionError):
        assert_same(wrong, expected)
    assert_same(run_fast(cell, params, inputs, upstream), expected)  # and the right one passes


@pytest.mark.parametrize("cell", CELLS)
def test_gradient_check_fails_on_a_wrong_upstream_gradient(cell):
    """Same forward, gradients of a slightly different loss: only the gradients differ."""
    params, inputs, upstream = make_case(cell, 2, 4, 3, 5, seed=2)
    expected = run_readable_layer(cell, params, inputs, upstream)
    nudged = {**upstream, "h": upstream["h"] * (1 + 1e-6)}
    wrong = run_fast(cell, params, inputs, nudged)
    forward = [name for name in ("h", "h_last", "c_last") if name in expected]
    assert_same({k: wrong[k] for k in forward}, {k: expected[k] for k in forward})
    with pytest.raises(AssertionError):
        assert_same(wrong, expected)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_finite_differences(cell):
    """torch.autograd.gradcheck: the hand-written backward against centred differences."""
    params, inputs, _ = make_case(cell, 2, 3, 2, 3, seed=3)
    names = list(inputs) + list(params)
    tensors = [t.requires_grad_(True) for t in leaves({**inputs, **params}).values()]

    def outputs(*args):
        named = dict(zip(names, args, strict=True))
        if cell == "lstm":
            h, (h_last, c_last) = fast.lstm_sequence_fast(**named)
            return h, h_last, c_last
        if cell == "gru":
            return fast.gru_sequence_fast(**named)
        nonlinearity = "relu" if cell == "rnn_relu" else "tanh"
        return fast.rnn_sequence_fast(**named, nonlinearity=nonlinearity)

    assert torch.autograd.gradcheck(outputs, tensors, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell", CELLS)
def test_only_the_requested_gradients_are_computed(cell):
    """Inputs that do not require grad get none; the others still match the reference."""
    params, inputs, upstream = make_case(cell, 3, 4, 2, 3, seed=4)
    expected = run_readable_layer(cell, params, inputs, upstream)
    p = leaves(params)
    x, h0 = inputs["x"].clone(), inputs["h0"].clone()  # no grad wanted on these
    p["b"].requires_grad_(False)
    if cell == "lstm":
        h, (h_last, c_last) = fast.lstm_sequence_fast(x, h0, inputs["c0"], **p)
    elif cell == "gru":
        h, h_last = fast.gru_sequence_fast(x, h0, **p)
        c_last = None
    else:
        nonlinearity = "relu" if cell == "rnn_relu" else "tanh"
        h, h_last = fast.rnn_sequence_fast(x, h0, **p, nonlinearity=nonlinearity)
        c_last = None
    loss_of(upstream, h, h_last, c_last).backward()
    assert x.grad is None and h0.grad is None and p["b"].grad is None
    torch.testing.assert_close(p["Wh"].grad, expected["dWh"], **TOLERANCE)
    torch.testing.assert_close(p["Wx"].grad, expected["dWx"], **TOLERANCE)


@pytest.mark.parametrize("cell", CELLS)
def test_inputs_are_not_modified_and_dtype_is_kept(cell):
    params, inputs, upstream = make_case(cell, 2, 3, 4, 3, seed=5, dtype=torch.float32)
    before = {name: t.clone() for name, t in {**params, **inputs}.items()}
    outputs = run_fast(cell, params, inputs, upstream)
    for name, tensor in {**params, **inputs}.items():
        assert torch.equal(tensor, before[name]), name
    assert all(t.dtype == torch.float32 for t in outputs.values())
    torch.testing.assert_close(outputs["h_last"], outputs["h"][:, -1], rtol=0, atol=0)


def test_runs_without_gradients():
    params, inputs, _ = make_case("lstm", 2, 3, 4, 3)
    with torch.no_grad():
        h, (h_last, c_last) = fast.lstm_sequence_fast(
            inputs["x"], inputs["h0"], inputs["c0"], **params
        )
    assert h.shape == (2, 3, 3) and not h.requires_grad
    assert c_last.shape == (2, 3)


def call_fast(cell, params, inputs):
    """The fast path's (h, h_last) on leaf copies of the inputs."""
    p, i = leaves(params), leaves(inputs)
    if cell in ("rnn", "rnn_relu"):
        return fast.rnn_sequence_fast(i["x"], i["h0"], **p)
    if cell == "lstm":
        h, (h_last, _) = fast.lstm_sequence_fast(i["x"], i["h0"], i["c0"], **p)
        return h, h_last
    return fast.gru_sequence_fast(i["x"], i["h0"], **p)


@pytest.mark.parametrize("cell", CELLS)
def test_output_is_a_view_of_the_saved_states_and_in_place_changes_are_refused(cell):
    """h is the time-major state buffer seen batch first (no copy); autograd guards it."""
    params, inputs, _ = make_case(cell, 3, 4, 2, 5, seed=6)
    h, h_last = call_fast(cell, params, inputs)
    assert h._is_view() and h.transpose(0, 1).is_contiguous() and not h.is_contiguous()
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
        h.mul_(2.0)
    h, h_last = call_fast(cell, params, inputs)
    h.contiguous().mul_(2.0)  # a copy may be changed; the backward still runs
    h_last.sum().backward()


# ---------------------------------------------------------------------------- input errors

Z = torch.zeros


def call_lstm(x=None, h0=None, c0=None, Wx=None, Wh=None, b=None):
    """lstm_sequence_fast with B, T, D, H = 2, 3, 4, 5; any argument can be replaced."""
    return fast.lstm_sequence_fast(
        Z(2, 3, 4, dtype=F64) if x is None else x,
        Z(2, 5, dtype=F64) if h0 is None else h0,
        Z(2, 5, dtype=F64) if c0 is None else c0,
        Z(4, 20, dtype=F64) if Wx is None else Wx,
        Z(5, 20, dtype=F64) if Wh is None else Wh,
        Z(20, dtype=F64) if b is None else b,
    )


def call_gru(**replace):
    arguments = {
        "x": Z(2, 3, 4, dtype=F64),
        "h0": Z(2, 5, dtype=F64),
        "Wx": Z(4, 15, dtype=F64),
        "Wh": Z(5, 15, dtype=F64),
        "b": Z(15, dtype=F64),
        "b_hn": Z(5, dtype=F64),
    }
    return fast.gru_sequence_fast(**{**arguments, **replace})


def call_rnn(**replace):
    arguments = {
        "x": Z(2, 3, 4, dtype=F64),
        "h0": Z(2, 5, dtype=F64),
        "Wx": Z(4, 5, dtype=F64),
        "Wh": Z(5, 5, dtype=F64),
        "b": Z(5, dtype=F64),
    }
    return fast.rnn_sequence_fast(**{**arguments, **replace})


ERRORS = {
    "x axes": (
        lambda: call_lstm(x=Z(2, 4, dtype=F64)),
        "x must have 3 axes (B, T, D), got shape (2, 4)",
    ),
    "Wh size": (
        lambda: call_lstm(Wh=Z(5, 15, dtype=F64)),
        "Wh must have shape (H, 4H) = (5, 20), got (5, 15)",
    ),
    "Wx input size": (
        lambda: call_lstm(Wx=Z(3, 20, dtype=F64)),
        "Wx must have shape (D, 4H) = (4, 20), got (3, 20)",
    ),
    "b size": (lambda: call_lstm(b=Z(16, dtype=F64)), "b must have shape (4H,) = (20,), got (16,)"),
    "h0 batch": (
        lambda: call_lstm(h0=Z(3, 5, dtype=F64)),
        "h0 must have shape (B, H) = (2, 5), got (3, 5)",
    ),
    "c0 size": (
        lambda: call_lstm(c0=Z(2, 4, dtype=F64)),
        "c0 must have shape (B, H) = (2, 5), got (2, 4)",
    ),
    "dtype mix": (
        lambda: call_lstm(Wh=Z(5, 20, dtype=torch.float32)),
        "Wh has dtype torch.float32 but x has torch.float64: pass every tensor in one dtype",
    ),
    "integer x": (
        lambda: call_lstm(x=Z(2, 3, 4, dtype=torch.int64)),
        "x must be a torch floating-point tensor, got torch.int64",
    ),
    "not a tensor": (
        lambda: call_lstm(h0=[[0.0] * 5] * 2),
        "h0 must be a torch tensor, got list",
    ),
    "no time step": (
        lambda: call_lstm(x=Z(2, 0, 4, dtype=F64)),
        "x must have at least one time step (T >= 1), got shape (2, 0, 4)",
    ),
    "gru b_hn": (
        lambda: call_gru(b_hn=Z(15, dtype=F64)),
        "b_hn must have shape (H,) = (5,), got (15,)",
    ),
    "gru Wh": (
        lambda: call_gru(Wh=Z(5, 20, dtype=F64)),
        "Wh must have shape (H, 3H) = (5, 15), got (5, 20)",
    ),
    "rnn Wx": (
        lambda: call_rnn(Wx=Z(4, 6, dtype=F64)),
        "Wx must have shape (D, H) = (4, 5), got (4, 6)",
    ),
    "rnn nonlinearity": (
        lambda: call_rnn(nonlinearity="sigmoid"),
        "nonlinearity must be one of ['relu', 'tanh'], got 'sigmoid'",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_raises_value_error_naming_it(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize("call", [call_lstm, call_gru, call_rnn])
def test_the_default_arguments_of_the_error_cases_are_valid(call):
    """The error cases replace one argument of a valid call, so the check is what fails."""
    h = call()[0]
    assert h.shape == (2, 3, 5)


# ---------------------------------------------------------------------------- CUDA


@pytest.mark.cuda
@pytest.mark.parametrize("reference", ["layers", "torch.nn"])
@pytest.mark.parametrize("cell", CELLS)
def test_fast_on_cuda_matches_reference_on_cuda_in_float64(cell, reference):
    params, inputs, upstream = make_case(cell, 3, 6, 4, 5, seed=6, device="cuda")
    expected = REFERENCES[reference](cell, params, inputs, upstream)
    actual = run_fast(cell, params, inputs, upstream)
    assert all(t.is_cuda for t in actual.values())
    assert_same(actual, expected, {"rtol": 1e-9, "atol": 1e-9})


@pytest.mark.cuda
@pytest.mark.parametrize("cell", CELLS)
def test_fast_on_cuda_matches_fast_on_cpu(cell):
    params, inputs, upstream = make_case(cell, 3, 6, 4, 5, seed=7)
    on_cpu = run_fast(cell, params, inputs, upstream)
    to_cuda = lambda tensors: {k: t.cuda() for k, t in tensors.items()}  # noqa: E731
    on_cuda = run_fast(cell, to_cuda(params), to_cuda(inputs), to_cuda(upstream))
    assert_same({k: t.cpu() for k, t in on_cuda.items()}, on_cpu, {"rtol": 1e-9, "atol": 1e-9})


def float32_errors(cell, device):
    """Largest error of the fast path and of torch.nn in float32 against float64, per tensor."""
    params, inputs, upstream = make_case(cell, 8, 20, 16, 32, seed=8, device=device)
    exact = run_fast(cell, params, inputs, upstream)  # float64; equal to torch.nn's to 1e-9
    single = [{k: t.float() for k, t in tensors.items()} for tensors in (params, inputs, upstream)]
    fast32, torch_nn32 = run_fast(cell, *single), run_torch_nn(cell, *single)
    return {
        name: (
            (fast32[name].double() - value).abs().max().item(),
            (torch_nn32[name].double() - value).abs().max().item(),
            value.abs().max().item(),
        )
        for name, value in exact.items()
    }


def assert_as_accurate_as_torch_nn(errors: dict, factor: float = 4.0) -> None:
    """Two float32 paths round differently, and over 20 steps the differences compound past
    any fixed tolerance between them; what must hold is that the fast path's error against
    float64 is of the size of torch.nn's (a floor of 1e-6 of the largest value allows for
    tensors where torch.nn happens to round almost exactly)."""
    for name, (fast_error, torch_nn_error, scale) in errors.items():
        assert fast_error <= factor * torch_nn_error + 1e-6 * scale, (
            f"{name}: fast path error {fast_error:.2e}, torch.nn error {torch_nn_error:.2e}, "
            f"largest value {scale:.2e}"
        )


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fast_float32_on_cpu_is_as_accurate_as_torch_nn(cell):
    assert_as_accurate_as_torch_nn(float32_errors(cell, "cpu"))


@pytest.mark.cuda
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fast_float32_on_cuda_is_as_accurate_as_cudnn(cell):
    assert_as_accurate_as_torch_nn(float32_errors(cell, "cuda"))


@pytest.mark.parametrize("cell", CELLS)
def test_non_contiguous_inputs_give_the_same_result(cell):
    """Transposed views (as interop or a user may pass) are read through their strides."""
    params, inputs, upstream = make_case(cell, 3, 4, 2, 5, seed=9)
    expected = run_fast(cell, params, inputs, upstream)
    strided_params = {name: t.T.contiguous().T if t.dim() == 2 else t for name, t in params.items()}
    strided_inputs = {
        name: t.transpose(0, 1).contiguous().transpose(0, 1) for name, t in inputs.items()
    }
    assert not strided_inputs["x"].is_contiguous() and not strided_params["Wh"].is_contiguous()
    actual = run_fast(cell, strided_params, strided_inputs, upstream)
    assert_same(actual, expected, {"rtol": 1e-13, "atol": 1e-13})
