r"""A CTC speech recogniser: convolutional front end, bidirectional recurrent layer, CTC head.

The model maps a log-mel spectrogram (B, T, D) to log-probabilities over V + 1 symbols at
every output frame: the V labels (here the digits) and the CTC blank, symbol 0.

.. math::

    u &= \mathrm{ReLU}(\mathrm{Conv1d}_{\text{stride } s}(x)) && (B, T', C) \\
    h &= \mathrm{BiRNN}(u) && (B, T', 2H) \\
    \log y_t &= \mathrm{log\_softmax}(h_t W_{out} + b_{out}) && (B, T', V + 1)

The convolution (kernel 5, stride ``subsampling``) looks at neighbouring frames and keeps one
in ``subsampling``: T' = ceil(T / s). Fewer frames make the recurrent layer faster and CTC
needs only T' >= (labels + repeated neighbours). The recurrent layer reads each utterance
packed to its true length (torch.nn's layer, ``pack_padded_sequence``) or, with
``fast=False``, rnncore's readable layer with ``lengths``; padding never reaches the backward
direction.

Training uses ``torch.nn.CTCLoss`` through :func:`rnncore.torch.train.train`, with
:func:`ctc_loss_fn` and batches from :func:`ctc_batches`.

Letters: B batch, T input frames, D features, C channels, H hidden units, T' output frames,
V labels (V + 1 symbols with the blank), S the longest label sequence in a batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.shapes import check_shape
from rnncore.torch.models import make_recurrent_layer
from rnncore.torch.padding import check_lengths

__all__ = [
    "BLANK",
    "CTCSpeechModel",
    "labels_to_symbols",
    "symbols_to_labels",
    "pad_features",
    "ctc_batches",
    "ctc_loss_fn",
    "predict_log_probs",
]

BLANK = 0  # symbol 0 is the blank; label k is symbol k + 1


def labels_to_symbols(labels: Sequence[int]) -> list[int]:
    """Labels 0..V-1 (e.g. digits) to CTC symbols 1..V (0 is the blank)."""
    return [int(label) + 1 for label in labels]


def symbols_to_labels(symbols: Sequence[int]) -> list[int]:
    """CTC symbols 1..V back to labels 0..V-1; a blank here is an error."""
    if any(int(symbol) == BLANK for symbol in symbols):
        raise ValueError("symbols must not contain the blank: decode (collapse) first")
    return [int(symbol) - 1 for symbol in symbols]


class CTCSpeechModel(nn.Module):
    """Conv1d front end with frame subsampling, bidirectional RNN, linear map to V + 1 symbols.

    Parameters
    ----------
    n_features : int
        D, features per input frame (mel bands).
    num_labels : int
        V, labels without the blank; the output has V + 1 symbols.
    hidden_size : int
        H, per direction.
    channels : int
        C, outputs of the convolution.
    subsampling : int
        s, the convolution's stride.
    cell : {"rnn", "lstm", "gru"}
    num_layers : int
    fast : bool
        torch.nn's fused layer (packed) instead of rnncore's readable one.
    """

    def __init__(
        self,
        n_features: int,
        num_labels: int,
        hidden_size: int,
        channels: int = 64,
        subsampling: int = 2,
        cell: str = "gru",
        num_layers: int = 1,
        fast: bool = True,
    ) -> None:
        super().__init__()
        if subsampling < 1:
            raise ValueError(f"subsampling must be >= 1, got {subsampling}")
        self.n_features = n_features
        self.num_symbols = num_labels + 1
        self.subsampling = subsampling
        self.fast = fast
        self.convolution = nn.Conv1d(n_features, channels, 5, stride=subsampling, padding=2)
        self.recurrent = make_recurrent_layer(
            cell, channels, hidden_size, num_layers, bidirectional=True, fast=fast
        )
        self.output = nn.Linear(2 * hidden_size, self.num_symbols)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """T' of each utterance: ceil(T / s), what the stride-s convolution (padding 2) gives."""
        return (lengths + self.subsampling - 1) // self.subsampling

    def forward(self, features: torch.Tensor, lengths: torch.Tensor):
        """Log-probabilities of the V + 1 symbols at every output frame.

        Parameters
        ----------
        features : Tensor of shape (B, T, D)
            Right-padded.
        lengths : LongTensor of shape (B,)
            True frames of each utterance, 1..T.

        Returns
        -------
        log_probs : Tensor of shape (B, T', V + 1)
            Rows past ``output_lengths`` are padding.
        output_lengths : LongTensor of shape (B,)
        """
        dims = check_shape("features", features, "B, T, D", {"D": self.n_features})
        check_lengths(lengths, dims["B"], dims["T"])
        # Zero the padding: the convolution would otherwise mix it into the last real frames.
        steps = torch.arange(dims["T"], device=features.device)
        mask = steps[None, :] < lengths.to(features.device)[:, None]  # (B, T)
        features = features * mask[:, :, None]  # (B, T, D)
        u = torch.relu(self.convolution(features.transpose(1, 2))).transpose(1, 2)  # (B, T', C)
        out_lengths = self.output_lengths(lengths.cpu())  # (B,)
        if self.fast:
            packed = pack_padded_sequence(u, out_lengths, batch_first=True, enforce_sorted=False)
            hidden, _ = self.recurrent(packed)
            hidden, _ = pad_packed_sequence(
                hidden, batch_first=True, total_length=u.shape[1]
            )  # (B, T', 2H)
        else:
            hidden, _ = self.recurrent(u, lengths=out_lengths.to(u.device))  # (B, T', 2H)
        return torch.log_softmax(self.output(hidden), dim=-1), out_lengths  # (B, T', V + 1)


def pad_features(features: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad a list of (T_i, D) arrays into one tensor.

    Returns
    -------
    padded : Tensor of shape (B, max T_i, D), float32
    lengths : LongTensor of shape (B,)
    """
    if not features:
        raise ValueError("features must hold at least one utterance")
    lengths = torch.tensor([len(f) for f in features])
    padded = torch.zeros(len(features), int(lengths.max()), features[0].shape[1])
    for row, f in enumerate(features):
        padded[row, : len(f)] = torch.as_tensor(f)
    return padded, lengths


def _batch(features, labels, rows):
    inputs = pad_features([features[i] for i in rows])
    label_lengths = torch.tensor([len(labels[i]) for i in rows])
    targets = torch.zeros(len(rows), int(label_lengths.max()), dtype=torch.long)  # (B, S)
    for row, i in enumerate(rows):
        targets[row, : len(labels[i])] = torch.tensor(labels_to_symbols(labels[i]))
    return inputs, (targets, label_lengths)


def ctc_batches(
    features: Sequence[np.ndarray],
    labels: Sequence[Sequence[int]],
    batch_size: int,
    rng: np.random.Generator,
) -> Iterator:
    """Endless shuffled batches for :func:`rnncore.torch.train.train` and :func:`ctc_loss_fn`.

    Each epoch shuffles the utterances; the last partial batch of an epoch is dropped.

    Parameters
    ----------
    features : sequence of ndarray of shape (T_i, D)
    labels : sequence of label sequences (0..V-1)
    batch_size : int
    rng : numpy.random.Generator

    Yields
    ------
    inputs : (features (B, T, D), lengths (B,))
    targets : (symbols LongTensor (B, S), label_lengths (B,))
        Symbols are labels + 1, right-padded with 0.
    """
    if len(features) != len(labels):
        raise ValueError(f"{len(features)} feature arrays but {len(labels)} label sequences")
    if not 1 <= batch_size <= len(features):
        raise ValueError(f"batch_size must be in 1..{len(features)}, got {batch_size}")
    while True:
        order = rng.permutation(len(features))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield _batch(features, labels, order[start : start + batch_size])


_ctc_loss = nn.CTCLoss(blank=BLANK, reduction="mean", zero_infinity=True)


def ctc_loss_fn(model: CTCSpeechModel, inputs, targets) -> torch.Tensor:
    """``torch.nn.CTCLoss`` (mean over the batch of each utterance's loss / its label count).

    ``zero_infinity=True``: an utterance too short for its labels (T' < needed frames) gives
    zero loss and gradient instead of an infinite loss.
    """
    features, lengths = inputs
    symbols, label_lengths = targets
    log_probs, out_lengths = model(features, lengths)  # (B, T', V + 1)
    return _ctc_loss(log_probs.transpose(0, 1), symbols, out_lengths, label_lengths)


def predict_log_probs(
    model: CTCSpeechModel, features: Sequence[np.ndarray], batch_size: int = 64
) -> list[torch.Tensor]:
    """Each utterance's log-probabilities, (T'_i, V + 1) on the CPU, in eval mode.

    The model's mode is restored afterwards.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    result = []
    try:
        with torch.no_grad():
            for start in range(0, len(features), batch_size):
                padded, lengths = pad_features(features[start : start + batch_size])
                log_probs, out_lengths = model(padded.to(device), lengths.to(device))
                for row, length in zip(log_probs.cpu(), out_lengths.tolist(), strict=True):
                    result.append(row[:length])
    finally:
        model.train(was_training)
    return result
