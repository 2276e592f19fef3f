"""Known wrong versions of the sentiment exercise's functions (a06), recognised by name.

The catalogues work as those of :mod:`rnncore.grading.mistakes`: each :class:`Mistake`
computes, from a case's inputs, what a function with that one mistake returns, and the judge
names the mistakes that the student's output matches. The right versions are in
:mod:`rnncore.torch.pooling` and :mod:`rnncore.torch.sentence_classifier`; the variants below
are written apart from them, from the definitions, and return NumPy arrays (what
:func:`~rnncore.grading.mistakes.recognise` compares).

A case's ``arrays`` are the function's arguments (torch tensors, token-id lists, a model);
``extra["lengths"]`` is the list of true lengths.

One named mistake is an error, not a value: ``enforce_sorted=True`` on lengths that are not
sorted makes ``pack_padded_sequence`` raise, and the check names it from that error
(:data:`ENFORCE_SORTED`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.grading.mistakes import Mistake

__all__ = [
    "ENFORCE_SORTED",
    "PAD_BATCH_MISTAKES",
    "LAST_VALID_STATE_MISTAKES",
    "MASKED_MEAN_MISTAKES",
    "FINAL_STATES_BIDIRECTIONAL_MISTAKES",
    "MASKED_LOSS_MISTAKES",
    "CLASSIFY_MISTAKES",
]


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy()


def _lengths(extra) -> np.ndarray:
    return np.asarray(extra["lengths"], dtype=np.int64)  # (B,)


def _real_steps(extra, T) -> np.ndarray:
    """The mask (B, T): True on step t < lengths[b]."""
    return np.arange(T)[None, :] < _lengths(extra)[:, None]


# --- pad_batch ------------------------------------------------------------------------------


def _padded(arrays, side="right", pad=None, lengths_shift=0, sort_lengths=False) -> dict:
    sequences, pad_id = arrays["sequences"], arrays["pad_id"]
    pad = pad_id if pad is None else pad
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)  # (B,)
    ids = np.full((len(sequences), lengths.max()), pad, dtype=np.int64)  # (B, T)
    for b, sequence in enumerate(sequences):
        if side == "right":
            ids[b, : len(sequence)] = sequence
        else:
            ids[b, lengths.max() - len(sequence) :] = sequence
    lengths = np.sort(lengths)[::-1].copy() if sort_lengths else lengths + lengths_shift
    return {"ids": ids, "lengths": lengths}


PAD_BATCH_MISTAKES = (
    Mistake(
        "lengths off by one",
        "lengths matches the length of each sentence minus one (the index of its last token). "
        "Return the number of tokens, len(sentence): the last token is then at lengths - 1.",
        lambda arrays, extra: {"lengths": _padded(arrays, lengths_shift=-1)["lengths"]},
    ),
    Mistake(
        "padded on the left",
        "ids matches the sentences padded at the start. The course pads on the right: "
        "ids[b, :n] is sentence b and the padding comes after it, which is what "
        "pack_padded_sequence and the last valid step lengths - 1 assume.",
        lambda arrays, extra: {"ids": _padded(arrays, side="left")["ids"]},
    ),
    Mistake(
        "padding with 0 instead of pad_id",
        "ids has 0 after each shorter sentence; fill the padding with pad_id, the id the "
        "embedding's padding_idx expects (0 is a real token here).",
        lambda arrays, extra: {"ids": _padded(arrays, pad=0)["ids"]},
    ),
    Mistake(
        "lengths sorted, sentences not",
        "lengths is sorted from longest to shortest, but ids keeps the sentences in the order "
        "given: lengths[b] must be the length of ids[b]. Keep the given order "
        "(pack_padded_sequence(..., enforce_sorted=False) does any sorting itself).",
        lambda arrays, extra: {"lengths": _padded(arrays, sort_lengths=True)["lengths"]},
    ),
)


# --- last_valid_state -------------------------------------------------------------------------


def _at_steps(h: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``h[b, steps[b]]`` for every b; ValueError where a step is outside 0..T-1."""
    if steps.min() < 0 or steps.max() >= h.shape[1]:
        raise ValueError("this mistake indexes outside the sequence on these inputs")
    return h[np.arange(h.shape[0]), steps]  # (B, F)


def _h(arrays, name="h") -> np.ndarray:
    return _numpy(arrays[name])


LAST_VALID_STATE_MISTAKES = (
    Mistake(
        "h[:, -1] taken on padding",
        "last matches h[:, -1], the state at the last padded step: for every sentence shorter "
        "than T it has read padding after the sentence ended. Take each sentence's own last "
        "step, h[b, lengths[b] - 1] (index with torch.arange(B) and lengths - 1).",
        lambda arrays, extra: {"last": _h(arrays)[:, -1]},
    ),
    Mistake(
        "lengths off by one",
        "last matches h[b, lengths[b]], the step after the sentence's last token. A sentence "
        "of n tokens has its steps at 0..n-1: index with lengths - 1.",
        lambda arrays, extra: {"last": _at_steps(_h(arrays), _lengths(extra))},
    ),
    Mistake(
        "the first step taken",
        "last matches h[:, 0], the state after the first token only. Take the state after the "
        "last real token, h[b, lengths[b] - 1].",
        lambda arrays, extra: {"last": _h(arrays)[:, 0]},
    ),
)


# --- masked_mean ----------------------------------------------------------------------------


def _mean(arrays, extra, how) -> dict:
    h = _h(arrays)  # (B, T, H)
    mask = _real_steps(extra, h.shape[1])[:, :, None]  # (B, T, 1)
    lengths = _lengths(extra)[:, None]  # (B, 1)
    if how == "all steps":
        return {"mean": h.mean(axis=1)}
    if how == "divided by T":
        return {"mean": (h * mask).sum(axis=1) / h.shape[1]}
    if how == "padding summed":
        return {"mean": h.sum(axis=1) / lengths}
    raise KeyError(how)


MASKED_MEAN_MISTAKES = (
    Mistake(
        "padding included in the mean",
        "mean matches h.mean(dim=1), the mean over all T steps: the padding after each shorter "
        "sentence is averaged in. Sum h over the real steps only (multiply by the mask "
        "t < lengths[b]) and divide by lengths[b].",
        lambda arrays, extra: _mean(arrays, extra, "all steps"),
    ),
    Mistake(
        "divided by T instead of the length",
        "mean matches the sum over the real steps divided by T, the padded length: a short "
        "sentence's mean is shrunk towards 0. Divide by each sentence's own length.",
        lambda arrays, extra: _mean(arrays, extra, "divided by T"),
    ),
    Mistake(
        "padding included in the sum",
        "mean matches the sum over all T steps divided by lengths[b]: the padding is added in. "
        "Mask the padded steps before summing.",
        lambda arrays, extra: _mean(arrays, extra, "padding summed"),
    ),
)


# --- final_states_bidirectional ------------------------------------------------------------


def _final(arrays, extra, forward="last valid", backward="first") -> dict:
    out = _h(arrays, "out")  # (B, T, 2H)
    H = arrays["hidden_size"]
    last = _lengths(extra) - 1  # (B,)
    steps = {
        "last valid": last,
        "padded end": np.full_like(last, out.shape[1] - 1),
        "first": np.zeros_like(last),
        "one past": last + 1,
    }
    forward_half = _at_steps(out[:, :, :H], steps[forward])  # (B, H)
    backward_half = _at_steps(out[:, :, H:], steps[backward])  # (B, H)
    return {"final": np.concatenate([forward_half, backward_half], axis=1)}  # (B, 2H)


def _swapped_halves(arrays, extra) -> dict:
    final = _final(arrays, extra)["final"]
    H = arrays["hidden_size"]
    return {"final": np.concatenate([final[:, H:], final[:, :H]], axis=1)}


_DIRECTIONS = (
    "out[..., :H] is the forward direction, which has read the whole sentence at its last "
    "token, step lengths[b] - 1; out[..., H:] is the backward direction, which reads the "
    "sentence from its end and has read all of it at step 0."
)

FINAL_STATES_BIDIRECTIONAL_MISTAKES = (
    Mistake(
        "the backward state taken at the wrong end",
        "The backward half matches out[b, lengths[b] - 1, H:], where the backward direction "
        "has read one token only. " + _DIRECTIONS,
        lambda arrays, extra: _final(arrays, extra, backward="last valid"),
    ),
    Mistake(
        "the backward state taken at the padded end",
        "The backward half matches out[:, -1, H:], a padded step. " + _DIRECTIONS,
        lambda arrays, extra: _final(arrays, extra, backward="padded end"),
    ),
    Mistake(
        "h[:, -1] taken on padding",
        "The forward half matches out[:, -1, :H], the state at the last padded step. "
        + _DIRECTIONS,
        lambda arrays, extra: _final(arrays, extra, forward="padded end"),
    ),
    Mistake(
        "lengths off by one",
        "The forward half matches out[b, lengths[b], :H], one step after the sentence's last "
        "token. " + _DIRECTIONS,
        lambda arrays, extra: _final(arrays, extra, forward="one past"),
    ),
    Mistake(
        "forward and backward halves swapped",
        "final matches [backward, forward]. Put the forward direction's state first, as "
        "the layer's output and h_n do: final = [out[b, lengths[b] - 1, :H], out[b, 0, H:]].",
        _swapped_halves,
    ),
    Mistake(
        "the forward state taken at step 0",
        "final matches out[:, 0], where the forward direction has read one token only. "
        + _DIRECTIONS,
        lambda arrays, extra: _final(arrays, extra, forward="first"),
    ),
)


# --- masked_loss ------------------------------------------------------------------------------


def _loss(arrays, extra, how) -> dict:
    logits = arrays["logits"].detach().double()  # (B, T, C)
    targets = arrays["targets"]  # (B, T)
    per_step = functional.cross_entropy(
        logits.transpose(1, 2), targets, reduction="none"
    ).numpy()  # (B, T)
    mask = _real_steps(extra, per_step.shape[1])  # (B, T)
    lengths = _lengths(extra)
    if how == "unmasked":
        value = per_step.mean()
    elif how == "per sentence":
        value = np.mean((per_step * mask).sum(axis=1) / lengths)
    elif how == "sum":
        value = (per_step * mask).sum()
    elif how == "B*T":
        value = (per_step * mask).sum() / per_step.size
    else:
        raise KeyError(how)
    return {"loss": np.float64(value)}


MASKED_LOSS_MISTAKES = (
    Mistake(
        "padding not masked in the loss",
        "loss matches the mean cross-entropy over all B * T steps, padding included: the "
        "model is then also trained to predict whatever the targets hold after each "
        "sentence. Average the per-step losses (reduction='none') over the real steps only.",
        lambda arrays, extra: _loss(arrays, extra, "unmasked"),
    ),
    Mistake(
        "mean of the sentences' means",
        "loss matches the mean over sentences of each sentence's mean loss, which weighs a "
        "token of a short sentence more than one of a long sentence. Average over every real "
        "step of the batch at once: sum of the masked losses / sum of lengths.",
        lambda arrays, extra: _loss(arrays, extra, "per sentence"),
    ),
    Mistake(
        "summed instead of averaged",
        "loss matches the sum of the real steps' losses. Divide by the number of real steps, "
        "lengths.sum(), so that the loss does not grow with the batch.",
        lambda arrays, extra: _loss(arrays, extra, "sum"),
    ),
    Mistake(
        "divided by B * T",
        "loss matches the masked sum divided by B * T, the padded number of steps. Divide by "
        "the number of real steps, lengths.sum().",
        lambda arrays, extra: _loss(arrays, extra, "B*T"),
    ),
)


# --- classify ---------------------------------------------------------------------------------

ENFORCE_SORTED = Mistake(
    "enforce_sorted=True on unsorted lengths",
    "pack_padded_sequence(..., enforce_sorted=True), its default, needs lengths sorted from "
    "longest to shortest, and a batch of sentences is not. Pass enforce_sorted=False: PyTorch "
    "then sorts inside the packed sequence and pad_packed_sequence (and h_n) come back in "
    "your batch's order.",
    lambda arrays, extra: None,
)


def _run(model, ids, lengths, packed: bool) -> torch.Tensor:
    """The recurrent layer's outputs (B, T, dirs * H), packed or straight over the padding."""
    embedded = model.embedding(ids)  # (B, T, D)
    if not packed:
        return model.recurrent(embedded)[0]
    sequence = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(model.recurrent(sequence)[0], batch_first=True)
    return out  # (B, max length, dirs * H), zero after each sentence


def _pool(out, lengths, H, bidirectional, forward="last valid", backward="first"):
    rows = torch.arange(out.shape[0])
    steps = {"last valid": lengths - 1, "padded end": torch.full_like(lengths, out.shape[1] - 1)}
    steps["first"] = torch.zeros_like(lengths)
    forward_half = out[rows, steps[forward], :H]  # (B, H)
    if not bidirectional:
        return forward_half
    return torch.cat([forward_half, out[rows, steps[backward], H:]], dim=1)  # (B, 2H)


def _classify(arrays, packed=True, forward="last valid", backward="first", only_bi=False):
    model, ids, lengths = arrays["model"], arrays["ids"], arrays["lengths"]
    if only_bi and not model.bidirectional:
        return None
    with torch.no_grad():
        out = _run(model, ids, lengths, packed)
        pooled = _pool(out, lengths, model.hidden_size, model.bidirectional, forward, backward)
        return {"logits": _numpy(model.output(pooled))}


def _unsorted_order(arrays, extra) -> dict:
    right = _classify(arrays)["logits"]
    order = np.argsort(-_lengths(extra), kind="stable")  # longest first
    return {"logits": right[order]}


CLASSIFY_MISTAKES = (
    Mistake(
        "sorted by length, never put back in order",
        "Your logits are those of the sentences sorted from longest to shortest: row b no "
        "longer belongs to sentence b. Either undo the sort (index with the inverse "
        "permutation, torch.argsort(order)) or, simpler, let PyTorch do it: "
        "pack_padded_sequence(..., enforce_sorted=False) returns everything in your order.",
        _unsorted_order,
    ),
    Mistake(
        "not packed: the state after reading the padding",
        "Your logits match the layer run over the padded batch without packing, its state "
        "read at the last padded step (h[:, -1] or h_n): each shorter sentence's state has "
        "read the padding. Pack the embedded batch with pack_padded_sequence(embedded, "
        "lengths, batch_first=True, enforce_sorted=False) before the layer.",
        lambda arrays, extra: _classify(arrays, packed=False, forward="padded end"),
    ),
    Mistake(
        "h[:, -1] taken on padding",
        "Your logits match the unpacked output's last step, out[:, -1], which is zero for "
        "every sentence shorter than the batch (pad_packed_sequence fills the padding with "
        "zeros). Take each sentence's last real step (your last_valid_state), or h_n.",
        lambda arrays, extra: _classify(arrays, forward="padded end"),
    ),
    Mistake(
        "not packed: the backward direction reads the padding",
        "Your logits match a bidirectional layer run over the padded batch without packing: "
        "the right steps are read, but the backward direction started at the padded end and "
        "read the padding before each sentence. Pack the batch before the layer.",
        lambda arrays, extra: _classify(arrays, packed=False, only_bi=True),
    ),
    Mistake(
        "the backward state taken at the wrong end",
        "Your logits match a backward half read at each sentence's last token, where the "
        "backward direction has read one token only; read it at step 0 (your "
        "final_states_bidirectional), or use h_n[-2] and h_n[-1].",
        lambda arrays, extra: _classify(arrays, backward="last valid", only_bi=True),
    ),
)
