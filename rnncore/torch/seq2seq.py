r"""A GRU encoder–decoder, with or without attention, for translating token sequences.

The encoder reads the source :math:`x_1 \dots x_S` with a bidirectional GRU (torch.nn's fast
layer, packed to each sentence's length) into states :math:`h_s = [\overrightarrow{h}_s;
\overleftarrow{h}_s]` (B, S, 2H), and a summary :math:`\bar h = [\overrightarrow{h}_S;
\overleftarrow{h}_1]` (B, 2H). The decoder is a GRU cell that, at step t, reads the previous
target token and a context vector :math:`c_t`:

.. math::

    c_t &= \begin{cases}
        \bar h & \text{attention="none" (Cho et al., 2014): one fixed vector} \\
        \mathrm{attend}(s_{t-1}, h_{1..S}) & \text{"additive" or "multiplicative"}
    \end{cases} \\
    s_t &= \mathrm{GRUCell}([E y_{t-1}; c_t],\ s_{t-1}), \qquad s_0 = \tanh(\bar h W_0 + b_0) \\
    \log p(y_t \mid y_{<t}, x) &= \mathrm{log\_softmax}([s_t; c_t] W_{out} + b_{out})

The three models differ only in :math:`c_t`: without attention every word of the source has to
pass through the fixed-size :math:`\bar h` (the bottleneck); with attention the decoder looks
back at every :math:`h_s` at every step, through
:class:`~rnncore.torch.attention.AdditiveAttention` (Bahdanau et al., 2015) or
:class:`~rnncore.torch.attention.MultiplicativeAttention` (Luong et al., 2015, "general"), with
the previous decoder state as the query and padding masked.

Training is teacher-forced (:func:`seq2seq_loss_fn`): the decoder reads the true previous
token. Decoding reads its own: :func:`greedy_translate` (batched) or the generic
:func:`rnncore.torch.decode.greedy_decode` / :func:`~rnncore.torch.decode.beam_search` over
:func:`seq2seq_step_fn`.

Letters: B batch, S source length, T target length, E embedding size, H encoder hidden size
per direction, Hd decoder hidden size, V target vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.shapes import check_shape
from rnncore.torch.attention import AdditiveAttention, MultiplicativeAttention

__all__ = [
    "ATTENTIONS",
    "Encoded",
    "Seq2Seq",
    "pad_sequences",
    "seq2seq_batches",
    "seq2seq_loss_fn",
    "seq2seq_step_fn",
    "greedy_translate",
    "attention_weights",
]

ATTENTIONS = ("none", "additive", "multiplicative")


class Encoded(NamedTuple):
    """What the decoder needs from the encoder."""

    states: torch.Tensor  # (B, S, 2H) encoder states h_s, zero on padding
    summary: torch.Tensor  # (B, 2H) [forward state at the last real word; backward at word 1]
    mask: torch.Tensor  # (B, S) bool, True on real words
    projected: torch.Tensor | None  # (B, S, A) states @ Wk for additive attention, else None


class Seq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU-cell decoder, optional attention.

    Parameters
    ----------
    source_vocab_size, target_vocab_size : int
        Id 0 is padding in both.
    embedding_size : int
        E, for source and target tokens.
    hidden_size : int
        H, per direction of the encoder; the decoder has Hd = 2H.
    attention : {"none", "additive", "multiplicative"}
    attention_size : int, optional
        A, for additive attention; default Hd.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        embedding_size: int = 32,
        hidden_size: int = 64,
        attention: str = "additive",
        attention_size: int | None = None,
    ):
        super().__init__()
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        self.attention_kind = attention
        self.source_vocab_size, self.target_vocab_size = source_vocab_size, target_vocab_size
        self.hidden_size = hidden_size
        decoder_size = 2 * hidden_size
        self.source_embedding = nn.Embedding(source_vocab_size, embedding_size, padding_idx=0)
        self.target_embedding = nn.Embedding(target_vocab_size, embedding_size, padding_idx=0)
        self.encoder = nn.GRU(embedding_size, hidden_size, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(decoder_size, decoder_size)  # W_0, b_0
        self.decoder = nn.GRUCell(embedding_size + decoder_size, decoder_size)
        self.output = nn.Linear(2 * decoder_size, target_vocab_size)  # W_out, b_out
        if attention == "additive":
            self.attention = AdditiveAttention(
                decoder_size, decoder_size, attention_size or decoder_size
            )
        elif attention == "multiplicative":
            self.attention = MultiplicativeAttention(decoder_size, decoder_size, "general")
        else:
            self.attention = None

    def _check_source(self, source, lengths):
        if not isinstance(source, torch.Tensor) or source.dtype != torch.int64:
            raise ValueError("source must be an int64 torch tensor of token ids (B, S)")
        dims = check_shape("source", source, "B, S")
        check_shape("lengths", lengths, "B", dims)
        lengths_cpu = lengths.detach().cpu()
        if lengths_cpu.min() < 1 or lengths_cpu.max() > dims["S"]:
            raise ValueError(f"lengths must be in 1..S = 1..{dims['S']}, got {lengths.tolist()}")
        return lengths_cpu

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> Encoded:
        """Read the padded source.

        Parameters
        ----------
        source : LongTensor of shape (B, S)
            Right-padded with 0.
        lengths : LongTensor of shape (B,)
            Real words per sentence, 1..S.

        Returns
        -------
        Encoded
        """
        lengths_cpu = self._check_source(source, lengths)
        S = source.shape[1]
        embedded = self.source_embedding(source)  # (B, S, E)
        packed = pack_padded_sequence(embedded, lengths_cpu, batch_first=True, enforce_sorted=False)
        output, final = self.encoder(packed)  # final: (2, B, H)
        states, _ = pad_packed_sequence(output, batch_first=True, total_length=S)  # (B, S, 2H)
        summary = torch.cat([final[0], final[1]], dim=1)  # (B, 2H)
        mask = torch.arange(S, device=source.device)[None, :] < lengths.to(source.device)[:, None]
        projected = None
        if isinstance(self.attention, AdditiveAttention):
            projected = self.attention.project_keys(states)  # (B, S, A)
        return Encoded(states, summary, mask, projected)

    def initial_state(self, encoded: Encoded) -> torch.Tensor:
        """:math:`s_0 = \\tanh(\\bar h W_0 + b_0)`, (B, Hd)."""
        return torch.tanh(self.bridge(encoded.summary))  # (B, Hd)

    def context(self, state: torch.Tensor, encoded: Encoded):
        """The context c_t (B, 2H) for decoder state ``state`` (B, Hd) and the weights (B, S).

        Without attention the context is the summary and the weights are None.
        """
        if self.attention is None:
            return encoded.summary, None
        if encoded.projected is not None:
            return self.attention(
                state, encoded.states, encoded.states, encoded.mask, encoded.projected
            )
        return self.attention(state, encoded.states, encoded.states, encoded.mask)

    def step(self, token: torch.Tensor, state: torch.Tensor, encoded: Encoded):
        """One decoder step.

        Parameters
        ----------
        token : LongTensor of shape (B,)
            The previous target token :math:`y_{t-1}`.
        state : Tensor of shape (B, Hd)
            :math:`s_{t-1}`.
        encoded : Encoded

        Returns
        -------
        logits : Tensor of shape (B, V)
        state : Tensor of shape (B, Hd)
            :math:`s_t`.
        weights : Tensor of shape (B, S), or None without attention
        """
        context, weights = self.context(state, encoded)  # (B, 2H), (B, S)
        embedded = self.target_embedding(token)  # (B, E)
        state = self.decoder(torch.cat([embedded, context], dim=1), state)  # (B, Hd)
        logits = self.output(torch.cat([state, context], dim=1))  # (B, V)
        return logits, state, weights

    def forward(self, source, lengths, decoder_inputs, return_weights: bool = False):
        """Teacher-forced logits for every target position.

        Parameters
        ----------
        source : LongTensor of shape (B, S)
        lengths : LongTensor of shape (B,)
        decoder_inputs : LongTensor of shape (B, T)
            ``<bos>`` followed by the target shifted right (padding anywhere after the end).
        return_weights : bool
            Also return the attention weights.

        Returns
        -------
        logits : Tensor of shape (B, T, V)
        weights : Tensor of shape (B, T, S), only when ``return_weights`` (None without
            attention)
        """
        check_shape("decoder_inputs", decoder_inputs, "B, T", {"B": source.shape[0]})
        encoded = self.encode(source, lengths)
        state = self.initial_state(encoded)  # (B, Hd)
        all_logits, all_weights = [], []
        for t in range(decoder_inputs.shape[1]):
            logits, state, weights = self.step(decoder_inputs[:, t], state, encoded)
            all_logits.append(logits)
            all_weights.append(weights)
        logits = torch.stack(all_logits, dim=1)  # (B, T, V)
        if not return_weights:
            return logits
        if self.attention is None:
            return logits, None
        return logits, torch.stack(all_weights, dim=1)  # (B, T, S)


def pad_sequences(sequences: Sequence[Sequence[int]], pad: int = 0):
    """Right-pad lists of ids into a LongTensor (B, T_max) and their lengths (B,)."""
    if not sequences or any(len(sequence) == 0 for sequence in sequences):
        raise ValueError("pad_sequences needs at least one sequence, none of them empty")
    lengths = torch.tensor([len(sequence) for sequence in sequences])
    padded = torch.full((len(sequences), int(lengths.max())), pad, dtype=torch.int64)
    for row, sequence in enumerate(sequences):
        padded[row, : len(sequence)] = torch.as_tensor(list(sequence), dtype=torch.int64)
    return padded, lengths


def _batch(sources, targets, bos: int):
    source, lengths = pad_sequences(sources)  # (B, S), (B,)
    target, _ = pad_sequences(targets)  # (B, T), ends with eos
    decoder_inputs = torch.cat([torch.full_like(target[:, :1], bos), target[:, :-1]], dim=1)
    # Padding after eos is fed as input too; its outputs are not in the loss.
    return (source, lengths, decoder_inputs), target


def seq2seq_batches(
    sources: Sequence[Sequence[int]],
    targets: Sequence[Sequence[int]],
    batch_size: int,
    bos: int,
    seed: int = 0,
) -> Iterator:
    """Endless shuffled batches ``((source, lengths, decoder_inputs), targets)``.

    Parameters
    ----------
    sources : sequence of lists of int
        Source ids, without bos/eos.
    targets : sequence of lists of int
        Target ids ending with eos.
    batch_size : int
    bos : int
        Fed as the first decoder input.
    seed : int
        Shuffles each epoch anew (NumPy generator).

    Yields
    ------
    (source (B, S), lengths (B,), decoder_inputs (B, T)), targets (B, T)
        Padded with 0; ``decoder_inputs`` is ``bos`` then ``targets`` shifted right.
    """
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(sources))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            yield _batch([sources[i] for i in rows], [targets[i] for i in rows], bos)


def seq2seq_loss_fn(model: Seq2Seq, inputs, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per real target token (padding, id 0, is ignored); teacher-forced."""
    source, lengths, decoder_inputs = inputs
    logits = model(source, lengths, decoder_inputs)  # (B, T, V)
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=0)


def _eval_no_grad(model: nn.Module):
    if model.training:
        raise ValueError("put the model in eval mode first: model.eval()")


def seq2seq_step_fn(model: Seq2Seq, source: Sequence[int]):
    """A ``step_fn`` and start state for :mod:`rnncore.torch.decode`, for one source sentence.

    Parameters
    ----------
    model : Seq2Seq
        In eval mode.
    source : sequence of int
        The source ids (no padding).

    Returns
    -------
    step_fn : callable
        ``step_fn(token: int, state (1, Hd)) -> (log_probs (V,), new_state (1, Hd))``.
    start_state : Tensor of shape (1, Hd)
    """
    _eval_no_grad(model)
    device = next(model.parameters()).device
    with torch.no_grad():
        ids = torch.as_tensor([list(source)], dtype=torch.int64, device=device)  # (1, S)
        encoded = model.encode(ids, torch.tensor([ids.shape[1]]))
        start_state = model.initial_state(encoded)  # (1, Hd)

    def step_fn(token: int, state: torch.Tensor):
        with torch.no_grad():
            token_tensor = torch.tensor([token], device=device)  # (1,)
            logits, new_state, _ = model.step(token_tensor, state, encoded)  # (1, V)
            return torch.log_softmax(logits[0], dim=-1), new_state  # (V,)

    return step_fn, start_state


def greedy_translate(
    model: Seq2Seq,
    sources: Sequence[Sequence[int]],
    bos: int,
    eos: int,
    max_length: int,
    batch_size: int = 512,
) -> list[list[int]]:
    """Greedy decoding of many sentences at once (the same as ``greedy_decode`` per sentence).

    Parameters
    ----------
    model : Seq2Seq
        In eval mode.
    sources : sequence of lists of int
    bos, eos : int
    max_length : int
        Most tokens produced per sentence, eos included.
    batch_size : int

    Returns
    -------
    outputs : list of lists of int
        Each up to and including its first eos (or ``max_length`` tokens).
    """
    _eval_no_grad(model)
    device = next(model.parameters()).device
    outputs = []
    with torch.no_grad():
        for start in range(0, len(sources), batch_size):
            source, lengths = pad_sequences(sources[start : start + batch_size])
            encoded = model.encode(source.to(device), lengths.to(device))
            state = model.initial_state(encoded)  # (B, Hd)
            token = torch.full((source.shape[0],), bos, dtype=torch.int64, device=device)
            produced = []
            for _ in range(max_length):
                logits, state, _ = model.step(token, state, encoded)  # (B, V)
                token = logits.argmax(dim=1)  # (B,)
                produced.append(token)
            rows = torch.stack(produced, dim=1).tolist()  # (B, max_length)
            for row in rows:
                outputs.append(row[: row.index(eos) + 1] if eos in row else row)
    return outputs


def attention_weights(
    model: Seq2Seq, source: Sequence[int], decoder_inputs: Sequence[int]
) -> np.ndarray:
    """The attention weights (T, S) while the model reads ``decoder_inputs`` after ``source``.

    Feed ``[bos] + output[:-1]`` to see where the model looked while producing ``output``.

    Parameters
    ----------
    model : Seq2Seq
        With attention, in eval mode.
    source : sequence of int
    decoder_inputs : sequence of int

    Returns
    -------
    weights : ndarray of shape (T, S)
        Row t: the weights over the source words while producing target token t.
    """
    _eval_no_grad(model)
    if model.attention is None:
        raise ValueError("this model has no attention (attention='none'): no weights to show")
    device = next(model.parameters()).device
    with torch.no_grad():
        ids = torch.as_tensor([list(source)], dtype=torch.int64, device=device)
        inputs = torch.as_tensor([list(decoder_inputs)], dtype=torch.int64, device=device)
        _, weights = model(ids, torch.tensor([ids.shape[1]]), inputs, return_weights=True)
    return weights[0].cpu().numpy()  # (T, S)
