r"""Known wrong versions of the character language model's functions (a05), recognised by name.

The catalogues work as those of :mod:`rnncore.grading.mistakes`: each :class:`Mistake`
computes, from a case's inputs, what a function with that one mistake returns, and the judge
names the mistakes that the student's output matches. The right versions are in
:mod:`rnncore.torch.char_lm`; the variants below are written apart from it, with switches for
the mistakes, and return NumPy arrays (what :func:`~rnncore.grading.mistakes.recognise`
compares).

Two named mistakes are about structure, not values, and the checks recognise them from the
output itself: "state not detached" (a returned state that still has a ``grad_fn``) and, for
:func:`~rnncore.torch.char_lm.detach_state`, "state reset every chunk" (zeros returned).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from rnncore.grading.mistakes import Mistake

__all__ = [
    "STATE_NOT_DETACHED",
    "state_parts",
    "flat_parameters",
    "batchify_variant",
    "next_chunk_variant",
    "train_step_variant",
    "bits_per_character_variant",
    "BATCHIFY_MISTAKES",
    "NEXT_CHUNK_MISTAKES",
    "DETACH_STATE_MISTAKES",
    "TRAIN_STEP_MISTAKES",
    "SAMPLE_MISTAKES",
    "BITS_PER_CHARACTER_MISTAKES",
]

STATE_NOT_DETACHED = Mistake(
    "state not detached (the graph grows across chunks)",
    "The state you return still belongs to the graph of this chunk (it has a grad_fn), so "
    "the next chunk's backward pass would run back through every earlier chunk, and fails "
    "once their graphs are freed. Return state.detach() (for an LSTM, a tuple of h.detach() "
    "and c.detach()): the values carry over, the history does not.",
    lambda arrays, extra: None,
)


def state_parts(state) -> tuple:
    """The tensors of a state: () for None, (h,) for a tensor, (h, c) for a tuple."""
    if state is None:
        return ()
    if isinstance(state, torch.Tensor):
        return (state,)
    return tuple(state)


def state_array(state) -> np.ndarray:
    """The values of a state as one float64 array: h, or h and c stacked on a new first axis."""
    parts = state_parts(state)
    return np.stack([part.detach().cpu().double().numpy() for part in parts])


def flat_parameters(model: nn.Module) -> np.ndarray:
    """Every parameter of ``model``, flattened and concatenated, as float64."""
    return np.concatenate([p.detach().cpu().double().numpy().ravel() for p in model.parameters()])


# --- batchify -----------------------------------------------------------------------------


def batchify_variant(ids, batch_size: int, order: str = "right", keep: str = "head"):
    """Streams (B, N) cut in ``order`` ("right", "interleaved"), keeping the ``keep`` of ids."""
    ids = np.asarray(ids, dtype=np.int64)
    N = ids.size // batch_size
    used = ids[: batch_size * N] if keep == "head" else ids[ids.size - batch_size * N :]
    if order == "interleaved":
        return used.reshape(N, batch_size).T  # (B, N): stream b holds ids b, b + B, b + 2B, ...
    return used.reshape(batch_size, N)  # (B, N)


BATCHIFY_MISTAKES = (
    Mistake(
        "streams cut in the wrong order",
        "Your streams take every B-th id (stream b holds ids b, b + B, b + 2B, ...), so "
        "consecutive characters sit in different streams and no stream reads the text in "
        "order. Stream b must be the b-th consecutive piece: ids[b * N : (b + 1) * N], that "
        "is ids[: B * N].reshape(B, N), not reshape(N, B).T.",
        lambda arrays, extra: {
            "streams": batchify_variant(arrays["ids"], arrays["batch_size"], "interleaved")
        },
    ),
    Mistake(
        "the head dropped instead of the tail",
        "Drop the last len(ids) mod B ids (the tail), not the first ones.",
        lambda arrays, extra: {
            "streams": batchify_variant(arrays["ids"], arrays["batch_size"], keep="tail")
        },
    ),
)


# --- next_chunk ---------------------------------------------------------------------------


def next_chunk_variant(streams, start: int, bptt: int, shift: int = 1):
    """(inputs, targets) with targets ``shift`` columns after the inputs (1 is right)."""
    streams = np.asarray(streams)
    t = min(bptt, streams.shape[1] - 1 - start)
    inputs = streams[:, start : start + t]  # (B, t)
    if start + shift < 0:
        raise ValueError("no column before the first one")
    targets = streams[:, start + shift : start + shift + t]  # (B, t)
    return inputs, targets


NEXT_CHUNK_MISTAKES = (
    Mistake(
        "targets not shifted",
        "Your targets are the inputs themselves, so the model would learn to copy the "
        "character it reads. The target of inputs[:, i] is the next character: "
        "streams[:, start + 1 : start + 1 + T].",
        lambda arrays, extra: {
            "targets": next_chunk_variant(
                arrays["streams"], arrays["start"], arrays["bptt"], shift=0
            )[1]
        },
    ),
    Mistake(
        "targets shifted the wrong way",
        "Your targets are the characters *before* the inputs. The target of inputs[:, i] is "
        "the next character: streams[:, start + 1 : start + 1 + T].",
        lambda arrays, extra: {
            "targets": next_chunk_variant(
                arrays["streams"], arrays["start"], arrays["bptt"], shift=-1
            )[1]
        },
    ),
)


# --- detach_state -------------------------------------------------------------------------

DETACH_STATE_MISTAKES = (
    Mistake(
        "state reset every chunk",
        "You return zeros, so every chunk starts from a blank state and the model can never "
        "use what it read in earlier chunks. Keep the values; cut only the graph: "
        "state.detach().",
        lambda arrays, extra: {"state": np.zeros_like(extra["state_values"])},
    ),
)


# --- train_step ---------------------------------------------------------------------------


def train_step_variant(
    model,
    state,
    inputs,
    targets,
    optimizer,
    max_norm,
    *,
    clip: bool = True,
    zero: bool = True,
    step: bool = True,
    reset: bool = False,
    axis: int = -1,
    reduction: str = "mean",
    targets_from_inputs: bool = False,
) -> dict:
    """One training step with switches for the mistakes; returns NumPy ``{loss, state, params}``.

    ``axis`` is the axis of the (B, t, V) logits that the softmax normalises (-1 is right).
    """
    if zero:
        optimizer.zero_grad(set_to_none=True)
    logits, new_state = model(inputs, None if reset else state)  # (B, t, V)
    wanted = inputs if targets_from_inputs else targets  # (B, t)
    log_probs = torch.log_softmax(logits, dim=axis)  # (B, t, V)
    picked = log_probs.gather(-1, wanted[..., None])[..., 0]  # (B, t)
    loss = -(picked.mean() if reduction == "mean" else picked.sum())
    loss.backward()
    if clip and max_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    if step:
        optimizer.step()
    return {
        "loss": np.array(float(loss.detach())),
        "state": state_array(new_state),
        "parameters": flat_parameters(model),
    }


def _train_step_mistake(name: str, explanation: str, outputs: tuple, **switches) -> Mistake:
    def predict(arrays, extra):
        if switches.get("reset") and extra["state_is_none"]:
            return None  # invisible: the state is already empty
        if not switches.get("clip", True) and not extra["clipping_active"]:
            return None
        variant = train_step_variant(*extra["build"]().values(), **switches)
        return {name: variant[name] for name in outputs}

    return Mistake(name, explanation, predict)


TRAIN_STEP_MISTAKES = (
    _train_step_mistake(
        "state reset every chunk",
        "Your model ran from a zero state instead of the state passed in, so it never sees "
        "what came before the chunk. Call model(inputs, state) with the given state.",
        ("loss", "state"),
        reset=True,
    ),
    _train_step_mistake(
        "gradients not clipped",
        "The update is the unclipped gradient. Call torch.nn.utils.clip_grad_norm_("
        "model.parameters(), max_norm) after loss.backward() and before optimizer.step().",
        ("parameters",),
        clip=False,
    ),
    _train_step_mistake(
        "gradients not zeroed before the backward pass",
        "The gradients of earlier steps were still in .grad and your backward pass added to "
        "them. Call optimizer.zero_grad() before loss.backward().",
        ("parameters",),
        zero=False,
    ),
    _train_step_mistake(
        "no optimizer step",
        "The parameters did not change. Call optimizer.step() after clipping.",
        ("parameters",),
        step=False,
    ),
    _train_step_mistake(
        "softmax over the wrong axis",
        "Your loss normalises the scores over the time axis (dim=1) instead of over the V "
        "characters (the last axis). torch.nn.functional.cross_entropy(logits.reshape(-1, V), "
        "targets.reshape(-1)) does it right.",
        ("loss",),
        axis=1,
    ),
    _train_step_mistake(
        "sum instead of mean",
        "Your loss is the sum over the B * T predictions; return their mean (the default "
        "reduction of cross_entropy).",
        ("loss",),
        reduction="sum",
    ),
    _train_step_mistake(
        "targets not shifted",
        "Your loss compares each input with itself; compare the logits with targets.",
        ("loss",),
        targets_from_inputs=True,
    ),
)


# --- sample ---------------------------------------------------------------------------------


def _tempered(logits: np.ndarray, temperature: float, keep: np.ndarray | None = None):
    """softmax(logits / temperature) over the entries in ``keep`` (all if None), as float64."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature  # (V,)
    if keep is not None:
        scaled = np.where(keep, scaled, -np.inf)
    scaled = scaled - scaled.max()
    weights = np.exp(scaled)  # (V,)
    return weights / weights.sum()


def top_k_mask(logits: np.ndarray, top_k: int | None, largest: bool = True) -> np.ndarray | None:
    """True for the k largest (or smallest) entries; None when ``top_k`` is None."""
    if top_k is None:
        return None
    order = np.argsort(-np.asarray(logits) if largest else np.asarray(logits), kind="stable")
    keep = np.zeros(len(logits), dtype=bool)
    keep[order[:top_k]] = True
    return keep


def sample_distribution(logits, temperature, top_k, variant: str = "right") -> np.ndarray:
    """The distribution (V,) that ``sample`` draws from, or the one a mistake draws from."""
    logits = np.asarray(logits, dtype=np.float64)
    if variant == "multiplied":
        return _tempered(logits * temperature, 1.0, top_k_mask(logits, top_k))
    if variant == "smallest":
        return _tempered(logits, temperature, top_k_mask(logits, top_k, largest=False))
    if variant == "argmax":
        point = np.zeros_like(logits)
        point[int(np.argmax(logits))] = 1.0
        return point
    if variant == "uniform":
        return np.full_like(logits, 1.0 / logits.size)
    if variant == "no_top_k":
        return _tempered(logits, temperature)
    return _tempered(logits, temperature, top_k_mask(logits, top_k))


def _sample_mistake(name: str, explanation: str, variant: str) -> Mistake:
    def predict(arrays, extra):
        if "logits" not in extra:
            return None
        distribution = sample_distribution(
            extra["logits"], arrays["temperature"], arrays["top_k"], variant
        )
        return {"frequencies": distribution}

    return Mistake(name, explanation, predict)


SAMPLE_MISTAKES = (
    _sample_mistake(
        "temperature multiplied instead of divided",
        "You scaled the scores by temperature * logits; divide instead: softmax(logits / "
        "temperature). A temperature above 1 must flatten the distribution, below 1 sharpen it.",
        "multiplied",
    ),
    _sample_mistake(
        "top-k keeping the smallest",
        "You kept the k lowest scores. Keep the k highest: torch.topk(logits, k) (largest=True "
        "is the default), and set every other score to -inf before the softmax.",
        "smallest",
    ),
    _sample_mistake(
        "argmax instead of sampling",
        "You always take the most likely character, whatever the temperature. Draw from the "
        "distribution instead: torch.multinomial(probabilities, 1, generator=generator).",
        "argmax",
    ),
    _sample_mistake(
        "softmax over the wrong axis",
        "Your probabilities are all equal: the softmax ran over an axis of length 1 (the "
        "batch axis of the (1, V) scores), where every entry becomes 1. Take the softmax over "
        "the V characters, the last axis: torch.softmax(scores, dim=-1).",
        "uniform",
    ),
    _sample_mistake(
        "top-k not applied",
        "Characters outside the k highest scores were drawn. Set every score below the k-th "
        "largest to -inf before the softmax.",
        "no_top_k",
    ),
)


# --- bits_per_character ------------------------------------------------------------------


def bits_per_character_variant(
    model,
    ids,
    bptt: int,
    *,
    reset: bool = False,
    axis: int = -1,
    shift: int = 1,
    log_base: float = 2.0,
    chunk_mean: bool = False,
) -> float:
    """Bits per character with switches for the mistakes (``shift=0``: targets not shifted)."""
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))  # (N,)
    N = ids.shape[0]
    state, total, chunk_means, counted = None, 0.0, [], 0
    with torch.no_grad():
        for start in range(0, N - 1, bptt):
            t = min(bptt, N - 1 - start)
            inputs = ids[None, start : start + t]  # (1, t)
            targets = ids[None, start + shift : start + shift + t]  # (1, t)
            logits, state = model(inputs, None if reset else state)  # (1, t, V)
            log_probs = torch.log_softmax(logits, dim=axis)  # (1, t, V)
            nats = -float(log_probs.gather(-1, targets[..., None]).sum())
            total += nats
            counted += t
            chunk_means.append(nats / t)
    mean = float(np.mean(chunk_means)) if chunk_mean else total / counted
    return mean / math.log(log_base)


def _bpc_mistake(name: str, explanation: str, **switches) -> Mistake:
    def predict(arrays, extra):
        model = extra["build"]()["model"]
        value = bits_per_character_variant(model, arrays["ids"], arrays["bptt"], **switches)
        return {"bpc": np.array(value)}

    return Mistake(name, explanation, predict)


BITS_PER_CHARACTER_MISTAKES = (
    _bpc_mistake(
        "natural log reported as bits",
        "Your number is the mean cross-entropy in nats (natural log). Divide it by ln 2 "
        "(math.log(2)) to get bits.",
        log_base=math.e,
    ),
    _bpc_mistake(
        "state reset every chunk",
        "Each chunk started from a zero state, so the model forgot everything before it. "
        "Carry the state from one chunk to the next: logits, state = model(inputs, state).",
        reset=True,
    ),
    _bpc_mistake(
        "softmax over the wrong axis",
        "Your log-probabilities were normalised over the time axis (dim=1), not over the V "
        "characters (the last axis).",
        axis=1,
    ),
    _bpc_mistake(
        "softmax over the wrong axis",
        "Your log-probabilities were normalised over the batch axis (dim=0, of length 1, so "
        "every log-probability is 0), not over the V characters (the last axis).",
        axis=0,
    ),
    _bpc_mistake(
        "targets not shifted",
        "You scored each character as a prediction of itself. The target of ids[n] is ids[n + 1].",
        shift=0,
    ),
    _bpc_mistake(
        "mean over chunks instead of over characters",
        "You averaged the chunks' means, so the short last chunk counts as much as a full "
        "one. Sum the cross-entropy over all N - 1 predictions, then divide by N - 1.",
        chunk_mean=True,
    ),
)
