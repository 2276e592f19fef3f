"""The same code on a CUDA GPU: parity with torch.nn (cuDNN) and with the CPU reference.

Every test is marked ``cuda``; tests/conftest.py skips them on machines without a GPU.
"""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.testing import assert_allclose

from rnncore.numpy.gru import gru_reset_after_forward
from rnncore.numpy.lstm import lstm_forward
from rnncore.numpy.rnn import rnn_forward
from rnncore.torch import cells, decode, interop, layers
from rnncore.torch.models import CharLanguageModel
from rnncore.torch.train import choose_device, seed_everything, train

pytestmark = pytest.mark.cuda

TORCH_NN = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
OURS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}
NUMPY_FORWARD = {"rnn": rnn_forward, "lstm": lstm_forward, "gru": gru_reset_after_forward}
B, T, D, H = 3, 6, 4, 5


def forward_backward(module, cell, x, states, upstream):
    """Output and gradients (x, initial states, parameters in module order) of one pass."""
    x = x.clone().requires_grad_(True)
    states = [s.clone().requires_grad_(True) for s in states]
    output, _ = module(x, tuple(states) if cell == "lstm" else states[0])
    (output * upstream).sum().backward()
    grads = [x.grad] + [s.grad for s in states]
    return output.detach(), grads


@pytest.mark.parametrize("cell", list(TORCH_NN))
def test_float64_layers_on_cuda_match_torch_nn_on_cuda(cell):
    torch.manual_seed(0)
    options = {"num_layers": 2, "bidirectional": True, "device": "cuda", "dtype": torch.float64}
    reference = TORCH_NN[cell](D, H, batch_first=True, **options)
    ours = interop.load_from_torch(OURS[cell](D, H, **options), reference)
    generator = torch.Generator(device="cuda").manual_seed(1)
    x = torch.randn(B, T, D, device="cuda", dtype=torch.float64, generator=generator)
    states = [
        torch.randn(4, B, H, device="cuda", dtype=torch.float64, generator=generator)
        for _ in range(2 if cell == "lstm" else 1)
    ]
    upstream = torch.randn(B, T, 2 * H, device="cuda", dtype=torch.float64, generator=generator)

    out_ref, grads_ref = forward_backward(reference, cell, x, states, upstream)
    out_ours, grads_ours = forward_backward(ours, cell, x, states, upstream)
    torch.testing.assert_close(out_ours, out_ref, rtol=1e-9, atol=1e-9)
    for actual, expected in zip(grads_ours, grads_ref, strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9)
    ours_grads = {
        (layer, direction, name): p.grad
        for layer, directions in enumerate(ours.weights)
        for direction, weights in enumerate(directions)
        for name, p in weights.items()
    }
    for layer in range(2):
        for direction, suffix in enumerate(("", "_reverse")):
            W_ih = getattr(reference, f"weight_ih_l{layer}{suffix}")
            b_ih = getattr(reference, f"bias_ih_l{layer}{suffix}")
            torch.testing.assert_close(
                ours_grads[layer, direction, "Wx"], W_ih.grad.T, rtol=1e-9, atol=1e-9
            )
            torch.testing.assert_close(
                ours_grads[layer, direction, "b"], b_ih.grad, rtol=1e-9, atol=1e-9
            )


@pytest.mark.parametrize("cell", list(TORCH_NN))
def test_float32_on_cuda_matches_the_float64_cpu_reference(cell):
    torch.manual_seed(0)
    reference_cpu = TORCH_NN[cell](D, H, batch_first=True, dtype=torch.float64)
    params = interop.numpy_params_from_torch(reference_cpu)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D))
    h0 = rng.standard_normal((B, H))
    kwargs = {"c0": np.zeros((B, H))} if cell == "lstm" else {}
    h_numpy, _ = NUMPY_FORWARD[cell](x, h0, **params, **kwargs)

    ours = interop.load_from_torch(OURS[cell](D, H, device="cuda"), reference_cpu)
    torch_nn_cuda = interop.to_torch_module(ours)
    x_cuda = torch.tensor(x, dtype=torch.float32, device="cuda")
    h0_cuda = torch.tensor(h0[None], dtype=torch.float32, device="cuda")
    state = (h0_cuda, torch.zeros_like(h0_cuda)) if cell == "lstm" else h0_cuda
    for module in (ours, torch_nn_cuda):
        with torch.no_grad():
            output, _ = module(x_cuda, state)
        assert output.device.type == "cuda" and output.dtype == torch.float32
        assert_allclose(output.cpu().numpy(), h_numpy, rtol=1e-4, atol=1e-5)


def test_cells_on_cuda_match_the_cpu():
    generator = torch.Generator().manual_seed(0)
    tensors = [torch.randn(*shape, generator=generator) for shape in ((B, D), (B, H))]
    tensors += [torch.randn(*shape, generator=generator) for shape in ((D, 3 * H), (H, 3 * H))]
    tensors += [torch.randn(3 * H, generator=generator), torch.randn(H, generator=generator)]
    on_cpu = cells.gru_cell(*tensors)
    on_cuda = cells.gru_cell(*(t.cuda() for t in tensors))
    torch.testing.assert_close(on_cuda.cpu(), on_cpu, rtol=1e-5, atol=1e-6)


def test_tensors_on_two_devices_are_rejected():
    x = torch.zeros(2, 3, device="cuda")
    with pytest.raises(ValueError, match="h_prev is on cpu but x is on cuda:0"):
        cells.rnn_cell(x, torch.zeros(2, 4), torch.zeros(3, 4), torch.zeros(4, 4), torch.zeros(4))


def test_choose_device_picks_the_gpu():
    assert choose_device().type == "cuda"
    assert choose_device("cpu").type == "cpu"


@pytest.mark.parametrize("fast", [False, True])
def test_training_on_cuda_lowers_the_loss(fast):
    seed_everything(0)
    V = 5
    model = CharLanguageModel(V, 8, 16, cell="lstm", fast=fast)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    sequence = torch.arange(13) % V  # (T + 1,)
    starts = torch.arange(8)[:, None]  # (B, 1)
    data = (sequence[None] + starts) % V  # (B, T + 1), built on the CPU, moved by train
    history = train(
        model,
        itertools.repeat((data[:, :-1], data[:, 1:])),
        lambda m, x, y: F.cross_entropy(m(x)[0].reshape(-1, V), y.reshape(-1)),
        optimizer,
        steps=40,
        device="cuda",
        clip_norm=5.0,
        progress=False,
    )
    assert next(model.parameters()).device.type == "cuda"
    assert all(np.isfinite(entry["loss"]) for entry in history)
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]


def test_decoding_on_cuda():
    torch.manual_seed(0)
    model = CharLanguageModel(7, 4, 6, cell="gru", device="cuda")
    generator = torch.Generator(device="cuda").manual_seed(0)
    out = decode.generate(model, torch.tensor([[1, 2]]), steps=4, top_k=3, generator=generator)
    assert out.shape == (1, 6) and out.device.type == "cuda"
    logits = torch.randn(5, 7, device="cuda")
    tokens = decode.sample_next(logits, temperature=1e-6)
    assert torch.equal(tokens, logits.argmax(dim=1))
    log_probs = torch.log_softmax(torch.randn(2, 6, 7, device="cuda"), dim=-1)
    cpu_labels = decode.ctc_greedy_decode(log_probs.cpu())
    assert decode.ctc_greedy_decode(log_probs) == cpu_labels
    step_fn = decode.language_model_step_fn(model.eval())
    greedy = decode.greedy_decode(step_fn, None, 1, None, max_length=4)
    assert decode.beam_search(step_fn, None, 1, None, beam_width=1, max_length=4) == greedy
