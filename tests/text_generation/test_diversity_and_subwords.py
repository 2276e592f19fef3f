"""Distinct n-grams, byte-pair encoding and the comparison of tokenizations."""

from collections import Counter

import pytest

from rnncore.diversity import distinct_ngram_fraction
from rnncore.subwords import (
    BytePairEncoding,
    compare_tokenizations,
    learn_bpe,
    split_words,
)


def test_distinct_fraction_counts_distinct_windows():
    assert distinct_ngram_fraction("aaaa", 1) == 0.25
    assert distinct_ngram_fraction("abcd", 2) == 1.0
    assert distinct_ngram_fraction("abcabc", 3) == pytest.approx(3 / 4)  # abc bca cab abc
    assert distinct_ngram_fraction(["the", "cat", "the", "cat"], 2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="at least n"):
        distinct_ngram_fraction("ab", 3)
    with pytest.raises(ValueError, match="n must"):
        distinct_ngram_fraction("ab", 0)


def naive_bpe(word_counts, num_merges):
    """Recount every pair from scratch at every round: slow and obviously right."""
    words = {tuple(word): count for word, count in word_counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for symbols, count in words.items():
            for pair in zip(symbols, symbols[1:], strict=False):
                pairs[pair] += count
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        new_words = {}
        for symbols, count in words.items():
            merged, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    merged.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            new_words[tuple(merged)] = new_words.get(tuple(merged), 0) + count
        words = new_words
    return merges


def test_incremental_bpe_equals_recounting_from_scratch():
    text = (
        "the lowest and the newest of the widest slowest towers; aaaa banana bandana "
        "a lower tower is not the lowest; newer, newest, fewest"
    )
    counts = dict(Counter(split_words(text)))
    assert learn_bpe(counts, 40) == naive_bpe(counts, 40)


def test_bpe_encodes_seen_and_unseen_words_into_known_pieces():
    counts = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
    bpe = BytePairEncoding(learn_bpe(counts, 10))
    vocabulary = bpe.vocabulary("".join(counts))
    for word in counts:
        pieces = bpe.encode_word(word)
        assert "".join(pieces) == word and len(pieces) < len(word)
    unseen = bpe.encode_word("slowest")  # never seen, still known pieces
    assert "".join(unseen) == "slowest" and set(unseen) <= vocabulary
    assert BytePairEncoding([]).encode_word("abc") == ["a", "b", "c"]


def test_merges_apply_in_the_order_learned():
    # ("b", "c") was learned first: "abc" -> a, bc, not ab, c.
    assert BytePairEncoding([("b", "c"), ("a", "b")]).encode_word("abc") == ["a", "bc"]
    assert BytePairEncoding([("a", "b"), ("b", "c")]).encode_word("abc") == ["ab", "c"]


def test_comparison_of_the_three_levels():
    train = "the cat sat on the mat. the dog sat on the log.\n" * 3
    held_out = "the cat sat on the dog. a frog sat!"
    rows = {row.level: row for row in compare_tokenizations(train, held_out, num_merges=20)}
    assert list(rows) == ["characters", "subwords (BPE)", "words"]
    assert rows["characters"].held_out_tokens == len(held_out)
    # f, r and ! never occur in training: unknown characters, one unknown word "frog" and "!".
    assert rows["characters"].out_of_vocabulary_rate == pytest.approx(3 / len(held_out))
    words = split_words(held_out)
    assert rows["words"].held_out_tokens == len(words)
    assert rows["words"].out_of_vocabulary_rate == pytest.approx(3 / len(words))  # a frog !
    assert rows["words"].vocabulary_size == len(set(split_words(train)))
    subwords = rows["subwords (BPE)"]
    assert len(words) <= subwords.held_out_tokens <= len(held_out)
    assert 0 < subwords.out_of_vocabulary_rate < rows["words"].out_of_vocabulary_rate
