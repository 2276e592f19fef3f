"""One explicit training loop, with seeding and device choice.

Everything the loop does is written out in :func:`train`: move a batch to the device, compute
the loss, backpropagate, measure (and optionally clip) the gradient norm, take an optimiser
step, record the numbers. There are no callbacks, schedulers or hidden state.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

# Plain text bar, also in notebooks: a widget bar would make the built website load widget
# scripts from a CDN.
from tqdm import tqdm

__all__ = ["seed_everything", "choose_device", "move_to_device", "gradient_norm", "train"]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's global and torch's (CPU and every GPU) random generators.

    Parameters
    ----------
    seed : int
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - code outside rnncore may still use the global one
    torch.manual_seed(seed)  # seeds every CUDA device too


def choose_device(prefer: str = "cuda") -> torch.device:
    """The device to run on: a CUDA GPU if asked for and present, else the CPU.

    Parameters
    ----------
    prefer : {"cuda", "cpu"}
        "cuda" falls back to the CPU when no GPU is present; "cpu" always gives the CPU.

    Returns
    -------
    device : torch.device
    """
    if prefer not in ("cuda", "cpu"):
        raise ValueError(f"prefer must be 'cuda' or 'cpu', got {prefer!r}")
    if prefer == "cuda" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def move_to_device(value, device):
    """Move a tensor, or the tensors inside a tuple, list or dict, to ``device``.

    Anything else (an int, a string) is returned unchanged.
    """
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple | list):
        return type(value)(move_to_device(item, device) for item in value)
    if isinstance(value, dict):
        return {key: move_to_device(item, device) for key, item in value.items()}
    return value


def gradient_norm(parameters: Iterable[torch.Tensor]) -> float:
    r"""The global L2 norm of the gradients of ``parameters`` (those that have one).

    .. math::

        \lVert g \rVert = \sqrt{\textstyle\sum_p \sum_i g_{p,i}^2}
    """
    norms = [p.grad.detach().norm() for p in parameters if p.grad is not None]
    if not norms:
        return 0.0
    return float(torch.stack(norms).norm())


def train(
    model: nn.Module,
    batches: Iterable,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    *,
    steps: int,
    device,
    clip_norm: float | None = None,
    progress: bool = True,
    log_every: int = 10,
) -> list[dict]:
    """Train ``model`` for ``steps`` optimiser steps and return the history.

    Each step::

        inputs, targets = next(batches)        # moved to device
        loss = loss_fn(model, inputs, targets)
        optimizer.zero_grad(); loss.backward()
        grad_norm = norm of all gradients      # before clipping
        if clip_norm: rescale gradients so that their norm is at most clip_norm
        optimizer.step()

    Parameters
    ----------
    model : nn.Module
        Moved to ``device`` and put in training mode first. ``Module.to`` keeps the same
        Parameter objects, so an optimiser built before the call still holds them.
    batches : iterable of (inputs, targets)
        Consumed one pair per step; it must yield at least ``steps`` pairs (an endless
        generator, or ``itertools.cycle(list_of_batches)``). Tensors inside, even in tuples,
        are moved to ``device``.
    loss_fn : callable
        ``loss_fn(model, inputs, targets) -> scalar Tensor``: it calls the model itself, so
        models with different outputs (logits, (logits, state)) need no adapter.
    optimizer : torch.optim.Optimizer
    steps : int
        Number of optimiser steps.
    device : str or torch.device
    clip_norm : float, optional
        Clip the global gradient norm to this value.
    progress : bool
        Show a tqdm progress bar.
    log_every : int
        Refresh the bar's loss every this many steps (the history records every step).

    Returns
    -------
    history : list of dict
        One dict per step: ``{"step": int (1-based), "loss": float, "grad_norm": float}``,
        the gradient norm measured before clipping.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(log_every, int) or isinstance(log_every, bool) or log_every < 1:
        raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be positive or None, got {clip_norm!r}")
    device = torch.device(device)
    model.to(device)
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    batch_iterator = iter(batches)
    history = []
    bar = tqdm(total=steps, disable=not progress, desc="training")
    try:
        for step in range(1, steps + 1):
            try:
                inputs, targets = next(batch_iterator)
            except StopIteration:
                raise ValueError(
                    f"batches ran out after {step - 1} steps but steps={steps}: pass an endless "
                    "generator or itertools.cycle(list_of_batches)"
                ) from None
            inputs = move_to_device(inputs, device)
            targets = move_to_device(targets, device)
            loss = loss_fn(model, inputs, targets)
            if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
                raise ValueError("loss_fn must return a scalar tensor")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_norm is not None:
                # clip_grad_norm_ returns the norm measured before it rescales.
                grad_norm = float(torch.nn.utils.clip_grad_norm_(parameters, clip_norm))
            else:
                grad_norm = gradient_norm(parameters)
            optimizer.step()
            history.append({"step": step, "loss": float(loss.detach()), "grad_norm": grad_norm})
            bar.update(1)
            if step % log_every == 0 or step == steps:
                bar.set_postfix(loss=f"{history[-1]['loss']:.4f}", grad_norm=f"{grad_norm:.3g}")
    finally:
        bar.close()
    return history
