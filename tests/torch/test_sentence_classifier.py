"""The packed sentence classifier: each sentence of a padded batch gets the logits it gets alone.

Alone means B = 1 and no padding, run through the same modules without packing: the reference
we did not write the same way. The padding holds real token ids (not the pad id), so a model
that read the padding would give other numbers, and the last two tests show that the
comparison catches the two classic mistakes.
"""

import re

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.torch.pooling import POOLINGS, pad_batch
from rnncore.torch.sentence_classifier import (
    SentenceClassifier,
    attention_weights,
    classify,
    encode,
)

F64 = torch.float64
V, C = 13, 3
SENTENCES = [[3, 4, 5, 6, 7], [8, 2], [9, 10, 11, 1], [12]]  # unsorted lengths 5, 2, 4, 1
TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}


def model_for(cell="gru", bidirectional=False, pooling="last", seed=0, num_layers=1):
    torch.manual_seed(seed)
    return SentenceClassifier(
        V,
        4,
        5,
        C,
        cell=cell,
        bidirectional=bidirectional,
        pooling=pooling,
        num_layers=num_layers,
        dtype=F64,
    )


def alone(model, sentence):
    """Logits (1, C) of one sentence run without padding and without packing."""
    ids = torch.tensor([sentence])  # (1, n)
    out, _ = model.recurrent(model.embedding(ids))  # (1, n, dirs * H)
    lengths = torch.tensor([len(sentence)])
    if model.pooling == "last":
        H = model.hidden_size
        if model.bidirectional:
            pooled = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)
        else:
            pooled = out[:, -1]
    elif model.pooling == "mean":
        pooled = out.mean(dim=1)
    elif model.pooling == "max":
        pooled = out.amax(dim=1)
    else:
        pooled, _ = model.attention(out, lengths)
    return model.output(pooled)


def noisy_padding(ids, lengths, seed=0):
    """The padded batch with random real token ids (not the pad id) in the padding."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randint(1, V, ids.shape, generator=generator)
    padding = torch.arange(ids.shape[1])[None, :] >= lengths[:, None]
    return torch.where(padding, noise, ids)


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_packed_batch_equals_each_sentence_alone(cell, bidirectional, pooling):
    model = model_for(cell, bidirectional, pooling)
    ids, lengths = pad_batch(SENTENCES, pad_id=0)
    ids = noisy_padding(ids, lengths)
    logits = classify(model, ids, lengths)
    assert logits.shape == (len(SENTENCES), C)
    for b, sentence in enumerate(SENTENCES):
        torch.testing.assert_close(logits[b : b + 1], alone(model, sentence), **TOLERANCE)
    torch.testing.assert_close(model(ids, lengths), logits, rtol=0, atol=0)


def test_two_layers_and_the_rnn_cell_also_equal_each_sentence_alone():
    model = model_for("rnn", bidirectional=True, pooling="mean", num_layers=2)
    ids, lengths = pad_batch(SENTENCES, pad_id=0)
    logits = classify(model, noisy_padding(ids, lengths), lengths)
    for b, sentence in enumerate(SENTENCES):
        torch.testing.assert_close(logits[b : b + 1], alone(model, sentence), **TOLERANCE)


def test_last_pooling_equals_the_packed_layers_h_n():
    model = model_for("lstm", bidirectional=True)
    ids, lengths = pad_batch(SENTENCES, pad_id=0)
    embedded = model.embedding(ids)
    packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    _, (h_n, _) = model.recurrent(packed)
    expected = model.output(torch.cat([h_n[-2], h_n[-1]], dim=1))
    torch.testing.assert_close(classify(model, ids, lengths), expected, **TOLERANCE)


def test_encode_is_zero_on_the_padding_and_gradients_skip_it():
    model = model_for("gru", bidirectional=True, pooling="attention")
    ids, lengths = pad_batch(SENTENCES, pad_id=0)
    out = encode(model, ids, lengths)
    assert out.shape == (4, 5, 10)
    padding = torch.arange(5)[None, :] >= lengths[:, None]
    assert torch.all(out[padding] == 0)
    classify(model, ids, lengths).sum().backward()
    assert torch.all(model.embedding.weight.grad[0] == 0)  # padding_idx is never trained
    weights = attention_weights(model, ids, lengths)
    assert torch.all(weights[padding] == 0)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(4, dtype=F64), **TOLERANCE)


def test_the_comparison_catches_reading_the_padding():
    """Unpacked, with h[:, -1]: every shorter sentence's logits differ from its own."""
    model = model_for("gru")
    ids, lengths = pad_batch(SENTENCES, pad_id=0)
    ids = noisy_padding(ids, lengths)
    out, _ = model.recurrent(model.embedding(ids))
    wrong = model.output(out[:, -1])
    for b, sentence in enumerate(SENTENCES):
        same = torch.allclose(wrong[b : b + 1], alone(model, sentence))
        assert same == (len(sentence) == ids.shape[1])


def test_the_comparison_catches_sorting_without_restoring_the_order():
    model = model_for("gru")
    ids, lengths = pad_batch(SENTENCES, pad_id=0)
    order = torch.argsort(lengths, descending=True)
    packed = pack_padded_sequence(
        model.embedding(ids[order]), lengths[order], batch_first=True, enforce_sorted=True
    )
    packed_out, _ = model.recurrent(packed)
    out, _ = pad_packed_sequence(packed_out, batch_first=True)
    wrong = model.output(out[torch.arange(4), lengths[order] - 1])  # still in sorted order
    right = classify(model, ids, lengths)
    assert not torch.allclose(wrong, right)
    torch.testing.assert_close(wrong, right[order], **TOLERANCE)


ERRORS = {
    "cell": (lambda: SentenceClassifier(V, 4, 5, C, cell="tcn"), "cell must be one of"),
    "pooling": (lambda: SentenceClassifier(V, 4, 5, C, pooling="sum"), "pooling must be one of"),
    "pad id": (lambda: SentenceClassifier(V, 4, 5, C, pad_id=V), "pad_id must be in 0..V-1"),
    "float ids": (
        lambda: classify(model_for(), torch.zeros(2, 3), torch.tensor([1, 2])),
        "ids must be an integer torch tensor",
    ),
    "id range": (
        lambda: classify(model_for(), torch.full((2, 3), V), torch.tensor([1, 2])),
        f"ids must hold token ids in 0..V-1 = 0..{V - 1}",
    ),
    "lengths": (
        lambda: classify(model_for(), torch.ones(2, 3, dtype=torch.long), torch.tensor([4, 2])),
        "lengths must be in 1..T = 1..3, got [4, 2]",
    ),
    "no attention": (
        lambda: attention_weights(
            model_for(), torch.ones(1, 2, dtype=torch.long), torch.tensor([2])
        ),
        "attention weights need 'attention'",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_input_raises_value_error_naming_it(case):
    call, message = ERRORS[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
