"""Tests of the training helpers of rnncore.torch.sentiment."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncore.data.sentiment import WordVocabulary, make_sentiment_data
from rnncore.torch.pooling import pad_batch
from rnncore.torch.sentence_classifier import SentenceClassifier
from rnncore.torch.sentiment import (
    classification_loss,
    encode_examples,
    init_embedding_from_lexicon,
    predict,
    sentence_batches,
)

# Sentence i is [i + 1] * (i % 3 + 1), and its label is i % 2: a row tells its own label.
IDS = [[i + 1] * (i % 3 + 1) for i in range(10)]
LABELS = torch.tensor([i % 2 for i in range(10)])


def test_encode_examples():
    data = make_sentiment_data(n_train=40, n_valid=20, n_test=20, n_long=2)
    vocabulary = WordVocabulary.from_examples(data.train)
    ids, labels = encode_examples(data.valid, vocabulary)
    assert vocabulary.decode(ids[0]) == list(data.valid[0].tokens)
    assert labels.tolist() == [e.label for e in data.valid]
    with pytest.raises(ValueError, match="at least one"):
        encode_examples([], vocabulary)


def test_batches_are_padded_rows_with_their_own_labels_and_seeded():
    stream = sentence_batches(IDS, LABELS, 6, 0, np.random.default_rng(0))
    for _ in range(3):
        (batch, lengths), labels = next(stream)
        assert batch.shape == (6, int(lengths.max())) and labels.shape == (6,)
        for row, n, label in zip(batch, lengths, labels, strict=True):
            index = int(row[0]) - 1
            assert row[:n].tolist() == IDS[index] and (row[n:] == 0).all()
            assert int(label) == index % 2
    again = sentence_batches(IDS, LABELS, 6, 0, np.random.default_rng(0))
    first = next(sentence_batches(IDS, LABELS, 6, 0, np.random.default_rng(0)))
    assert torch.equal(next(again)[0][0], first[0][0])
    with pytest.raises(ValueError, match="labels"):
        next(sentence_batches(IDS, LABELS[:3], 2, 0, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="Generator"):
        next(sentence_batches(IDS, LABELS, 2, 0, 0))


def test_loss_and_predict_match_the_model_run_sentence_by_sentence():
    torch.manual_seed(0)
    model = SentenceClassifier(12, 4, 5, 2, pooling="mean")
    batch, lengths = pad_batch(IDS, 0)
    expected = F.cross_entropy(model(batch, lengths), LABELS)
    torch.testing.assert_close(classification_loss(model, (batch, lengths), LABELS), expected)
    model.train()
    predictions = predict(model, IDS, 0, batch_size=3)
    assert model.training
    with torch.no_grad():
        alone = [int(model(*pad_batch([ids], 0)).argmax()) for ids in IDS]
    assert predictions.tolist() == alone


def test_embedding_starts_from_the_lexicon():
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(4, 3)
    before = embedding.weight.detach().clone()
    words = ["<pad>", "good", "the", "bad"]
    init_embedding_from_lexicon(embedding, words, {"good": 3.0, "bad": -2.0}, 2.0, 0.5)
    weight = embedding.weight.detach()
    assert weight[:, 0].tolist() == [0.0, 1.5, 0.0, -1.0]
    torch.testing.assert_close(weight[1:, 1:], 0.5 * before[1:, 1:])
    assert (weight[0] == 0).all() and embedding.weight.requires_grad
    with pytest.raises(ValueError, match="rows"):
        init_embedding_from_lexicon(embedding, words[:2], {})
