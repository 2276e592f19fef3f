"""Wrong submissions of a06_sentiment: each replaces solution cells and loses exactly its cells.

The shape and no-mutation cells judge no values, so a wrong value keeps their points; a wrong
last_valid_state or final_states_bidirectional also reaches classify, which calls them.
"""

LAST_VALID_STATE_FAILS = ["test_last_valid_state_values", "test_last_valid_state_edge_cases"]
FINAL_STATES_FAILS = [
    "test_final_states_bidirectional_values",
    "test_final_states_bidirectional_edge_cases",
]
CLASSIFY_VALUE_FAILS = [
    "test_classify_values",
    "test_classify_edge_cases",
    "test_classify_bidirectional",
]

WRONG = {
    ("a06_last_on_padding", "a06_sentiment"): {
        "cells": {
            "last_valid_state": """
def last_valid_state(h, lengths):
    return h[:, -1]  # the last step of the padded batch
"""
        },
        # classify's unidirectional cases call last_valid_state; the bidirectional ones do not.
        "fails": [*LAST_VALID_STATE_FAILS, "test_classify_values", "test_classify_edge_cases"],
        "message": "Known mistake: h[:, -1] taken on padding",
    },
    ("a06_lengths_minus_one", "a06_sentiment"): {
        "cells": {
            "pad_batch": """
def pad_batch(sequences, pad_id):
    T = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), T), pad_id, dtype=torch.long)
    for b, s in enumerate(sequences):
        ids[b, : len(s)] = torch.tensor(s)
    lengths = torch.tensor([len(s) - 1 for s in sequences])  # the index of the last token
    return ids, lengths
"""
        },
        "fails": ["test_pad_batch_values", "test_pad_batch_edge_cases"],
        "message": "Known mistake: lengths off by one",
    },
    ("a06_pad_left", "a06_sentiment"): {
        "cells": {
            "pad_batch": """
def pad_batch(sequences, pad_id):
    T = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), T), pad_id, dtype=torch.long)
    for b, s in enumerate(sequences):
        ids[b, T - len(s) :] = torch.tensor(s)
    return ids, torch.tensor([len(s) for s in sequences])
"""
        },
        "fails": ["test_pad_batch_values", "test_pad_batch_edge_cases"],
        "message": "Known mistake: padded on the left",
    },
    ("a06_mean_with_padding", "a06_sentiment"): {
        "cells": {
            "masked_mean": """
def masked_mean(h, lengths):
    return h.mean(dim=1)
"""
        },
        "fails": ["test_masked_mean_values", "test_masked_mean_edge_cases"],
        "message": "Known mistake: padding included in the mean",
    },
    ("a06_backward_wrong_end", "a06_sentiment"): {
        "cells": {
            "final_states_bidirectional": """
def final_states_bidirectional(out, lengths, hidden_size):
    rows = torch.arange(out.shape[0])
    return out[rows, lengths - 1]  # both halves at the last real token
"""
        },
        "fails": [*FINAL_STATES_FAILS, "test_classify_bidirectional"],
        "message": "Known mistake: the backward state taken at the wrong end",
    },
    ("a06_loss_unmasked", "a06_sentiment"): {
        "cells": {
            "masked_loss": """
def masked_loss(logits, targets, lengths):
    B, T, C = logits.shape
    return functional.cross_entropy(logits.reshape(B * T, C), targets.reshape(B * T))
"""
        },
        "fails": ["test_masked_loss_values", "test_masked_loss_edge_cases"],
        "message": "Known mistake: padding not masked in the loss",
    },
    ("a06_loss_item", "a06_sentiment"): {
        "cells": {
            "masked_loss": """
def masked_loss(logits, targets, lengths):
    per_step = functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    mask = torch.arange(logits.shape[1])[None, :] < lengths[:, None]
    return torch.tensor(per_step[mask].mean().item())  # a new tensor: no gradient
"""
        },
        # Every case judges the structure first, the shape cell's included.
        "fails": [
            "test_masked_loss_shapes",
            "test_masked_loss_values",
            "test_masked_loss_edge_cases",
            "test_masked_loss_no_mutation",
        ],
        "message": "loss is not connected to logits",
    },
    ("a06_enforce_sorted", "a06_sentiment"): {
        "cells": {
            "classify": """
def classify(model, ids, lengths):
    packed = pack_padded_sequence(model.embedding(ids), lengths, batch_first=True)
    out, _ = pad_packed_sequence(model.recurrent(packed)[0], batch_first=True)
    if model.bidirectional:
        return model.output(final_states_bidirectional(out, lengths, model.hidden_size))
    return model.output(last_valid_state(out, lengths))
"""
        },
        # Every case but "lengths already sorted" and "B = 1" has unsorted lengths: it raises.
        "fails": [
            "test_classify_shapes",
            *CLASSIFY_VALUE_FAILS,
            "test_classify_no_mutation",
        ],
        "message": "Known mistake: enforce_sorted=True on unsorted lengths",
    },
    ("a06_sorted_not_restored", "a06_sentiment"): {
        "cells": {
            "classify": """
def classify(model, ids, lengths):
    order = torch.argsort(lengths, descending=True)
    ids, lengths = ids[order], lengths[order]
    packed = pack_padded_sequence(model.embedding(ids), lengths, batch_first=True)
    out, _ = pad_packed_sequence(model.recurrent(packed)[0], batch_first=True)
    if model.bidirectional:
        return model.output(final_states_bidirectional(out, lengths, model.hidden_size))
    return model.output(last_valid_state(out, lengths))  # still in the sorted order
"""
        },
        "fails": CLASSIFY_VALUE_FAILS,
        "message": "Known mistake: sorted by length, never put back in order",
    },
    ("a06_not_packed", "a06_sentiment"): {
        "cells": {
            "classify": """
def classify(model, ids, lengths):
    out, state = model.recurrent(model.embedding(ids))  # the padding is read
    h_n = state[0] if isinstance(state, tuple) else state
    if model.bidirectional:
        return model.output(torch.cat([h_n[-2], h_n[-1]], dim=1))
    return model.output(h_n[-1])
"""
        },
        "fails": CLASSIFY_VALUE_FAILS,
        "message": "Known mistake: not packed: the state after reading the padding",
    },
}
