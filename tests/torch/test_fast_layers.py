"""The layers with fast=True compute what the readable layers and torch.nn compute.

Multi-layer and bidirectional RNN (tanh and relu), LSTM and GRU, float64, tolerance 1e-10:
the output, the final states and the gradient of every parameter, of x and of the initial
state, for the fast layer, the readable layer (same parameters) and torch.nn (weights moved
by rnncore.torch.interop, gradients mapped back by hand). Each comparison is also shown to fail
on a wrong variant.
"""

import re

import pytest
import torch

from rnncore.torch import interop, layers

F64 = torch.float64
TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}
CELLS = ["rnn", "rnn_relu", "lstm", "gru"]
KINDS = {"rnn": layers.RNN, "rnn_relu": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}
TORCH_NN = {
    "rnn": torch.nn.RNN,
    "rnn_relu": torch.nn.RNN,
    "lstm": torch.nn.LSTM,
    "gru": torch.nn.GRU,
}
CONFIGURATIONS = [(1, False), (1, True), (2, False), (3, True)]  # num_layers, bidirectional


def build(cell, D, H, num_layers, bidirectional, fast, seed=0):
    """A float64 layer whose parameters depend on ``seed`` only (not on ``fast``)."""
    torch.manual_seed(seed)
    extra = {"nonlinearity": "relu"} if cell == "rnn_relu" else {}
    return KINDS[cell](
        D, H, num_layers=num_layers, bidirectional=bidirectional, dtype=F64, fast=fast, **extra
    )


def draw_case(cell, B, T, D, H, num_layers, bidirectional, seed=0):
    generator = torch.Generator().manual_seed(seed)
    rows = num_layers * (2 if bidirectional else 1)

    def draw(*shape):
        return torch.randn(*shape, dtype=F64, generator=generator)

    state = [draw(rows, B, H)] + ([draw(rows, B, H)] if cell == "lstm" else [])
    upstream = {
        "output": draw(B, T, rows // num_layers * H),
        "state": [draw(rows, B, H), draw(rows, B, H)],
    }
    return draw(B, T, D), state, upstream


def run(module, x, state, upstream):
    """Outputs and gradients (x, initial state, every parameter by rnncore's name)."""
    x = x.clone().requires_grad_(True)
    state = [s.clone().requires_grad_(True) for s in state]
    output, final = module(x, tuple(state) if len(state) == 2 else state[0])
    finals = list(final) if isinstance(final, tuple) else [final]
    loss = (output * upstream["output"]).sum()
    for tensor, weight in zip(finals, upstream["state"], strict=False):
        loss = loss + (tensor * weight).sum()
    loss.backward()
    results = {"output": output.detach(), "dx": x.grad}
    results.update({f"final{k}": t.detach() for k, t in enumerate(finals)})
    results.update({f"dstate{k}": s.grad for k, s in enumerate(state)})
    if isinstance(module, layers._RecurrentLayer):
        for name, parameter in module.named_parameters():
            results["d" + name] = parameter.grad
    else:
        results.update(torch_nn_gradients(module))
    return results


def torch_nn_gradients(module):
    """torch.nn's parameter gradients in rnncore's names and layout (see interop)."""
    gradients = {}
    directions = 2 if module.bidirectional else 1
    H = module.hidden_size
    for layer in range(module.num_layers):
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            prefix = f"dweights.{layer}.{direction}."
            gradients[prefix + "Wx"] = getattr(module, "weight_ih" + suffix).grad.T
            gradients[prefix + "Wh"] = getattr(module, "weight_hh" + suffix).grad.T
            gradients[prefix + "b"] = getattr(module, "bias_ih" + suffix).grad
            if isinstance(module, torch.nn.GRU):
                gradients[prefix + "b_hn"] = getattr(module, "bias_hh" + suffix).grad[2 * H :]
    return gradients


def assert_same(actual, desired, tolerance=TOLERANCE):
    assert set(actual) == set(desired)
    for name in desired:
        torch.testing.assert_close(actual[name], desired[name], **tolerance, msg=name)


@pytest.mark.parametrize(
    "configuration", CONFIGURATIONS, ids=lambda c: f"L{c[0]}_{'bi' if c[1] else 'uni'}"
)
@pytest.mark.parametrize("cell", CELLS)
def test_fast_layer_equals_readable_layer_and_torch_nn(cell, configuration):
    num_layers, bidirectional = configuration
    B, T, D, H = 3, 5, 4, 6
    fast = build(cell, D, H, num_layers, bidirectional, fast=True)
    readable = build(cell, D, H, num_layers, bidirectional, fast=False)
    torch_module = interop.to_torch_module(readable)
    x, state, upstream = draw_case(
        cell, B, T, D, H, num_layers, bidirectional, seed=sum(configuration)
    )
    expected = run(readable, x, state, upstream)
    assert_same(run(fast, x, state, upstream), expected)
    assert_same(run(torch_module, x, state, upstream), expected)


@pytest.mark.parametrize("cell", CELLS)
def test_fast_layer_check_fails_on_different_weights(cell):
    """The comparison can fail: another seed's parameters, or the direction's weights swapped."""
    B, T, D, H = 2, 4, 3, 5
    x, state, upstream = draw_case(cell, B, T, D, H, 2, True, seed=1)
    expected = run(build(cell, D, H, 2, True, fast=False), x, state, upstream)
    with pytest.raises(AssertionError):
        assert_same(
            run(build(cell, D, H, 2, True, fast=True, seed=1), x, state, upstream), expected
        )
    swapped = build(cell, D, H, 2, True, fast=True)
    with torch.no_grad():
        for name, parameter in swapped.weights[1][0].items():
            other = swapped.weights[1][1][name]
            first = parameter.clone()
            parameter.copy_(other)
            other.copy_(first)
    with pytest.raises(AssertionError):
        assert_same(run(swapped, x, state, upstream), expected)


def test_fast_layer_gradients_match_finite_differences():
    """A two-layer bidirectional fast LSTM, through torch.autograd.gradcheck on x and h0."""
    layer = build("lstm", 2, 3, 2, True, fast=True)
    x = torch.randn(2, 3, 2, dtype=F64, requires_grad=True)
    h0 = torch.randn(4, 2, 3, dtype=F64, requires_grad=True)
    c0 = torch.randn(4, 2, 3, dtype=F64, requires_grad=True)

    def outputs(x, h0, c0):
        output, (h_n, c_n) = layer(x, (h0, c0))
        return output, h_n, c_n

    assert torch.autograd.gradcheck(outputs, (x, h0, c0), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fast_layer_keeps_dtype_and_repr_says_fast(cell):
    layer = KINDS[cell](3, 4, num_layers=2, bidirectional=True, fast=True)
    output, state = layer(torch.randn(2, 5, 3))
    finals = state if isinstance(state, tuple) else (state,)
    assert output.shape == (2, 5, 8) and output.dtype == torch.float32
    assert all(t.shape == (4, 2, 4) for t in finals)
    assert "fast=True" in repr(layer) and "fast" not in repr(KINDS[cell](3, 4))


def test_fast_layer_dropout_acts_between_layers_in_training_only():
    """Same seed, same dropout masks: fast and readable agree in training mode too."""
    readable = layers.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=F64)
    fast = layers.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=F64, fast=True)
    fast.load_state_dict(readable.state_dict())
    x = torch.randn(2, 5, 3, dtype=F64)
    torch.manual_seed(3)
    expected = readable(x)[0]
    torch.manual_seed(3)
    torch.testing.assert_close(fast(x)[0], expected, **TOLERANCE)
    torch.manual_seed(4)
    assert not torch.allclose(fast(x)[0], expected)  # other masks, another output
    fast.eval()
    readable.eval()
    torch.testing.assert_close(fast(x)[0], readable(x)[0], **TOLERANCE)


ERRORS = {
    "reset-before gru": (
        lambda: layers.GRU(3, 4, reset_after=False, fast=True),
        "fast=True needs reset_after=True: rnncore.torch.fast has only PyTorch's GRU",
    ),
    "lengths": (
        lambda: layers.LSTM(3, 4, fast=True)(torch.zeros(2, 5, 3), lengths=torch.tensor([5, 2])),
        "lengths needs fast=False",
    ),
    "x shape": (
        lambda: layers.GRU(3, 4, fast=True)(torch.zeros(2, 5, 2)),
        "x must have shape (B, T, D) = (2, 5, 3), got (2, 5, 2)",
    ),
    "no time step": (
        lambda: layers.RNN(3, 4, fast=True)(torch.zeros(2, 0, 3)),
        "x must have at least one time step (T >= 1), got shape (2, 0, 3)",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_fast_layer_input_raises_value_error(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.cuda
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fast_layer_on_cuda_matches_readable_layer_on_cpu(cell):
    readable = build(cell, 4, 5, 2, True, fast=False)
    fast = build(cell, 4, 5, 2, True, fast=True).cuda()
    x, state, upstream = draw_case(cell, 3, 6, 4, 5, 2, True, seed=9)
    expected = run(readable, x, state, upstream)

    def to_cuda(value):
        return [v.cuda() for v in value] if isinstance(value, list) else value.cuda()

    cuda_upstream = {k: to_cuda(v) for k, v in upstream.items()}
    actual = run(fast, x.cuda(), to_cuda(state), cuda_upstream)
    assert_same({k: v.cpu() for k, v in actual.items()}, expected, {"rtol": 1e-9, "atol": 1e-9})
