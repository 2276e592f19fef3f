"""Bad input raises ValueError naming the argument, the expected and the actual shape.

Messages follow rnncore.shapes: "x must have 3 axes (B, T, D), got shape (4, 5)" when the number
of axes differs, "Wh must have shape (H, 4H) = (5, 20), got (5, 15)" when a size differs.
Each case is next to a call that succeeds, so the error comes from the check, not a typo.
"""

import re

import numpy as np
import pytest
import torch

from rnncore.torch import cells, decode, interop, layers, models, train

F64 = torch.float64


def zeros(*shape, dtype=F64):
    return torch.zeros(*shape, dtype=dtype)


lstm = layers.LSTM(3, 5, dtype=F64)
bidirectional_gru = layers.GRU(3, 5, num_layers=2, bidirectional=True, dtype=F64)
language_model = models.CharLanguageModel(7, 4, 6)
classifier = models.SequenceClassifier(3, 5, 2, bidirectional=True)
step_fn = lambda token, state: (torch.zeros(4), state)  # noqa: E731
matrix_step_fn = lambda token, state: (torch.zeros(2, 4), state)  # noqa: E731

CASES = {
    # cells
    "cell x axes": (
        lambda: cells.rnn_cell(zeros(4), zeros(4, 5), zeros(3, 5), zeros(5, 5), zeros(5)),
        "x must have 2 axes (B, D), got shape (4,)",
    ),
    "cell Wh size": (
        lambda: cells.lstm_cell(
            zeros(4, 3), zeros(4, 5), zeros(4, 5), zeros(3, 20), zeros(5, 15), zeros(20)
        ),
        "Wh must have shape (H, 4H) = (5, 20), got (5, 15)",
    ),
    "cell c_prev": (
        lambda: cells.lstm_cell(
            zeros(4, 3), zeros(4, 5), zeros(3, 5), zeros(3, 20), zeros(5, 20), zeros(20)
        ),
        "c_prev must have shape (B, H) = (4, 5), got (3, 5)",
    ),
    "cell b_hn": (
        lambda: cells.gru_cell(
            zeros(4, 3), zeros(4, 5), zeros(3, 15), zeros(5, 15), zeros(15), zeros(15)
        ),
        "b_hn must have shape (H,) = (5,), got (15,)",
    ),
    "cell xw": (
        lambda: cells.gru_cell_reset_before_from_projection(
            zeros(4, 10), zeros(4, 5), zeros(5, 15)
        ),
        "xw must have shape (B, 3H) = (4, 15), got (4, 10)",
    ),
    "cell dtype": (
        lambda: cells.rnn_cell(
            zeros(4, 3), zeros(4, 5, dtype=torch.float32), zeros(3, 5), zeros(5, 5), zeros(5)
        ),
        "h_prev has dtype torch.float32 but x has torch.float64: pass every tensor in one dtype",
    ),
    "cell nonlinearity": (
        lambda: cells.rnn_cell_from_projection(zeros(4, 5), zeros(4, 5), zeros(5, 5), "sigmoid"),
        "nonlinearity must be one of ['relu', 'tanh'], got 'sigmoid'",
    ),
    # layers
    "layer x axes": (lambda: lstm(zeros(4, 5)), "x must have 3 axes (B, T, D), got shape (4, 5)"),
    "layer x features": (
        lambda: lstm(zeros(4, 5, 7)),
        "x must have shape (B, T, D) = (4, 5, 3), got (4, 5, 7)",
    ),
    "layer x integer": (
        lambda: lstm(torch.zeros(4, 5, 3, dtype=torch.int64)),
        "x must be a torch floating-point tensor, got torch.int64",
    ),
    "layer x dtype": (
        lambda: lstm(zeros(4, 5, 3, dtype=torch.float32)),
        "Wx has dtype torch.float64 but x has torch.float32: pass every tensor in one dtype",
    ),
    "layer state not a pair": (
        lambda: lstm(zeros(4, 5, 3), zeros(1, 4, 5)),
        "state must be a tuple (h0, c0), got Tensor",
    ),
    "layer h0 axes": (
        lambda: lstm(zeros(4, 5, 3), (zeros(4, 5), zeros(1, 4, 5))),
        "h0 must have 3 axes (L, B, H), got shape (4, 5)",
    ),
    "layer c0 batch": (
        lambda: lstm(zeros(4, 5, 3), (zeros(1, 4, 5), zeros(1, 2, 5))),
        "c0 must have shape (L, B, H) = (1, 4, 5), got (1, 2, 5)",
    ),
    "layer h0 rows": (
        lambda: bidirectional_gru(zeros(4, 5, 3), zeros(2, 4, 5)),
        "h0 must have shape (2L, B, H) = (4, 4, 5), got (2, 4, 5)",
    ),
    "layer hidden_size": (
        lambda: layers.RNN(3, 0),
        "hidden_size must be a positive integer, got 0",
    ),
    "layer dropout": (lambda: layers.GRU(3, 4, dropout=1.0), "dropout must be in [0, 1), got 1.0"),
    "layer nonlinearity": (
        lambda: layers.RNN(3, 4, nonlinearity="sigmoid"),
        "nonlinearity must be one of ['relu', 'tanh'], got 'sigmoid'",
    ),
    # interop
    "interop module type": (
        lambda: interop.params_from_torch(torch.nn.Linear(2, 3)),
        "module must be a torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU, got Linear",
    ),
    "interop proj_size": (
        lambda: interop.params_from_torch(torch.nn.LSTM(3, 5, proj_size=2)),
        "LSTM with proj_size > 0 is not supported: rnncore has no projection",
    ),
    "interop Wx shape": (
        lambda: interop.params_to_torch(
            [[{"Wx": zeros(4, 20), "Wh": zeros(5, 20), "b": zeros(20)}]], torch.nn.LSTM(3, 5)
        ),
        "params[0][0]['Wx'] must have shape (D, 4H) = (3, 20), got (4, 20)",
    ),
    "interop keys": (
        lambda: interop.params_to_torch(
            [[{"Wx": zeros(3, 15), "Wh": zeros(5, 15), "b": zeros(15)}]], torch.nn.GRU(3, 5)
        ),
        "params[0][0] must have keys ['Wh', 'Wx', 'b', 'b_hn'], got ['Wh', 'Wx', 'b']",
    ),
    "interop layers": (
        lambda: interop.params_to_torch([], torch.nn.RNN(3, 5)),
        "params has 0 layers, module has 1",
    ),
    "interop pair kind": (
        lambda: interop.load_from_torch(layers.LSTM(3, 5), torch.nn.GRU(3, 5)),
        "torch_module must be a torch.nn.LSTM to match LSTM, got GRU",
    ),
    "interop pair size": (
        lambda: interop.load_from_torch(layers.LSTM(3, 5), torch.nn.LSTM(3, 6)),
        "hidden_size differs: 5 in our module, 6 in torch_module",
    ),
    "interop pair nonlinearity": (
        lambda: interop.load_from_torch(layers.RNN(3, 5), torch.nn.RNN(3, 5, nonlinearity="relu")),
        "nonlinearity differs: 'tanh' in our module, 'relu' in torch_module",
    ),
    "interop reset before": (
        lambda: interop.to_torch_module(layers.GRU(3, 5, reset_after=False)),
        "torch.nn.GRU computes the reset-after GRU; a GRU with reset_after=False has no",
    ),
    "interop our type": (
        lambda: interop.to_torch_module(torch.nn.LSTM(3, 5)),
        "our_module must be an rnncore.torch.layers RNN, LSTM or GRU, got LSTM",
    ),
    "interop numpy layer": (
        lambda: interop.numpy_params_from_torch(torch.nn.RNN(3, 5), layer=1),
        "layer must be in 0..0, got 1",
    ),
    "interop numpy direction": (
        lambda: interop.numpy_params_from_torch(torch.nn.RNN(3, 5), direction=1),
        "direction must be in 0..0, got 1",
    ),
    # models
    "model cell": (
        lambda: models.make_recurrent_layer("transformer", 3, 4),
        "cell must be one of ('rnn', 'lstm', 'gru'), got 'transformer'",
    ),
    "model token range": (
        lambda: language_model(torch.tensor([[1, 7]])),
        "tokens must hold token ids in 0..V-1 = 0..6, got values in 1..7",
    ),
    "model token dtype": (
        lambda: language_model(torch.zeros(1, 2)),
        "tokens must be an integer torch tensor of token ids",
    ),
    "model token axes": (
        lambda: language_model(torch.tensor([1, 2])),
        "tokens must have 2 axes (B, T), got shape (2,)",
    ),
    "model classifier lengths": (
        lambda: classifier(torch.zeros(2, 4, 3), torch.tensor([4, 2])),
        "lengths needs bidirectional=False",
    ),
    "model classifier lengths range": (
        lambda: models.SequenceClassifier(3, 5, 2)(torch.zeros(2, 4, 3), torch.tensor([5, 2])),
        "lengths must be in 1..T = 1..4, got [5, 2]",
    ),
    "model classifier lengths shape": (
        lambda: models.SequenceClassifier(3, 5, 2)(torch.zeros(2, 4, 3), torch.tensor([4])),
        "lengths must have shape (B,) = (2,), got (1,)",
    ),
    "model regressor x": (
        lambda: models.SequenceRegressor(3, 5, 1)(torch.zeros(2, 4, 2)),
        "x must have shape (B, T, D) = (2, 4, 3), got (2, 4, 2)",
    ),
    # decode
    "decode temperature zero": (
        lambda: decode.sample_next(torch.zeros(2, 4), temperature=0.0),
        "temperature must be a positive finite number, got 0.0",
    ),
    "decode temperature negative": (
        lambda: decode.sample_next(torch.zeros(2, 4), temperature=-1),
        "temperature must be a positive finite number, got -1",
    ),
    "decode top_k zero": (
        lambda: decode.sample_next(torch.zeros(2, 4), top_k=0),
        "top_k must be None or an integer in 1..V = 1..4, got 0",
    ),
    "decode top_k too large": (
        lambda: decode.sample_next(torch.zeros(2, 4), top_k=5),
        "top_k must be None or an integer in 1..V = 1..4, got 5",
    ),
    "decode logits axes": (
        lambda: decode.sample_next(torch.zeros(4)),
        "logits must have 2 axes (B, V), got shape (4,)",
    ),
    "decode generate steps": (
        lambda: decode.generate(language_model, torch.tensor([1]), steps=-1),
        "steps must be a non-negative integer, got -1",
    ),
    "decode generate empty prefix": (
        lambda: decode.generate(language_model, torch.zeros(1, 0, dtype=torch.int64), steps=1),
        "prefix_tokens must hold at least one token",
    ),
    "decode generate temperature": (
        lambda: decode.generate(language_model, torch.tensor([1]), steps=1, temperature=0),
        "temperature must be a positive finite number, got 0",
    ),
    "decode beam width": (
        lambda: decode.beam_search(step_fn, None, 0, 1, beam_width=0, max_length=3),
        "beam_width must be a positive integer, got 0",
    ),
    "decode max length": (
        lambda: decode.greedy_decode(step_fn, None, 0, 1, max_length=0),
        "max_length must be a positive integer, got 0",
    ),
    "decode step_fn output": (
        lambda: decode.greedy_decode(matrix_step_fn, None, 0, 1, max_length=2),
        "step_fn's log_probs must have 1 axis (V,), got shape (2, 4)",
    ),
    "decode ctc axes": (
        lambda: decode.ctc_greedy_decode(torch.zeros(3, 4)),
        "log_probs must have 3 axes (B, T, V), got shape (3, 4)",
    ),
    "decode ctc blank": (
        lambda: decode.ctc_greedy_decode(torch.zeros(2, 3, 4), blank=4),
        "blank must be an integer in 0..V-1 = 0..3, got 4",
    ),
    "decode ctc lengths": (
        lambda: decode.ctc_greedy_decode(torch.zeros(2, 3, 4), lengths=torch.tensor([1, 4])),
        "lengths must be in 0..T = 0..3, got [1, 4]",
    ),
    # train
    "train device": (
        lambda: train.choose_device("tpu"),
        "prefer must be 'cuda' or 'cpu', got 'tpu'",
    ),
    "train seed": (lambda: train.seed_everything("0"), "seed must be an integer, got '0'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_a_value_error_with_the_documented_message(case):
    call, message = CASES[case]
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        call()


def test_the_same_calls_succeed_with_good_input():
    assert cells.lstm_cell(
        zeros(4, 3), zeros(4, 5), zeros(4, 5), zeros(3, 20), zeros(5, 20), zeros(20)
    )[0].shape == (4, 5)
    assert lstm(zeros(4, 5, 3), (zeros(1, 4, 5), zeros(1, 4, 5)))[0].shape == (4, 5, 5)
    assert bidirectional_gru(zeros(4, 5, 3), zeros(4, 4, 5))[0].shape == (4, 5, 10)
    assert language_model(torch.tensor([[1, 6]]))[0].shape == (1, 2, 7)
    assert decode.sample_next(torch.zeros(2, 4), temperature=0.5, top_k=4).shape == (2,)
    assert decode.ctc_greedy_decode(torch.zeros(2, 3, 4), blank=3, lengths=torch.tensor([1, 3]))
    params = [[{"Wx": zeros(3, 20), "Wh": zeros(5, 20), "b": zeros(20)}]]
    interop.params_to_torch(params, torch.nn.LSTM(3, 5))
    numpy_params = [[{name: np.zeros(tuple(t.shape)) for name, t in params[0][0].items()}]]
    interop.params_to_torch(numpy_params, torch.nn.LSTM(3, 5))  # NumPy arrays load too


def make_batches(count):
    return iter([(torch.zeros(1, 2, 3), torch.zeros(1, 2, 1))] * count)


def regression_loss(model, x, y):
    return torch.nn.functional.mse_loss(model(x)[0], y)


@pytest.mark.parametrize(
    "options, batches, loss_fn, message",
    [
        ({"steps": 0}, 1, regression_loss, "steps must be a positive integer, got 0"),
        ({"steps": 1, "clip_norm": -1.0}, 1, regression_loss, "clip_norm must be positive"),
        ({"steps": 1, "log_every": 0}, 1, regression_loss, "log_every must be a positive"),
        ({"steps": 3}, 2, regression_loss, "batches ran out after 2 steps but steps=3"),
        (
            {"steps": 1},
            1,
            lambda model, x, y: model(x)[0],
            "loss_fn must return a scalar tensor",
        ),
    ],
)
def test_train_rejects_bad_arguments(options, batches, loss_fn, message):
    model = models.SequenceRegressor(3, 4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        train.train(
            model,
            make_batches(batches),
            loss_fn,
            optimizer,
            device="cpu",
            progress=False,
            **options,
        )
    # The same call with good arguments runs.
    train.train(
        model, make_batches(1), regression_loss, optimizer, steps=1, device="cpu", progress=False
    )
