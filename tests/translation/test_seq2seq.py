"""The encoder-decoder: shapes, padding, teacher forcing, decoding paths that must agree."""

import pytest
import torch

from rnncore.torch.decode import beam_search, greedy_decode
from rnncore.torch.seq2seq import (
    Seq2Seq,
    attention_weights,
    greedy_translate,
    pad_sequences,
    seq2seq_batches,
    seq2seq_loss_fn,
    seq2seq_step_fn,
)
from rnncore.torch.train import seed_everything, train

BOS, EOS = 1, 2


def make_model(attention, seed=0):
    torch.manual_seed(seed)
    return Seq2Seq(9, 7, embedding_size=5, hidden_size=6, attention=attention).eval()


SOURCES = [[3, 4, 5], [6], [7, 8, 3, 4, 5]]


@pytest.mark.parametrize("attention", ["none", "additive", "multiplicative"])
def test_forward_shapes_and_weights(attention):
    model = make_model(attention)
    source, lengths = pad_sequences(SOURCES)
    logits, weights = model(source, lengths, torch.ones(3, 4, dtype=torch.int64), True)
    assert logits.shape == (3, 4, 7)
    if attention == "none":
        assert weights is None
    else:
        assert weights.shape == (3, 4, 5)
        torch.testing.assert_close(weights.sum(dim=2), torch.ones(3, 4))
        assert torch.all(weights[1, :, 1:] == 0)  # padding of the one-word sentence


@pytest.mark.parametrize("attention", ["none", "additive", "multiplicative"])
def test_a_padded_batch_equals_each_sentence_alone(attention):
    model = make_model(attention)
    source, lengths = pad_sequences(SOURCES)
    decoder_inputs = torch.tensor([[1, 3, 4], [1, 5, 6], [1, 6, 3]])
    batched = model(source, lengths, decoder_inputs)
    for row, sentence in enumerate(SOURCES):
        alone = model(
            torch.tensor([sentence]), torch.tensor([len(sentence)]), decoder_inputs[row : row + 1]
        )
        torch.testing.assert_close(batched[row], alone[0], rtol=1e-5, atol=1e-6)


def test_without_attention_the_output_depends_on_the_source_only_through_the_summary():
    """Two sources with the same summary give the same logits: the fixed-size bottleneck."""
    model = make_model("none")
    source, lengths = pad_sequences(SOURCES[:1])
    encoded = model.encode(source, lengths)
    states_changed = encoded._replace(states=torch.randn_like(encoded.states))
    token, state = torch.tensor([BOS]), model.initial_state(encoded)
    a = model.step(token, state, encoded)[0]
    b = model.step(token, state, states_changed)[0]
    torch.testing.assert_close(a, b)
    attending = make_model("additive")
    encoded = attending.encode(source, lengths)
    changed = attending.encode(source, lengths)._replace(states=torch.randn_like(encoded.states))
    changed = changed._replace(projected=attending.attention.project_keys(changed.states))
    state = attending.initial_state(encoded)
    assert not torch.allclose(
        attending.step(token, state, encoded)[0], attending.step(token, state, changed)[0]
    )


@pytest.mark.parametrize("attention", ["none", "additive", "multiplicative"])
def test_batched_greedy_equals_generic_greedy_decode(attention):
    model = make_model(attention, seed=1)
    batched = greedy_translate(model, SOURCES, BOS, EOS, max_length=6)
    for sentence, output in zip(SOURCES, batched, strict=True):
        step_fn, state = seq2seq_step_fn(model, sentence)
        tokens, _ = greedy_decode(step_fn, state, BOS, EOS, 6)
        assert output == tokens
        assert beam_search(step_fn, state, BOS, EOS, 1, 6)[0] == tokens


def test_the_loss_is_teacher_forced_cross_entropy_over_real_tokens():
    model = make_model("additive")
    sources, targets = [[3, 4], [5]], [[3, 4, EOS], [5, EOS]]
    inputs, target = next(seq2seq_batches(sources, targets, 2, BOS, seed=0))
    source, lengths, decoder_inputs = inputs
    assert torch.equal(decoder_inputs[:, 0], torch.full((2,), BOS))
    assert torch.equal(decoder_inputs[:, 1:], target[:, :-1])
    loss = seq2seq_loss_fn(model, inputs, target)
    logits = model(source, lengths, decoder_inputs)
    real = target != 0
    expected = -torch.log_softmax(logits, dim=-1).gather(2, target[..., None])[..., 0][real].mean()
    torch.testing.assert_close(loss, expected)


def test_attention_weights_need_eval_mode_and_attention():
    model = make_model("additive")
    weights = attention_weights(model, [3, 4, 5], [BOS, 3])
    assert weights.shape == (2, 3)
    with pytest.raises(ValueError, match="no attention"):
        attention_weights(make_model("none"), [3], [BOS])
    with pytest.raises(ValueError, match="eval mode"):
        attention_weights(make_model("additive").train(), [3], [BOS])
    with pytest.raises(ValueError, match="attention must be one of"):
        Seq2Seq(5, 5, attention="local")


def test_an_attention_model_learns_to_reverse_short_sequences():
    """Reversal needs the crossing alignment; a few hundred steps learn it with attention."""
    seed_everything(0)
    generator = torch.Generator().manual_seed(0)
    sources = [
        torch.randint(3, 9, (int(n),), generator=generator).tolist()
        for n in torch.randint(2, 6, (800,), generator=generator)
    ]
    targets = [source[::-1] + [EOS] for source in sources]
    model = Seq2Seq(9, 9, embedding_size=16, hidden_size=32, attention="additive")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(
        model,
        seq2seq_batches(sources, targets, 32, BOS),
        seq2seq_loss_fn,
        optimizer,
        steps=300,
        device="cpu",
        progress=False,
    )
    model.eval()
    outputs = greedy_translate(model, sources[:200], BOS, EOS, 8)
    accuracy = sum(o == t for o, t in zip(outputs, targets[:200], strict=True)) / 200
    assert accuracy > 0.9
