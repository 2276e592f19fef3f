"""The application models: shapes, state carrying, padding, and fast=True == fast=False."""

import pytest
import torch

from rnncore.torch import interop, layers
from rnncore.torch.models import (
    CharLanguageModel,
    SequenceClassifier,
    SequenceRegressor,
    make_recurrent_layer,
)

B, T, V = 3, 7, 11


def tokens(seed=0, shape=(B, T)):
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


def features(D=4, seed=0):
    return torch.randn(B, T, D, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("fast", [False, True])
def test_make_recurrent_layer_builds_ours_or_torch_nn(cell, fast):
    layer = make_recurrent_layer(cell, 4, 5, num_layers=2, fast=fast)
    ours = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    theirs = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    assert isinstance(layer, theirs if fast else ours)
    if fast:
        assert layer.batch_first
    output, _ = layer(features())
    assert output.shape == (B, T, 5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("fast", [False, True])
def test_char_language_model_shapes_and_state(cell, fast):
    torch.manual_seed(0)
    model = CharLanguageModel(V, 6, 8, cell=cell, num_layers=2, fast=fast)
    logits, state = model(tokens())
    assert logits.shape == (B, T, V)
    h_n = state[0] if cell == "lstm" else state
    assert h_n.shape == (2, B, 8)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_char_language_model_carries_state_across_chunks(cell):
    torch.manual_seed(0)
    model = CharLanguageModel(V, 6, 8, cell=cell)
    sequence = tokens()
    whole, _ = model(sequence)
    first, state = model(sequence[:, :3])
    second, _ = model(sequence[:, 3:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)
    restarted, _ = model(sequence[:, 3:])
    assert not torch.allclose(restarted, second)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fast_and_readable_language_models_compute_the_same_function(cell):
    torch.manual_seed(0)
    readable = CharLanguageModel(V, 6, 8, cell=cell, num_layers=2, dtype=torch.float64)
    fast = CharLanguageModel(V, 6, 8, cell=cell, num_layers=2, fast=True, dtype=torch.float64)
    fast.embedding.load_state_dict(readable.embedding.state_dict())
    fast.output.load_state_dict(readable.output.state_dict())
    interop.params_to_torch(
        [[dict(weights) for weights in directions] for directions in readable.recurrent.weights],
        fast.recurrent,
    )
    sequence = tokens()
    torch.testing.assert_close(fast(sequence)[0], readable(sequence)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_classifier_shapes(cell, bidirectional):
    model = SequenceClassifier(4, 5, 3, cell=cell, bidirectional=bidirectional)
    assert model(features()).shape == (B, 3)
    embedded = SequenceClassifier(6, 5, 3, cell=cell, vocab_size=V, bidirectional=bidirectional)
    assert embedded(tokens()).shape == (B, 3)


@pytest.mark.parametrize("fast", [False, True])
def test_sequence_classifier_lengths_ignore_padding(fast):
    torch.manual_seed(0)
    model = SequenceClassifier(6, 5, 3, vocab_size=V, fast=fast)
    padded = tokens()
    lengths = torch.tensor([7, 4, 1])
    logits = model(padded, lengths)
    other_padding = padded.clone()
    other_padding[1, 4:] = 0
    other_padding[2, 1:] = 5
    torch.testing.assert_close(model(other_padding, lengths), logits)
    # Each row equals the row run alone without padding.
    for row, length in enumerate(lengths.tolist()):
        alone = model(padded[row : row + 1, :length])
        torch.testing.assert_close(alone[0], logits[row])
    # Without lengths, the padding does reach the last state.
    assert not torch.allclose(model(other_padding), model(padded))


def test_bidirectional_classifier_reads_both_ends():
    torch.manual_seed(0)
    model = SequenceClassifier(4, 5, 3, bidirectional=True)
    x = features()
    hidden, _ = model.recurrent(x)
    expected = model.output(torch.cat([hidden[:, -1, :5], hidden[:, 0, 5:]], dim=1))
    torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_regressor_many_to_many_and_last(cell):
    torch.manual_seed(0)
    many = SequenceRegressor(4, 5, 2, cell=cell)
    prediction, state = many(features())
    assert prediction.shape == (B, T, 2)
    last = SequenceRegressor(4, 5, 2, cell=cell, many_to_many=False)
    last.load_state_dict(many.state_dict())
    final, _ = last(features())
    assert final.shape == (B, 2)
    torch.testing.assert_close(final, prediction[:, -1])
