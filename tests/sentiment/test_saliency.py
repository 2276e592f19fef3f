"""Tests of gradient x input saliency over word vectors."""

import pytest
import torch
from torch import nn

from rnncore.torch.pooling import pad_batch
from rnncore.torch.saliency import gradient_times_input
from rnncore.torch.sentence_classifier import SentenceClassifier

F64 = torch.float64


class MeanLinear(nn.Module):
    """logits = mean of the real steps' vectors @ W: saliency is e_t . W[:, c] / n."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(7, 3, padding_idx=0, dtype=F64)
        self.output = nn.Linear(3, 2, bias=True, dtype=F64)

    def forward(self, ids, lengths):
        vectors = self.embedding(ids)  # (B, T, D)
        mask = (torch.arange(ids.shape[1])[None] < lengths[:, None]).to(F64)  # (B, T)
        mean = (vectors * mask[:, :, None]).sum(1) / lengths[:, None]  # (B, D)
        return self.output(mean)  # (B, C)


def test_matches_the_closed_form_of_a_linear_model():
    model = MeanLinear()
    ids, lengths = pad_batch([[1, 2, 3], [4, 5], [6]], 0)
    target = torch.tensor([0, 1, 1])
    saliency = gradient_times_input(model, ids, lengths, target)
    vectors = model.embedding(ids).detach()  # (B, T, D)
    weight = model.output.weight.detach()  # (C, D)
    expected = (vectors @ weight.T)[torch.arange(3), :, target] / lengths[:, None]  # (B, T)
    expected = expected * (torch.arange(3)[None] < lengths[:, None])
    torch.testing.assert_close(saliency, expected)


def test_padding_gets_zero_and_a_sentence_is_explained_as_if_alone():
    torch.manual_seed(1)
    model = SentenceClassifier(9, 4, 5, 2, cell="gru", pooling="max", dtype=F64)
    ids, lengths = pad_batch([[1, 2, 3, 4], [5, 6]], 0)
    target = torch.tensor([1, 0])
    saliency = gradient_times_input(model, ids, lengths, target)
    assert torch.equal(saliency[1, 2:], torch.zeros(2, dtype=F64))
    alone = gradient_times_input(model, ids[1:, :2], lengths[1:], target[1:])
    torch.testing.assert_close(saliency[1, :2], alone[0])
    assert saliency[0].abs().min() > 0


def test_leaves_parameters_and_mode_alone():
    model = MeanLinear()
    model.train()
    ids, lengths = pad_batch([[1, 2]], 0)
    gradient_times_input(model, ids, lengths, torch.tensor([1]))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert not model.embedding._forward_hooks


def test_refuses_models_without_embedding_and_bad_targets():
    ids, lengths = pad_batch([[1, 2]], 0)
    with pytest.raises(ValueError, match="embedding"):
        gradient_times_input(nn.Linear(2, 2), ids, lengths, torch.tensor([0]))
    with pytest.raises(ValueError, match="target"):
        gradient_times_input(MeanLinear(), ids, lengths, torch.tensor([0, 1]))
