"""Sequence layers: shapes, parameters, state layout, directions, dropout, the backward graph."""

import math

import pytest
import torch

from rnncore.torch import layers

B, T, D, H = 3, 6, 4, 5
KINDS = {"rnn": (layers.RNN, 1), "lstm": (layers.LSTM, 4), "gru": (layers.GRU, 3)}


def make(cell, **options):
    kind, _ = KINDS[cell]
    return kind(D, H, dtype=torch.float64, **options)


def random(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator)


def hidden(state):
    return state[0] if isinstance(state, tuple) else state


@pytest.mark.parametrize("cell", list(KINDS))
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_output_and_state_shapes(cell, num_layers, bidirectional):
    layer = make(cell, num_layers=num_layers, bidirectional=bidirectional)
    directions = 2 if bidirectional else 1
    output, state = layer(random(B, T, D))
    assert output.shape == (B, T, directions * H)
    states = state if cell == "lstm" else (state,)
    assert len(states) == (2 if cell == "lstm" else 1)
    for tensor in states:
        assert tensor.shape == (num_layers * directions, B, H)


@pytest.mark.parametrize("cell", list(KINDS))
def test_parameters_are_named_like_the_maths(cell):
    layer = make(cell, num_layers=2, bidirectional=True)
    _, G = KINDS[cell]
    shapes = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    expected = {}
    for index in range(2):
        for direction in range(2):
            prefix = f"weights.{index}.{direction}."
            expected[prefix + "Wx"] = (D if index == 0 else 2 * H, G * H)
            expected[prefix + "Wh"] = (H, G * H)
            expected[prefix + "b"] = (G * H,)
            if cell == "gru":
                expected[prefix + "b_hn"] = (H,)
    assert shapes == expected


def test_reset_before_gru_has_no_b_hn():
    layer = layers.GRU(D, H, reset_after=False)
    assert set(layer.weights[0][0]) == {"Wx", "Wh", "b"}


@pytest.mark.parametrize("cell", list(KINDS))
def test_initialisation_is_uniform_within_one_over_sqrt_h_and_seeded(cell):
    torch.manual_seed(0)
    first = make(cell, num_layers=2)
    torch.manual_seed(0)
    second = make(cell, num_layers=2)
    bound = 1 / math.sqrt(H)
    for (name, p), q in zip(first.named_parameters(), second.parameters(), strict=True):
        assert torch.equal(p, q), name
        assert p.abs().max() <= bound, name
        assert p.std() > bound / 4, name  # spread out, not constant
    torch.manual_seed(1)
    assert not torch.equal(make(cell).weights[0][0]["Wh"], first.weights[0][0]["Wh"])


def test_dtype_and_device_arguments():
    assert layers.LSTM(D, H).weights[0][0]["Wx"].dtype == torch.float32
    layer = layers.LSTM(D, H, device="cpu", dtype=torch.float64)
    parameter = layer.weights[0][0]["Wx"]
    assert parameter.dtype == torch.float64 and parameter.device.type == "cpu"
    output, (h_n, c_n) = layer(random(B, T, D))
    assert output.dtype == h_n.dtype == c_n.dtype == torch.float64


@pytest.mark.parametrize("cell", list(KINDS))
def test_state_carries_across_chunks(cell):
    """Running two halves with the state passed on equals running the whole sequence."""
    layer = make(cell, num_layers=2)
    x = random(B, T, D)
    whole, state_whole = layer(x)
    first, state = layer(x[:, :2])
    second, state = layer(x[:, 2:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)
    torch.testing.assert_close(hidden(state), hidden(state_whole))


@pytest.mark.parametrize("cell", list(KINDS))
def test_initial_state_is_used(cell):
    layer = make(cell)
    x = random(B, T, D)
    zeros = torch.zeros(1, B, H, dtype=torch.float64)
    state = (zeros, zeros) if cell == "lstm" else zeros
    torch.testing.assert_close(layer(x, state)[0], layer(x)[0])
    ones = torch.ones(1, B, H, dtype=torch.float64)
    state = (ones, ones) if cell == "lstm" else ones
    assert not torch.allclose(layer(x, state)[0], layer(x)[0])


@pytest.mark.parametrize("cell", list(KINDS))
def test_backward_direction_reads_the_sequence_reversed(cell):
    bidirectional = make(cell, bidirectional=True)
    forward_only = make(cell)
    with torch.no_grad():
        for name, p in bidirectional.weights[0][1].items():
            forward_only.weights[0][0][name].copy_(p)
    x = random(B, T, D)
    output, state = bidirectional(x)
    reversed_output, reversed_state = forward_only(x.flip(1))
    torch.testing.assert_close(output[:, :, H:], reversed_output.flip(1))
    torch.testing.assert_close(hidden(state)[1], hidden(reversed_state)[0])


@pytest.mark.parametrize("cell", list(KINDS))
def test_final_state_rows_follow_torch_layout(cell):
    """Row l * 2 + d of h_n is layer l, direction d; the top rows match the output's ends."""
    layer = make(cell, num_layers=2, bidirectional=True)
    output, state = layer(random(B, T, D))
    h_n = hidden(state)
    torch.testing.assert_close(h_n[2], output[:, -1, :H])  # layer 1, forward: after x[:, -1]
    torch.testing.assert_close(h_n[3], output[:, 0, H:])  # layer 1, backward: after x[:, 0]
    assert not torch.allclose(h_n[0], h_n[2])


def test_dropout_acts_between_layers_only_and_only_in_training():
    torch.manual_seed(0)
    two_layers = layers.LSTM(D, H, num_layers=2, dropout=0.5, dtype=torch.float64)
    x = random(B, T, D)
    two_layers.eval()
    evaluated = two_layers(x)[0]
    torch.testing.assert_close(two_layers(x)[0], evaluated)  # deterministic in eval mode
    two_layers.train()
    assert not torch.allclose(two_layers(x)[0], evaluated)

    one_layer = layers.LSTM(D, H, num_layers=1, dropout=0.5, dtype=torch.float64)
    # No layer above the only layer: dropout does nothing, in either mode.
    torch.testing.assert_close(one_layer.train()(x)[0], one_layer.eval()(x)[0])


def _graph_node_names(tensor) -> list[str]:
    names, seen, stack = [], set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.append(type(node).__name__)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return names


@pytest.mark.parametrize("cell", list(KINDS))
def test_time_steps_come_from_one_unbind_not_per_step_indexing(cell):
    """Indexing xw[:, t] adds one backward node per step that writes a full (B, T, G*H)
    gradient (quadratic in T); one unbind per layer and direction keeps it linear."""
    layer = make(cell, num_layers=2, bidirectional=True)
    output, _ = layer(random(B, T, D, seed=1).requires_grad_(True))
    names = _graph_node_names(output)
    assert names.count("UnbindBackward0") == 2 * 2  # layers x directions (h0 needs no grad)
    assert "SelectBackward0" not in names


def test_layers_match_their_repr():
    text = repr(layers.GRU(D, H, num_layers=2, bidirectional=True, dropout=0.1))
    assert "num_layers=2" in text and "bidirectional=True" in text and "dropout=0.1" in text
    assert "nonlinearity='relu'" in repr(layers.RNN(D, H, nonlinearity="relu"))
