r"""The pieces of a character language model trained with truncated BPTT over parallel streams.

A long text of N ids is too long to backpropagate through in one go. Truncated
backpropagation through time (BPTT) cuts it into B parallel streams and walks along them
``bptt`` steps at a time, carrying the hidden state from one chunk to the next but cutting
the graph between chunks:

1. :func:`batchify` cuts the ids into B streams, the rows of a (B, N) tensor;
2. :func:`next_chunk` takes the inputs and next-character targets of one chunk;
3. :func:`train_step` runs the model over the chunk from the carried state, takes one
   clipped optimiser step and returns the new state, detached by :func:`detach_state`;
4. :func:`sample` continues a prefix with sampled characters;
5. :func:`bits_per_character` scores held-out text, the headline number of chapter 9.

The model is a :class:`~rnncore.torch.models.CharLanguageModel`, or anything called as
``model(tokens (B, t), state) -> (logits (B, t, V), state)`` with states in torch.nn's layout
(a tensor h, or a tuple (h, c) for an LSTM). Assignment a05 asks students to write these
functions; :mod:`rnncore.grading.char_lm_checks` grades them against this module.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncore.data.text import _check_ids, _check_positive
from rnncore.shapes import check_shape
from rnncore.torch.decode import generate

__all__ = [
    "batchify",
    "next_chunk",
    "detach_state",
    "train_step",
    "sample",
    "bits_per_character",
]

LN_2 = math.log(2.0)


def _ids_to_tensor(ids) -> torch.Tensor:
    """A 1-D int64 tensor of ``ids`` (a sequence, an array or a tensor), on the same device."""
    if isinstance(ids, torch.Tensor):
        if ids.ndim != 1:
            raise ValueError(f"ids must have 1 axis (N,), got shape {tuple(ids.shape)}")
        if ids.numel() and (ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool):
            raise ValueError(f"ids must be an integer tensor, got dtype {ids.dtype}")
        return ids.to(torch.int64)
    return torch.from_numpy(np.array(_check_ids(ids), dtype=np.int64))  # (N,), a copy


def _check_streams(streams) -> tuple[int, int]:
    if not isinstance(streams, torch.Tensor) or streams.dtype not in (torch.int64, torch.int32):
        raise ValueError("streams must be an integer torch tensor of shape (B, N) from batchify")
    dims = check_shape("streams", streams, "B, N")
    return dims["B"], dims["N"]


def batchify(ids, batch_size: int) -> torch.Tensor:
    r"""Cut a sequence of ids into B parallel streams, one per row.

    Stream b is the b-th of B consecutive pieces of the text, each N characters long; the
    last ``len(ids) mod B`` ids, which would make the streams unequal, are dropped:

    .. math::

        N = \left\lfloor \frac{\text{len(ids)}}{B} \right\rfloor, \qquad
        \text{streams}[b, n] = \text{ids}[b N + n].

    So each row reads on in the text, and row b of one chunk continues row b of the chunk
    before it: the final state of a chunk is the right initial state of the next one.

    Parameters
    ----------
    ids : array-like of int of shape (len(ids),), or a 1-D integer tensor
        Not modified.
    batch_size : int
        B >= 1.

    Returns
    -------
    streams : LongTensor of shape (B, N)
        A new tensor (never a view of ``ids``), on the device of ``ids`` if it is a tensor.

    Raises
    ------
    ValueError
        If ``ids`` is not one-dimensional integers, B is not a positive integer, or there are
        fewer than 2 B ids (each stream needs an input and a target).
    """
    batch_size = _check_positive("batch_size", batch_size)
    ids = _ids_to_tensor(ids)  # (len(ids),)
    N = ids.shape[0] // batch_size
    if N < 2:
        raise ValueError(
            f"ids of {ids.shape[0]} ids is too short for B = {batch_size} streams: each stream "
            f"needs at least 2 ids, so at least 2 * B = {2 * batch_size}"
        )
    return ids[: batch_size * N].reshape(batch_size, N).clone()  # (B, N)


def next_chunk(streams: torch.Tensor, start: int, bptt: int) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Inputs and next-character targets of the chunk that begins at column ``start``.

    .. math::

        t = \min(\text{bptt}, N - 1 - \text{start}), \qquad
        \text{inputs} = \text{streams}[:, \text{start} : \text{start} + t], \qquad
        \text{targets} = \text{streams}[:, \text{start} + 1 : \text{start} + 1 + t].

    The last chunk is shorter when ``bptt`` does not divide N - 1; the last column of the
    streams is only ever a target.

    Parameters
    ----------
    streams : LongTensor of shape (B, N)
        From :func:`batchify`. Not modified.
    start : int
        First column of the chunk, 0 <= start <= N - 2.
    bptt : int
        Longest chunk, >= 1.

    Returns
    -------
    inputs : LongTensor of shape (B, t)
    targets : LongTensor of shape (B, t)
        ``targets[b, i] == streams[b, start + i + 1]``: the character after ``inputs[b, i]``.
        Both are new tensors, not views of ``streams``.

    Raises
    ------
    ValueError
        If ``streams`` is not a (B, N) integer tensor, ``bptt`` is not a positive integer, or
        ``start`` is outside 0 .. N - 2.

    Examples
    --------
    >>> streams = torch.arange(10).reshape(2, 5)
    >>> inputs, targets = next_chunk(streams, 2, 3)
    >>> inputs.tolist(), targets.tolist()
    ([[2, 3], [7, 8]], [[3, 4], [8, 9]])
    """
    B, N = _check_streams(streams)
    bptt = _check_positive("bptt", bptt)
    integer = isinstance(start, int | np.integer) and not isinstance(start, bool)
    if not integer or not 0 <= start <= N - 2:
        raise ValueError(f"start must be an integer in 0 .. N - 2 = 0 .. {N - 2}, got {start!r}")
    start = int(start)
    t = min(bptt, N - 1 - start)
    inputs = streams[:, start : start + t].clone()  # (B, t)
    targets = streams[:, start + 1 : start + 1 + t].clone()  # (B, t)
    return inputs, targets


def detach_state(state):
    """Cut a recurrent state from the graph that computed it, keeping its values.

    Truncated BPTT carries the state's *values* into the next chunk but not its history:
    without this, every chunk's backward pass would reach back through all earlier chunks
    (the graph, and the memory it holds, grows with every chunk, and the second backward
    through an already-freed graph fails).

    Parameters
    ----------
    state : None, Tensor of shape (L, B, H), or tuple of such tensors
        None (no state yet), an RNN or GRU state h, or an LSTM state (h, c).

    Returns
    -------
    state : the same structure
        Each tensor replaced by ``tensor.detach()`` (shares memory, ``requires_grad`` False).

    Raises
    ------
    ValueError
        If ``state`` is anything else.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple | list) and all(isinstance(part, torch.Tensor) for part in state):
        return tuple(part.detach() for part in state)
    raise ValueError(
        f"state must be None, a tensor h or a tuple (h, c) of tensors, got {type(state).__name__}"
    )


def _has_graph(state) -> bool:
    parts = () if state is None else (state,) if isinstance(state, torch.Tensor) else state
    return any(part.grad_fn is not None for part in parts)


def train_step(
    model: nn.Module,
    state,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    max_norm: float | None,
) -> tuple[float, object]:
    r"""One step of truncated BPTT on one chunk: loss, backward, clip, update.

    .. math::

        \mathcal{L} = -\frac{1}{B t} \sum_{b, i}
            \log \operatorname{softmax}(\text{logits}_{b, i})[\text{targets}_{b, i}],
        \qquad g \leftarrow g \cdot \min\left(1, \frac{\text{max\_norm}}{\lVert g \rVert}
        \right)

    with ``logits, new_state = model(inputs, state)`` and :math:`g` all the gradients
    together (``torch.nn.utils.clip_grad_norm_``).

    Parameters
    ----------
    model : CharLanguageModel or alike
        ``model(tokens (B, t), state) -> (logits (B, t, V), state)``; its mode is not changed
        (call ``model.train()`` first).
    state : None, Tensor or tuple of Tensors
        The state at the start of the chunk, detached (as returned by the previous call).
    inputs : LongTensor of shape (B, t)
    targets : LongTensor of shape (B, t)
        The character after each input.
    optimizer : torch.optim.Optimizer
        Over the model's parameters; its gradients are zeroed first.
    max_norm : float or None
        Clip the gradients' global norm to this value (> 0); None does not clip.

    Returns
    -------
    loss : float
        The mean cross-entropy of the chunk in nats, before the update.
    state : the model's final state, detached (see :func:`detach_state`)

    Raises
    ------
    ValueError
        If the shapes disagree, ``max_norm`` is not positive, or ``state`` is still attached
        to a graph from an earlier step.
    """
    for name, tokens in (("inputs", inputs), ("targets", targets)):
        if not isinstance(tokens, torch.Tensor) or tokens.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name} must be an integer torch tensor of shape (B, t)")
    dims = check_shape("inputs", inputs, "B, t")
    check_shape("targets", targets, "B, t", dims)
    if max_norm is not None and not (
        isinstance(max_norm, int | float) and not isinstance(max_norm, bool) and max_norm > 0
    ):
        raise ValueError(f"max_norm must be a positive number or None, got {max_norm!r}")
    if _has_graph(state):
        raise ValueError(
            "state is still attached to the graph of an earlier step: pass detach_state(state)"
        )
    optimizer.zero_grad(set_to_none=True)
    logits, new_state = model(inputs, state)  # (B, t, V)
    V = logits.shape[-1]
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))  # ()
    loss.backward()
    if max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(loss.detach()), detach_state(new_state)


def sample(
    model: nn.Module,
    prefix,
    length: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> list[int]:
    r"""Continue ``prefix`` with ``length`` characters drawn one at a time from the model.

    The model reads the prefix, then each drawn character in turn, carrying its state. Each
    character is drawn from the tempered, optionally top-k, softmax of the last scores:

    .. math::

        p_v \propto \exp(\ell_v / \tau) \text{ for the } k \text{ largest } \ell_v,
        \qquad p_v = 0 \text{ otherwise.}

    This is :func:`rnncore.torch.decode.generate` for one sequence, returning only the new ids.

    Parameters
    ----------
    model : CharLanguageModel or alike
        Run in eval mode without gradients; its mode is restored afterwards.
    prefix : sequence of int, or 1-D integer tensor
        At least one id. Not modified.
    length : int
        Characters to draw, >= 0.
    temperature : float
        :math:`\tau > 0`.
    top_k : int, optional
        Draw only among the k highest scores, 1 <= k <= V.
    generator : torch.Generator, optional
        On the model's device; for reproducible draws.

    Returns
    -------
    ids : list of int
        The ``length`` drawn ids (the prefix is not repeated).
    """
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
        raise ValueError(f"length must be a non-negative integer, got {length!r}")
    prefix = _ids_to_tensor(prefix)  # (P,)
    if prefix.shape[0] < 1:
        raise ValueError("prefix must hold at least one id")
    tokens = generate(
        model, prefix, int(length), temperature=temperature, top_k=top_k, generator=generator
    )  # (P + length,)
    return tokens[prefix.shape[0] :].tolist()


def bits_per_character(model: nn.Module, ids, bptt: int) -> float:
    r"""Mean surprise of the model at each next character of held-out text, in bits.

    The ids are read as one stream, in chunks of ``bptt`` characters, carrying the state from
    chunk to chunk (so the model sees the whole history, as when it was trained):

    .. math::

        \text{bpc} = \frac{1}{(N - 1) \ln 2} \sum_{n=1}^{N-1}
            -\ln p(\text{ids}[n] \mid \text{ids}[0 : n]).

    The mean is over characters, not over chunks, so a short last chunk counts by its length.
    A model that always gives every one of V characters the same probability scores
    :math:`\log_2 V`.

    Parameters
    ----------
    model : CharLanguageModel or alike
        Run in eval mode without gradients; its mode is restored afterwards.
    ids : array-like of int of shape (N,), or 1-D integer tensor
        N >= 2. Not modified.
    bptt : int
        Characters per chunk, >= 1 (only speed and memory depend on it).

    Returns
    -------
    bpc : float
    """
    streams = batchify(ids, 1)  # (1, N)
    bptt = _check_positive("bptt", bptt)
    N = streams.shape[1]
    device = next(model.parameters()).device
    streams = streams.to(device)
    was_training = model.training
    model.eval()
    total_nats, state = 0.0, None
    try:
        with torch.no_grad():
            for start in range(0, N - 1, bptt):
                inputs, targets = next_chunk(streams, start, bptt)  # (1, t), (1, t)
                logits, state = model(inputs, state)  # (1, t, V)
                V = logits.shape[-1]
                total_nats += float(
                    nn.functional.cross_entropy(
                        logits.reshape(-1, V), targets.reshape(-1), reduction="sum"
                    )
                )
    finally:
        model.train(was_training)
    return total_nats / ((N - 1) * LN_2)
