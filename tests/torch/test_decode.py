"""Sampling, generation, greedy and beam search, CTC best-path decoding."""

import math

import pytest
import torch

from rnncore.torch.decode import (
    beam_search,
    ctc_greedy_decode,
    generate,
    greedy_decode,
    language_model_beam_search,
    language_model_step_fn,
    nucleus_mask,
    sample_next,
)
from rnncore.torch.models import CharLanguageModel

V = 10


def random_logits(B=4, seed=0):
    return torch.randn(B, V, generator=torch.Generator().manual_seed(seed))


def test_sample_next_returns_one_token_per_row():
    tokens = sample_next(random_logits(), generator=torch.Generator().manual_seed(0))
    assert tokens.shape == (4,) and tokens.dtype == torch.int64
    assert ((0 <= tokens) & (tokens < V)).all()


def test_sample_next_follows_the_softmax_at_temperature_one():
    logits = random_logits(B=1).expand(20000, V)
    tokens = sample_next(logits, generator=torch.Generator().manual_seed(1))
    frequencies = torch.bincount(tokens, minlength=V).float() / len(tokens)
    torch.testing.assert_close(frequencies, torch.softmax(logits[0], dim=0), rtol=0, atol=0.015)


@pytest.mark.parametrize("top_k", [1, 3, 7])
def test_sample_next_never_picks_outside_the_top_k(top_k):
    logits = random_logits(B=1, seed=2).expand(5000, V)
    allowed = set(logits[0].topk(top_k).indices.tolist())
    tokens = sample_next(logits, temperature=2.0, top_k=top_k, generator=torch.Generator())
    assert set(tokens.tolist()) == allowed  # inside the top k, and every one of them drawn


def test_top_k_equal_to_v_changes_nothing():
    logits = random_logits(B=50)
    unrestricted = sample_next(logits, generator=torch.Generator().manual_seed(3))
    restricted = sample_next(logits, top_k=V, generator=torch.Generator().manual_seed(3))
    assert torch.equal(unrestricted, restricted)


def test_tiny_temperature_gives_the_argmax():
    logits = random_logits(B=200, seed=4)
    tokens = sample_next(logits, temperature=1e-6, generator=torch.Generator().manual_seed(5))
    assert torch.equal(tokens, logits.argmax(dim=1))
    # At temperature 1 the draws are not all the argmax: the previous check is not vacuous.
    tokens = sample_next(logits, generator=torch.Generator().manual_seed(5))
    assert not torch.equal(tokens, logits.argmax(dim=1))


def test_sample_next_handles_huge_scores_and_tiny_temperatures():
    logits = torch.tensor([[1e4, -1e4, 0.0]])
    assert sample_next(logits, temperature=1e-30).tolist() == [0]


@pytest.fixture
def model():
    torch.manual_seed(0)
    return CharLanguageModel(V, 6, 12, cell="gru")


def test_generate_shapes_prefix_and_reproducibility(model):
    prefix = torch.tensor([[1, 2, 3], [4, 5, 6]])
    out = generate(model, prefix, steps=5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 8)
    assert torch.equal(out[:, :3], prefix)
    again = generate(model, prefix, steps=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    single = generate(model, torch.tensor([1, 2]), steps=4, top_k=2)
    assert single.shape == (6,)
    assert torch.equal(generate(model, prefix, steps=0), prefix)


def test_generate_restores_the_training_mode(model):
    model.train()
    generate(model, torch.tensor([1]), steps=2)
    assert model.training
    model.eval()
    generate(model, torch.tensor([1]), steps=2)
    assert not model.training


def test_generate_at_tiny_temperature_is_greedy_decoding(model):
    """Two independent routes: generate feeding samples, greedy_decode over a step function."""
    start = 4
    sampled = generate(model, torch.tensor([start]), steps=6, temperature=1e-8)
    tokens, score = greedy_decode(language_model_step_fn(model), None, start, None, 6)
    assert sampled.tolist() == [start] + tokens
    assert score < 0


def test_generate_with_top_k_one_is_greedy(model):
    prefix = torch.tensor([[1, 2]])
    top_one = generate(model, prefix, steps=5, top_k=1)
    assert torch.equal(top_one, generate(model, prefix, steps=5, temperature=1e-8))


def table_step_fn(table):
    """A step function that reads log-probabilities from a table (steps, V, V); state = step."""

    def step_fn(token, state):
        return table[state, token], state + 1

    return step_fn


def random_table(steps=6, seed=0):
    logits = torch.randn(steps, V, V, generator=torch.Generator().manual_seed(seed))
    return torch.log_softmax(logits, dim=-1)


@pytest.mark.parametrize("seed", range(5))
def test_beam_search_of_width_one_is_greedy(seed):
    step_fn = table_step_fn(random_table(seed=seed))
    for end_token in (None, 3):
        greedy = greedy_decode(step_fn, 0, 0, end_token, max_length=6)
        assert beam_search(step_fn, 0, 0, end_token, beam_width=1, max_length=6) == greedy


@pytest.mark.parametrize("seed", range(5))
def test_wider_beams_never_score_worse_than_greedy(seed):
    step_fn = table_step_fn(random_table(seed=seed))
    _, greedy_score = greedy_decode(step_fn, 0, 0, None, max_length=6)
    _, beam_score = beam_search(step_fn, 0, 0, None, beam_width=4, max_length=6)
    assert beam_score >= greedy_score - 1e-6


def test_beam_search_finds_what_myopic_greedy_misses():
    """From the start, A (0.6) beats B (0.4); but after A the end is only 0.34 likely, after
    B 0.99. Greedy: A then END, probability 0.204. Beam of 2: B then END, 0.396."""
    START, A, B, END, OTHER_1, OTHER_2 = range(6)
    probabilities = torch.full((6, 6), 1 / 6)
    probabilities[START] = torch.tensor([0.0, 0.6, 0.4, 0.0, 0.0, 0.0])
    probabilities[A] = torch.tensor([0.0, 0.0, 0.0, 0.34, 0.33, 0.33])
    probabilities[B] = torch.tensor([0.0, 0.0, 0.0, 0.99, 0.005, 0.005])
    log_probabilities = probabilities.log()

    def step_fn(token, state):
        return log_probabilities[token], state

    greedy_tokens, greedy_score = greedy_decode(step_fn, None, START, END, max_length=5)
    beam_tokens, beam_score = beam_search(step_fn, None, START, END, beam_width=2, max_length=5)
    assert greedy_tokens == [A, END]
    assert beam_tokens == [B, END]
    assert greedy_score == pytest.approx(math.log(0.6 * 0.34), rel=1e-6)
    assert beam_score == pytest.approx(math.log(0.4 * 0.99), rel=1e-6)
    assert beam_score > greedy_score


def test_beam_search_stops_at_max_length_without_an_end_token():
    step_fn = table_step_fn(random_table(steps=3))
    tokens, _ = beam_search(step_fn, 0, 0, None, beam_width=3, max_length=3)
    assert len(tokens) == 3


def test_beam_search_with_a_language_model(model):
    step_fn = language_model_step_fn(model.eval())
    greedy = greedy_decode(step_fn, None, 1, None, max_length=4)
    assert beam_search(step_fn, None, 1, None, beam_width=1, max_length=4) == greedy
    _, score = beam_search(step_fn, None, 1, None, beam_width=3, max_length=4)
    assert score >= greedy[1] - 1e-6


def one_hot_path(path, V=4):
    """Log-probabilities (1, T, V) whose argmax follows ``path``."""
    return torch.log_softmax(5 * torch.nn.functional.one_hot(torch.tensor([path]), V).float(), -1)


@pytest.mark.parametrize(
    "path, expected",
    [
        ([1, 1, 0, 1, 2, 2, 0], [1, 1, 2]),  # a a - a b b -  ->  a a b
        ([0, 0, 0], []),
        ([3, 3, 3], [3]),
        ([1, 2, 1, 2], [1, 2, 1, 2]),
        ([0, 1, 0, 0, 1, 1], [1, 1]),
    ],
)
def test_ctc_greedy_decode_collapses_repeats_and_drops_blanks(path, expected):
    assert ctc_greedy_decode(one_hot_path(path)) == [expected]


def test_ctc_greedy_decode_with_another_blank_lengths_and_a_batch():
    batch = torch.cat([one_hot_path([1, 1, 3, 1, 2, 2]), one_hot_path([2, 3, 2, 0, 0, 0])])
    assert ctc_greedy_decode(batch, blank=3) == [[1, 1, 2], [2, 2, 0]]
    assert ctc_greedy_decode(batch, blank=3, lengths=torch.tensor([2, 3])) == [[1], [2, 2]]
    assert ctc_greedy_decode(batch, blank=0) == [[1, 3, 1, 2], [2, 3, 2]]


# -- nucleus (top-p) sampling and beam search after a language model's prefix -------------


def test_nucleus_mask_keeps_the_smallest_set_that_reaches_p():
    probabilities = torch.tensor([[0.1, 0.5, 0.05, 0.3, 0.05]])
    # Sorted: 0.5, 0.3, 0.1, 0.05, 0.05; cumulative 0.5, 0.8, 0.9, ...
    expected = {
        0.3: [1],  # 0.5 alone already reaches 0.3
        0.5: [1],  # reaching p exactly is enough
        0.6: [1, 3],
        0.8: [1, 3],
        0.85: [0, 1, 3],
        0.95: [0, 1, 2, 3, 4],  # the two tied at 0.05: one is needed, the sort picks it
    }
    for top_p, kept in expected.items():
        keep = nucleus_mask(probabilities, top_p)[0]
        if top_p == 0.95:
            assert keep.sum() == 4 and keep[[0, 1, 3]].all()
        else:
            assert torch.nonzero(keep).flatten().tolist() == kept, top_p


def test_nucleus_mask_is_the_smallest_set_on_random_rows():
    logits = torch.randn(50, V, generator=torch.Generator().manual_seed(7))
    probabilities = torch.softmax(logits, dim=1)
    for top_p in (0.1, 0.5, 0.9, 0.99):
        keep = nucleus_mask(probabilities, top_p)
        kept_mass = (probabilities * keep).sum(dim=1)
        assert (kept_mass >= top_p - 1e-6).all()
        # Removing the least likely kept token drops the mass below p: the set is the smallest.
        least_kept = torch.where(keep, probabilities, torch.inf).min(dim=1).values
        assert (kept_mass - least_kept < top_p).all()
        # Every kept token is at least as likely as every dropped one.
        most_dropped = torch.where(keep, -torch.inf, probabilities).max(dim=1).values
        assert (least_kept >= most_dropped).all()


def test_sample_next_with_top_p_draws_only_from_the_nucleus_renormalised():
    logits = torch.log(torch.tensor([[0.1, 0.5, 0.05, 0.3, 0.05]])).expand(20000, 5)
    tokens = sample_next(logits, top_p=0.7, generator=torch.Generator().manual_seed(8))
    frequencies = torch.bincount(tokens, minlength=5).float() / len(tokens)
    expected = torch.tensor([0.0, 0.5, 0.0, 0.3, 0.0]) / 0.8
    torch.testing.assert_close(frequencies, expected, rtol=0, atol=0.015)


def test_top_p_one_changes_nothing():
    logits = random_logits(B=50, seed=9)
    unrestricted = sample_next(logits, generator=torch.Generator().manual_seed(3))
    nucleus_one = sample_next(logits, top_p=1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(unrestricted, nucleus_one)
    # A smaller p does change the draws: the comparison above can fail.
    small = sample_next(logits, top_p=0.3, generator=torch.Generator().manual_seed(3))
    assert not torch.equal(unrestricted, small)


def test_tiny_top_p_is_greedy():
    logits = random_logits(B=200, seed=10)
    tokens = sample_next(logits, top_p=1e-9, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tokens, logits.argmax(dim=1))


@pytest.mark.parametrize("top_p", [0, 0.0, -0.1, 1.5, float("nan"), True, "0.9"])
def test_bad_top_p_is_refused(top_p):
    with pytest.raises(ValueError, match="top_p"):
        sample_next(random_logits(), top_p=top_p)
    with pytest.raises(ValueError, match="top_p"):
        nucleus_mask(torch.softmax(random_logits(), dim=1), top_p)


def test_generate_with_top_p(model):
    prefix = torch.tensor([[1, 2]])
    same = generate(model, prefix, steps=5, generator=torch.Generator().manual_seed(1))
    nucleus_one = generate(
        model, prefix, steps=5, generator=torch.Generator().manual_seed(1), top_p=1.0
    )
    assert torch.equal(same, nucleus_one)
    tiny = generate(model, prefix, steps=5, top_p=1e-9)
    assert torch.equal(tiny, generate(model, prefix, steps=5, temperature=1e-8))
    with pytest.raises(ValueError, match="top_p"):
        generate(model, prefix, steps=2, top_p=2.0)


class TableModel(torch.nn.Module):
    """A 'language model' whose next-token log-probabilities depend only on the last token."""

    def __init__(self, log_probabilities):
        super().__init__()
        self.table = torch.nn.Parameter(log_probabilities, requires_grad=False)  # (V, V)
        self.seen = []

    def forward(self, tokens, state=None):
        self.seen.append(tokens.tolist())
        return self.table[tokens], state  # (B, T, V)


def test_language_model_beam_search_with_a_known_table():
    """The table of test_beam_search_finds_what_myopic_greedy_misses, read after a prefix."""
    START, A, B, END = 0, 1, 2, 3
    probabilities = torch.full((6, 6), 1 / 6)
    probabilities[START] = torch.tensor([0.0, 0.6, 0.4, 0.0, 0.0, 0.0])
    probabilities[A] = torch.tensor([0.0, 0.0, 0.0, 0.34, 0.33, 0.33])
    probabilities[B] = torch.tensor([0.0, 0.0, 0.0, 0.99, 0.005, 0.005])
    table_model = TableModel(probabilities.log())
    prefix = torch.tensor([4, 5, START])
    tokens, score = language_model_beam_search(table_model, prefix, 2, 5, end_token=END)
    assert tokens == [B, END]
    assert score == pytest.approx(math.log(0.4 * 0.99), rel=1e-6)
    assert table_model.seen[0] == [[4, 5]]  # the prefix but its last token, read once
    greedy, _ = language_model_beam_search(table_model, prefix, 1, 5, end_token=END)
    assert greedy == [A, END]


def test_language_model_beam_search_carries_the_prefix_state(model):
    prefix = torch.tensor([3, 1, 4, 1])
    model.train()
    tokens, score = language_model_beam_search(model, prefix, 1, 6)
    assert model.training  # mode restored
    sampled = generate(model, prefix, steps=6, temperature=1e-8)
    assert tokens == sampled[4:].tolist()
    # Starting from a blank state instead gives another score: the prefix matters.
    _, blank_score = beam_search(language_model_step_fn(model.eval()), None, 1, None, 1, 6)
    assert score != pytest.approx(blank_score)
    with pytest.raises(ValueError, match="prefix_tokens"):
        language_model_beam_search(model, torch.tensor([], dtype=torch.int64), 2, 3)


# Length normalisation: score = log p / n ** length_penalty, as rnncore.numpy.search.


def history_step_fn(V_small, seed):
    """log p(next | whole history), drawn once per history; the state is the history."""
    cache = {}

    def step_fn(token, history):
        history = history + (token,)
        if history not in cache:
            generator = torch.Generator().manual_seed(seed * 1_000_003 + hash(history) % 999_983)
            cache[history] = torch.log_softmax(
                3 * torch.randn(V_small, generator=generator, dtype=torch.float64), dim=0
            )
        return cache[history], history

    return step_fn


def all_sequences(V_small, end_token, max_length):
    """Every sequence the search can return: ended by end_token, or max_length long."""
    sequences, frontier = [], [()]
    for _ in range(max_length):
        grown = []
        for prefix in frontier:
            for token in range(V_small):
                sequence = prefix + (token,)
                (sequences if token == end_token else grown).append(sequence)
        frontier = grown
    return sequences + frontier


def brute_force_best(step_fn, V_small, end_token, max_length, length_penalty):
    best, best_score = None, -math.inf
    for sequence in all_sequences(V_small, end_token, max_length):
        state, log_prob, previous = (), 0.0, 0
        for token in sequence:
            log_probs, state = step_fn(previous, state)
            log_prob += float(log_probs[token])
            previous = token
        score = log_prob / len(sequence) ** length_penalty
        if score > best_score:
            best, best_score = list(sequence), score
    return best, best_score


@pytest.mark.parametrize("length_penalty", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("seed", range(4))
def test_a_wide_beam_finds_the_brute_force_best_with_length_normalisation(seed, length_penalty):
    V_small, end_token, max_length = 3, 2, 4  # 31 possible sequences
    step_fn = history_step_fn(V_small, seed)
    expected = brute_force_best(step_fn, V_small, end_token, max_length, length_penalty)
    tokens, score = beam_search(
        step_fn,
        (),
        0,
        end_token,
        beam_width=40,
        max_length=max_length,
        length_penalty=length_penalty,
    )
    assert tokens == expected[0]
    assert score == pytest.approx(expected[1], rel=1e-9)


@pytest.mark.parametrize("length_penalty", [0.0, 0.7, 1.0])
@pytest.mark.parametrize("seed", range(4))
def test_beam_of_width_one_is_greedy_with_any_length_penalty(seed, length_penalty):
    step_fn = history_step_fn(4, seed)
    greedy_tokens, greedy_log_prob = greedy_decode(step_fn, (), 0, 3, max_length=6)
    tokens, score = beam_search(
        step_fn, (), 0, 3, beam_width=1, max_length=6, length_penalty=length_penalty
    )
    assert tokens == greedy_tokens
    assert score == pytest.approx(greedy_log_prob / len(tokens) ** length_penalty)


@pytest.mark.parametrize("length_penalty", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("beam_width", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_beam_search_agrees_with_the_numpy_reference(seed, beam_width, length_penalty):
    from rnncore.numpy import search

    step_fn = history_step_fn(4, seed)

    def numpy_step_fn(token, history):
        log_probs, new_history = step_fn(token, history)
        return log_probs.numpy(), new_history

    reference = search.beam_search(numpy_step_fn, (), 0, 3, beam_width, 7, length_penalty)
    tokens, score = beam_search(step_fn, (), 0, 3, beam_width, 7, length_penalty=length_penalty)
    assert tokens == reference[0][0]
    assert score == pytest.approx(reference[0][1], rel=1e-9)


def test_length_normalisation_prefers_the_longer_sequence_when_it_should():
    """END at once: p = 0.55. A then END: 0.45 * 0.9 = 0.405, yet per token
    sqrt(0.405) = 0.64 > 0.55."""
    START, A, END = range(3)
    table = {START: [1e-12, 0.45, 0.55], A: [1e-12, 0.1, 0.9]}
    table = {key: torch.tensor(value).log() for key, value in table.items()}

    def step_fn(token, state):
        return table[token], state

    plain, _ = beam_search(step_fn, None, START, END, beam_width=2, max_length=4)
    normalised, score = beam_search(
        step_fn, None, START, END, beam_width=2, max_length=4, length_penalty=1.0
    )
    assert plain == [END]
    assert normalised == [A, END]
    assert score == pytest.approx(math.log(0.45 * 0.9) / 2)


@pytest.mark.parametrize("length_penalty", [-0.5, math.nan, math.inf, "1", True])
def test_bad_length_penalty_is_refused(length_penalty):
    step_fn = table_step_fn(random_table())
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(step_fn, 0, 0, None, 2, 3, length_penalty=length_penalty)
