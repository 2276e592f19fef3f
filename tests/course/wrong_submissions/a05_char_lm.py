"""Wrong submissions of a05_char_lm, one per named mistake (format: README.md here).

Each replaces one solution cell; every other function is the instructors' solution, so a bug
reaches the cells that call the buggy function: ``bits_per_character`` calls ``batchify`` (on
one stream, where the order of the streams cannot show) and ``next_chunk``, and the training
test calls ``batchify``, ``next_chunk`` and ``train_step``. A hidden cell whose visible line
runs a failing check fails too.
"""

BPC_CELLS = [
    "test_bits_per_character_values",
    "test_bits_per_character_edge_cases",
    "test_bits_per_character_no_mutation",
]
TRAIN_STEP_CELLS = [
    "test_train_step_shapes",
    "test_train_step_values",
    "test_train_step_edge_cases",
    "test_train_step_no_mutation",
]

WRONG = {
    ("a05_streams_wrong_order", "a05_char_lm"): {
        "cells": {
            "batchify": """
def batchify(ids, batch_size):
    ids = torch.as_tensor(ids, dtype=torch.long)
    N = len(ids) // batch_size
    return ids[: batch_size * N].reshape(N, batch_size).T.contiguous()
"""
        },
        "fails": [
            "test_batchify_values",
            "test_batchify_edge_cases",
            "test_char_lm_training",
        ],
        "message": "Known mistake: streams cut in the wrong order",
    },
    ("a05_targets_unshifted", "a05_char_lm"): {
        "cells": {
            "next_chunk": """
def next_chunk(streams, start, bptt):
    T = min(bptt, streams.shape[1] - 1 - start)
    inputs = streams[:, start : start + T]
    return inputs, inputs.clone()  # the targets are the inputs
"""
        },
        "fails": [
            "test_next_chunk_values",
            "test_next_chunk_edge_cases",
            *BPC_CELLS,
            "test_char_lm_training",
        ],
        "message": "Known mistake: targets not shifted",
    },
    ("a05_state_not_detached", "a05_char_lm"): {
        "cells": {
            "train_step": """
def train_step(model, state, inputs, targets, optimizer, max_norm):
    optimizer.zero_grad()
    logits, state = model(inputs, state)
    V = logits.shape[-1]
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), state  # still attached to this chunk's graph
"""
        },
        "fails": [*TRAIN_STEP_CELLS, "test_char_lm_training"],
        "message": "Known mistake: state not detached (the graph grows across chunks)",
    },
    ("a05_state_reset", "a05_char_lm"): {
        "cells": {
            "train_step": """
def train_step(model, state, inputs, targets, optimizer, max_norm):
    optimizer.zero_grad()
    logits, state = model(inputs)  # starts every chunk from a zero state
    V = logits.shape[-1]
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), detach_state(state)
"""
        },
        # Starting each chunk of 32 characters afresh costs the small model little: the
        # training test passes (measured: 2.89 bits against the reference's 2.87).
        "fails": ["test_train_step_values", "test_train_step_edge_cases"],
        "message": "Known mistake: state reset every chunk",
    },
    ("a05_temperature_multiplied", "a05_char_lm"): {
        "cells": {
            "sample": """
def sample(model, prefix, length, temperature=1.0, top_k=None, generator=None):
    model.eval()
    ids = []
    with torch.no_grad():
        logits, state = model(torch.as_tensor(prefix, dtype=torch.long)[None])
        for _ in range(length):
            scores = logits[0, -1] * temperature
            if top_k is not None:
                kth_largest = torch.topk(scores, top_k).values[-1]
                scores = scores.masked_fill(scores < kth_largest, float("-inf"))
            next_id = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator)
            ids.append(int(next_id))
            logits, state = model(next_id[None], state)
    model.train()
    return ids
"""
        },
        # The sure model of the visible and edge cases keeps its choice at any temperature.
        "fails": ["test_sample_temperature", "test_sample_top_k"],
        "message": "Known mistake: temperature multiplied instead of divided",
    },
    ("a05_top_k_smallest", "a05_char_lm"): {
        "cells": {
            "sample": """
def sample(model, prefix, length, temperature=1.0, top_k=None, generator=None):
    model.eval()
    ids = []
    with torch.no_grad():
        logits, state = model(torch.as_tensor(prefix, dtype=torch.long)[None])
        for _ in range(length):
            scores = logits[0, -1] / temperature
            if top_k is not None:
                kept = torch.topk(scores, top_k, largest=False)
                masked = torch.full_like(scores, float("-inf"))
                scores = masked.scatter(0, kept.indices, kept.values)
            next_id = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator)
            ids.append(int(next_id))
            logits, state = model(next_id[None], state)
    model.train()
    return ids
"""
        },
        # The edge cases include top_k = 1 with a model sure of each next id.
        "fails": ["test_sample_top_k", "test_sample_edge_cases"],
        "message": "Known mistake: top-k keeping the smallest",
    },
    ("a05_softmax_wrong_axis", "a05_char_lm"): {
        "cells": {
            "sample": """
def sample(model, prefix, length, temperature=1.0, top_k=None, generator=None):
    model.eval()
    ids = []
    with torch.no_grad():
        logits, state = model(torch.as_tensor(prefix, dtype=torch.long)[None])
        for _ in range(length):
            scores = logits[:, -1] / temperature  # (1, V)
            if top_k is not None:
                kth_largest = torch.topk(scores, top_k).values[:, -1:]
                scores = scores.masked_fill(scores < kth_largest, float("-inf"))
            probabilities = torch.softmax(scores, dim=0)  # over the batch axis of length 1
            next_id = torch.multinomial(probabilities, 1, generator=generator)[0]
            ids.append(int(next_id))
            logits, state = model(next_id[None], state)
    model.train()
    return ids
"""
        },
        # Every id is drawn uniformly: wrong wherever values are judged.
        "fails": [
            "test_sample_values",
            "test_sample_temperature",
            "test_sample_top_k",
            "test_sample_edge_cases",
        ],
        "message": "Known mistake: softmax over the wrong axis",
    },
    ("a05_argmax", "a05_char_lm"): {
        "cells": {
            "sample": """
def sample(model, prefix, length, temperature=1.0, top_k=None, generator=None):
    model.eval()
    ids = []
    with torch.no_grad():
        logits, state = model(torch.as_tensor(prefix, dtype=torch.long)[None])
        for _ in range(length):
            next_id = logits[0, -1:].argmax(dim=-1)  # the most likely id, always
            ids.append(int(next_id))
            logits, state = model(next_id[None], state)
    model.train()
    return ids
"""
        },
        "fails": ["test_sample_temperature", "test_sample_top_k"],
        "message": "Known mistake: argmax instead of sampling",
    },
    ("a05_natural_log", "a05_char_lm"): {
        "cells": {
            "bits_per_character": """
def bits_per_character(model, ids, bptt):
    streams = batchify(ids, 1)
    N = streams.shape[1]
    model.eval()
    total, state = 0.0, None
    with torch.no_grad():
        for start in range(0, N - 1, bptt):
            inputs, targets = next_chunk(streams, start, bptt)
            logits, state = model(inputs, state)
            V = logits.shape[-1]
            total += nn.functional.cross_entropy(
                logits.reshape(-1, V), targets.reshape(-1), reduction="sum"
            ).item()
    model.train()
    return total / (N - 1)  # nats, not bits
"""
        },
        "fails": BPC_CELLS,
        "message": "Known mistake: natural log reported as bits",
    },
    ("a05_bpc_wrong_axis", "a05_char_lm"): {
        "cells": {
            "bits_per_character": """
def bits_per_character(model, ids, bptt):
    streams = batchify(ids, 1)
    N = streams.shape[1]
    model.eval()
    total, state = 0.0, None
    with torch.no_grad():
        for start in range(0, N - 1, bptt):
            inputs, targets = next_chunk(streams, start, bptt)
            logits, state = model(inputs, state)
            log_probs = torch.log_softmax(logits, dim=1)  # over time, not characters
            total -= log_probs.gather(2, targets[..., None]).sum().item()
    model.train()
    return total / (N - 1) / math.log(2)
"""
        },
        "fails": BPC_CELLS,
        "message": "Known mistake: softmax over the wrong axis",
    },
}
