"""The truncated-BPTT training loop of chapter 9 and its learning-rate schedule."""

import math

import numpy as np
import pytest
import torch

from rnncore.torch.char_lm import batchify, next_chunk, train_step
from rnncore.torch.models import CharLanguageModel
from rnncore.torch.tbptt import learning_rate_factor, train_char_lm

V = 5


def periodic_ids(length=400, period=7, seed=0):
    pattern = np.random.default_rng(seed).integers(0, V, size=period)
    return np.resize(pattern, length).astype(np.int64)


def test_schedule_warms_up_linearly_then_decays_by_a_cosine():
    steps, warmup = 100, 10
    factors = [learning_rate_factor(s, steps, warmup, 0.1) for s in range(steps)]
    assert factors[0] == pytest.approx(0.1 * (0.1 + 0.9 * 1.0))
    assert factors[4] == pytest.approx(0.5 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.04))))
    after = factors[warmup - 1 :]
    assert all(a >= b for a, b in zip(after, after[1:], strict=False))  # decreasing
    assert factors[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.99)))
    assert learning_rate_factor(0, 10) == 1.0
    assert learning_rate_factor(5, 10) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"step": 10, "steps": 10}, "step"),
        ({"step": -1, "steps": 10}, "step"),
        ({"step": 0, "steps": 0}, "steps"),
        ({"step": 0, "steps": 10, "warmup_steps": -1}, "warmup_steps"),
        ({"step": 0, "steps": 10, "final_fraction": 1.5}, "final_fraction"),
    ],
)
def test_schedule_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        learning_rate_factor(**kwargs)


def make_model(seed=0, cell="gru"):
    torch.manual_seed(seed)
    return CharLanguageModel(V, 8, 16, cell=cell, fast=True)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_training_is_the_documented_loop_of_char_lm_steps(cell):
    """Same seed, same chunks, same schedule: the loop equals a hand-written one."""
    ids = periodic_ids(length=203)
    B, bptt, steps, rate = 4, 6, 12, 0.01  # streams of 50: 9 chunks, then a reset
    history = train_char_lm(
        make_model(cell=cell), ids, batch_size=B, bptt=bptt, steps=steps,
        learning_rate=rate, device="cpu", max_norm=0.5, warmup_steps=3, progress=False,
    )  # fmt: skip
    model = make_model(cell=cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=rate)
    streams = batchify(ids, B)
    start, state, losses = 0, None, []
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = rate * learning_rate_factor(step, steps, 3)
        inputs, targets = next_chunk(streams, start, bptt)
        loss, state = train_step(model, state, inputs, targets, optimizer, 0.5)
        losses.append(loss)
        start += inputs.shape[1]
        if start > streams.shape[1] - 2:
            start, state = 0, None
    np.testing.assert_allclose(history.losses, losses, rtol=1e-6)
    assert history.learning_rates[0] == pytest.approx(rate / 3)
    assert history.characters_per_step == B * bptt
    assert history.training_seconds > 0


def test_training_learns_a_periodic_text_and_records_held_out_bits():
    ids = periodic_ids(length=2000)
    history = train_char_lm(
        make_model(), ids[:1600], batch_size=8, bptt=10, steps=150, learning_rate=0.02,
        device="cpu", validation_ids=ids[1600:], evaluate_every=50, progress=False,
    )  # fmt: skip
    assert history.evaluation_steps == [0, 50, 100, 150]
    assert history.evaluation_bpc[0] > 1.5  # near log2(5) = 2.32 before training
    assert history.evaluation_bpc[-1] < 0.2  # the pattern is fully predictable
    assert len(history.losses) == len(history.learning_rates) == 150
    assert np.mean(history.losses[-10:]) < 0.2 * np.mean(history.losses[:10])


def test_training_refuses_bad_arguments():
    ids = periodic_ids()
    with pytest.raises(ValueError, match="together"):
        train_char_lm(make_model(), ids, batch_size=2, bptt=4, steps=2, learning_rate=0.01,
                      device="cpu", validation_ids=ids)  # fmt: skip
    with pytest.raises(ValueError, match="steps"):
        train_char_lm(make_model(), ids, batch_size=2, bptt=4, steps=0, learning_rate=0.01,
                      device="cpu")  # fmt: skip
    with pytest.raises(ValueError, match="learning_rate"):
        train_char_lm(make_model(), ids, batch_size=2, bptt=4, steps=2, learning_rate=-1.0,
                      device="cpu")  # fmt: skip
