"""The small models the course's applications use, each a recurrent layer between two maps.

Every model takes ``cell`` ("rnn", "lstm" or "gru") and ``fast``:

* ``fast=False`` (default) builds the recurrent layer from :mod:`rnncore.torch.layers`, the
  course's own code, whose every step you can read;
* ``fast=True`` builds ``torch.nn.RNN/LSTM/GRU(batch_first=True)`` instead, which runs fused
  kernels (cuDNN on a GPU) and is several times faster to train. The two compute the same
  function (the interop tests prove it), take the same arguments and return states in the same
  layout, so a model trained with one can be loaded into the other through
  :mod:`rnncore.torch.interop`.

Note the two meanings of "fast": here ``fast=True`` means torch.nn's own layer (oneDNN on the
CPU, cuDNN on a GPU), while ``rnncore.torch.layers.LSTM(..., fast=True)`` keeps rnncore's layer
and runs its hand-written-backward path (:mod:`rnncore.torch.fast`). The models use torch.nn's
layer because it is the fastest on both devices.

States follow torch.nn's layout: (L * num_directions, B, H), a tuple (h, c) for the LSTM.
"""

from __future__ import annotations

import torch
from torch import nn

from rnncore.shapes import check_shape
from rnncore.torch import layers

__all__ = [
    "CELLS",
    "make_recurrent_layer",
    "CharLanguageModel",
    "SequenceClassifier",
    "SequenceRegressor",
]

CELLS = ("rnn", "lstm", "gru")


def make_recurrent_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    fast: bool = False,
    device=None,
    dtype=None,
) -> nn.Module:
    """Build a batch-first recurrent layer: rnncore's (``fast=False``) or torch.nn's.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        The RNN uses tanh; the GRU is PyTorch's (reset gate after the product).
    input_size, hidden_size, num_layers, bidirectional, dropout
        As for torch.nn.LSTM.
    fast : bool
        Use torch.nn's fused implementation.
    device, dtype
        Where and in which dtype the parameters are created.

    Returns
    -------
    layer : nn.Module
        ``layer(x (B, T, D), state) -> (output (B, T, dirs * H), state)``.
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    if fast:
        kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        return kind(
            input_size,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            batch_first=True,
            device=device,
            dtype=dtype,
        )
    kind = {"rnn": layers.RNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    return kind(
        input_size,
        hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        device=device,
        dtype=dtype,
    )


def _check_tokens(name: str, tokens, vocab_size: int) -> None:
    if not isinstance(tokens, torch.Tensor) or tokens.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{name} must be an integer torch tensor of token ids")
    check_shape(name, tokens, "B, T")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(
            f"{name} must hold token ids in 0..V-1 = 0..{vocab_size - 1}, "
            f"got values in {int(tokens.min())}..{int(tokens.max())}"
        )


class CharLanguageModel(nn.Module):
    r"""Next-token model: embedding, recurrent layer, linear map to V scores.

    .. math::

        e_t = E[\text{token}_t], \quad h_t = \text{cell}(e_t, h_{t-1}), \quad
        \text{logits}_t = h_t W_{out} + b_{out}

    Parameters
    ----------
    vocab_size : int
        V.
    embedding_dim : int
        D, the size of each token's vector.
    hidden_size : int
        H.
    cell : {"rnn", "lstm", "gru"}
    num_layers : int
        L.
    dropout : float
        Between recurrent layers (training mode only).
    fast : bool
        Use torch.nn's recurrent layer (see the module docstring).
    device, dtype

    Notes
    -----
    ``forward(tokens (B, T) int, state=None) -> (logits (B, T, V), state)``; feed the returned
    state back with the next chunk of tokens to carry memory across chunks (truncated BPTT:
    detach it first when training).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        cell: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        fast: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.vocab_size = vocab_size
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim, **factory)
        self.recurrent = make_recurrent_layer(
            cell, embedding_dim, hidden_size, num_layers, False, dropout, fast, **factory
        )
        self.output = nn.Linear(hidden_size, vocab_size, **factory)

    def forward(self, tokens: torch.Tensor, state=None):
        """Scores for the next token at every position.

        Parameters
        ----------
        tokens : LongTensor of shape (B, T)
        state : optional, torch.nn's layout (see the module docstring)

        Returns
        -------
        logits : Tensor of shape (B, T, V)
        state : the final state, same layout
        """
        _check_tokens("tokens", tokens, self.vocab_size)
        embedded = self.embedding(tokens)  # (B, T, D)
        hidden, state = self.recurrent(embedded, state)  # (B, T, H)
        return self.output(hidden), state  # (B, T, V)


class SequenceClassifier(nn.Module):
    """Many-to-one classifier: the recurrent layer's last hidden state, then a linear map.

    Parameters
    ----------
    input_size : int
        D, features per step; with ``vocab_size`` set, the embedding size instead.
    hidden_size : int
        H.
    num_classes : int
        C.
    cell : {"rnn", "lstm", "gru"}
    num_layers : int
    bidirectional : bool
        Concatenate the forward direction's last state with the backward direction's state
        after it has read the whole sequence (its output at t = 0).
    vocab_size : int, optional
        If given, inputs are token ids (B, T) embedded into ``input_size`` features.
    fast : bool
        Use torch.nn's recurrent layer.
    device, dtype

    Notes
    -----
    ``forward(inputs (B, T, D) or (B, T) int, lengths=None) -> logits (B, C)``.
    With ``lengths`` (B,) for a right-padded batch, the forward direction's state is read at
    step ``lengths - 1`` of each sequence, so padding after a sequence never reaches it. The
    backward direction would read the padding first, so ``lengths`` needs
    ``bidirectional=False``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        vocab_size: int | None = None,
        fast: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.vocab_size = vocab_size
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.embedding = (
            None if vocab_size is None else nn.Embedding(vocab_size, input_size, **factory)
        )
        self.recurrent = make_recurrent_layer(
            cell, input_size, hidden_size, num_layers, bidirectional, 0.0, fast, **factory
        )
        directions = 2 if bidirectional else 1
        self.output = nn.Linear(directions * hidden_size, num_classes, **factory)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores for each sequence.

        Parameters
        ----------
        inputs : Tensor of shape (B, T, D), or LongTensor (B, T) with ``vocab_size``
        lengths : LongTensor of shape (B,), optional
            True lengths, 1..T, of right-padded sequences.

        Returns
        -------
        logits : Tensor of shape (B, C)
        """
        if self.embedding is not None:
            _check_tokens("inputs", inputs, self.vocab_size)
            inputs = self.embedding(inputs)  # (B, T, D)
        else:
            check_shape("inputs", inputs, "B, T, D", {"D": self.input_size})
        B, T = inputs.shape[:2]
        hidden, _ = self.recurrent(inputs)  # (B, T, dirs * H)
        H = self.hidden_size
        if lengths is None:
            last = hidden[:, -1, :H]  # (B, H)
        else:
            if self.bidirectional:
                raise ValueError("lengths needs bidirectional=False (see SequenceClassifier)")
            check_shape("lengths", lengths, "B", {"B": B})
            if lengths.min() < 1 or lengths.max() > T:
                raise ValueError(f"lengths must be in 1..T = 1..{T}, got {lengths.tolist()}")
            rows = torch.arange(B, device=hidden.device)  # (B,)
            last = hidden[rows, lengths.to(hidden.device) - 1]  # (B, H)
        if self.bidirectional:
            last = torch.cat([last, hidden[:, 0, H:]], dim=1)  # (B, 2H)
        return self.output(last)  # (B, C)


class SequenceRegressor(nn.Module):
    """Real-valued outputs from a sequence: at every step, or only after the last one.

    Used for the adding problem (``many_to_many=False``: one number per sequence) and for
    time series (``many_to_many=True``: a prediction at every step).

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    output_size : int
        O, numbers predicted per step (or per sequence).
    cell : {"rnn", "lstm", "gru"}
    num_layers : int
    many_to_many : bool
        True: predictions (B, T, O). False: one prediction (B, O) from the last step.
    fast : bool
        Use torch.nn's recurrent layer.
    device, dtype

    Notes
    -----
    ``forward(x (B, T, D), state=None) -> (prediction, state)``; pass the state back to keep
    predicting a time series step by step.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        cell: str = "lstm",
        num_layers: int = 1,
        many_to_many: bool = True,
        fast: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.many_to_many = many_to_many
        self.recurrent = make_recurrent_layer(
            cell, input_size, hidden_size, num_layers, False, 0.0, fast, **factory
        )
        self.output = nn.Linear(hidden_size, output_size, **factory)

    def forward(self, x: torch.Tensor, state=None):
        """Predictions at every step (many_to_many) or after the last step.

        Parameters
        ----------
        x : Tensor of shape (B, T, D)
        state : optional, torch.nn's layout

        Returns
        -------
        prediction : Tensor of shape (B, T, O) if many_to_many else (B, O)
        state : the final state
        """
        check_shape("x", x, "B, T, D", {"D": self.input_size})
        hidden, state = self.recurrent(x, state)  # (B, T, H)
        if not self.many_to_many:
            hidden = hidden[:, -1]  # (B, H)
        return self.output(hidden), state  # (B, T, O) or (B, O)
