r"""Train a character language model with truncated BPTT over parallel streams.

One loop, written out in :func:`train_char_lm`, built on the pieces of
:mod:`rnncore.torch.char_lm`:

1. the training ids are cut into B streams (:func:`~rnncore.torch.char_lm.batchify`);
2. each step takes the next chunk of ``bptt`` characters of every stream
   (:func:`~rnncore.torch.char_lm.next_chunk`) and runs
   :func:`~rnncore.torch.char_lm.train_step` from the state the previous chunk left, detached:
   gradients flow back at most ``bptt`` steps, but the state carries information further;
3. at the end of the streams (one epoch) the state is reset and reading starts again;
4. the learning rate follows a linear warm-up and then a cosine decay,

   .. math::

       \eta_s = \eta \cdot \min\Big(1, \frac{s}{s_w}\Big) \cdot
       \Big(f + (1 - f) \, \frac{1 + \cos(\pi \, s / S)}{2}\Big),

   for step s of S, warm-up :math:`s_w` steps and final fraction f;
5. every ``evaluate_every`` steps, the held-out bits per character
   (:func:`~rnncore.torch.char_lm.bits_per_character`) are recorded.

Adam is the optimiser and gradients are clipped by their global norm. A tqdm bar shows the
progress (plain text, also in notebooks). Seed with :func:`rnncore.torch.train.seed_everything`
before building the model; pick the device with :func:`rnncore.torch.train.choose_device`.
Chapter 9 of the course, "Generating text" (``chapters/09_text_generation.md``), uses it.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import torch
from torch import nn
from tqdm import tqdm

from rnncore.torch.char_lm import batchify, bits_per_character, next_chunk, train_step

__all__ = ["TrainingHistory", "learning_rate_factor", "train_char_lm"]


class TrainingHistory(NamedTuple):
    """What :func:`train_char_lm` measured.

    Attributes
    ----------
    losses : list of float
        Training loss of every step, in nats per character (before that step's update).
    learning_rates : list of float
        The learning rate each step used.
    evaluation_steps : list of int
        Steps after which the held-out text was scored (0 = before training).
    evaluation_bpc : list of float
        Held-out bits per character at those steps.
    characters_per_step : int
        B * bptt, the characters each full step reads.
    training_seconds : float
        Wall-clock time of the training steps alone (evaluations excluded).
    """

    losses: list
    learning_rates: list
    evaluation_steps: list
    evaluation_bpc: list
    characters_per_step: int
    training_seconds: float


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def learning_rate_factor(
    step: int, steps: int, warmup_steps: int = 0, final_fraction: float = 0.0
) -> float:
    r"""The multiplier of the base learning rate at ``step`` (0-based) of ``steps``.

    .. math::

        \min\Big(1, \frac{s + 1}{s_w}\Big) \cdot
        \Big(f + (1 - f) \, \frac{1 + \cos(\pi \, s / S)}{2}\Big)

    Parameters
    ----------
    step : int
        0 <= step < steps.
    steps : int
        S, the length of the schedule.
    warmup_steps : int
        :math:`s_w`, steps of linear warm-up (0: none).
    final_fraction : float in [0, 1]
        f, where the cosine ends.

    Returns
    -------
    factor : float in (0, 1]
    """
    _check_positive_int("steps", steps)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise ValueError(f"step must be an integer in 0 .. steps - 1 = 0 .. {steps - 1}")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be a non-negative integer, got {warmup_steps!r}")
    if not 0.0 <= final_fraction <= 1.0:
        raise ValueError(f"final_fraction must lie in [0, 1], got {final_fraction!r}")
    warmup = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    cosine = 0.5 * (1.0 + math.cos(math.pi * step / steps))
    return warmup * (final_fraction + (1.0 - final_fraction) * cosine)


def train_char_lm(
    model: nn.Module,
    train_ids,
    *,
    batch_size: int,
    bptt: int,
    steps: int,
    learning_rate: float,
    device,
    max_norm: float | None = 1.0,
    warmup_steps: int = 0,
    final_fraction: float = 0.0,
    validation_ids=None,
    evaluate_every: int | None = None,
    evaluation_bptt: int = 256,
    progress: bool = True,
    description: str = "training",
) -> TrainingHistory:
    """Train ``model`` on ``train_ids`` for ``steps`` steps of truncated BPTT.

    Parameters
    ----------
    model : CharLanguageModel or alike
        ``model(tokens (B, t), state) -> (logits (B, t, V), state)``; moved to ``device`` and
        put in training mode (its mode is training mode afterwards).
    train_ids : array-like of int of shape (N,), or 1-D integer tensor
    batch_size : int
        B, the number of parallel streams.
    bptt : int
        Characters per chunk: how far back gradients flow.
    steps : int
        Optimiser steps (chunks); after the last chunk of the streams the state is reset and
        the streams are read again.
    learning_rate : float
        Adam's base learning rate, shaped by :func:`learning_rate_factor`.
    device : str or torch.device
    max_norm : float or None
        Clip the global gradient norm to this value.
    warmup_steps, final_fraction
        Of the schedule (:func:`learning_rate_factor`).
    validation_ids : array-like of int of shape (M,), optional
        Held-out ids, scored before training and every ``evaluate_every`` steps (and after the
        last step).
    evaluate_every : int, optional
        Required with ``validation_ids``.
    evaluation_bptt : int
        Chunk length of the scoring (speed only).
    progress : bool
        Show a tqdm bar.
    description : str
        The bar's label.

    Returns
    -------
    history : TrainingHistory
    """
    _check_positive_int("steps", steps)
    _check_positive_int("bptt", bptt)
    if not (isinstance(learning_rate, int | float) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if (validation_ids is None) != (evaluate_every is None):
        raise ValueError("validation_ids and evaluate_every must be given together")
    if evaluate_every is not None:
        _check_positive_int("evaluate_every", evaluate_every)
    device = torch.device(device)
    model.to(device)
    model.train()
    streams = batchify(train_ids, batch_size).to(device)  # (B, N)
    N = streams.shape[1]
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    history = TrainingHistory([], [], [], [], batch_size * bptt, 0.0)

    def evaluate(step: int) -> None:
        history.evaluation_steps.append(step)
        history.evaluation_bpc.append(bits_per_character(model, validation_ids, evaluation_bptt))

    if validation_ids is not None:
        evaluate(0)
    start, state, seconds = 0, None, 0.0
    bar = tqdm(total=steps, disable=not progress, desc=description)
    try:
        for step in range(steps):
            began = time.perf_counter()
            rate = learning_rate * learning_rate_factor(step, steps, warmup_steps, final_fraction)
            for group in optimizer.param_groups:
                group["lr"] = rate
            inputs, targets = next_chunk(streams, start, bptt)  # (B, t), (B, t)
            loss, state = train_step(model, state, inputs, targets, optimizer, max_norm)
            start += inputs.shape[1]
            if start > N - 2:  # the end of the streams: start again, from a blank state
                start, state = 0, None
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds += time.perf_counter() - began
            history.losses.append(loss)
            history.learning_rates.append(rate)
            bar.update(1)
            if step % 10 == 0 or step == steps - 1:
                bar.set_postfix(loss=f"{loss:.3f}")
            if evaluate_every is not None and (
                (step + 1) % evaluate_every == 0 or step == steps - 1
            ):
                evaluate(step + 1)
    finally:
        bar.close()
    return history._replace(training_seconds=seconds)
