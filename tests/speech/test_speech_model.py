"""The CTC speech model: shapes, padding, and learning a toy transcription task with CTC."""

import numpy as np
import pytest
import torch

from rnncore.torch.decode import ctc_greedy_decode
from rnncore.torch.speech_model import (
    BLANK,
    CTCSpeechModel,
    ctc_batches,
    ctc_loss_fn,
    labels_to_symbols,
    pad_features,
    predict_log_probs,
    symbols_to_labels,
)
from rnncore.torch.train import seed_everything, train


def test_label_symbol_mapping_keeps_zero_for_the_blank():
    assert BLANK == 0
    assert labels_to_symbols([0, 9, 3]) == [1, 10, 4]
    assert symbols_to_labels([1, 10, 4]) == [0, 9, 3]
    with pytest.raises(ValueError, match="blank"):
        symbols_to_labels([0, 2])


@pytest.mark.parametrize("subsampling", [1, 2, 3])
def test_shapes_and_output_lengths(subsampling):
    model = CTCSpeechModel(8, 10, 6, channels=5, subsampling=subsampling)
    features = torch.randn(3, 11, 8)
    lengths = torch.tensor([11, 7, 1])
    log_probs, out_lengths = model(features, lengths)
    T_out = -(-11 // subsampling)
    assert log_probs.shape == (3, T_out, 11)
    assert out_lengths.tolist() == [-(-n // subsampling) for n in (11, 7, 1)]
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(3, T_out))


@pytest.mark.parametrize("fast", [True, False])
def test_padding_changes_nothing(fast):
    torch.manual_seed(0)
    model = CTCSpeechModel(4, 3, 5, channels=6, subsampling=2, fast=fast).eval()
    short = torch.randn(7, 4)
    long = torch.randn(12, 4)
    padded, lengths = pad_features([short.numpy(), long.numpy()])
    padded[0, 7:] = 100.0  # garbage in the padding must not leak in
    with torch.no_grad():
        batch, out_lengths = model(padded, lengths)
        alone, _ = model(short[None], torch.tensor([7]))
    n = int(out_lengths[0])
    torch.testing.assert_close(batch[0, :n], alone[0], atol=1e-5, rtol=1e-5)


def test_batches_pad_targets_and_cover_every_utterance():
    features = [np.full((n, 2), n, dtype=np.float32) for n in (3, 5, 4, 6)]
    labels = [[1], [2, 3], [4, 5, 6], [7]]
    batches = ctc_batches(features, labels, 2, np.random.default_rng(0))
    seen = []
    for _ in range(2):  # one epoch
        (x, lengths), (symbols, label_lengths) = next(batches)
        assert x.shape[0] == 2 and symbols.shape == (2, int(label_lengths.max()))
        for row in range(2):
            n = int(lengths[row])
            assert (x[row, :n] == n).all() and (x[row, n:] == 0).all()
            seen.append(n)
            k = int(label_lengths[row])
            assert symbols_to_labels(symbols[row, :k].tolist()) == labels[(3, 5, 4, 6).index(n)]
    assert sorted(seen) == [3, 4, 5, 6]


def toy_task(count, rng):
    """Label sequences of 1-3 symbols from 4, each shown as 3-5 noisy one-hot frames."""
    features, labels = [], []
    for _ in range(count):
        label = list(rng.integers(0, 4, size=rng.integers(1, 4)))
        frames = []
        for symbol in label:
            frames += [np.eye(5)[symbol + 1]] * int(rng.integers(3, 6))
            frames += [np.eye(5)[0]] * 2  # a gap, so that repeats are separable
        x = np.array(frames, dtype=np.float32) + 0.1 * rng.standard_normal((len(frames), 5))
        features.append(x.astype(np.float32))
        labels.append([int(s) for s in label])
    return features, labels


def test_ctc_training_learns_a_toy_transcription():
    seed_everything(0)
    rng = np.random.default_rng(0)
    features, labels = toy_task(200, rng)
    model = CTCSpeechModel(5, 4, 16, channels=16, subsampling=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = train(
        model,
        ctc_batches(features, labels, 20, rng),
        ctc_loss_fn,
        optimizer,
        steps=150,
        device="cpu",
        progress=False,
    )
    assert history[-1]["loss"] < 0.2 * history[0]["loss"]
    test_features, test_labels = toy_task(50, np.random.default_rng(1))
    decoded = [
        symbols_to_labels(ctc_greedy_decode(lp[None])[0])
        for lp in predict_log_probs(model, test_features)
    ]
    correct = sum(d == t for d, t in zip(decoded, test_labels, strict=True))
    assert correct >= 45
