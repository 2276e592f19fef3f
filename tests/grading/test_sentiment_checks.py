"""The sentiment checks (a06) pass honest students and fail each known-wrong one with its message.

The "students" below are written the way students write them (loops, masks by comparison,
torch.stack), not taken from rnncore, so that a check cannot pass them by comparing rnncore
with itself.
"""

import re

import pytest
import torch
from torch.nn import functional
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncore.grading import (
    check_classify,
    check_final_states_bidirectional,
    check_last_valid_state,
    check_masked_loss,
    check_masked_mean,
    check_pad_batch,
    sentiment_mistakes,
)
from rnncore.torch import pooling

CASES = ["shapes", "visible", "hidden", "no_mutation"]

# --- honest students ---------------------------------------------------------------------


def pad_batch_with(side="right", pad=None, shift=0, sort_lengths=False):
    def pad_batch(sequences, pad_id):
        T = max(len(s) for s in sequences)
        fill = pad_id if pad is None else pad
        ids = torch.full((len(sequences), T), fill, dtype=torch.long)
        for b, sentence in enumerate(sequences):
            if side == "right":
                ids[b, : len(sentence)] = torch.tensor(sentence)
            else:
                ids[b, T - len(sentence) :] = torch.tensor(sentence)
        lengths = torch.tensor([len(s) + shift for s in sequences])
        if sort_lengths:
            lengths = lengths.sort(descending=True).values
        return ids, lengths

    return pad_batch


def pad_batch_with_pad_sequence(sequences, pad_id):
    rows = [torch.tensor(s) for s in sequences]
    lengths = torch.tensor([len(r) for r in rows])
    return torch.nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=pad_id), lengths


def last_valid_state_with(step="last"):
    def last_valid_state(h, lengths):
        rows = []
        for b in range(h.shape[0]):
            t = {"last": lengths[b] - 1, "padded": -1, "one past": lengths[b], "first": 0}[step]
            rows.append(h[b, t])
        return torch.stack(rows)

    return last_valid_state


def last_valid_state_gather(h, lengths):
    index = (lengths - 1).view(-1, 1, 1).expand(-1, 1, h.shape[2])
    return h.gather(1, index).squeeze(1)


def masked_mean_with(how="right"):
    def masked_mean(h, lengths):
        mask = (torch.arange(h.shape[1])[None, :] < lengths[:, None]).to(h.dtype)
        if how == "all steps":
            return h.mean(dim=1)
        if how == "divided by T":
            return (h * mask[:, :, None]).sum(dim=1) / h.shape[1]
        if how == "padding summed":
            return h.sum(dim=1) / lengths[:, None]
        return (h * mask[:, :, None]).sum(dim=1) / lengths[:, None].to(h.dtype)

    return masked_mean


def masked_mean_loop(h, lengths):
    return torch.stack([h[b, :n].mean(dim=0) for b, n in enumerate(lengths.tolist())])


def final_states_with(forward="last", backward="first", swap=False):
    def final_states_bidirectional(out, lengths, hidden_size):
        H = hidden_size
        rows = torch.arange(out.shape[0])
        steps = {"last": lengths - 1, "padded": torch.full_like(lengths, out.shape[1] - 1)}
        steps |= {"first": torch.zeros_like(lengths), "one past": lengths}
        halves = [out[rows, steps[forward], :H], out[rows, steps[backward], H:]]
        return torch.cat(halves[::-1] if swap else halves, dim=1)

    return final_states_bidirectional


def masked_loss_with(how="right"):
    def masked_loss(logits, targets, lengths):
        B, T, C = logits.shape
        per_step = functional.cross_entropy(
            logits.reshape(B * T, C), targets.reshape(B * T), reduction="none"
        ).view(B, T)
        mask = (torch.arange(T)[None, :] < lengths[:, None]).to(per_step.dtype)
        if how == "unmasked":
            return per_step.mean()
        if how == "per sentence":
            return ((per_step * mask).sum(dim=1) / lengths).mean()
        if how == "sum":
            return (per_step * mask).sum()
        if how == "B*T":
            return (per_step * mask).sum() / (B * T)
        if how == "detached":
            return torch.tensor(((per_step * mask).sum() / mask.sum()).item())
        return (per_step * mask).sum() / mask.sum()

    return masked_loss


def classify_with(packed=True, sort="none", forward="last", backward="first", final=None):
    """A student's classify; the switches are the known mistakes."""
    final = final_states_with(forward, backward)

    def classify(model, ids, lengths):
        embedded = model.embedding(ids)
        H = model.hidden_size
        if sort != "none":
            order = torch.argsort(lengths, descending=True, stable=True)
            embedded, lengths = embedded[order], lengths[order]
        if packed:
            enforce_sorted = sort == "enforce"
            sequence = pack_padded_sequence(
                embedded, lengths, batch_first=True, enforce_sorted=enforce_sorted
            )
            out, _ = pad_packed_sequence(model.recurrent(sequence)[0], batch_first=True)
        else:
            out, _ = model.recurrent(embedded)
        if model.bidirectional:
            pooled = final(out, lengths, H)
        else:
            pooled = last_valid_state_with({"first": "last"}.get(forward, forward))(out, lengths)
        return model.output(pooled)

    return classify


def classify_with_h_n(model, ids, lengths):
    """Another honest way: h_n of the packed run (and an LSTM's h of (h, c))."""
    sequence = pack_padded_sequence(
        model.embedding(ids), lengths, batch_first=True, enforce_sorted=False
    )
    _, state = model.recurrent(sequence)
    h_n = state[0] if isinstance(state, tuple) else state
    final = torch.cat([h_n[-2], h_n[-1]], dim=1) if model.bidirectional else h_n[-1]
    return model.output(final)


HONEST = [
    (check_pad_batch, pad_batch_with()),
    (check_pad_batch, pad_batch_with_pad_sequence),
    (check_last_valid_state, last_valid_state_with()),
    (check_last_valid_state, last_valid_state_gather),
    (check_masked_mean, masked_mean_with()),
    (check_masked_mean, masked_mean_loop),
    (check_final_states_bidirectional, final_states_with()),
    (check_masked_loss, masked_loss_with()),
    (check_classify, classify_with()),
    (check_classify, classify_with_h_n),
]


@pytest.mark.parametrize("cases", CASES)
@pytest.mark.parametrize(("check", "student"), HONEST)
def test_honest_students_pass(check, student, cases):
    assert check(student, cases=cases) is None


@pytest.mark.parametrize("student", [classify_with(), classify_with_h_n])
def test_classify_passes_the_bidirectional_cases(student):
    assert check_classify(student, cases="bidirectional") is None


def test_the_reference_passes_through_a_copy_and_fails_when_called():
    # The reference itself computes the expected values, so it passes when it is not called
    # directly; called directly, it is refused.
    with pytest.raises(AssertionError, match="it calls the course's reference"):
        check_masked_mean(pooling.masked_mean_over_time)
    with pytest.raises(AssertionError, match=re.escape("SentenceClassifier.forward")):
        check_classify(lambda model, ids, lengths: model(ids, lengths))


def test_same_seed_same_inputs_and_message():
    messages = []
    for _ in range(2):
        with pytest.raises(AssertionError) as failure:
            check_last_valid_state(last_valid_state_with("padded"), seed=99)
        messages.append(str(failure.value))
    assert messages[0] == messages[1] and "seed=99" in messages[0]
    assert "lengths [3, 5, 1, 4]" in messages[0]


# --- known mistakes: one handwritten student per mistake in the catalogues -----------------

WRONG_PAD_BATCH = {
    "lengths off by one": pad_batch_with(shift=-1),
    "padded on the left": pad_batch_with(side="left"),
    "padding with 0 instead of pad_id": pad_batch_with(pad=0),
    "lengths sorted, sentences not": pad_batch_with(sort_lengths=True),
}
WRONG_LAST_VALID_STATE = {
    "h[:, -1] taken on padding": last_valid_state_with("padded"),
    "lengths off by one": last_valid_state_with("one past"),
    "the first step taken": last_valid_state_with("first"),
}
WRONG_MASKED_MEAN = {
    "padding included in the mean": masked_mean_with("all steps"),
    "divided by T instead of the length": masked_mean_with("divided by T"),
    "padding included in the sum": masked_mean_with("padding summed"),
}
WRONG_FINAL_STATES = {
    "the backward state taken at the wrong end": final_states_with(backward="last"),
    "the backward state taken at the padded end": final_states_with(backward="padded"),
    "h[:, -1] taken on padding": final_states_with(forward="padded"),
    "lengths off by one": final_states_with(forward="one past"),
    "forward and backward halves swapped": final_states_with(swap=True),
    "the forward state taken at step 0": final_states_with(forward="first"),
}
WRONG_MASKED_LOSS = {
    "padding not masked in the loss": masked_loss_with("unmasked"),
    "mean of the sentences' means": masked_loss_with("per sentence"),
    "summed instead of averaged": masked_loss_with("sum"),
    "divided by B * T": masked_loss_with("B*T"),
}
# (student, case set on which the mistake shows)
WRONG_CLASSIFY = {
    "sorted by length, never put back in order": (classify_with(sort="no restore"), "visible"),
    "not packed: the state after reading the padding": (
        classify_with(packed=False, forward="padded"),
        "visible",
    ),
    "h[:, -1] taken on padding": (classify_with(forward="padded"), "visible"),
    "not packed: the backward direction reads the padding": (
        classify_with(packed=False),
        "bidirectional",
    ),
    "the backward state taken at the wrong end": (
        classify_with(backward="last"),
        "bidirectional",
    ),
}


def catalogue_names(catalogue):
    return sorted(mistake.name for mistake in catalogue)


def test_every_mistake_has_a_wrong_student():
    assert sorted(WRONG_PAD_BATCH) == catalogue_names(sentiment_mistakes.PAD_BATCH_MISTAKES)
    assert sorted(WRONG_LAST_VALID_STATE) == catalogue_names(
        sentiment_mistakes.LAST_VALID_STATE_MISTAKES
    )
    assert sorted(WRONG_MASKED_MEAN) == catalogue_names(sentiment_mistakes.MASKED_MEAN_MISTAKES)
    assert sorted(WRONG_FINAL_STATES) == catalogue_names(
        sentiment_mistakes.FINAL_STATES_BIDIRECTIONAL_MISTAKES
    )
    assert sorted(WRONG_MASKED_LOSS) == catalogue_names(sentiment_mistakes.MASKED_LOSS_MISTAKES)
    assert sorted(WRONG_CLASSIFY) == catalogue_names(sentiment_mistakes.CLASSIFY_MISTAKES)


def known(name):
    return re.escape(f"Known mistake: {name}")


def _only(message, name, catalogue):
    """The message names this mistake and no other of its catalogue."""
    named = [m.name for m in catalogue if f"Known mistake: {m.name}." in message]
    assert named == [name], named


@pytest.mark.parametrize(
    ("check", "students", "catalogue", "name", "cases"),
    [
        (check_pad_batch, WRONG_PAD_BATCH, "PAD_BATCH_MISTAKES", name, cases)
        for name in WRONG_PAD_BATCH
        for cases in (["hidden"] if name == "padding with 0 instead of pad_id" else ["visible"])
    ]
    + [
        (check_last_valid_state, WRONG_LAST_VALID_STATE, "LAST_VALID_STATE_MISTAKES", n, "visible")
        for n in WRONG_LAST_VALID_STATE
    ]
    + [
        (check_masked_mean, WRONG_MASKED_MEAN, "MASKED_MEAN_MISTAKES", n, c)
        for n in WRONG_MASKED_MEAN
        for c in ("visible", "hidden")
    ]
    + [
        (
            check_final_states_bidirectional,
            WRONG_FINAL_STATES,
            "FINAL_STATES_BIDIRECTIONAL_MISTAKES",
            n,
            "visible",
        )
        for n in WRONG_FINAL_STATES
    ]
    + [
        (check_masked_loss, WRONG_MASKED_LOSS, "MASKED_LOSS_MISTAKES", n, c)
        for n in WRONG_MASKED_LOSS
        for c in ("visible", "hidden")
    ],
)
def test_each_mistake_gets_its_own_message(check, students, catalogue, name, cases):
    with pytest.raises(AssertionError, match=known(name)) as failure:
        check(students[name], cases=cases)
    _only(str(failure.value), name, getattr(sentiment_mistakes, catalogue))


@pytest.mark.parametrize("name", sorted(WRONG_CLASSIFY))
def test_classify_names_each_mistake(name):
    student, cases = WRONG_CLASSIFY[name]
    with pytest.raises(AssertionError, match=known(name)) as failure:
        check_classify(student, cases=cases)
    _only(str(failure.value), name, sentiment_mistakes.CLASSIFY_MISTAKES)
    assert "compared with each sentence run alone, without padding" in str(failure.value)


def test_enforce_sorted_on_unsorted_lengths_is_named_from_the_error():
    student = classify_with(packed=True, sort="none")

    def enforce(model, ids, lengths):
        sequence = pack_padded_sequence(model.embedding(ids), lengths, batch_first=True)
        out, _ = pad_packed_sequence(model.recurrent(sequence)[0], batch_first=True)
        return model.output(last_valid_state_with()(out, lengths))

    check_classify(student)  # the honest one passes
    with pytest.raises(AssertionError) as failure:
        check_classify(enforce)
    message = str(failure.value)
    assert "it raised RuntimeError" in message
    assert "Known mistake: enforce_sorted=True on unsorted lengths" in message
    # With lengths already sorted, enforce_sorted=True is right: the same student then passes
    # the case "lengths already sorted" and fails only on unsorted ones.
    with pytest.raises(AssertionError, match="enforce_sorted=True on unsorted"):
        check_classify(enforce, cases="hidden")


def test_a_detached_loss_is_refused():
    with pytest.raises(AssertionError, match="loss is not connected to logits"):
        check_masked_loss(masked_loss_with("detached"))


def test_index_past_the_end_gets_the_off_by_one_hint():
    # On a case where the longest sentence fills T, h[b, lengths[b]] raises IndexError.
    with pytest.raises(AssertionError) as failure:
        check_last_valid_state(last_valid_state_with("one past"), cases="hidden")
    message = str(failure.value)
    assert "IndexError" in message and "lengths off by one" in message


STRUCTURE = {
    "numpy ids": (
        check_pad_batch,
        lambda sequences, pad_id: tuple(t.numpy() for t in pad_batch_with()(sequences, pad_id)),
        "ids must be a torch tensor, got a NumPy array",
    ),
    "int32 lengths": (
        check_pad_batch,
        lambda sequences, pad_id: (
            pad_batch_with()(sequences, pad_id)[0],
            torch.tensor([len(s) for s in sequences], dtype=torch.int32),
        ),
        "lengths must be a LongTensor (torch.int64), got torch.int32",
    ),
    "one output": (
        check_pad_batch,
        lambda sequences, pad_id: pad_batch_with()(sequences, pad_id)[0],
        "it must return a tuple (ids, lengths), got tensor",
    ),
    "no return": (check_masked_mean, lambda h, lengths: None, "it returned None"),
    "time axis kept": (
        check_last_valid_state,
        lambda h, lengths: h[:, -1:],
        "last has shape (3, 1, 3), expected (B, H) = (3, 3)",
    ),
    "loss per sentence": (
        check_masked_loss,
        lambda logits, targets, lengths: logits.sum(dim=(1, 2)),
        "loss must be a scalar tensor (shape ())",
    ),
    "not written": (
        check_classify,
        lambda model, ids, lengths: (_ for _ in ()).throw(NotImplementedError()),
        "it is not written yet",
    ),
}


@pytest.mark.parametrize("case", list(STRUCTURE))
def test_structure_errors_read_well(case):
    check, student, message = STRUCTURE[case]
    cases = "shapes"
    with pytest.raises(AssertionError, match=re.escape(message)):
        check(student, cases=cases)


def test_modifying_an_input_fails_the_no_mutation_case():
    def masked_mean(h, lengths):
        h[torch.arange(h.shape[1])[None, :] >= lengths[:, None]] = 0  # zero the padding
        return h.sum(dim=1) / lengths[:, None]

    check_masked_mean(masked_mean, cases="visible")  # right values
    with pytest.raises(AssertionError, match="it modifies its argument h in place"):
        check_masked_mean(masked_mean, cases="no_mutation")


def test_an_unknown_mistake_gets_the_general_hint():
    def masked_mean(h, lengths):
        return 2 * masked_mean_with()(h, lengths)

    with pytest.raises(AssertionError, match=re.escape("divided by lengths[b]")) as failure:
        check_masked_mean(masked_mean)
    assert "Known mistake" not in str(failure.value)


def test_unknown_case_set_is_named():
    with pytest.raises(ValueError, match="classify has no case set 'torch'"):
        check_classify(classify_with(), cases="torch")
