"""Tests of the character n-gram baselines and the nats/bits/perplexity conversions."""

import itertools
import math

import numpy as np
import pytest

from rnncore.ngram import NGramModel, bits_from_nats, perplexity_from_nats

SMOOTHINGS = ["kneser-ney", "add-k"]


def random_text(length, vocab_size, seed):
    return np.random.default_rng(seed).integers(0, vocab_size, size=length)


def repetitive_text(length, seed):
    """Words of a small lexicon in random order: characters depend strongly on the last two."""
    lexicon = ["abc", "bca", "cab", "acb", "bac", "cba"]
    rng = np.random.default_rng(seed)
    letters = "".join(lexicon[i] + "d" for i in rng.integers(0, len(lexicon), size=length // 4))
    return np.array(["abcd".index(ch) for ch in letters], dtype=np.int64)


# -- distributions -------------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_every_context_gives_a_distribution_over_the_vocabulary(order, smoothing):
    V = 4
    # Characters 0 .. 2 only: character 3 and every context holding it are never seen.
    model = NGramModel(order, V, smoothing=smoothing).fit(random_text(60, 3, seed=order))
    for context_length in range(order):
        for context in itertools.product(range(V), repeat=context_length):
            probabilities = model.next_probabilities(list(context))
            assert probabilities.shape == (V,)
            assert np.all(probabilities > 0), context
            np.testing.assert_allclose(probabilities.sum(), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_log_probs_agree_with_next_probabilities(smoothing):
    ids = random_text(200, 5, seed=0)
    model = NGramModel(3, 5, smoothing=smoothing).fit(ids[:150])
    log_probs = model.log_probs(ids[150:])
    assert log_probs.shape == (50 - 3 + 1,)
    expected = [
        math.log(model.next_probabilities(ids[150 + t - 2 : 150 + t])[ids[150 + t]])
        for t in range(2, 50)
    ]
    np.testing.assert_allclose(log_probs, expected, rtol=1e-12)


# -- hand-computed values ------------------------------------------------------------------


def test_unigram_kneser_ney_matches_the_hand_computation():
    # Text "a a b" over {a, b, c}, d = 0.75: counts 2, 1, 0; total 3; 2 distinct characters.
    # P(a) = (2 - 0.75) / 3 + 0.75 * 2 / 3 * 1/3 = 1.75 / 3, P(b) = 0.75 / 3, P(c) = 0.5 / 3.
    model = NGramModel(1, 3, discount=0.75).fit([0, 0, 1])
    np.testing.assert_allclose(model.next_probabilities(), [1.75 / 3, 0.75 / 3, 0.5 / 3])
    np.testing.assert_allclose(
        model.log_probs([0, 1, 2]), np.log([1.75 / 3, 0.75 / 3, 0.5 / 3]), rtol=1e-12
    )
    expected_nats = -np.mean(np.log([1.75 / 3, 0.75 / 3, 0.5 / 3]))
    assert model.nats_per_character([0, 1, 2]) == pytest.approx(expected_nats, rel=1e-12)


def test_unigram_add_one_matches_the_hand_computation():
    # (count + 1) / (3 + 3): P(a) = 3/6, P(b) = 2/6, P(c) = 1/6.
    model = NGramModel(1, 3, smoothing="add-k", add_k=1.0).fit([0, 0, 1])
    np.testing.assert_allclose(model.log_probs([0, 1, 2]), np.log([3 / 6, 2 / 6, 1 / 6]))


def test_bigram_kneser_ney_uses_continuation_counts_for_the_lower_order():
    # Text "a b a b a c" = 0 1 0 1 0 2, d = 0.5. Distinct bigrams ab, ba, ac: every character
    # ends exactly one of them, so the lower order is uniform although the raw counts are
    # 3, 2, 1. Context a: c(ab) = 2, c(ac) = 1, total 3, 2 types:
    # P(b | a) = (2 - 0.5) / 3 + 0.5 * 2 / 3 * 1/3 = 11/18, P(c | a) = 0.5 / 3 + 1/9 = 5/18,
    # P(a | a) = 0 + 1/9 = 2/18; context c was never followed, so P(. | c) = P_1 = 1/3.
    model = NGramModel(2, 3, discount=0.5).fit([0, 1, 0, 1, 0, 2])
    np.testing.assert_allclose(model.log_probs([0, 1]), [math.log(11 / 18)])
    np.testing.assert_allclose(model.next_probabilities([2]), [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(model.next_probabilities([0]), [2 / 18, 11 / 18, 5 / 18])


# -- held-out behaviour --------------------------------------------------------------------


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_unseen_ngrams_get_finite_log_probabilities(smoothing):
    model = NGramModel(3, 6, smoothing=smoothing).fit([0, 1] * 50)
    log_probs = model.log_probs([0, 1, 2, 3, 4, 5, 5, 0])
    assert np.all(np.isfinite(log_probs)) and np.all(log_probs < 0)
    assert np.all(np.isfinite(model.next_probabilities([5, 5])))


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
def test_higher_orders_beat_lower_orders_on_held_out_repetitive_text(smoothing):
    train, validation = repetitive_text(20_000, seed=0), repetitive_text(4_000, seed=1)
    nats = [
        NGramModel(order, 4, smoothing=smoothing).fit(train).nats_per_character(validation)
        for order in (1, 2, 3)
    ]
    assert nats[0] > nats[1] + 0.1 > nats[2] + 0.2
    # A unigram can do no better than the entropy of the character frequencies, about ln 4.
    assert nats[0] == pytest.approx(math.log(4), abs=0.05)


def test_a_uniform_text_costs_log_v_nats_per_character():
    ids = np.tile(np.arange(8), 50)
    assert NGramModel(1, 8).fit(ids).nats_per_character(ids) == pytest.approx(math.log(8))


def test_fit_replaces_an_earlier_fit():
    model = NGramModel(2, 3).fit([0, 0, 0, 0])
    before = model.nats_per_character([1, 1, 1])
    model.fit([1, 1, 1, 1])
    assert model.nats_per_character([1, 1, 1]) < before


# -- sampling ------------------------------------------------------------------------------


def test_sampling_follows_the_learned_cycle_from_the_prefix():
    model = NGramModel(2, 5, discount=0.01).fit(np.tile([0, 1, 2], 200))
    sample = model.sample(30, np.random.default_rng(0), prefix=[1])
    assert sample.shape == (30,) and sample.dtype == np.int64
    np.testing.assert_array_equal(sample, np.tile([2, 0, 1], 10))


def test_unigram_samples_have_the_model_frequencies():
    model = NGramModel(1, 4).fit([0] * 60 + [1] * 30 + [2] * 10)
    sample = model.sample(4000, np.random.default_rng(1))
    frequencies = np.bincount(sample, minlength=4) / 4000
    np.testing.assert_allclose(frequencies, model.next_probabilities(), atol=0.03)
    assert model.sample(0, np.random.default_rng(1)).shape == (0,)


def test_sampling_is_reproducible_with_a_seed():
    model = NGramModel(3, 4).fit(random_text(300, 4, seed=2))
    first = model.sample(50, np.random.default_rng(7), prefix=[0, 1])
    second = model.sample(50, np.random.default_rng(7), prefix=[0, 1])
    np.testing.assert_array_equal(first, second)
    assert first.min() >= 0 and first.max() < 4


# -- conversions ---------------------------------------------------------------------------


def test_bits_and_perplexity_conversions():
    assert bits_from_nats(math.log(2)) == pytest.approx(1.0)
    assert bits_from_nats(math.log(8)) == pytest.approx(3.0)
    assert perplexity_from_nats(math.log(5)) == pytest.approx(5.0)
    assert perplexity_from_nats(0.0) == 1.0
    nats = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(2.0 ** bits_from_nats(nats), perplexity_from_nats(nats))
    assert isinstance(bits_from_nats(1.0), float)
    assert bits_from_nats(nats).shape == (3,)


# -- bad arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(order=0), r"order must be a positive integer \(1 = unigram\), got 0"),
        (dict(order=2.0), "order must be a positive integer"),
        (dict(vocab_size=0), "vocab_size must be a positive integer V, got 0"),
        (dict(smoothing="laplace"), r"smoothing must be one of \('kneser-ney', 'add-k'\)"),
        (dict(discount=0.0), r"discount must lie in \(0, 1\], got 0.0"),
        (dict(discount=1.5), r"discount must lie in \(0, 1\]"),
        (dict(add_k=0.0), "add_k must be positive"),
        (dict(order=20, vocab_size=96), "beyond int64"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, message):
    arguments = dict(order=2, vocab_size=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        NGramModel(**arguments)


@pytest.mark.parametrize(
    "ids, message",
    [
        ([0, 1, 4], r"ids in 0 \.\. V - 1 = 0 \.\. 3, got 4 at position 2"),
        ([0, -1, 2], "got -1 at position 1"),
        ([0, 1], "at least 3 ids for a model of order 3, got 2"),
        (np.zeros((2, 3), dtype=np.int64), r"ids must have 1 axis \(N,\), got shape \(2, 3\)"),
        (np.array([0.0, 1.0, 2.0]), "integer array of character ids"),
    ],
)
def test_fit_and_log_probs_reject_bad_ids(ids, message):
    with pytest.raises(ValueError, match=message):
        NGramModel(3, 4).fit(ids)
    fitted = NGramModel(3, 4).fit([0, 1, 2, 3])
    with pytest.raises(ValueError, match=message):
        fitted.log_probs(ids)


def test_an_unfitted_model_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        NGramModel(2, 3).log_probs([0, 1, 2])


def test_sample_rejects_bad_arguments():
    model = NGramModel(2, 3).fit([0, 1, 2])
    with pytest.raises(ValueError, match="length must be a non-negative integer, got -1"):
        model.sample(-1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        model.sample(3, 0)
    with pytest.raises(ValueError, match="prefix must hold ids"):
        model.sample(3, np.random.default_rng(0), prefix=[7])
