"""Device plumbing checked without a GPU: every tensor rnncore makes follows its inputs.

The usual way for code to break on a GPU while passing on the CPU is a tensor created on the
default device (``torch.zeros(B, H)`` without ``device=``): on the CPU nobody notices, on a
GPU it meets a CUDA tensor and fails. These tests make that mistake visible on the CPU: they
run rnncore.torch with PyTorch's default device set to ``meta`` (tensors with shapes and no
data) while every input, module and generator is on the CPU. A tensor made on the default
device then lands on ``meta``, and the first operation that mixes it with a CPU tensor fails,
or the result is not on the CPU.

The numbers themselves are checked by the other tests; tests/torch/test_cuda.py repeats the
important ones on a GPU when the machine has one.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncore.torch import cells, decode, fast, interop, layers, padding
from rnncore.torch.benchmark import Size, benchmark_torch
from rnncore.torch.models import CharLanguageModel, SequenceClassifier, SequenceRegressor
from rnncore.torch.train import train

CPU = torch.device("cpu")
CELLS = ("rnn", "lstm", "gru")
OURS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}
TORCH_NN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
B, T, D, H = 3, 5, 4, 6


@pytest.fixture(autouse=True)
def default_device_is_meta():
    """Inside each test, a tensor made without ``device=`` has no data and cannot mix."""
    with torch.device("meta"):
        yield


def cpu_randn(*shape, generator=None, requires_grad=False):
    return torch.randn(*shape, device=CPU, generator=generator, requires_grad=requires_grad)


def assert_on_cpu(*tensors):
    for tensor in tensors:
        assert tensor.device == CPU, f"a result is on {tensor.device}, expected the CPU"


def test_the_fixture_catches_a_tensor_made_on_the_default_device():
    """The premise: a forgotten ``device=`` fails here, as it would next to a CUDA tensor."""
    x = cpu_randn(B, H)
    forgot_the_device = torch.zeros(B, H)
    assert forgot_the_device.device.type == "meta"
    with pytest.raises((RuntimeError, NotImplementedError)):
        (x + forgot_the_device).sum().item()


@pytest.mark.parametrize("use_fast", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_layers_forward_and_backward_stay_on_the_inputs_device(cell, use_fast):
    torch.manual_seed(0)
    module = OURS[cell](D, H, num_layers=2, bidirectional=True, device=CPU, fast=use_fast)
    x = cpu_randn(B, T, D, requires_grad=True)
    output, state = module(x)  # zero initial state, made inside the layer
    states = state if cell == "lstm" else (state,)
    assert_on_cpu(output, *states)
    (output.sum() + sum(s.sum() for s in states)).backward()
    assert_on_cpu(x.grad, *(p.grad for p in module.parameters()))


@pytest.mark.parametrize("cell", CELLS)
def test_padded_batches_stay_on_the_inputs_device(cell):
    torch.manual_seed(0)
    module = OURS[cell](D, H, device=CPU)
    x = cpu_randn(B, T, D, requires_grad=True)
    lengths = torch.tensor([T, 2, 1], device=CPU)
    output, _ = module(x, lengths=lengths)
    mask = padding.length_mask(lengths, T, device=CPU)  # (B, T)
    loss = (
        padding.masked_mean(output.sum(dim=2), mask)
        + padding.last_valid_step(output, lengths).sum()
    )
    loss.backward()
    assert_on_cpu(output, mask, x.grad)


@pytest.mark.parametrize("cell", CELLS)
def test_fast_sequence_functions_stay_on_the_inputs_device(cell):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    x = cpu_randn(B, T, D, requires_grad=True)
    h0 = cpu_randn(B, H, requires_grad=True)
    weights = {
        "Wx": cpu_randn(D, gates * H, requires_grad=True),
        "Wh": cpu_randn(H, gates * H, requires_grad=True),
        "b": cpu_randn(gates * H, requires_grad=True),
    }
    if cell == "lstm":
        h, (h_last, c_last) = fast.lstm_sequence_fast(x, h0, cpu_randn(B, H), **weights)
        extra = (c_last,)
    elif cell == "gru":
        h, h_last = fast.gru_sequence_fast(x, h0, **weights, b_hn=cpu_randn(H))
        extra = ()
    else:
        h, h_last = fast.rnn_sequence_fast(x, h0, **weights)
        extra = ()
    (h.sum() + h_last.sum() + sum(e.sum() for e in extra)).backward()
    assert_on_cpu(h, h_last, *extra, x.grad, h0.grad, *(w.grad for w in weights.values()))


def test_cells_stay_on_the_inputs_device():
    generator = torch.Generator(device=CPU).manual_seed(0)
    x, h = cpu_randn(B, D, generator=generator), cpu_randn(B, H, generator=generator)
    Wx3, Wh3 = cpu_randn(D, 3 * H, generator=generator), cpu_randn(H, 3 * H, generator=generator)
    b3, b_hn = cpu_randn(3 * H, generator=generator), cpu_randn(H, generator=generator)
    Wx4, Wh4 = cpu_randn(D, 4 * H, generator=generator), cpu_randn(H, 4 * H, generator=generator)
    h_next, c_next = cells.lstm_cell(x, h, h, Wx4, Wh4, cpu_randn(4 * H, generator=generator))
    assert_on_cpu(
        h_next,
        c_next,
        cells.gru_cell(x, h, Wx3, Wh3, b3, b_hn),
        cells.gru_cell_reset_before(x, h, Wx3, Wh3, b3),
        cells.rnn_cell(x, h, Wx3[:, :H], Wh3[:, :H], b3[:H]),
    )


@pytest.mark.parametrize("cell", CELLS)
def test_weights_move_between_torch_nn_and_rnncore_on_the_modules_device(cell):
    torch.manual_seed(0)
    reference = TORCH_NN[cell](D, H, batch_first=True, num_layers=2, device=CPU)
    ours = interop.load_from_torch(OURS[cell](D, H, num_layers=2, device=CPU), reference)
    back = interop.to_torch_module(ours)
    interop.params_to_torch(interop.params_from_torch(reference), back)
    assert_on_cpu(*ours.parameters(), *back.parameters())
    numpy_params = interop.numpy_params_from_torch(reference)
    assert all(isinstance(value, np.ndarray) for value in numpy_params.values())


@pytest.mark.parametrize("use_fast", [False, True])
def test_language_model_trains_and_decodes_on_the_models_device(use_fast):
    torch.manual_seed(0)
    V = 5
    model = CharLanguageModel(V, 4, 8, cell="lstm", fast=use_fast, device=CPU)
    sequence = torch.arange(9, device=CPU) % V  # (T + 1,)
    data = (sequence[None] + torch.arange(4, device=CPU)[:, None]) % V  # (B, T + 1)
    history = train(
        model,
        itertools.repeat((data[:, :-1], data[:, 1:])),
        lambda m, x, y: F.cross_entropy(m(x)[0].reshape(-1, V), y.reshape(-1)),
        torch.optim.Adam(model.parameters(), lr=0.01),
        steps=2,
        device=CPU,
        clip_norm=1.0,
        progress=False,
    )
    assert len(history) == 2 and all(np.isfinite(entry["loss"]) for entry in history)

    generator = torch.Generator(device=CPU).manual_seed(0)
    prefix = torch.tensor([[1, 2]], device=CPU)
    assert_on_cpu(decode.generate(model, prefix, steps=3, top_k=2, generator=generator))
    assert_on_cpu(decode.sample_next(cpu_randn(2, V), temperature=0.5, generator=generator))
    step_fn = decode.language_model_step_fn(model.eval())
    tokens, score = decode.greedy_decode(step_fn, None, 1, None, max_length=3)
    assert len(tokens) == 3 and np.isfinite(score)
    beam_tokens, _ = decode.beam_search(step_fn, None, 1, None, beam_width=2, max_length=3)
    assert len(beam_tokens) == 3
    log_probs = torch.log_softmax(cpu_randn(2, T, V), dim=-1)  # (B, T, V)
    assert len(decode.ctc_greedy_decode(log_probs, lengths=torch.tensor([T, 2], device=CPU))) == 2


@pytest.mark.parametrize("use_fast", [False, True])
def test_classifier_and_regressor_stay_on_their_device(use_fast):
    torch.manual_seed(0)
    classifier = SequenceClassifier(D, H, 3, cell="gru", vocab_size=7, fast=use_fast, device=CPU)
    tokens = torch.randint(0, 7, (B, T), device=CPU)
    logits = classifier(tokens, lengths=torch.tensor([T, 3, 1], device=CPU))
    regressor = SequenceRegressor(
        D, H, 2, cell="lstm", many_to_many=True, fast=use_fast, device=CPU
    )
    prediction, _ = regressor(cpu_randn(B, T, D))
    (logits.sum() + prediction.sum()).backward()
    assert_on_cpu(logits, prediction, *(p.grad for p in classifier.parameters()))


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
def test_the_benchmark_builds_everything_on_the_device_it_is_given(cell):
    """``make bench`` on a GPU passes device="cuda"; every input and product must follow it."""
    result = benchmark_torch(cell, Size("tiny", T=3, B=2, D=2, H=3), device=CPU, repeats=7)
    assert result.device == "cpu"
    assert all(0 < ratio < float("inf") for ratio in result.fast_train_round_ratios)
