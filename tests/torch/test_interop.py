"""Weights to and from torch.nn: the mapping itself, round trips, batch_first=False, dtypes."""

import numpy as np
import pytest
import torch

from rnncore.numpy.gru import gru_reset_after_forward
from rnncore.numpy.lstm import lstm_forward
from rnncore.numpy.rnn import rnn_forward
from rnncore.torch import interop, layers

D, H = 3, 4
TORCH_NN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
OURS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}
TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}


def run(module, x, batch_first=True):
    """The module's output (B, T, *) for batch-first x, whatever its own layout."""
    with torch.no_grad():
        output, state = module(x if batch_first else x.transpose(0, 1))
    return (output if batch_first else output.transpose(0, 1)), state


def random_x(B=2, T=5, seed=0):
    return torch.randn(B, T, D, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def test_params_from_torch_is_transpose_and_bias_sum():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    params = interop.params_from_torch(lstm)
    assert len(params) == 2 and all(len(directions) == 2 for directions in params)
    entry = params[1][1]
    assert set(entry) == {"Wx", "Wh", "b"}
    assert entry["Wx"].shape == (2 * H, 4 * H)
    torch.testing.assert_close(entry["Wx"], lstm.weight_ih_l1_reverse.detach().T)
    torch.testing.assert_close(entry["Wh"], lstm.weight_hh_l1_reverse.detach().T)
    torch.testing.assert_close(
        entry["b"], (lstm.bias_ih_l1_reverse + lstm.bias_hh_l1_reverse).detach()
    )


def test_params_from_torch_keeps_the_gru_hidden_candidate_bias_apart():
    torch.manual_seed(0)
    gru = torch.nn.GRU(D, H, dtype=torch.float64)
    entry = interop.params_from_torch(gru)[0][0]
    b_ih, b_hh = gru.bias_ih_l0.detach(), gru.bias_hh_l0.detach()
    torch.testing.assert_close(entry["b"][: 2 * H], b_ih[: 2 * H] + b_hh[: 2 * H])
    torch.testing.assert_close(entry["b"][2 * H :], b_ih[2 * H :])
    torch.testing.assert_close(entry["b_hn"], b_hh[2 * H :])


def test_params_from_torch_returns_detached_copies():
    rnn = torch.nn.RNN(D, H)
    entry = interop.params_from_torch(rnn)[0][0]
    assert not entry["Wx"].requires_grad
    entry["Wx"].zero_()
    assert rnn.weight_ih_l0.abs().sum() > 0


@pytest.mark.parametrize("cell", list(TORCH_NN))
def test_params_to_torch_puts_the_bias_in_b_ih(cell):
    torch.manual_seed(0)
    source, target = TORCH_NN[cell](D, H), TORCH_NN[cell](D, H)
    params = interop.params_from_torch(source)
    assert interop.params_to_torch(params, target) is target
    b_hh = target.bias_hh_l0.detach()
    if cell == "gru":
        assert torch.equal(b_hh[: 2 * H], torch.zeros(2 * H))
        torch.testing.assert_close(b_hh[2 * H :], params[0][0]["b_hn"])
    else:
        assert torch.equal(b_hh, torch.zeros_like(b_hh))
    torch.testing.assert_close(target.bias_ih_l0.detach(), params[0][0]["b"])


@pytest.mark.parametrize("cell", list(TORCH_NN))
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True), (3, False)])
@pytest.mark.parametrize("batch_first", [True, False])
def test_torch_nn_round_trip_gives_identical_outputs(cell, num_layers, bidirectional, batch_first):
    torch.manual_seed(num_layers)
    options = {"num_layers": num_layers, "bidirectional": bidirectional, "dtype": torch.float64}
    source = TORCH_NN[cell](D, H, batch_first=batch_first, **options)
    target = TORCH_NN[cell](D, H, batch_first=batch_first, **options)  # other random weights
    x = random_x()
    before, _ = run(target, x, batch_first)
    interop.params_to_torch(interop.params_from_torch(source), target)
    expected, expected_state = run(source, x, batch_first)
    actual, actual_state = run(target, x, batch_first)
    assert not torch.allclose(before, expected)
    torch.testing.assert_close(actual, expected, **TOLERANCE)
    torch.testing.assert_close(actual_state, expected_state, **TOLERANCE)


@pytest.mark.parametrize("cell", list(TORCH_NN))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_our_layer_round_trip_through_a_time_major_torch_module(cell, bidirectional):
    """torch.nn (batch_first=False) -> our layer -> torch.nn (batch_first=True): same outputs."""
    torch.manual_seed(0)
    options = {"num_layers": 2, "bidirectional": bidirectional}
    time_major = TORCH_NN[cell](D, H, batch_first=False, dtype=torch.float64, **options)
    ours = interop.load_from_torch(OURS[cell](D, H, dtype=torch.float64, **options), time_major)
    back = interop.to_torch_module(ours)
    assert isinstance(back, TORCH_NN[cell]) and back.batch_first
    x = random_x()
    expected, expected_state = run(time_major, x, batch_first=False)
    for module in (ours, back):
        actual, actual_state = run(module, x)
        torch.testing.assert_close(actual, expected, **TOLERANCE)
        torch.testing.assert_close(actual_state, expected_state, **TOLERANCE)


def test_to_torch_module_copies_dtype_dropout_and_nonlinearity():
    ours = layers.RNN(D, H, num_layers=2, dropout=0.25, nonlinearity="relu")
    module = interop.to_torch_module(ours)
    assert module.nonlinearity == "relu" and module.dropout == 0.25 and module.num_layers == 2
    assert module.weight_ih_l0.dtype == torch.float32
    assert interop.to_torch_module(layers.GRU(D, H, dtype=torch.float64)).bias_hh_l0.dtype == (
        torch.float64
    )


def test_load_from_torch_keeps_our_dtype():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(D, H, batch_first=True, dtype=torch.float64)
    ours = interop.load_from_torch(layers.LSTM(D, H), reference)
    assert ours.weights[0][0]["Wx"].dtype == torch.float32
    x = random_x()
    torch.testing.assert_close(
        run(ours, x.float())[0], run(reference, x)[0].float(), rtol=1e-5, atol=1e-6
    )


def test_numpy_params_run_in_rnncore_numpy():
    torch.manual_seed(0)
    x = random_x()
    h0 = torch.zeros(1, 2, H, dtype=torch.float64)
    for cell, forward in (
        ("rnn", rnn_forward),
        ("lstm", lstm_forward),
        ("gru", gru_reset_after_forward),
    ):
        module = TORCH_NN[cell](D, H, batch_first=True, dtype=torch.float64)
        params = interop.numpy_params_from_torch(module)
        h, _ = forward(x.numpy(), h0[0].numpy(), **params)
        expected, _ = run(module, x)
        np.testing.assert_allclose(h, expected.numpy(), **TOLERANCE)


def test_numpy_params_keep_or_convert_the_dtype_and_pick_layer_and_direction():
    torch.manual_seed(0)
    gru = torch.nn.GRU(D, H, num_layers=2, bidirectional=True)
    params = interop.numpy_params_from_torch(gru, layer=1, direction=1)
    assert set(params) == {"Wx", "Wh", "b", "b_hn"}
    assert all(a.dtype == np.float32 for a in params.values())
    assert params["Wx"].shape == (2 * H, 3 * H)
    np.testing.assert_array_equal(params["Wh"], gru.weight_hh_l1_reverse.detach().numpy().T)
    converted = interop.numpy_params_from_torch(gru, dtype=np.float64)
    assert all(a.dtype == np.float64 for a in converted.values())
    assert converted["Wx"].shape == (D, 3 * H)


def test_modules_without_bias():
    torch.manual_seed(0)
    module = torch.nn.LSTM(D, H, bias=False, dtype=torch.float64)
    params = interop.params_from_torch(module)
    assert torch.equal(params[0][0]["b"], torch.zeros(4 * H, dtype=torch.float64))
    ours = interop.load_from_torch(layers.LSTM(D, H, dtype=torch.float64), module)
    x = random_x()
    torch.testing.assert_close(run(ours, x)[0], run(module, x, batch_first=False)[0])
    target = torch.nn.LSTM(D, H, bias=False, dtype=torch.float64)
    interop.params_to_torch(params, target)  # zero biases load fine
    params[0][0]["b"] = params[0][0]["b"] + 1
    with pytest.raises(ValueError, match="nonzero biases but the module was built with bias=False"):
        interop.params_to_torch(params, target)
