"""rnncore.numpy == rnncore.torch == torch.nn, forward and every gradient, in float64.

Three implementations we wrote or did not write compute the same function:
the hand-written NumPy backward passes, autograd through our cells and layers, and PyTorch's
own torch.nn.RNN/LSTM/GRU, with weights moved between them by rnncore.torch.interop in both
directions (torch.nn -> ours and ours -> torch.nn).
"""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from rnncore.numpy.gru import (
    gru_backward,
    gru_forward,
    gru_reset_after_backward,
    gru_reset_after_forward,
    init_gru,
)
from rnncore.numpy.lstm import lstm_backward, lstm_forward
from rnncore.numpy.rnn import rnn_backward, rnn_forward
from rnncore.torch import cells, interop, layers

TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}
TORCH_NN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
OURS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}


def assert_same(actual: dict, desired: dict, what: str) -> None:
    assert set(actual) == set(desired), what
    for name in desired:
        assert_allclose(actual[name], desired[name], **TOLERANCE, err_msg=f"{what}: {name}")


def random_inputs(rng, cell, B, T, D, H):
    x = rng.standard_normal((B, T, D))  # (B, T, D)
    h0 = rng.standard_normal((B, H))  # (B, H)
    c0 = rng.standard_normal((B, H)) if cell == "lstm" else None  # (B, H)
    dh = rng.standard_normal((B, T, H))  # (B, T, H), upstream gradient
    return x, h0, c0, dh


def numpy_forward_backward(cell, x, h0, c0, params, dh):
    """Output and gradients of rnncore.numpy's hand-written backward pass."""
    if cell == "rnn":
        h, cache = rnn_forward(x, h0, **params)
        names = ("x", "h0", "Wx", "Wh", "b")
        grads = rnn_backward(dh, cache)
    elif cell == "lstm":
        h, cache = lstm_forward(x, h0, **params, c0=c0)
        names = ("x", "h0", "Wx", "Wh", "b", "c0")
        grads = lstm_backward(dh, cache)
    else:
        h, cache = gru_reset_after_forward(x, h0, **params)
        names = ("x", "h0", "Wx", "Wh", "b", "b_hn")
        grads = gru_reset_after_backward(dh, cache)
    return h, dict(zip(names, grads, strict=True))


def initial_state(cell, h0, c0):
    """NumPy (B, H) states as leaf tensors in torch.nn's (1, B, H) layout."""
    h0 = torch.tensor(h0[None], requires_grad=True)  # (1, B, H)
    if cell != "lstm":
        return h0, {"h0": h0}
    c0 = torch.tensor(c0[None], requires_grad=True)  # (1, B, H)
    return (h0, c0), {"h0": h0, "c0": c0}


def module_forward_backward(module, cell, x, h0, c0, dh, batch_first=True):
    """Output, final state and input-state gradients of a torch module (ours or torch.nn)."""
    x = torch.tensor(x, requires_grad=True)  # (B, T, D)
    state, leaves = initial_state(cell, h0, c0)
    inputs = x if batch_first else x.transpose(0, 1)  # (B, T, D) or (T, B, D)
    output, final = module(inputs, state)
    if not batch_first:
        output = output.transpose(0, 1)  # (B, T, H)
    (output * torch.tensor(dh)).sum().backward()
    grads = {"x": x.grad.numpy()}
    grads.update({name: leaf.grad[0].numpy() for name, leaf in leaves.items()})
    return output.detach().numpy(), grads


def our_parameter_grads(module, layer=0, direction=0) -> dict:
    return {name: p.grad.numpy() for name, p in module.weights[layer][direction].items()}


def torch_nn_parameter_grads(module, layer=0, direction=0) -> dict:
    """torch.nn's parameter gradients mapped to rnncore's layout (and the bias split checked).

    d loss / d b = d loss / d b_ih, since b enters exactly where b_ih does; for the summed
    blocks b_hh receives the same gradient, and for the GRU's n block it is d loss / d b_hn.
    """
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    W_ih, W_hh, b_ih, b_hh = (
        getattr(module, f"{name}{suffix}")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )
    grads = {"Wx": W_ih.grad.T.numpy(), "Wh": W_hh.grad.T.numpy(), "b": b_ih.grad.numpy()}
    if isinstance(module, torch.nn.GRU):
        H = module.hidden_size
        assert_allclose(b_hh.grad[: 2 * H].numpy(), b_ih.grad[: 2 * H].numpy(), **TOLERANCE)
        grads["b_hn"] = b_hh.grad[2 * H :].numpy()
    else:
        assert_allclose(b_hh.grad.numpy(), b_ih.grad.numpy(), **TOLERANCE)
    return grads


shapes = st.tuples(
    st.integers(1, 4),  # B
    st.integers(1, 6),  # T
    st.integers(1, 5),  # D
    st.integers(1, 5),  # H
    st.integers(0, 2**16),  # seed
)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@settings(max_examples=20, deadline=None)
@given(shape=shapes)
@example(shape=(1, 1, 1, 1, 0))
@example(shape=(1, 1, 3, 2, 1))
@example(shape=(3, 4, 2, 5, 2))
def test_numpy_ours_and_torch_nn_agree_from_torch_weights(cell, shape):
    """Weights drawn by torch.nn, moved into rnncore.numpy and our layer by interop."""
    B, T, D, H, seed = shape
    torch.manual_seed(seed)
    reference = TORCH_NN[cell](D, H, batch_first=True, dtype=torch.float64)
    ours = interop.load_from_torch(OURS[cell](D, H, dtype=torch.float64), reference)
    params = interop.numpy_params_from_torch(reference)
    x, h0, c0, dh = random_inputs(np.random.default_rng(seed), cell, B, T, D, H)

    h_numpy, grads_numpy = numpy_forward_backward(cell, x, h0, c0, params, dh)
    h_torch_nn, grads_torch_nn = module_forward_backward(reference, cell, x, h0, c0, dh)
    h_ours, grads_ours = module_forward_backward(ours, cell, x, h0, c0, dh)
    grads_torch_nn.update(torch_nn_parameter_grads(reference))
    grads_ours.update(our_parameter_grads(ours))

    assert_allclose(h_numpy, h_torch_nn, **TOLERANCE)
    assert_allclose(h_ours, h_torch_nn, **TOLERANCE)
    assert_same(grads_numpy, grads_torch_nn, "numpy vs torch.nn")
    assert_same(grads_ours, grads_torch_nn, "ours vs torch.nn")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("B, T, D, H", [(1, 1, 2, 3), (2, 5, 4, 3), (3, 2, 1, 4)])
def test_numpy_ours_and_torch_nn_agree_from_our_weights(cell, B, T, D, H):
    """Weights drawn by our layer, moved to torch.nn by to_torch_module (the other direction)."""
    torch.manual_seed(B * 100 + T)
    ours = OURS[cell](D, H, dtype=torch.float64)
    reference = interop.to_torch_module(ours)
    params = {name: p.detach().numpy().copy() for name, p in ours.weights[0][0].items()}
    x, h0, c0, dh = random_inputs(np.random.default_rng(T), cell, B, T, D, H)

    h_numpy, grads_numpy = numpy_forward_backward(cell, x, h0, c0, params, dh)
    h_torch_nn, grads_torch_nn = module_forward_backward(reference, cell, x, h0, c0, dh)
    h_ours, grads_ours = module_forward_backward(ours, cell, x, h0, c0, dh)
    grads_torch_nn.update(torch_nn_parameter_grads(reference))
    grads_ours.update(our_parameter_grads(ours))

    assert_allclose(h_ours, h_numpy, **TOLERANCE)
    assert_allclose(h_torch_nn, h_numpy, **TOLERANCE)
    assert_same(grads_ours, grads_numpy, "ours vs numpy")
    assert_same(grads_torch_nn, grads_numpy, "torch.nn vs numpy")


@pytest.mark.parametrize("B, T, D, H", [(1, 1, 3, 2), (2, 4, 3, 5)])
def test_cells_looped_by_hand_agree_with_numpy(B, T, D, H):
    """The functional cells (not only the layers) against rnncore.numpy, with gradients."""
    rng = np.random.default_rng(7)
    for cell in ("rnn", "lstm", "gru"):
        torch.manual_seed(3)
        reference = TORCH_NN[cell](D, H, batch_first=True, dtype=torch.float64)
        params = interop.numpy_params_from_torch(reference)
        x, h0, c0, dh = random_inputs(rng, cell, B, T, D, H)
        h_numpy, grads_numpy = numpy_forward_backward(cell, x, h0, c0, params, dh)

        tensors = {name: torch.tensor(a, requires_grad=True) for name, a in params.items()}
        x_t = torch.tensor(x, requires_grad=True)
        h = h0_t = torch.tensor(h0, requires_grad=True)
        c = c0_t = torch.tensor(c0, requires_grad=True) if cell == "lstm" else None
        hidden_states = []
        for x_step in x_t.unbind(1):
            if cell == "rnn":
                h = cells.rnn_cell(x_step, h, **tensors)
            elif cell == "lstm":
                h, c = cells.lstm_cell(x_step, h, c, **tensors)
            else:
                h = cells.gru_cell(x_step, h, **tensors)
            hidden_states.append(h)
        h_all = torch.stack(hidden_states, dim=1)  # (B, T, H)
        (h_all * torch.tensor(dh)).sum().backward()
        grads = {"x": x_t.grad.numpy(), "h0": h0_t.grad.numpy()}
        if c0_t is not None:
            grads["c0"] = c0_t.grad.numpy()
        grads.update({name: t.grad.numpy() for name, t in tensors.items()})

        assert_allclose(h_all.detach().numpy(), h_numpy, **TOLERANCE)
        assert_same(grads, grads_numpy, f"{cell} cell vs numpy")


@pytest.mark.parametrize("B, T, D, H", [(1, 1, 1, 1), (1, 3, 4, 2), (3, 5, 2, 4)])
def test_gru_seed_convention_matches_numpy_gru_forward(B, T, D, H):
    """gru_cell_reset_before and GRU(reset_after=False) compute rnncore.numpy.gru_forward."""
    rng = np.random.default_rng(B + T + D + H)
    params = init_gru(D, H, rng)
    x, h0, _, dh = random_inputs(rng, "gru", B, T, D, H)
    h_numpy, cache = gru_forward(x, h0, **params)
    grads_numpy = dict(zip(("x", "h0", "Wx", "Wh", "b"), gru_backward(dh, cache), strict=True))

    # The cell, looped by hand.
    tensors = {name: torch.tensor(a, requires_grad=True) for name, a in params.items()}
    x_t = torch.tensor(x, requires_grad=True)
    h = h0_t = torch.tensor(h0, requires_grad=True)
    hidden_states = []
    for x_step in x_t.unbind(1):
        h = cells.gru_cell_reset_before(x_step, h, **tensors)
        hidden_states.append(h)
    h_cell = torch.stack(hidden_states, dim=1)  # (B, T, H)
    (h_cell * torch.tensor(dh)).sum().backward()
    grads_cell = {"x": x_t.grad.numpy(), "h0": h0_t.grad.numpy()}
    grads_cell.update({name: t.grad.numpy() for name, t in tensors.items()})
    assert_allclose(h_cell.detach().numpy(), h_numpy, **TOLERANCE)
    assert_same(grads_cell, grads_numpy, "gru_cell_reset_before vs numpy")

    # The layer.
    layer = layers.GRU(D, H, reset_after=False, dtype=torch.float64)
    with torch.no_grad():
        for name, array in params.items():
            layer.weights[0][0][name].copy_(torch.from_numpy(array))
    h_layer, grads_layer = module_forward_backward(layer, "gru", x, h0, None, dh)
    grads_layer.update(our_parameter_grads(layer))
    assert_allclose(h_layer, h_numpy, **TOLERANCE)
    assert_same(grads_layer, grads_numpy, "GRU(reset_after=False) vs numpy")


def test_gru_conventions_differ_with_the_same_weights():
    """The two GRUs are different functions: the parity above is not a tautology."""
    rng = np.random.default_rng(0)
    params = init_gru(3, 4, rng)
    x, h0, _, _ = random_inputs(rng, "gru", 2, 3, 3, 4)
    h_seed, _ = gru_forward(x, h0, **params)
    h_torch, _ = gru_reset_after_forward(x, h0, **params, b_hn=np.zeros(4))
    assert np.abs(h_seed - h_torch).max() > 1e-3


CONFIGURATIONS = [
    ("rnn", {}),
    ("rnn", {"nonlinearity": "relu"}),
    ("lstm", {}),
    ("gru", {}),
]


@pytest.mark.parametrize("cell, options", CONFIGURATIONS, ids=["rnn", "rnn-relu", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_multilayer_bidirectional_layers_match_torch_nn(cell, options, num_layers, bidirectional):
    B, T, D, H = 2, 4, 3, 5
    torch.manual_seed(num_layers * 10 + bidirectional)
    reference = TORCH_NN[cell](
        D,
        H,
        num_layers=num_layers,
        bidirectional=bidirectional,
        batch_first=True,
        dtype=torch.float64,
        **options,
    )
    ours = OURS[cell](
        D, H, num_layers=num_layers, bidirectional=bidirectional, dtype=torch.float64, **options
    )
    interop.load_from_torch(ours, reference)
    rows = num_layers * (2 if bidirectional else 1)
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, D, dtype=torch.float64, generator=generator)
    states = [torch.randn(rows, B, H, dtype=torch.float64, generator=generator) for _ in "hc"]
    upstream = torch.randn(B, T, rows // num_layers * H, dtype=torch.float64, generator=generator)

    results = []
    for module in (reference, ours):
        x_leaf = x.clone().requires_grad_(True)
        state_leaves = [s.clone().requires_grad_(True) for s in states]
        state = tuple(state_leaves) if cell == "lstm" else state_leaves[0]
        output, final = module(x_leaf, state)
        final = final if cell == "lstm" else (final,)
        # The final state feeds the loss too, so its layout and gradients are checked.
        loss = (output * upstream).sum() + sum((f * (k + 2)).sum() for k, f in enumerate(final))
        loss.backward()
        grads = [x_leaf.grad] + [leaf.grad for leaf in state_leaves if leaf.grad is not None]
        results.append((output.detach(), [f.detach() for f in final], grads))

    (out_ref, final_ref, grads_ref), (out_ours, final_ours, grads_ours) = results
    assert_allclose(out_ours.numpy(), out_ref.numpy(), **TOLERANCE)
    for ours_value, desired in zip(final_ours + grads_ours, final_ref + grads_ref, strict=True):
        assert_allclose(ours_value.numpy(), desired.numpy(), **TOLERANCE)
    for layer in range(num_layers):
        for direction in range(2 if bidirectional else 1):
            assert_same(
                our_parameter_grads(ours, layer, direction),
                torch_nn_parameter_grads(reference, layer, direction),
                f"layer {layer} direction {direction}",
            )


def test_parity_check_detects_a_wrong_gate_order():
    """The comparison above fails when interop is bypassed with a wrong mapping."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(3, 4, batch_first=True, dtype=torch.float64)
    params = interop.numpy_params_from_torch(reference)
    H = 4
    swapped = {name: a.copy() for name, a in params.items()}
    for name in ("Wx", "Wh", "b"):  # swap the i and f blocks
        block_i = swapped[name][..., :H].copy()
        swapped[name][..., :H] = swapped[name][..., H : 2 * H]
        swapped[name][..., H : 2 * H] = block_i
    x, h0, c0, dh = random_inputs(np.random.default_rng(0), "lstm", 2, 3, 3, H)
    h_right, _ = numpy_forward_backward("lstm", x, h0, c0, params, dh)
    h_wrong, _ = numpy_forward_backward("lstm", x, h0, c0, swapped, dh)
    h_torch_nn, _ = module_forward_backward(reference, "lstm", x, h0, c0, dh)
    assert_allclose(h_right, h_torch_nn, **TOLERANCE)
    with pytest.raises(AssertionError):
        assert_allclose(h_wrong, h_torch_nn, **TOLERANCE)
