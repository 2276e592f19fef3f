"""CTC prefix beam search against brute-force enumeration of every alignment."""

import itertools
import math

import pytest
import torch

from rnncore.torch.ctc_prefix_beam import ctc_prefix_beam_decode, ctc_prefix_beam_search
from rnncore.torch.decode import ctc_greedy_decode


def collapse(path, blank=0):
    out, previous = [], None
    for symbol in path:
        if symbol != previous and symbol != blank:
            out.append(symbol)
        previous = symbol
    return tuple(out)


def brute_force(log_probs, blank=0):
    """Probability of every labelling: the sum over all V^T paths that read as it."""
    T, V = log_probs.shape
    totals = {}
    for path in itertools.product(range(V), repeat=T):
        p = math.exp(sum(float(log_probs[t, s]) for t, s in enumerate(path)))
        label = collapse(path, blank)
        totals[label] = totals.get(label, 0.0) + p
    return totals


def random_log_probs(T, V, seed, sharpness=1.0):
    generator = torch.Generator().manual_seed(seed)
    logits = sharpness * torch.randn(T, V, generator=generator, dtype=torch.float64)
    return torch.log_softmax(logits, dim=1)


@pytest.mark.parametrize(
    ("T", "V", "seed"), [(1, 3, 0), (3, 2, 1), (4, 3, 2), (5, 3, 3), (6, 3, 4), (4, 4, 5)]
)
@pytest.mark.parametrize("blank", [0, 1])
def test_wide_beam_gives_the_exact_labelling_probabilities(T, V, seed, blank):
    log_probs = random_log_probs(T, V, seed, sharpness=2.0)
    exact = brute_force(log_probs, blank)
    beams = ctc_prefix_beam_search(log_probs, beam_width=10_000, blank=blank)
    found = dict(beams)
    # Every labelling the search returns has its exact probability ...
    for label, log_p in found.items():
        assert math.exp(log_p) == pytest.approx(exact[label], rel=1e-9, abs=1e-15)
    # ... and the best one is the exact most probable labelling.
    best = max(exact, key=exact.get)
    assert beams[0][0] == best
    assert sum(math.exp(lp) for lp in found.values()) <= 1 + 1e-9


def test_beam_finds_the_best_labelling_where_the_best_path_misleads():
    # Frame probabilities (blank, a): the best path is "- - -" (empty), but "a" has more mass
    # spread over the six paths with one run of a's: 0.688 against 0.6^3 = 0.216.
    probs = torch.tensor([[0.6, 0.4]] * 3, dtype=torch.float64)
    log_probs = probs.log()
    assert ctc_greedy_decode(log_probs[None])[0] == []
    best, log_p = ctc_prefix_beam_search(log_probs, beam_width=4)[0]
    assert best == (1,)
    runs = 3 * 0.4 * 0.6**2 + 2 * 0.4**2 * 0.6 + 0.4**3  # one, two or three a's in a row
    assert math.exp(log_p) == pytest.approx(runs)
    assert brute_force(log_probs)[(1,)] == pytest.approx(runs)


def test_repeats_need_a_blank_in_between():
    # Symbol 1 twice with a certain blank between gives "1 1"; without the blank, "1".
    eye = torch.eye(3, dtype=torch.float64).clamp_min(1e-12).log()
    with_blank = eye[[1, 0, 1]]
    without = eye[[1, 1, 1]]
    assert ctc_prefix_beam_search(with_blank, 3)[0][0] == (1, 1)
    assert ctc_prefix_beam_search(without, 3)[0][0] == (1,)


def test_narrow_beam_keeps_beam_width_results_sorted():
    log_probs = random_log_probs(8, 4, 0)
    beams = ctc_prefix_beam_search(log_probs, beam_width=3)
    assert len(beams) == 3
    scores = [s for _, s in beams]
    assert scores == sorted(scores, reverse=True)


def test_batch_decode_respects_lengths_and_matches_single_rows():
    log_probs = torch.stack([random_log_probs(6, 3, s, 3.0) for s in range(3)])  # (3, 6, 3)
    lengths = torch.tensor([6, 4, 0])
    decoded = ctc_prefix_beam_decode(log_probs, 8, lengths=lengths)
    assert decoded[0] == list(ctc_prefix_beam_search(log_probs[0], 8)[0][0])
    assert decoded[1] == list(ctc_prefix_beam_search(log_probs[1, :4], 8)[0][0])
    assert decoded[2] == []


def test_bad_arguments_are_named():
    log_probs = random_log_probs(3, 3, 0)
    with pytest.raises(ValueError, match="beam_width"):
        ctc_prefix_beam_search(log_probs, 0)
    with pytest.raises(ValueError, match="blank"):
        ctc_prefix_beam_search(log_probs, 2, blank=3)
    with pytest.raises(ValueError, match="log_probs"):
        ctc_prefix_beam_search(log_probs[None], 2)
    with pytest.raises(ValueError, match="lengths"):
        ctc_prefix_beam_decode(log_probs[None], 2, lengths=torch.tensor([4]))
