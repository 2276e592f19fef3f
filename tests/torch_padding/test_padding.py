"""Variable-length batches: the helpers of rnncore.torch.padding and the layers' ``lengths``.

The layers with ``lengths`` are checked against two references we did not write the same way:
torch.nn fed the batch through pack_padded_sequence (every output and final state, and the
gradients, float64), and each sequence run alone, without padding.
"""

import re

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.torch import interop, layers
from rnncore.torch.padding import check_lengths, last_valid_step, length_mask, masked_mean

F64 = torch.float64
TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}
KINDS = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}
LENGTHS = torch.tensor([5, 2, 4, 1])  # B = 4, padded T = 5, unsorted


# ---------------------------------------------------------------------------- helpers


def test_length_mask_marks_the_real_steps():
    mask = length_mask(LENGTHS, 5)
    expected = torch.tensor([[t < n for t in range(5)] for n in LENGTHS.tolist()])
    assert mask.dtype == torch.bool and torch.equal(mask, expected)
    assert torch.equal(length_mask(LENGTHS, 6)[:, 5], torch.zeros(4, dtype=torch.bool))


def test_last_valid_step_reads_step_length_minus_one():
    sequence = torch.arange(4 * 5 * 2.0).view(4, 5, 2)  # (B, T, F)
    last = last_valid_step(sequence, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        assert torch.equal(last[b], sequence[b, n - 1])
    assert not torch.equal(last, sequence[:, -1])  # the padded end is something else


def test_masked_mean_ignores_padding_and_its_gradient():
    values = torch.randn(4, 5, dtype=F64, requires_grad=True)
    mask = length_mask(LENGTHS, 5)
    mean = masked_mean(values, mask)
    expected = torch.cat([values[b, :n] for b, n in enumerate(LENGTHS.tolist())]).mean()
    torch.testing.assert_close(mean, expected, rtol=1e-14, atol=0)
    assert not torch.allclose(mean, values.mean())
    mean.backward()
    torch.testing.assert_close(values.grad, mask.to(F64) / mask.sum(), rtol=1e-14, atol=0)


def test_masked_mean_is_not_poisoned_by_nan_padding():
    values = torch.tensor([[1.0, 3.0, float("nan")], [2.0, float("inf"), 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    torch.testing.assert_close(masked_mean(values, mask), torch.tensor(2.0))


ERRORS = {
    "float lengths": (
        lambda: length_mask(torch.tensor([2.0, 1.0]), 3),
        "lengths must be a torch integer tensor, got torch.float32",
    ),
    "list lengths": (lambda: length_mask([2, 1], 3), "lengths must be a torch integer tensor"),
    "zero length": (
        lambda: length_mask(torch.tensor([2, 0]), 3),
        "lengths must be in 1..T = 1..3, got [2, 0]",
    ),
    "too long": (
        lambda: last_valid_step(torch.zeros(2, 3, 4), torch.tensor([4, 1])),
        "lengths must be in 1..T = 1..3, got [4, 1]",
    ),
    "lengths batch": (
        lambda: last_valid_step(torch.zeros(2, 3, 4), torch.tensor([1, 1, 1])),
        "lengths must have shape (B,) = (2,), got (3,)",
    ),
    "sequence axes": (
        lambda: last_valid_step(torch.zeros(2, 3), torch.tensor([1, 1])),
        "sequence must have 3 axes (B, T, F), got shape (2, 3)",
    ),
    "bad T": (lambda: length_mask(torch.tensor([1]), 0), "T must be a positive integer, got 0"),
    "mask dtype": (
        lambda: masked_mean(torch.zeros(2, 3), torch.ones(2, 3)),
        "mask must be a torch bool tensor",
    ),
    "mask shape": (
        lambda: masked_mean(torch.zeros(2, 3), torch.ones(3, 2, dtype=torch.bool)),
        "mask must have shape (B, T) = (2, 3), got (3, 2)",
    ),
    "empty mask": (
        lambda: masked_mean(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.bool)),
        "mask must be True somewhere",
    ),
    "integer values": (
        lambda: masked_mean(
            torch.zeros(2, 3, dtype=torch.int64), torch.ones(2, 3, dtype=torch.bool)
        ),
        "values must be a torch floating-point tensor",
    ),
    "layer lengths": (
        lambda: layers.GRU(3, 4)(torch.zeros(2, 5, 3), lengths=torch.tensor([6, 2])),
        "lengths must be in 1..T = 1..5, got [6, 2]",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_raises_value_error_naming_it(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_check_lengths_accepts_a_valid_batch():
    check_lengths(LENGTHS, 4, 5)  # no error
    with pytest.raises(ValueError):
        check_lengths(LENGTHS, 4, 4)


# ---------------------------------------------------------------------------- layers


def padded_batch(D, seed=0):
    """x (B, T, D) with random numbers (not zeros) in the padding, so leaks would show."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(len(LENGTHS), int(LENGTHS.max()), D, dtype=F64, generator=generator)


def run_layer(layer, x, state, lengths=None):
    output, final = layer(x, state, lengths=lengths) if lengths is not None else layer(x, state)
    return output, (final if isinstance(final, tuple) else (final,))


def run_packed(module, x, state):
    packed = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False)
    packed_output, final = module(packed, state)
    output, output_lengths = pad_packed_sequence(packed_output, batch_first=True)
    assert torch.equal(output_lengths, LENGTHS)
    return output, (final if isinstance(final, tuple) else (final,))


def initial_state(cell, rows, B, H, seed=1):
    generator = torch.Generator().manual_seed(seed)
    h0 = torch.randn(rows, B, H, dtype=F64, generator=generator)
    return (h0, torch.randn(rows, B, H, dtype=F64, generator=generator)) if cell == "lstm" else h0


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", list(KINDS))
def test_layer_with_lengths_equals_packed_torch_nn(cell, bidirectional):
    D, H, L = 3, 4, 2
    torch.manual_seed(0)
    ours = KINDS[cell](D, H, num_layers=L, bidirectional=bidirectional, dtype=F64)
    theirs = interop.to_torch_module(ours)
    x = padded_batch(D).requires_grad_(True)
    state = initial_state(cell, L * (2 if bidirectional else 1), len(LENGTHS), H)
    output, finals = run_layer(ours, x, state, LENGTHS)
    expected_output, expected_finals = run_packed(theirs, x, state)
    torch.testing.assert_close(output, expected_output, **TOLERANCE)
    for final, expected in zip(finals, expected_finals, strict=True):
        torch.testing.assert_close(final, expected, **TOLERANCE)
    # Gradients: the same scalar through both, with respect to x and one weight matrix.
    weight = torch.randn(output.shape, dtype=F64, generator=torch.Generator().manual_seed(2))
    (dx,) = torch.autograd.grad((output * weight).sum() + finals[0].sum(), x)
    (expected_dx,) = torch.autograd.grad(
        (expected_output * weight).sum() + expected_finals[0].sum(), x
    )
    torch.testing.assert_close(dx, expected_dx, **TOLERANCE)
    assert torch.all(dx[length_mask(LENGTHS, 5).logical_not()] == 0)  # padding gets none


@pytest.mark.parametrize("cell", list(KINDS))
def test_without_lengths_the_padding_leaks_into_the_bidirectional_layer(cell):
    """The check above can fail: ignoring lengths gives other outputs on real steps."""
    D, H = 3, 4
    ours = KINDS[cell](D, H, bidirectional=True, dtype=F64)
    theirs = interop.to_torch_module(ours)
    x = padded_batch(D)
    state = initial_state(cell, 2, len(LENGTHS), H)
    output, _ = run_layer(ours, x, state)
    expected_output, _ = run_packed(theirs, x, state)
    mask = length_mask(LENGTHS, 5)
    assert not torch.allclose(output[mask], expected_output[mask])
    # The forward direction alone never reads later padding: its real steps still agree.
    torch.testing.assert_close(output[mask][:, :H], expected_output[mask][:, :H], **TOLERANCE)


@pytest.mark.parametrize("cell", list(KINDS))
def test_layer_with_lengths_equals_each_sequence_alone(cell):
    D, H = 3, 4
    layer = KINDS[cell](D, H, num_layers=2, bidirectional=True, dtype=F64)
    x = padded_batch(D, seed=3)
    output, finals = run_layer(layer, x, None, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        alone, alone_finals = run_layer(layer, x[b : b + 1, :n], None)
        torch.testing.assert_close(output[b : b + 1, :n], alone, **TOLERANCE)
        assert torch.all(output[b, n:] == 0)
        for final, expected in zip(finals, alone_finals, strict=True):
            torch.testing.assert_close(final[:, b : b + 1], expected, **TOLERANCE)


def test_full_lengths_change_nothing():
    layer = layers.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=F64)
    x = padded_batch(3)
    output, (h_n, c_n) = layer(x)
    full = torch.full((len(LENGTHS),), x.shape[1])
    masked_output, (masked_h, masked_c) = layer(x, lengths=full)
    torch.testing.assert_close(masked_output, output, rtol=0, atol=0)
    torch.testing.assert_close(masked_c, c_n, rtol=0, atol=0)


def test_last_valid_step_of_forward_output_is_packed_h_n():
    torch.manual_seed(0)
    module = torch.nn.GRU(3, 4, batch_first=True, dtype=F64)
    x = padded_batch(3)
    output, _ = module(x)  # unpacked: the padding is read, but only after each real end
    _, (h_n,) = run_packed(module, x, None)
    torch.testing.assert_close(last_valid_step(output, LENGTHS), h_n[0], **TOLERANCE)
    assert not torch.allclose(output[:, -1], h_n[0])
