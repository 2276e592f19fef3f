"""The character language model's checks (a05) pass honest students and name each mistake.

The "students" below are written the way students write them, with a switch per known mistake,
not derived from rnncore.torch.char_lm (calling it fails every check), so that a check cannot
pass them by comparing the reference with itself.
"""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from rnncore.grading import (
    check_batchify,
    check_bits_per_character,
    check_char_lm_training,
    check_detach_state,
    check_next_chunk,
    check_sample,
    check_train_step,
)
from rnncore.torch import char_lm

# --- honest students, with switches for the mistakes --------------------------------------


def batchify_with(order="right", keep="head"):
    def batchify(ids, batch_size):
        ids = torch.as_tensor(ids, dtype=torch.long)
        N = len(ids) // batch_size
        used = ids[: batch_size * N] if keep == "head" else ids[len(ids) - batch_size * N :]
        if order == "interleaved":
            return used.reshape(N, batch_size).T.contiguous()
        return used.reshape(batch_size, N)

    return batchify


def next_chunk_with(shift=1, shorten=True, dtype=torch.long):
    def next_chunk(streams, start, bptt):
        N = streams.shape[1]
        t = min(bptt, N - 1 - start) if shorten else bptt
        inputs = streams[:, start : start + t]
        targets = streams[:, start + shift : start + shift + t]
        return inputs.to(dtype), targets.to(dtype)

    return next_chunk


def detach_state_with(mode="detach"):
    def detach_state(state):
        if state is None:
            return None
        change = {
            "detach": lambda h: h.detach(),
            "clone": lambda h: h.clone().detach(),
            "none": lambda h: h,
            "zeros": lambda h: torch.zeros_like(h).detach(),
            "in_place": lambda h: h.detach_(),
        }[mode]
        if isinstance(state, tuple):
            return tuple(change(h) for h in state)
        return change(state)

    return detach_state


def train_step_with(
    reset=False,
    detach=True,
    clip=True,
    zero=True,
    step=True,
    axis=-1,
    reduction="mean",
    targets_from_inputs=False,
    item=True,
):
    def train_step(model, state, inputs, targets, optimizer, max_norm):
        if zero:
            optimizer.zero_grad()
        logits, state = model(inputs, None if reset else state)
        wanted = inputs if targets_from_inputs else targets
        if axis == -1:
            V = logits.shape[-1]
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, V), wanted.reshape(-1), reduction=reduction
            )
        else:
            log_probs = torch.log_softmax(logits, dim=axis)
            loss = -log_probs.gather(-1, wanted[..., None]).mean()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        if step:
            optimizer.step()
        if detach:
            state = tuple(h.detach() for h in state) if isinstance(state, tuple) else state.detach()
        return (loss.item() if item else loss), state

    return train_step


def sample_with(variant="right"):
    def sample(model, prefix, length, temperature=1.0, top_k=None, generator=None):
        model.eval()
        ids = []
        with torch.no_grad():
            tokens = torch.as_tensor(prefix, dtype=torch.long)[None]  # (1, P)
            if variant == "last_only":
                tokens = tokens[:, -1:]
            logits, state = model(tokens)
            for _ in range(length):
                scores = logits[:, -1]  # (1, V)
                if variant == "multiplied":
                    scores = scores * temperature
                else:
                    scores = scores / temperature
                if top_k is not None and variant != "no_top_k":
                    kept = torch.topk(scores, top_k, largest=variant != "smallest")
                    masked = torch.full_like(scores, float("-inf"))
                    scores = masked.scatter(1, kept.indices, kept.values)
                if variant == "argmax":
                    next_id = scores.argmax(dim=-1)
                else:
                    dim = 0 if variant == "wrong_axis" else -1
                    probabilities = torch.softmax(scores, dim=dim)
                    drawn_with = None if variant == "no_generator" else generator
                    next_id = torch.multinomial(probabilities, 1, generator=drawn_with)[:, 0]
                ids.append(int(next_id))
                fed_state = None if variant == "no_state" else state
                logits, state = model(next_id[:, None], fed_state)
        model.train()
        if variant == "with_prefix":
            return list(torch.as_tensor(prefix).tolist()) + ids
        if variant == "tensor":
            return torch.tensor(ids)
        return ids

    return sample


LN_2 = math.log(2)


def bits_per_character_with(reset=False, log=LN_2, axis=-1, shift=1, chunk_mean=False):
    def bits_per_character(model, ids, bptt):
        ids = torch.as_tensor(ids, dtype=torch.long)
        N = len(ids)
        state, total, means = None, 0.0, []
        with torch.no_grad():
            for start in range(0, N - 1, bptt):
                t = min(bptt, N - 1 - start)
                inputs = ids[None, start : start + t]
                targets = ids[None, start + shift : start + shift + t]
                logits, state = model(inputs, None if reset else state)
                log_probs = torch.log_softmax(logits, dim=axis)
                nats = -log_probs.gather(-1, targets[..., None]).sum().item()
                total += nats
                means.append(nats / t)
        value = sum(means) / len(means) if chunk_mean else total / (N - 1)
        return value / log

    return bits_per_character


HONEST = {
    check_batchify: batchify_with(),
    check_next_chunk: next_chunk_with(),
    check_detach_state: detach_state_with(),
    check_train_step: train_step_with(),
    check_sample: sample_with(),
    check_bits_per_character: bits_per_character_with(),
}
CASE_SETS = {
    check_batchify: ["shapes", "visible", "hidden", "no_mutation"],
    check_next_chunk: ["shapes", "visible", "hidden", "no_mutation"],
    check_detach_state: ["visible", "hidden", "no_mutation"],
    check_train_step: ["shapes", "visible", "hidden", "no_mutation"],
    check_sample: ["shapes", "visible", "temperature", "top_k", "hidden", "no_mutation"],
    check_bits_per_character: ["visible", "hidden", "no_mutation"],
}


@pytest.mark.parametrize(
    ("check", "cases"),
    [(check, cases) for check, sets in CASE_SETS.items() for cases in sets],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_honest_students_pass(check, cases):
    check(HONEST[check], cases=cases)


def test_a_clone_of_the_state_also_passes():
    check_detach_state(detach_state_with("clone"), cases="hidden")


# --- each known mistake fails with its own message ------------------------------------------

MISTAKES = [
    # (check, student, case set, text the message must contain)
    (check_batchify, batchify_with("interleaved"), "visible", "streams cut in the wrong order"),
    (check_batchify, batchify_with(keep="tail"), "visible", "the head dropped instead of"),
    (check_next_chunk, next_chunk_with(shift=0), "visible", "Known mistake: targets not shifted"),
    (check_next_chunk, next_chunk_with(shift=-1), "visible", "targets shifted the wrong way"),
    (check_next_chunk, next_chunk_with(shorten=False), "visible", "T = min(bptt, N - 1 - start)"),
    (check_next_chunk, next_chunk_with(dtype=torch.float32), "shapes", "must hold int64 ids"),
    (check_detach_state, detach_state_with("none"), "visible", "Known mistake: state not detached"),
    (check_detach_state, detach_state_with("zeros"), "visible", "Known mistake: state reset every"),
    (
        check_detach_state,
        detach_state_with("in_place"),
        "no_mutation",
        "it modifies its argument state in place",
    ),
    (check_train_step, train_step_with(detach=False), "shapes", "Known mistake: state not detach"),
    (check_train_step, train_step_with(reset=True), "visible", "Known mistake: state reset every"),
    (check_train_step, train_step_with(clip=False), "visible", "Known mistake: gradients not clip"),
    (check_train_step, train_step_with(zero=False), "visible", "gradients not zeroed before"),
    (check_train_step, train_step_with(step=False), "visible", "Known mistake: no optimizer step"),
    (check_train_step, train_step_with(axis=1), "visible", "Known mistake: softmax over the wrong"),
    (check_train_step, train_step_with(reduction="sum"), "visible", "Known mistake: sum instead"),
    (
        check_train_step,
        train_step_with(targets_from_inputs=True),
        "visible",
        "Known mistake: targets not shifted",
    ),
    (check_train_step, train_step_with(item=False), "shapes", "return loss.item()"),
    (check_sample, sample_with("multiplied"), "temperature", "temperature multiplied instead of"),
    (check_sample, sample_with("smallest"), "top_k", "Known mistake: top-k keeping the smallest"),
    (check_sample, sample_with("argmax"), "temperature", "Known mistake: argmax instead of samp"),
    (check_sample, sample_with("wrong_axis"), "temperature", "softmax over the wrong axis"),
    (check_sample, sample_with("no_top_k"), "top_k", "Known mistake: top-k not applied"),
    (check_sample, sample_with("no_state"), "visible", "the ids differ from the expected ones"),
    (check_sample, sample_with("last_only"), "visible", "the ids differ from the expected ones"),
    (check_sample, sample_with("with_prefix"), "shapes", "the prefix is included"),
    (check_sample, sample_with("tensor"), "shapes", "return ids.tolist()"),
    (check_sample, sample_with("no_generator"), "hidden", "generators of the same seed"),
    (
        check_bits_per_character,
        bits_per_character_with(log=1.0),
        "visible",
        "Known mistake: natural log reported as bits",
    ),
    (
        check_bits_per_character,
        bits_per_character_with(reset=True),
        "visible",
        "Known mistake: state reset every chunk",
    ),
    (
        check_bits_per_character,
        bits_per_character_with(axis=1),
        "visible",
        "Known mistake: softmax over the wrong axis",
    ),
    (
        check_bits_per_character,
        bits_per_character_with(axis=0),
        "visible",
        "Known mistake: softmax over the wrong axis",
    ),
    (
        check_bits_per_character,
        bits_per_character_with(shift=0),
        "visible",
        "Known mistake: targets not shifted",
    ),
    (
        check_bits_per_character,
        bits_per_character_with(chunk_mean=True),
        "visible",
        "Known mistake: mean over chunks instead of over characters",
    ),
]


@pytest.mark.parametrize(
    ("check", "student", "cases", "message"),
    MISTAKES,
    ids=[f"{check.__name__}-{message[:40]}" for check, _, _, message in MISTAKES],
)
def test_each_mistake_fails_with_its_message(check, student, cases, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(student, cases=cases)


def test_a_mistake_is_named_once_and_the_seed_replays_the_inputs():
    with pytest.raises(AssertionError) as failure:
        check_batchify(batchify_with("interleaved"), cases="visible", seed=123)
    text = str(failure.value)
    assert text.count("Known mistake") == 1
    assert "seed=123" in text
    with pytest.raises(AssertionError) as again:
        check_batchify(batchify_with("interleaved"), cases="visible", seed=123)
    assert str(again.value) == text


@pytest.mark.parametrize(
    ("check", "function"),
    [
        (check_batchify, char_lm.batchify),
        (check_train_step, char_lm.train_step),
        (check_sample, char_lm.sample),
        (check_bits_per_character, char_lm.bits_per_character),
    ],
)
def test_calling_the_reference_fails(check, function):
    with pytest.raises(AssertionError, match="it calls the course's reference"):
        check(function, cases="visible")


def test_an_unwritten_function_is_reported_as_such():
    def batchify(ids, batch_size):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="it is not written yet"):
        check_batchify(batchify, cases="shapes")


def test_unknown_case_sets_are_named():
    with pytest.raises(ValueError, match="sample has no case set 'gradient_check'"):
        check_sample(sample_with(), cases="gradient_check")


# --- the training check ------------------------------------------------------------------------


@pytest.mark.slow
def test_training_with_honest_pieces_passes():
    check_char_lm_training(batchify_with(), next_chunk_with(), train_step_with())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pieces", "message"),
    [
        ({"batchify": batchify_with("interleaved")}, "Your batchify's streams differ"),
        ({"next_chunk": next_chunk_with(shift=0)}, "Your next_chunk's chunks differ"),
        ({"train_step": train_step_with(detach=False)}, "Known mistake: state not detached"),
        ({"train_step": train_step_with(step=False)}, "bits per character on the held-out"),
    ],
)
def test_training_with_a_wrong_piece_fails(pieces, message):
    honest = {
        "batchify": batchify_with(),
        "next_chunk": next_chunk_with(),
        "train_step": train_step_with(),
    }
    honest.update(pieces)
    with pytest.raises(AssertionError, match=re.escape(message)):
        check_char_lm_training(**honest)


def test_the_numpy_checks_still_start_without_torch():
    # The a05 checks import torch; rnncore.grading loads them only when they are asked for.
    code = (
        "import sys; from rnncore.grading import check_rnn_forward; "
        "assert 'torch' not in sys.modules, 'rnncore.grading imported torch'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_assignment_states_the_training_budget_the_check_runs():
    import nbformat

    from rnncore.grading.char_lm_training import TRAINING

    repository = Path(__file__).resolve().parents[2]
    notebook = nbformat.read(repository / "solutions/a05_char_lm/a05_char_lm.ipynb", 4)
    text = next(cell.source for cell in notebook.cells if cell.id == "training_intro")
    for stated in (
        f"first {TRAINING['characters']:,} characters",
        f"last {TRAINING['held_out']:,}",
        f"H = {TRAINING['hidden_size']}",
        f"{TRAINING['steps']} steps",
        f"B = {TRAINING['batch_size']} streams, chunks of {TRAINING['bptt']}",
        f"within {TRAINING['slack_bits']} bits",
    ):
        assert stated in text, stated
