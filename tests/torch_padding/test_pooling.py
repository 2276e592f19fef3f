"""Pooling over time on padded batches: rnncore.torch.pooling.

Each pooling is checked against the same quantity computed sequence by sequence on the
unpadded rows, with random numbers (and NaN where it matters) in the padding so that a leak
would show; and each check is shown able to fail on the usual mistake.
"""

import re

import pytest
import torch

from rnncore.torch.pooling import (
    AttentionPooling,
    attention_pooling,
    final_states_bidirectional,
    last_valid_state,
    masked_max,
    masked_mean_over_time,
    pad_batch,
)

F64 = torch.float64
LENGTHS = torch.tensor([5, 2, 4, 1])  # B = 4, padded T = 5, unsorted
TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}


def states(H=3, seed=0, requires_grad=False):
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(len(LENGTHS), int(LENGTHS.max()), H, dtype=F64, generator=generator)
    return h.requires_grad_(requires_grad)


def rows(h):
    """Each sequence without its padding."""
    return [h[b, :n] for b, n in enumerate(LENGTHS.tolist())]


# ---------------------------------------------------------------------------- pad_batch


def test_pad_batch_pads_on_the_right_and_keeps_the_order():
    ids, lengths = pad_batch([[4, 5, 6], [7], [8, 9]], pad_id=0)
    assert ids.dtype == torch.long and lengths.dtype == torch.long
    assert torch.equal(ids, torch.tensor([[4, 5, 6], [7, 0, 0], [8, 9, 0]]))
    assert torch.equal(lengths, torch.tensor([3, 1, 2]))


def test_pad_batch_accepts_tensors_and_any_pad_id():
    ids, lengths = pad_batch([torch.tensor([1, 2]), torch.tensor([3, 4, 5, 6])], pad_id=9)
    assert torch.equal(ids, torch.tensor([[1, 2, 9, 9], [3, 4, 5, 6]]))
    assert torch.equal(lengths, torch.tensor([2, 4]))
    ids, lengths = pad_batch([[3]], pad_id=0)  # B = 1, T = 1
    assert ids.shape == (1, 1) and lengths.tolist() == [1]


def test_pad_batch_does_not_modify_its_input():
    sequences = [[1, 2, 3], [4]]
    pad_batch(sequences, 0)
    assert sequences == [[1, 2, 3], [4]]


# ---------------------------------------------------------------------------- poolings


def test_last_valid_state_reads_each_sequences_last_real_step():
    h = states()
    last = last_valid_state(h, LENGTHS)
    expected = torch.stack([row[-1] for row in rows(h)])
    torch.testing.assert_close(last, expected, rtol=0, atol=0)
    assert not torch.allclose(last, h[:, -1])  # the mistake gives something else


def test_masked_mean_over_time_is_the_mean_of_each_unpadded_row():
    h = states(requires_grad=True)
    mean = masked_mean_over_time(h, LENGTHS)
    expected = torch.stack([row.mean(dim=0) for row in rows(h)])
    torch.testing.assert_close(mean, expected, **TOLERANCE)
    assert not torch.allclose(mean, h.mean(dim=1))  # padding included in the mean
    mean.sum().backward()
    for b, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(h.grad[b, :n], torch.full((n, 3), 1.0 / n, dtype=F64))
        assert torch.all(h.grad[b, n:] == 0)


def test_masked_max_is_the_max_of_each_unpadded_row():
    h = states(seed=1)
    h_big_padding = h.clone()
    h_big_padding[torch.arange(5)[None, :] >= LENGTHS[:, None]] = 100.0
    maximum = masked_max(h_big_padding, LENGTHS)
    expected = torch.stack([row.amax(dim=0) for row in rows(h)])
    torch.testing.assert_close(maximum, expected, rtol=0, atol=0)
    assert not torch.allclose(h_big_padding.amax(dim=1), expected)


def test_poolings_ignore_nan_in_the_padding():
    h = states(seed=2)
    clean = [masked_mean_over_time(h, LENGTHS), masked_max(h, LENGTHS)]
    poisoned = h.clone()
    poisoned[torch.arange(5)[None, :] >= LENGTHS[:, None]] = float("nan")
    w = torch.randn(3, dtype=F64)
    assert torch.equal(masked_mean_over_time(poisoned, LENGTHS), clean[0])
    assert torch.equal(masked_max(poisoned, LENGTHS), clean[1])
    assert torch.equal(last_valid_state(poisoned, LENGTHS), last_valid_state(h, LENGTHS))
    pooled, _ = attention_pooling(poisoned, LENGTHS, w)
    assert not torch.isnan(pooled).any()


def test_attention_pooling_is_a_softmax_over_the_real_steps():
    h = states(seed=3)
    w = torch.randn(3, dtype=F64, generator=torch.Generator().manual_seed(4))
    pooled, weights = attention_pooling(h, LENGTHS, w)
    assert weights.shape == (4, 5) and pooled.shape == (4, 3)
    for b, row in enumerate(rows(h)):
        alpha = torch.softmax(row @ w, dim=0)  # (n,)
        torch.testing.assert_close(weights[b, : len(row)], alpha, **TOLERANCE)
        assert torch.all(weights[b, len(row) :] == 0)
        torch.testing.assert_close(pooled[b], alpha @ row, **TOLERANCE)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(4, dtype=F64), **TOLERANCE)


def test_attention_pooling_module_learns_its_scoring_vector():
    torch.manual_seed(0)
    module = AttentionPooling(3, dtype=F64)
    h = states(seed=5)
    pooled, weights = module(h, LENGTHS)
    expected, expected_weights = attention_pooling(h, LENGTHS, module.w)
    torch.testing.assert_close(pooled, expected, rtol=0, atol=0)
    pooled.sum().backward()
    assert module.w.grad is not None and module.w.grad.abs().sum() > 0


def test_final_states_bidirectional_equals_packed_h_n():
    torch.manual_seed(0)
    H = 4
    layer = torch.nn.GRU(3, H, batch_first=True, bidirectional=True, dtype=F64)
    x = torch.randn(4, 5, 3, dtype=F64)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        x, LENGTHS, batch_first=True, enforce_sorted=False
    )
    packed_out, h_n = layer(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True)
    final = final_states_bidirectional(out, LENGTHS, H)
    torch.testing.assert_close(final, torch.cat([h_n[0], h_n[1]], dim=1), **TOLERANCE)
    # The mistakes give other numbers: the backward half read at the last valid step, or
    # the forward half read at the padded end.
    wrong_end = torch.cat([h_n[0], last_valid_state(out[:, :, H:], LENGTHS)], dim=1)
    assert not torch.allclose(final, wrong_end)
    assert not torch.allclose(final[:, :H], out[:, -1, :H])


# ---------------------------------------------------------------------------- errors

h = torch.zeros(2, 3, 4)
ERRORS = {
    "empty batch": (lambda: pad_batch([], 0), "sequences must hold at least one sequence"),
    "empty sequence": (lambda: pad_batch([[1], []], 0), "sequences[1] is empty"),
    "float ids": (lambda: pad_batch([[1.5]], 0), "sequences[0] must hold integer token ids"),
    "pad id": (lambda: pad_batch([[1]], None), "pad_id must be an int, got None"),
    "string": (lambda: pad_batch("abc", 0), "sequences must be a list of token-id lists"),
    "nested": (lambda: pad_batch([[[1, 2]]], 0), "sequences[0] must be a flat list of ids"),
    "h axes": (
        lambda: last_valid_state(torch.zeros(2, 3), torch.tensor([1, 1])),
        "h must have 3 axes (B, T, H), got shape (2, 3)",
    ),
    "h integer": (
        lambda: masked_mean_over_time(torch.zeros(2, 3, 4, dtype=torch.long), torch.tensor([1, 1])),
        "h must be a torch floating-point tensor",
    ),
    "lengths too long": (
        lambda: masked_max(h, torch.tensor([4, 1])),
        "lengths must be in 1..T = 1..3, got [4, 1]",
    ),
    "lengths zero": (
        lambda: masked_mean_over_time(h, torch.tensor([0, 1])),
        "lengths must be in 1..T = 1..3, got [0, 1]",
    ),
    "lengths batch": (
        lambda: last_valid_state(h, torch.tensor([1, 1, 1])),
        "lengths must have shape (B,) = (2,), got (3,)",
    ),
    "lengths float": (
        lambda: last_valid_state(h, torch.tensor([1.0, 1.0])),
        "lengths must be a torch integer tensor",
    ),
    "w shape": (
        lambda: attention_pooling(h, torch.tensor([1, 2]), torch.zeros(3)),
        "w must have shape (H,) = (4,), got (3,)",
    ),
    "bidirectional width": (
        lambda: final_states_bidirectional(h, torch.tensor([1, 2]), 3),
        "out must have shape (B, T, 2H) = (2, 3, 6), got (2, 3, 4)",
    ),
    "hidden size": (
        lambda: final_states_bidirectional(h, torch.tensor([1, 2]), 0),
        "hidden_size must be a positive int, got 0",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_raises_value_error_naming_it(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
