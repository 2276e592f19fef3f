"""The pieces of a character language model: streams, chunks, state, training, sampling, bpc."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from rnncore.torch.char_lm import (
    batchify,
    bits_per_character,
    detach_state,
    next_chunk,
    sample,
    train_step,
)
from rnncore.torch.models import CharLanguageModel

V = 7


def small_model(cell="lstm", seed=0, fast=True):
    torch.manual_seed(seed)
    return CharLanguageModel(V, 5, 8, cell, fast=fast)


class FixedLogits(nn.Module):
    """Scores that ignore the input: the same logits row at every step."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(torch.as_tensor(logits, dtype=torch.float32))

    def forward(self, tokens, state=None):
        B, T = tokens.shape
        return self.logits.expand(B, T, -1), state


class NextId(nn.Module):
    """A model sure that id v is followed by (v + 1) mod V; counts the tokens it reads."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(50.0))
        self.calls = []

    def forward(self, tokens, state=None):
        self.calls.append(tokens.clone())
        following = (tokens + 1) % V  # (B, T)
        logits = self.scale * nn.functional.one_hot(following, V).float()  # (B, T, V)
        return logits, state


# batchify ---------------------------------------------------------------------------------


def test_batchify_cuts_consecutive_streams_and_drops_the_tail():
    streams = batchify(list(range(11)), 3)
    assert streams.dtype == torch.int64
    assert streams.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


@pytest.mark.parametrize("kind", ["list", "numpy", "tensor"])
def test_batchify_accepts_lists_arrays_and_tensors_and_copies(kind):
    source = np.arange(12)
    ids = {"list": source.tolist(), "numpy": source, "tensor": torch.arange(12)}[kind]
    streams = batchify(ids, 2)
    assert streams.shape == (2, 6)
    streams[0, 0] = 99  # the result is a copy: the caller's ids are untouched
    assert int(ids[0]) == 0


def test_batchify_one_stream_keeps_every_id():
    assert batchify(np.arange(5), 1).tolist() == [[0, 1, 2, 3, 4]]


@pytest.mark.parametrize(
    ("ids", "batch_size", "message"),
    [
        (np.arange(5), 0, "batch_size must be a positive integer"),
        (np.arange(5), 3, "at least 2 \\* B = 6"),
        (np.zeros((2, 3), dtype=int), 1, "ids must have 1 axis"),
        (np.linspace(0, 1, 6), 2, "integer"),
        (torch.zeros(2, 3, dtype=torch.int64), 1, "ids must have 1 axis"),
        (torch.linspace(0, 1, 6), 2, "integer"),
    ],
)
def test_batchify_rejects_bad_input(ids, batch_size, message):
    with pytest.raises(ValueError, match=message):
        batchify(ids, batch_size)


# next_chunk -------------------------------------------------------------------------------


def test_next_chunk_targets_are_the_inputs_shifted_by_one():
    streams = torch.arange(20).reshape(2, 10)
    inputs, targets = next_chunk(streams, 3, 4)
    assert inputs.tolist() == [[3, 4, 5, 6], [13, 14, 15, 16]]
    assert targets.tolist() == [[4, 5, 6, 7], [14, 15, 16, 17]]


def test_next_chunk_last_chunk_is_shorter_and_ends_at_the_last_column():
    streams = torch.arange(20).reshape(2, 10)
    inputs, targets = next_chunk(streams, 6, 4)  # t = min(4, 10 - 1 - 6) = 3
    assert inputs.shape == targets.shape == (2, 3)
    assert targets[:, -1].tolist() == [9, 19]
    inputs, targets = next_chunk(streams, 8, 4)  # the last possible start: one step
    assert inputs.tolist() == [[8], [18]] and targets.tolist() == [[9], [19]]


def test_next_chunk_walks_every_target_exactly_once():
    streams = batchify(np.arange(40), 4)  # (4, 10)
    seen = [next_chunk(streams, start, 3)[1] for start in range(0, 9, 3)]
    assert torch.equal(torch.cat(seen, dim=1), streams[:, 1:])


def test_next_chunk_returns_copies():
    streams = torch.arange(10).reshape(2, 5)
    inputs, targets = next_chunk(streams, 0, 2)
    inputs += 100
    targets += 100
    assert torch.equal(streams, torch.arange(10).reshape(2, 5))


@pytest.mark.parametrize(
    ("start", "bptt", "message"),
    [(4, 2, "start must be an integer in 0 .. N - 2 = 0 .. 3"), (-1, 2, "start"), (0, 0, "bptt")],
)
def test_next_chunk_rejects_bad_positions(start, bptt, message):
    with pytest.raises(ValueError, match=message):
        next_chunk(torch.arange(10).reshape(2, 5), start, bptt)


def test_next_chunk_rejects_a_one_dimensional_stream():
    with pytest.raises(ValueError, match="streams must have 2 axes"):
        next_chunk(torch.arange(10), 0, 2)


# detach_state -----------------------------------------------------------------------------


def test_detach_state_for_h_and_for_h_c_and_none():
    h = torch.randn(1, 2, 3, requires_grad=True) * 2
    c = torch.randn(1, 2, 3, requires_grad=True) * 2
    assert detach_state(None) is None
    detached = detach_state(h)
    assert detached.grad_fn is None and not detached.requires_grad
    assert torch.equal(detached, h)
    h_d, c_d = detach_state((h, c))
    assert h_d.grad_fn is None and c_d.grad_fn is None
    assert torch.equal(h_d, h) and torch.equal(c_d, c)
    assert h.grad_fn is not None  # the caller's tensors keep their graph


def test_detach_state_rejects_other_things():
    with pytest.raises(ValueError, match="state must be None, a tensor h or a tuple"):
        detach_state([1.0, 2.0])


# train_step -------------------------------------------------------------------------------


def reference_loss(model, state, inputs, targets):
    with torch.no_grad():
        logits, _ = model(inputs, state)
        return float(nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_train_step_returns_the_loss_before_the_update_and_a_detached_state(cell):
    model = small_model(cell)
    streams = batchify(np.arange(60) % V, 3)
    inputs, targets = next_chunk(streams, 0, 5)
    expected = reference_loss(model, None, inputs, targets)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss, state = train_step(model, None, inputs, targets, optimizer, 1.0)
    assert isinstance(loss, float) and loss == pytest.approx(expected, rel=1e-6)
    parts = state if isinstance(state, tuple) else (state,)
    assert all(part.grad_fn is None and part.shape == (1, 3, 8) for part in parts)
    # The update lowered the loss on the same chunk, and the next chunk runs from the state.
    assert reference_loss(model, None, inputs, targets) < expected
    train_step(model, state, *next_chunk(streams, 5, 5), optimizer, 1.0)


def test_train_step_clips_the_global_gradient_norm():
    model = small_model()
    inputs, targets = next_chunk(batchify(np.arange(60) % V, 3), 0, 5)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train_step(model, None, inputs, targets, optimizer, 1e-3)
    pairs = zip(model.parameters(), before, strict=True)
    step = torch.cat([(p.detach() - b).flatten() for p, b in pairs])
    # With lr = 1 the update is minus the clipped gradient, whose norm is at most max_norm.
    assert step.norm() == pytest.approx(1e-3, rel=1e-4)


def test_train_step_without_clipping_takes_the_full_step():
    model = small_model()
    inputs, targets = next_chunk(batchify(np.arange(60) % V, 3), 0, 5)
    before = [p.detach().clone() for p in model.parameters()]
    train_step(model, None, inputs, targets, torch.optim.SGD(model.parameters(), lr=1.0), None)
    pairs = zip(model.parameters(), before, strict=True)
    step = torch.cat([(p.detach() - b).flatten() for p, b in pairs])
    assert step.norm() > 1e-2


def test_train_step_does_not_modify_its_inputs_or_the_state():
    model = small_model()
    streams = batchify(np.arange(60) % V, 3)
    inputs, targets = next_chunk(streams, 0, 5)
    state = (torch.randn(1, 3, 8), torch.randn(1, 3, 8))
    copies = [t.clone() for t in (inputs, targets, *state)]
    train_step(model, state, inputs, targets, torch.optim.SGD(model.parameters(), 0.1), 1.0)
    for original, copy in zip((inputs, targets, *state), copies, strict=True):
        assert torch.equal(original, copy)


def test_train_step_rejects_an_attached_state_and_bad_arguments():
    model = small_model("gru")
    inputs, targets = next_chunk(batchify(np.arange(60) % V, 3), 0, 5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    _, state = model(inputs)  # still attached to this forward's graph
    with pytest.raises(ValueError, match="detach_state"):
        train_step(model, state, inputs, targets, optimizer, 1.0)
    with pytest.raises(ValueError, match="targets must have shape"):
        train_step(model, None, inputs, targets[:, :-1], optimizer, 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        train_step(model, None, inputs, targets, optimizer, 0.0)
    with pytest.raises(ValueError, match="inputs must be an integer torch tensor"):
        train_step(model, None, inputs.float(), targets, optimizer, 1.0)


def test_train_step_in_a_loop_learns_a_periodic_text():
    model = small_model("gru")
    streams = batchify(np.arange(400) % V, 4)  # (4, 100)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    state, losses = None, []
    for _ in range(3):
        state = None
        for start in range(0, 99, 10):
            loss, state = train_step(model, state, *next_chunk(streams, start, 10), optimizer, 1.0)
            losses.append(loss)
    assert losses[-1] < 0.2 < math.log(V) - 0.5 < losses[0] + 0.1


# sample -----------------------------------------------------------------------------------


def test_sample_returns_only_the_new_ids_as_a_list():
    model = NextId()
    ids = sample(model, [3, 4], 6)
    assert ids == [5, 6, 0, 1, 2, 3]
    assert all(isinstance(i, int) for i in ids)
    assert sample(model, torch.tensor([2]), 0) == []


def test_sample_follows_the_tempered_top_k_softmax():
    logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -1.0, -3.0])
    model = FixedLogits(logits)
    generator = torch.Generator().manual_seed(0)
    ids = sample(model, [0], 20000, temperature=0.5, top_k=3, generator=generator)
    frequencies = torch.bincount(torch.tensor(ids), minlength=V).float() / len(ids)
    expected = torch.softmax(logits[:3] / 0.5, dim=0)
    torch.testing.assert_close(frequencies[:3], expected, rtol=0, atol=0.015)
    assert frequencies[3:].sum() == 0


def test_sample_is_reproducible_and_keeps_the_model_mode_and_prefix():
    model = small_model()
    model.train()
    prefix = torch.tensor([1, 2, 3])
    first = sample(model, prefix, 30, generator=torch.Generator().manual_seed(5))
    second = sample(model, prefix, 30, generator=torch.Generator().manual_seed(5))
    assert first == second and len(first) == 30
    assert model.training and prefix.tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prefix": [], "length": 3}, "prefix must hold at least one id"),
        ({"prefix": [1], "length": -1}, "length must be a non-negative integer"),
        ({"prefix": [1], "length": 2, "temperature": 0.0}, "temperature"),
        ({"prefix": [1], "length": 2, "top_k": V + 1}, "top_k"),
    ],
)
def test_sample_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample(small_model(), **kwargs)


# bits_per_character -----------------------------------------------------------------------


def test_bits_per_character_of_a_uniform_model_is_log2_v():
    model = FixedLogits(torch.zeros(V))
    assert bits_per_character(model, np.arange(50) % V, 8) == pytest.approx(math.log2(V))


def test_bits_per_character_of_a_sure_model_is_near_zero():
    assert bits_per_character(NextId(), np.arange(50) % V, 8) < 1e-6


def test_bits_per_character_equals_one_pass_over_the_whole_text():
    model = small_model("lstm")
    ids = np.random.default_rng(0).integers(0, V, size=53)
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(ids[None, :-1]))
        nats = nn.functional.cross_entropy(logits[0], torch.as_tensor(ids[1:]))
    expected = float(nats) / math.log(2)
    # Carrying the state makes the chunk size irrelevant, and short last chunks count by length.
    for bptt in (1, 5, 7, 52, 100):
        assert bits_per_character(model, ids, bptt) == pytest.approx(expected, rel=1e-5)


def test_bits_per_character_restores_the_mode_and_leaves_ids_alone():
    model = small_model()
    model.train()
    ids = torch.arange(30) % V
    bits_per_character(model, ids, 4)
    assert model.training and torch.equal(ids, torch.arange(30) % V)


def test_bits_per_character_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        bits_per_character(small_model(), [3], 4)
    with pytest.raises(ValueError, match="bptt"):
        bits_per_character(small_model(), [3, 4, 5], 0)


# CUDA ---------------------------------------------------------------------------------------


@pytest.mark.cuda
def test_the_pieces_run_on_cuda_and_agree_with_the_cpu():
    ids = torch.arange(200, device="cuda") % V
    streams = batchify(ids, 4)
    assert streams.device.type == "cuda"
    cpu_model = small_model("lstm", fast=True).double()
    gpu_model = small_model("lstm", fast=True).double().cuda()
    expected = bits_per_character(cpu_model, ids.cpu(), 16)
    assert bits_per_character(gpu_model, ids, 16) == pytest.approx(expected, rel=1e-9)
    optimizer = torch.optim.SGD(gpu_model.parameters(), lr=0.1)
    loss, state = train_step(gpu_model, None, *next_chunk(streams, 0, 10), optimizer, 1.0)
    assert math.isfinite(loss) and state[0].device.type == "cuda" and state[0].grad_fn is None
    generator = torch.Generator(device="cuda").manual_seed(0)
    assert len(sample(gpu_model, [1, 2], 10, generator=generator)) == 10
