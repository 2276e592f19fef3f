"""Variational (locked) recurrent dropout and layer normalisation in rnncore.torch.layers."""

import pytest
import torch
import torch.nn.functional as F

from rnncore.torch import layers

LAYERS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}


def identity_rnn(H: int, recurrent_dropout: float) -> layers.RNN:
    """An RNN whose step is h_t = tanh(m * h_{t-1}) on zero inputs: each unit evolves alone."""
    layer = layers.RNN(1, H, recurrent_dropout=recurrent_dropout, dtype=torch.float64)
    with torch.no_grad():
        weights = layer.weights[0][0]
        weights["Wx"].zero_()
        weights["b"].zero_()
        weights["Wh"].copy_(torch.eye(H, dtype=torch.float64))
    return layer


def test_the_recurrent_mask_is_locked_over_time_and_drawn_per_sequence():
    B, T, H, p = 64, 12, 16, 0.5
    torch.manual_seed(0)
    layer = identity_rnn(H, p).train()
    h, _ = layer(
        torch.zeros(B, T, 1, dtype=torch.float64), torch.ones(1, B, H, dtype=torch.float64)
    )
    dropped = h == 0  # (B, T, H)
    # A unit dropped at one step is dropped at every step of its sequence, and a kept unit at
    # none: with a fresh mask per step, a kept unit would fall to 0 part way.
    assert torch.equal(dropped, dropped[:, :1].expand_as(dropped))
    per_sequence = dropped[:, 0]  # (B, H)
    assert 0.35 < per_sequence.double().mean().item() < 0.65  # about p of the units
    assert len({tuple(row.tolist()) for row in per_sequence}) > B // 2  # masks differ by row
    # Kept units were scaled by 1 / (1 - p) before the product: h_1 = tanh(2 * 1).
    kept = ~per_sequence
    assert torch.allclose(h[:, 0][kept], torch.tanh(torch.tensor(2.0, dtype=torch.float64)))


def test_a_fresh_forward_pass_draws_a_fresh_mask():
    torch.manual_seed(1)
    layer = identity_rnn(32, 0.5).train()
    x, h0 = torch.zeros(8, 3, 1, dtype=torch.float64), torch.ones(1, 8, 32, dtype=torch.float64)
    first, second = layer(x, h0)[0], layer(x, h0)[0]
    assert not torch.equal(first == 0, second == 0)


@pytest.mark.parametrize("cell", list(LAYERS))
def test_recurrent_dropout_is_off_in_evaluation_mode(cell):
    torch.manual_seed(2)
    plain = LAYERS[cell](3, 5, num_layers=2, dtype=torch.float64)
    dropped = LAYERS[cell](3, 5, num_layers=2, recurrent_dropout=0.4, dtype=torch.float64)
    dropped.load_state_dict(plain.state_dict())
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    dropped.eval()
    torch.testing.assert_close(dropped(x)[0], plain(x)[0], rtol=0, atol=0)
    dropped.train()
    assert not torch.allclose(dropped(x)[0], plain(x)[0])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_dropout_leaves_the_carried_state_alone(cell):
    """With a zero recurrent product the state is still carried: an LSTM's cell and a GRU's
    interpolation read the undropped state, so no unit of the output is exactly zero."""
    torch.manual_seed(3)
    layer = LAYERS[cell](2, 6, recurrent_dropout=0.9, dtype=torch.float64).train()
    h, _ = layer(torch.randn(5, 7, 2, dtype=torch.float64))
    assert (h != 0).all()


def manual_layer_norm_rnn(layer: layers.RNN, x: torch.Tensor) -> torch.Tensor:
    """h_t = tanh(LN_x(x_t Wx) + LN_h(h_{t-1} Wh) + b), written out with F.layer_norm."""
    weights, norms = layer.weights[0][0], layer.norms[0][0]
    H = layer.hidden_size
    h = x.new_zeros(x.shape[0], H)
    states = []
    for t in range(x.shape[1]):
        a_x = F.layer_norm(x[:, t] @ weights["Wx"], (H,), norms["x"].weight, None, 1e-5)
        a_h = F.layer_norm(h @ weights["Wh"], (H,), norms["h"].weight, None, 1e-5)
        h = torch.tanh(a_x + a_h + weights["b"])
        states.append(h)
    return torch.stack(states, dim=1)  # (B, T, H)


def test_layer_norm_computes_the_normalised_equations():
    torch.manual_seed(4)
    layer = layers.RNN(3, 5, layer_norm=True, dtype=torch.float64)
    with torch.no_grad():
        for norm in layer.norms[0][0].values():
            norm.weight.uniform_(0.5, 1.5)  # gains other than their initial 1
    x = torch.randn(4, 6, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(x)[0], manual_layer_norm_rnn(layer, x))


@pytest.mark.parametrize("cell", list(LAYERS))
def test_layer_norm_gains_start_at_one_and_learn(cell):
    torch.manual_seed(5)
    layer = LAYERS[cell](3, 4, num_layers=2, bidirectional=True, layer_norm=True)
    gains = [
        norm.weight for per_layer in layer.norms for pair in per_layer for norm in pair.values()
    ]
    assert len(gains) == 2 * 2 * 2 and all(torch.equal(g, torch.ones_like(g)) for g in gains)
    layer(torch.randn(2, 5, 3))[0].square().sum().backward()
    assert all(g.grad is not None and g.grad.abs().sum() > 0 for g in gains)


def test_layer_norm_makes_the_layer_invariant_to_the_scale_of_its_weights():
    """LN(v) does not change when v is scaled: scaling Wx and Wh leaves the output alone, up
    to LN's epsilon (1e-5, added to the variance); without layer norm the output moves."""
    torch.manual_seed(6)
    layer = layers.LSTM(3, 4, layer_norm=True, dtype=torch.float64)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    before = layer(x)[0]
    with torch.no_grad():
        layer.weights[0][0]["Wx"].mul_(7.0)
        layer.weights[0][0]["Wh"].mul_(7.0)
    torch.testing.assert_close(layer(x)[0], before, rtol=0, atol=1e-3)
    plain = layers.LSTM(3, 4, dtype=torch.float64)
    plain_before = plain(x)[0]
    with torch.no_grad():
        plain.weights[0][0]["Wx"].mul_(7.0)
        plain.weights[0][0]["Wh"].mul_(7.0)
    assert (plain(x)[0] - plain_before).abs().max() > 0.1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.RNN(2, 3, recurrent_dropout=1.0), "recurrent_dropout must be in"),
        (lambda: layers.LSTM(2, 3, recurrent_dropout=-0.1), "recurrent_dropout must be in"),
        (lambda: layers.GRU(2, 3, fast=True, layer_norm=True), "need fast=False"),
        (lambda: layers.RNN(2, 3, fast=True, recurrent_dropout=0.2), "need fast=False"),
        (lambda: layers.GRU(2, 3, reset_after=False, layer_norm=True), "need reset_after=True"),
    ],
)
def test_unsupported_combinations_are_refused_with_a_reason(make, message):
    with pytest.raises(ValueError, match=message):
        make()
