"""Tempered likelihood, loss when fed own samples (exposure bias), hidden states."""

import math

import numpy as np
import pytest
import torch

from rnncore.torch.char_lm import batchify, bits_per_character
from rnncore.torch.lm_analysis import (
    hidden_states,
    own_sample_bits_per_character,
    tempered_bits_per_character,
)
from rnncore.torch.models import CharLanguageModel

V = 5


@pytest.fixture
def model():
    torch.manual_seed(0)
    return CharLanguageModel(V, 4, 8, cell="lstm", fast=True)


def random_ids(length=300, seed=0):
    return np.random.default_rng(seed).integers(0, V, size=length)


class NextTokenModel(torch.nn.Module):
    """Scores ``sharpness`` for token (x + 1) mod V after reading x, 0 for the others."""

    def __init__(self, sharpness=10.0, ignore_input=False):
        super().__init__()
        self.sharpness = torch.nn.Parameter(torch.tensor(sharpness), requires_grad=False)
        self.ignore_input = ignore_input

    def forward(self, tokens, state=None):
        following = torch.zeros_like(tokens) if self.ignore_input else (tokens + 1) % V
        return self.sharpness * torch.nn.functional.one_hot(following, V).float(), state


def test_tempered_bits_at_temperature_one_are_the_held_out_bits(model):
    ids = random_ids()
    plain = bits_per_character(model, ids, bptt=50)
    tempered = tempered_bits_per_character(model, ids, [1.0, 0.5, 2.0], bptt=37)
    assert tempered[0] == pytest.approx(plain, rel=1e-5)
    assert tempered[1] != pytest.approx(plain, rel=1e-3)


def test_tempered_bits_of_a_known_model():
    ids = np.array([0, 1, 2, 0, 0])  # three predictions right (1, 2 after 0, 1), one wrong
    bits = tempered_bits_per_character(NextTokenModel(2.0), ids, [1.0, 2.0])
    for tau, value in zip((1.0, 2.0), bits, strict=True):
        s = 2.0 / tau
        right = -math.log(math.exp(s) / (math.exp(s) + V - 1))
        wrong = -math.log(1 / (math.exp(s) + V - 1))
        assert value == pytest.approx((2 * right + 2 * wrong) / (4 * math.log(2)))
    with pytest.raises(ValueError, match="temperatures"):
        tempered_bits_per_character(NextTokenModel(), ids, [0.0])


def test_own_samples_at_zero_is_teacher_forcing(model):
    ids = random_ids(length=400)
    B, T = 4, 30
    streams = batchify(ids, B)[:, : T + 1]
    with torch.no_grad():
        logits, _ = model(streams[:, :-1])  # (B, T, V)
        expected = torch.nn.functional.cross_entropy(
            logits.reshape(-1, V), streams[:, 1:].reshape(-1)
        ) / math.log(2)
    bits = own_sample_bits_per_character(model, ids, 0.0, B, T)
    assert bits == pytest.approx(float(expected), rel=1e-5)


def test_own_samples_are_fed_back():
    """Always reading its own (deterministic) prediction, the model walks 0, 1, 2, ...; it is
    scored on a text of zeros, which it predicts well only after reading V - 1."""
    ids = np.zeros(2 * 21, dtype=np.int64)
    model = NextTokenModel(10.0)
    right = -math.log(math.exp(10) / (math.exp(10) + V - 1))
    wrong = -math.log(1 / (math.exp(10) + V - 1))
    teacher = own_sample_bits_per_character(model, ids, 0.0, 2, 20)
    assert teacher == pytest.approx(wrong / math.log(2))
    own = own_sample_bits_per_character(
        model, ids, 1.0, 2, 20, torch.Generator().manual_seed(0), temperature=1e-6
    )
    inputs = [t % V for t in range(20)]  # 0, 1, 2, 3, 4, 0, ...
    expected = np.mean([right if x == V - 1 else wrong for x in inputs]) / math.log(2)
    assert own == pytest.approx(expected)


def test_a_model_that_ignores_its_input_has_no_exposure_bias():
    ids = random_ids(length=400)
    model = NextTokenModel(3.0, ignore_input=True)
    generator = torch.Generator().manual_seed(1)
    values = [own_sample_bits_per_character(model, ids, q, 4, 50, generator) for q in (0, 0.5, 1)]
    assert values == pytest.approx([values[0]] * 3)


def test_own_sample_arguments_are_checked(model):
    with pytest.raises(ValueError, match="own_fraction"):
        own_sample_bits_per_character(model, random_ids(), 1.5, 2, 10)
    with pytest.raises(ValueError, match="at least"):
        own_sample_bits_per_character(model, random_ids(length=20), 0.5, 2, 10)


def test_hidden_states_do_not_depend_on_the_chunk_length(model):
    ids = random_ids(length=120)
    whole = hidden_states(model, ids, bptt=1000)
    chunked = hidden_states(model, ids, bptt=7)
    assert whole.shape == (120, 8)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    with torch.no_grad():
        output, _ = model.recurrent(model.embedding(torch.as_tensor(ids)[None]))
    np.testing.assert_allclose(whole, output[0].numpy(), atol=1e-6)
