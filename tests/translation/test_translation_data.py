"""English to German number pairs: pieces, crossing order, splits by number and by length."""

import pytest

from rnncore.data.translation import (
    GERMAN_PIECES,
    Vocabulary,
    english_words,
    german_pieces,
    join_german,
    make_number_splits,
    make_pair,
    segment_german,
)


@pytest.fixture(scope="module")
def splits():
    return make_number_splits(seed=3, train_size=600, valid_size=100, test_size=200, long_size=100)


def test_english_words_drop_hyphens_and_commas():
    assert english_words(21) == ["twenty", "one"]
    assert english_words(2345) == ["two", "thousand", "three", "hundred", "and", "forty", "five"]


@pytest.mark.parametrize(
    ("number", "pieces"),
    [
        (1, ["eins"]),
        (16, ["sechzehn"]),
        (21, ["ein", "und", "zwanzig"]),
        (37, ["sieben", "und", "dreißig"]),
        (101, ["ein", "hundert", "eins"]),
        (70474, ["siebzig", "tausend", "vier", "hundert", "vier", "und", "siebzig"]),
    ],
)
def test_german_pieces_put_units_before_tens(number, pieces):
    assert german_pieces(number) == pieces


def test_pieces_join_back_to_num2words_for_every_number_up_to_a_hundred_thousand():
    from num2words import num2words

    for number in list(range(0, 2000)) + list(range(2000, 100_000, 97)):
        pieces = german_pieces(number)
        assert join_german(pieces) == num2words(number, lang="de")
        assert set(pieces) <= set(GERMAN_PIECES)


def test_segment_german_names_what_it_cannot_cut():
    with pytest.raises(ValueError, match="no piece starts at 'xyz'"):
        segment_german("dreixyz")
    with pytest.raises(ValueError, match="below 1 000 000"):
        german_pieces(1_000_000)


def test_vocabulary_round_trip_and_special_ids():
    vocabulary = Vocabulary(["b", "a", "b"])
    assert vocabulary.tokens == ["<pad>", "<bos>", "<eos>", "b", "a"]
    ids = vocabulary.encode(["a", "b"], eos=True)
    assert ids == [4, 3, 2]
    assert vocabulary.decode([1] + ids + [3, 0]) == ["a", "b"]
    with pytest.raises(ValueError, match="not in the vocabulary: \\['c'\\]"):
        vocabulary.encode(["c"])


def test_splits_share_no_number_and_have_the_asked_sizes(splits):
    numbers = {
        name: {p.number for p in getattr(splits, name)}
        for name in ("train", "valid", "test", "long")
    }
    assert [len(numbers[name]) for name in ("train", "valid", "test", "long")] == [
        600,
        100,
        200,
        100,
    ]
    names = list(numbers)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not numbers[a] & numbers[b], (a, b)


def test_long_sources_are_longer_than_any_training_source(splits):
    longest_train = max(len(p.source) for p in splits.train + splits.valid + splits.test)
    assert longest_train < splits.long_length
    assert all(len(p.source) >= splits.long_length for p in splits.long)


def test_pairs_are_what_num2words_says(splits):
    for pair in splits.test[:50] + splits.long[:50]:
        assert pair == make_pair(pair.number)
        assert pair.german == join_german(german_pieces(pair.number))


def test_the_same_seed_gives_the_same_splits(splits):
    again = make_number_splits(seed=3, train_size=600, valid_size=100, test_size=200, long_size=100)
    assert again.train == splits.train and again.long == splits.long
    other = make_number_splits(seed=4, train_size=600, valid_size=100, test_size=200, long_size=100)
    assert other.train != splits.train


def test_vocabularies_come_from_training_and_cover_the_tests(splits):
    sources = {t for p in splits.train for t in p.source}
    assert set(splits.source_vocabulary.tokens[3:]) == sources
    for pair in splits.test + splits.long:
        splits.source_vocabulary.encode(pair.source)
        splits.target_vocabulary.encode(pair.target)
