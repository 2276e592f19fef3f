"""Seeding, device choice and the training loop (history, clipping, progress bar)."""

import itertools
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncore.torch.models import CharLanguageModel, SequenceRegressor
from rnncore.torch.train import (
    choose_device,
    gradient_norm,
    move_to_device,
    seed_everything,
    train,
)


def test_seed_everything_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.random(), torch.rand(1).item()  # noqa: NPY002

    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first
    seed_everything(4)
    assert draw() != first


def test_choose_device():
    assert choose_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device().type == expected


def test_move_to_device_walks_tuples_and_dicts():
    moved = move_to_device((torch.zeros(2), [torch.ones(1), 3], {"a": torch.zeros(1)}), "cpu")
    assert isinstance(moved, tuple) and isinstance(moved[1], list) and moved[1][1] == 3
    assert moved[2]["a"].device.type == "cpu"


def test_gradient_norm_is_the_global_l2_norm():
    a = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    (3 * a[0] + 4 * b[0]).backward()
    assert gradient_norm([a, b]) == pytest.approx(5.0)
    assert gradient_norm([torch.zeros(1, requires_grad=True)]) == 0.0


def next_token_batches(seed=0, batch_size=8, length=12, V=5):
    """Endless batches of the cycle 0, 1, 2, 3, 4, 0, ... from random starting points."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        starts = torch.randint(0, V, (batch_size, 1), generator=generator)
        sequence = (starts + torch.arange(length + 1)) % V  # (B, T + 1)
        yield sequence[:, :-1], sequence[:, 1:]


def language_model_loss(model, inputs, targets):
    logits, _ = model(inputs)  # (B, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def test_training_a_tiny_language_model_lowers_its_loss():
    seed_everything(0)
    model = CharLanguageModel(5, 8, 16, cell="lstm")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    history = train(
        model,
        next_token_batches(),
        language_model_loss,
        optimizer,
        steps=50,
        device="cpu",
        clip_norm=5.0,
        progress=False,
    )
    assert [entry["step"] for entry in history] == list(range(1, 51))
    assert set(history[0]) == {"step", "loss", "grad_norm"}
    initial = history[0]["loss"]
    final = np.mean([entry["loss"] for entry in history[-5:]])
    assert initial == pytest.approx(np.log(5), abs=0.3)  # chance level at the start
    assert final < 0.5 * initial
    assert all(np.isfinite(entry["grad_norm"]) and entry["grad_norm"] > 0 for entry in history)


def test_training_is_reproducible_with_a_seed():
    def losses():
        seed_everything(1)
        model = SequenceRegressor(2, 4, 1, cell="gru")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        batches = itertools.cycle([(torch.randn(4, 5, 2), torch.randn(4, 5, 1))])
        history = train(
            model,
            batches,
            lambda m, x, y: F.mse_loss(m(x)[0], y),
            optimizer,
            steps=5,
            device="cpu",
            progress=False,
        )
        return [entry["loss"] for entry in history]

    assert losses() == losses()


def one_sgd_step(clip_norm):
    """The parameter change of one SGD step with lr = 1: minus the (clipped) gradient."""
    seed_everything(0)
    model = SequenceRegressor(2, 4, 1, cell="rnn")
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    batch = (torch.randn(4, 5, 2), 10 * torch.ones(4, 5, 1))
    history = train(
        model,
        [batch],
        lambda m, x, y: F.mse_loss(m(x)[0], y),
        optimizer,
        steps=1,
        device=torch.device("cpu"),
        clip_norm=clip_norm,
        progress=False,
    )
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    return float((after - before).norm()), history[0]["grad_norm"]


def test_gradient_clipping_limits_the_step_and_history_keeps_the_raw_norm():
    step, grad_norm = one_sgd_step(clip_norm=None)
    assert step == pytest.approx(grad_norm, rel=1e-5)
    assert grad_norm > 1.0
    clipped_step, clipped_grad_norm = one_sgd_step(clip_norm=0.5)
    assert clipped_grad_norm == pytest.approx(grad_norm, rel=1e-6)  # measured before clipping
    assert clipped_step == pytest.approx(0.5, rel=1e-4)


def test_progress_bar_is_shown_only_when_asked(capsys):
    def run(progress):
        model = SequenceRegressor(2, 3, 1)
        batches = itertools.cycle([(torch.randn(2, 3, 2), torch.randn(2, 3, 1))])
        train(
            model,
            batches,
            lambda m, x, y: F.mse_loss(m(x)[0], y),
            torch.optim.SGD(model.parameters(), lr=0.1),
            steps=3,
            device="cpu",
            progress=progress,
            log_every=1,
        )
        return capsys.readouterr().err

    assert "training" in run(True)
    assert run(False) == ""


def test_train_moves_the_model_to_the_device_and_sets_training_mode():
    model = SequenceRegressor(2, 3, 1).eval()
    train(
        model,
        itertools.cycle([(torch.randn(2, 3, 2), torch.randn(2, 3, 1))]),
        lambda m, x, y: F.mse_loss(m(x)[0], y),
        torch.optim.SGD(model.parameters(), lr=0.1),
        steps=1,
        device="cpu",
        progress=False,
    )
    assert model.training
    assert next(model.parameters()).device.type == "cpu"
