"""Tests of the generated sentiment sentences, their split, the tokenizer and the vocabulary.

The labels are checked by an independent reader of the sentences (:func:`reference_label`),
written from the rules in the module docstring, not from the generator's code.
"""

import re
from collections import Counter

import pytest

from rnncore.data import sentiment
from rnncore.data.sentiment import (
    CANDIDATE_ADJECTIVES,
    HELD_OUT_FRAMES,
    NOUNS,
    POLARITY_THRESHOLD,
    SUBJECTS,
    VERBS,
    WordVocabulary,
    load_vader_lexicon,
    make_sentiment_data,
    polarity_words,
    tokenize,
)

NEGATING = {"not", "never", "hardly", "far"}


@pytest.fixture(scope="module")
def data():
    return make_sentiment_data(seed=3, n_train=1200, n_valid=200, n_test=400, n_long=60)


def clause_polarity(words, polarity):
    """+1/-1 of a clause: its polarity word's sign, flipped if a negating word precedes it."""
    adjectives = [w for w in words if w in polarity]
    assert len(adjectives) == 1, words
    sign = 1 if polarity[adjectives[0]] > 0 else -1
    return -sign if NEGATING & set(words[: words.index(adjectives[0])]) else sign


def reference_label(tokens, polarity):
    """The label of a sentence read from its words: the main clause decides."""
    tokens = list(tokens)
    if "first" in tokens:  # "X at first but Y": the last adjective decides
        last = [w for w in tokens if w in polarity][-1]
        return int(polarity[last] > 0)
    if "but" in tokens:
        main = tokens[tokens.index("but") + 1 :]
    elif tokens[0] in ("although", "even"):
        main = tokens[tokens.index(",") + 1 :]
    elif "although" in tokens or "even" in tokens:
        cut = min(tokens.index(w) for w in ("although", "even", ",") if w in tokens)
        main = tokens[:cut]
    else:
        main = tokens
    # Clauses joined by "and" on the main side share its polarity: read the first.
    first = main[: main.index("and")] if "and" in main else main
    return int(clause_polarity(first, polarity) > 0)


def frame_of(example):
    """(subject index, verb index) of a plain or intensified sentence."""
    tokens = example.tokens
    verb_at = next(i for i, w in enumerate(tokens) if w in VERBS)
    subject = " ".join("{noun}" if w in NOUNS else w for w in tokens[:verb_at])
    return SUBJECTS.index(subject), VERBS.index(tokens[verb_at])


def test_lexicon_is_read_from_the_installed_package():
    lexicon = load_vader_lexicon()
    assert len(lexicon) > 5000
    assert lexicon["great"] > 2 and lexicon["awful"] < -1
    assert all(-4 <= value <= 4 for value in lexicon.values())


def test_polarity_words_follow_the_documented_rule():
    lexicon = load_vader_lexicon()
    words = polarity_words()
    expected = [w for w in CANDIDATE_ADJECTIVES if abs(lexicon.get(w, 0.0)) >= POLARITY_THRESHOLD]
    assert list(words) == expected
    assert all(words[w] == lexicon[w] for w in words)
    assert len(polarity_words(2.5)) < len(words)
    with pytest.raises(ValueError, match="threshold"):
        polarity_words(0)


def test_same_seed_same_data_other_seed_other_data():
    small = {"n_train": 100, "n_valid": 40, "n_test": 60, "n_long": 4}
    first, second = make_sentiment_data(1, **small), make_sentiment_data(1, **small)
    assert first == second
    assert make_sentiment_data(2, **small).train != first.train


def test_sizes_constructions_and_balance(data):
    assert (len(data.train), len(data.valid), len(data.test), len(data.long_test)) == (
        1200,
        200,
        400,
        60,
    )
    for split in ("train", "valid", "test"):
        counts = Counter(e.construction for e in data.splits()[split])
        assert set(counts) == {"plain", "intensified", "negated", "contrast", "multi_clause"}
        for construction in counts:
            labels = [e.label for e in data.splits()[split] if e.construction == construction]
            assert abs(sum(labels) - len(labels) / 2) <= 1
    assert {e.construction for e in data.long_test} == {"long"}


def test_every_label_agrees_with_an_independent_reading(data):
    polarity = polarity_words()
    for split, examples in data.splits().items():
        for example in examples:
            assert example.label == reference_label(example.tokens, polarity), (
                split,
                example.text,
            )
            assert example.tokens == tuple(tokenize(example.text))
            assert example.length == len(example.tokens)


def test_negated_flag_matches_the_words(data):
    for example in data.train + data.test:
        if example.construction in ("plain", "intensified"):
            assert not example.negated
        if example.construction == "negated":
            assert example.negated and NEGATING & set(example.tokens)
        if not example.negated:
            assert not NEGATING & set(example.tokens), example.text


def test_held_out_words_are_never_composed_in_training(data):
    held = set(data.held_out_words)
    polarity = set(data.positive_words) | set(data.negative_words)
    assert held < polarity and 0 < len(held) < len(polarity) / 2
    for example in data.train + data.valid:
        if held & set(example.tokens):
            assert example.construction in ("plain", "intensified"), example.text
    # ... but training does teach what each of them means.
    seen = {w for e in data.train for w in e.tokens}
    assert held <= seen
    for example in data.test + data.long_test:
        assert polarity & set(example.tokens) <= held, example.text


def test_held_out_frames_and_templates_only_in_test(data):
    for example in data.train + data.valid:
        if example.construction in ("plain", "intensified"):
            assert frame_of(example) not in HELD_OUT_FRAMES
        assert example.tokens[:2] != ("even", "though"), example.text
    frames = {frame_of(e) for e in data.test if e.construction in ("plain", "intensified")}
    assert frames == set(HELD_OUT_FRAMES)
    assert any(e.tokens[:2] == ("even", "though") for e in data.test)


def test_sets_are_disjoint_and_long_test_is_longer(data):
    texts = [e.text for examples in data.splits().values() for e in examples]
    assert len(texts) == len(set(texts))
    longest = max(e.length for e in data.train + data.valid)
    assert min(e.length for e in data.long_test) > longest


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="n_train"):
        make_sentiment_data(n_train=5)
    with pytest.raises(ValueError, match="n_long"):
        make_sentiment_data(n_long=0)


def test_tokenize_keeps_words_and_commas():
    assert tokenize("Not bad, REALLY.") == ["not", "bad", ",", "really"]
    with pytest.raises(ValueError, match="string"):
        tokenize(["not", "bad"])


def test_vocabulary_round_trip_unknown_and_padding():
    vocabulary = WordVocabulary(["the", "film", "the", "was", "good"])
    assert vocabulary.words[:3] == ("<pad>", "<unk>", "the")
    assert (vocabulary.pad_id, vocabulary.unk_id) == (0, 1)
    ids = vocabulary.encode(["the", "film", "was", "superb"])
    assert ids[-1] == vocabulary.unk_id and len(set(ids[:3])) == 3
    assert vocabulary.decode(ids) == ["the", "film", "was", "<unk>"]
    assert len(vocabulary) == 6
    with pytest.raises(ValueError, match="tokenize"):
        vocabulary.encode("the film")
    with pytest.raises(ValueError, match="outside"):
        vocabulary.decode([6])
    with pytest.raises(ValueError, match="at least one"):
        WordVocabulary([])


def test_vocabulary_from_training_examples_covers_the_test_words(data):
    vocabulary = WordVocabulary.from_examples(data.train)
    for example in data.test + data.long_test:
        assert vocabulary.unk_id not in vocabulary.encode(example.tokens), example.text


def test_no_lexicon_text_in_the_module_source():
    source = open(sentiment.__file__, encoding="utf-8").read()
    assert not re.search(r"\t-?\d\.\d+\t", source)
