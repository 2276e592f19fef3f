r"""A sentence classifier on packed sequences: embedding, recurrent layer, pooling, linear map.

.. math::

    e_{bt} = E[\text{ids}_{bt}], \quad
    h_{b,0..n_b-1} = \text{GRU or LSTM}(e_{b,0..n_b-1}), \quad
    v_b = \text{pool}(h_b, n_b), \quad
    \text{logits}_b = v_b W_{out} + b_{out}

The batch is right-padded (:func:`rnncore.torch.pooling.pad_batch`), and the recurrent layer
reads it packed (``pack_padded_sequence(..., enforce_sorted=False)``): each sentence is run
over its own ``n_b`` tokens only, so every result equals running that sentence alone, without
padding (the tests check it). ``enforce_sorted=False`` lets PyTorch sort the batch by length
and put the results back in the caller's order; sorting by hand and forgetting to unsort
scrambles which logits belong to which sentence.

The pooling (:data:`rnncore.torch.pooling.POOLINGS`) is "last" (the state after the last real
token; both directions' final states for a bidirectional layer), "mean", "max" or
"attention" over the real steps.

Letters: B batch, T padded length, V vocabulary, D embedding size, H hidden units per
direction, C classes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.torch.padding import check_lengths
from rnncore.torch.pooling import (
    POOLINGS,
    AttentionPooling,
    final_states_bidirectional,
    last_valid_state,
    masked_max,
    masked_mean_over_time,
)

__all__ = ["SentenceClassifier", "encode", "pool", "classify", "attention_weights"]

_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SentenceClassifier(nn.Module):
    """Embedding (with ``padding_idx``), torch.nn GRU/LSTM (batch-first), pooling, linear.

    Parameters
    ----------
    vocab_size : int
        V, token ids 0..V-1.
    embedding_dim : int
        D.
    hidden_size : int
        H, per direction.
    num_classes : int
        C.
    cell : {"gru", "lstm", "rnn"}
    bidirectional : bool
    pooling : {"last", "mean", "max", "attention"}
    pad_id : int
        The padding token; its embedding is zero and never trained.
    num_layers : int
    device, dtype

    Attributes
    ----------
    embedding : nn.Embedding
    recurrent : nn.GRU, nn.LSTM or nn.RNN, ``batch_first=True``
    attention : AttentionPooling or None
        Only with ``pooling="attention"``.
    output : nn.Linear
        From ``directions * H`` features to C.

    Notes
    -----
    ``forward(ids (B, T), lengths (B,)) -> logits (B, C)`` is :func:`classify`.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        num_classes: int,
        cell: str = "gru",
        bidirectional: bool = False,
        pooling: str = "last",
        pad_id: int = 0,
        num_layers: int = 1,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if cell not in _LAYERS:
            raise ValueError(f"cell must be one of {tuple(_LAYERS)}, got {cell!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id must be in 0..V-1 = 0..{vocab_size - 1}, got {pad_id}")
        factory = {"device": device, "dtype": dtype}
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.pad_id = pad_id
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_id, **factory)
        self.recurrent = _LAYERS[cell](
            embedding_dim,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=True,
            **factory,
        )
        features = (2 if bidirectional else 1) * hidden_size
        self.attention = AttentionPooling(features, **factory) if pooling == "attention" else None
        self.output = nn.Linear(features, num_classes, **factory)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Class scores (B, C) for a right-padded batch; see :func:`classify`."""
        return classify(self, ids, lengths)


def _check_batch(model: SentenceClassifier, ids, lengths) -> None:
    if not isinstance(ids, torch.Tensor) or ids.dtype not in (torch.int64, torch.int32):
        raise ValueError("ids must be an integer torch tensor of token ids, shape (B, T)")
    if ids.dim() != 2:
        raise ValueError(f"ids must have 2 axes (B, T), got shape {tuple(ids.shape)}")
    check_lengths(lengths, ids.shape[0], ids.shape[1])
    if ids.numel() and (ids.min() < 0 or ids.max() >= model.vocab_size):
        raise ValueError(
            f"ids must hold token ids in 0..V-1 = 0..{model.vocab_size - 1}, "
            f"got values in {int(ids.min())}..{int(ids.max())}"
        )


def encode(model: SentenceClassifier, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The recurrent layer's outputs on the real tokens of each sentence, run packed.

    Parameters
    ----------
    model : SentenceClassifier
    ids : LongTensor of shape (B, T)
        Right-padded token ids.
    lengths : LongTensor of shape (B,)
        True lengths, 1..T, in any order.

    Returns
    -------
    out : Tensor of shape (B, T, directions * H)
        Zero on the padding; in the batch's own order.
    """
    _check_batch(model, ids, lengths)
    embedded = model.embedding(ids)  # (B, T, D)
    # pack_padded_sequence wants the lengths on the CPU; enforce_sorted=False sorts the batch
    # by length inside the packed sequence and pad_packed_sequence restores the given order.
    packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
    packed_out, _ = model.recurrent(packed)
    out, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=ids.shape[1])
    return out  # (B, T, directions * H)


def pool(model: SentenceClassifier, out: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """One vector per sentence from the outputs of :func:`encode`, by ``model.pooling``.

    Parameters
    ----------
    model : SentenceClassifier
    out : Tensor of shape (B, T, directions * H)
    lengths : LongTensor of shape (B,)

    Returns
    -------
    pooled : Tensor of shape (B, directions * H)
    """
    if model.pooling == "last":
        if model.bidirectional:
            return final_states_bidirectional(out, lengths, model.hidden_size)  # (B, 2H)
        return last_valid_state(out, lengths)  # (B, H)
    if model.pooling == "mean":
        return masked_mean_over_time(out, lengths)
    if model.pooling == "max":
        return masked_max(out, lengths)
    pooled, _ = model.attention(out, lengths)
    return pooled


def classify(model: SentenceClassifier, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Class scores for a right-padded batch of sentences: embed, run packed, pool, map.

    Parameters
    ----------
    model : SentenceClassifier
    ids : LongTensor of shape (B, T)
        Right-padded token ids (:func:`rnncore.torch.pooling.pad_batch`).
    lengths : LongTensor of shape (B,)
        True lengths, 1..T, in any order.

    Returns
    -------
    logits : Tensor of shape (B, C)
        Row b equals the model's logits for sentence b run alone, without padding.
    """
    out = encode(model, ids, lengths)  # (B, T, directions * H)
    pooled = pool(model, out, lengths)  # (B, directions * H)
    return model.output(pooled)  # (B, C)


def attention_weights(
    model: SentenceClassifier, ids: torch.Tensor, lengths: torch.Tensor
) -> torch.Tensor:
    """The weights an attention-pooling model gives each token (what it reads to decide).

    Parameters
    ----------
    model : SentenceClassifier
        Built with ``pooling="attention"``.
    ids : LongTensor of shape (B, T)
    lengths : LongTensor of shape (B,)

    Returns
    -------
    weights : Tensor of shape (B, T)
        Zero on the padding; each row sums to 1.
    """
    if model.attention is None:
        raise ValueError(
            f"the model pools by {model.pooling!r}; attention weights need 'attention'"
        )
    out = encode(model, ids, lengths)  # (B, T, directions * H)
    _, weights = model.attention(out, lengths)  # (B, T)
    return weights
