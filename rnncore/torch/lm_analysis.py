r"""Looking inside a trained character language model: tempered likelihood, exposure bias, states.

* :func:`tempered_bits_per_character` scores held-out text under
  :math:`\operatorname{softmax}(\ell / \tau)` for several temperatures at once: what sampling
  at temperature :math:`\tau` costs in likelihood;
* :func:`own_sample_bits_per_character` measures **exposure bias**. A model trained with
  *teacher forcing* always reads the true previous character; when it generates, it reads its
  own samples instead, a history it never saw in training. At every step the model reads the
  true character with probability :math:`1 - q` and its own sample, drawn from its previous
  prediction, with probability :math:`q`, and it is always scored on the true next character:

  .. math::

      x_{t+1} = \begin{cases} w_{t+1} & \text{with probability } 1 - q \\
          \hat w_{t+1} \sim p(\cdot \mid x_{\le t}) & \text{with probability } q
      \end{cases}
      \qquad
      \text{bits}(q) = -\frac{1}{B T \ln 2} \sum_{b, t} \ln p(w_{t+1} \mid x_{\le t}).

  :math:`q = 0` is teacher forcing (the held-out bits per character); the rise of
  :math:`\text{bits}(q)` with :math:`q` is how much the model's own mistakes, fed back,
  cost it. Scheduled sampling (Bengio et al., 2015) trains with the same mixture;
* :func:`hidden_states` records the top layer's hidden state after every character, for
  :mod:`rnncore.text_features`.

Chapter 9, "Generating text" (``chapters/09_text_generation.md``), uses all three.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncore.torch.char_lm import batchify, next_chunk
from rnncore.torch.decode import sample_next

__all__ = ["tempered_bits_per_character", "own_sample_bits_per_character", "hidden_states"]

LN_2 = math.log(2.0)


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _check_probability(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def tempered_bits_per_character(model: nn.Module, ids, temperatures, bptt: int = 256) -> list:
    r"""Held-out bits per character under the tempered softmax, for each temperature.

    .. math::

        \text{bpc}(\tau) = -\frac{1}{(N - 1) \ln 2} \sum_{n=1}^{N-1}
            \ln \operatorname{softmax}(\ell_{n-1} / \tau)[\text{ids}[n]]

    with :math:`\ell_{n-1}` the scores after reading ``ids[: n]`` as one stream, the state
    carried from chunk to chunk (as in :func:`rnncore.torch.char_lm.bits_per_character`, which
    is the case :math:`\tau = 1`).

    Parameters
    ----------
    model : CharLanguageModel or alike
        Run in eval mode without gradients; its mode is restored.
    ids : array-like of int of shape (N,), or 1-D integer tensor
        N >= 2.
    temperatures : sequence of float
        Each > 0.
    bptt : int
        Chunk length (speed only).

    Returns
    -------
    bpc : list of float
        One per temperature, in order.
    """
    temperatures = [float(t) for t in temperatures]
    if not temperatures or any(not (t > 0 and math.isfinite(t)) for t in temperatures):
        raise ValueError(f"temperatures must be positive finite numbers, got {temperatures!r}")
    streams = batchify(ids, 1).to(_device(model))  # (1, N)
    N = streams.shape[1]
    scale = torch.tensor(temperatures, device=streams.device)[:, None, None]  # (K, 1, 1)
    totals = torch.zeros(len(temperatures), dtype=torch.float64)  # (K,)
    was_training = model.training
    model.eval()
    state = None
    try:
        with torch.no_grad():
            for start in range(0, N - 1, bptt):
                inputs, targets = next_chunk(streams, start, bptt)  # (1, t), (1, t)
                logits, state = model(inputs, state)  # (1, t, V)
                log_probs = torch.log_softmax(logits[0][None] / scale, dim=-1)  # (K, t, V)
                picked = log_probs.gather(2, targets[0][None, :, None].expand(len(scale), -1, 1))
                totals -= picked.sum(dim=(1, 2)).double().cpu()  # (K,)
    finally:
        model.train(was_training)
    return (totals / ((N - 1) * LN_2)).tolist()


def own_sample_bits_per_character(
    model: nn.Module,
    ids,
    own_fraction: float,
    batch_size: int,
    steps: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
) -> float:
    """Bits per true character when a fraction of the inputs are the model's own samples.

    The ids are cut into ``batch_size`` streams (:func:`~rnncore.torch.char_lm.batchify`);
    the first ``steps + 1`` characters of each are used. The model starts from a blank state on
    each stream's first character and runs one step at a time (see the module docstring).

    Parameters
    ----------
    model : CharLanguageModel or alike
        Run in eval mode without gradients; its mode is restored.
    ids : array-like of int of shape (N,), or 1-D integer tensor
        N >= batch_size * (steps + 1).
    own_fraction : float in [0, 1]
        q, the probability that an input is the model's own sample.
    batch_size : int
        B, streams scored in parallel.
    steps : int
        T, characters scored per stream.
    generator : torch.Generator, optional
        On the model's device; draws both the samples and the coin flips.
    temperature : float
        Of the model's own samples.

    Returns
    -------
    bits : float
        Mean bits per scored character; at ``own_fraction=0``, the teacher-forced value.
    """
    q = _check_probability("own_fraction", own_fraction)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    streams = batchify(ids, batch_size).to(_device(model))  # (B, N)
    if streams.shape[1] < steps + 1:
        raise ValueError(
            f"ids must hold at least batch_size * (steps + 1) = "
            f"{batch_size * (steps + 1)} ids, got {batch_size * streams.shape[1]} usable"
        )
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    inputs = streams[:, 0]  # (B,)
    try:
        with torch.no_grad():
            for t in range(steps):
                logits, state = model(inputs[:, None], state)  # (B, 1, V)
                logits = logits[:, 0]  # (B, V)
                truth = streams[:, t + 1]  # (B,)
                total += float(nn.functional.cross_entropy(logits, truth, reduction="sum"))
                if q == 0.0:
                    inputs = truth
                    continue
                own = sample_next(logits, temperature, generator=generator)  # (B,)
                coins = torch.rand(truth.shape, generator=generator, device=truth.device)  # (B,)
                inputs = torch.where(coins < q, own, truth)  # (B,)
    finally:
        model.train(was_training)
    return total / (streams.shape[0] * steps * LN_2)


def hidden_states(model: nn.Module, ids, bptt: int = 256) -> np.ndarray:
    """The top recurrent layer's hidden state after every character, reading ids as one stream.

    Parameters
    ----------
    model : CharLanguageModel
        Needs ``model.embedding`` and ``model.recurrent`` (batch-first, returning the top
        layer's outputs); run in eval mode without gradients, mode restored.
    ids : array-like of int of shape (N,), or 1-D integer tensor
    bptt : int
        Chunk length (speed only); the state is carried between chunks.

    Returns
    -------
    hidden : ndarray of shape (N, H), dtype float32
        Row i: the hidden state after reading ``ids[i]``.
    """
    streams = batchify(ids, 1).to(_device(model))  # (1, N)
    pieces, state = [], None
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, streams.shape[1], bptt):
                chunk = streams[:, start : start + bptt]  # (1, t)
                output, state = model.recurrent(model.embedding(chunk), state)  # (1, t, H)
                pieces.append(output[0].float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(pieces).numpy()  # (N, H)
