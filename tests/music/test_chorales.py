"""Tests of the chorale tokens: selection, cache, split, transposition and reading back."""

import json
from fractions import Fraction

import pytest

from rnncore.data import chorales
from rnncore.data.chorales import (
    Chorale,
    TokenVocabulary,
    augment_by_transposition,
    load_chorales,
    melody_from_tokens,
    soprano_tokens,
    split_by_tune,
    time_since_bar_line,
    transpose_tokens,
    tune_signature,
)

FEW = ("bwv1.6.mxl", "bwv10.7.mxl", "bwv101.7.mxl")


@pytest.fixture(scope="module")
def few_paths():
    paths = {p.name: p for p in chorales.corpus_paths()}
    return [paths[name] for name in FEW]


@pytest.fixture(scope="module")
def few_scores(few_paths):
    from music21 import converter

    return [converter.parse(p, forceSource=True, storePickle=False) for p in few_paths]


def test_corpus_paths_are_sorted_musicxml_files():
    paths = chorales.corpus_paths()
    assert len(paths) > 400
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    assert {p.suffix for p in paths} <= {".mxl", ".xml"}


def test_soprano_tokens_follow_the_grammar_and_keep_every_note(few_scores):
    for score in few_scores:
        tokens = soprano_tokens(score)
        assert tokens[0] == chorales.START and tokens[-1] == chorales.END
        assert tokens[1] in chorales.TIME_SIGNATURES
        for i, token in enumerate(tokens):
            if token == chorales.REST or chorales._is_pitch(token):
                assert chorales._is_duration(tokens[i + 1]), (i, tokens[i - 2 : i + 3])
        soprano = next(p for p in score.parts if p.partName == "Soprano")
        notes = [n for n in soprano.recurse().notesAndRests if n.duration.quarterLength > 0]
        pitches = [n.pitch.midi for n in notes if n.isNote]
        assert [int(t[1:]) for t in tokens if chorales._is_pitch(t)] == pitches
        melody = melody_from_tokens(tokens)
        total = sum(n.duration for n in melody.notes)
        assert total == Fraction(soprano.highestTime).limit_denominator(64)
        bars = len(soprano.getElementsByClass("Measure"))
        assert tokens.count(chorales.BAR) == bars - 1
        assert tokens.count(chorales.FERMATA) == sum(
            1 for n in notes if any(type(e).__name__ == "Fermata" for e in n.expressions)
        )


def test_soprano_tokens_reject_scores_outside_the_selection(few_scores):
    from music21 import stream

    score = few_scores[0]
    without_alto = stream.Score([p for p in score.parts if p.partName != "Alto"])
    assert soprano_tokens(without_alto) is None
    odd_metre = few_scores[1].__deepcopy__()
    for signature in odd_metre.recurse().getElementsByClass("TimeSignature"):
        signature.ratioString = "3/2"
    assert soprano_tokens(odd_metre) is None


def test_load_chorales_caches_by_version_and_reads_the_cache(tmp_path, few_paths):
    import music21

    first = load_chorales(tmp_path, few_paths)
    files = list(tmp_path.glob("chorales-*.json"))
    assert len(files) == 1 and music21.__version__ in files[0].name
    assert [c.name for c in first] == list(FEW)
    assert load_chorales(tmp_path, few_paths) == first
    # The second call reads the file: a changed file changes the result.
    stored = json.loads(files[0].read_text())
    stored[0]["tokens"] = ["<start>", "4/4", "p60", "d1", "<end>"]
    files[0].write_text(json.dumps(stored))
    assert load_chorales(tmp_path, few_paths)[0].tokens == ("<start>", "4/4", "p60", "d1", "<end>")
    # Another selection gets another file.
    load_chorales(tmp_path, few_paths[:1])
    assert len(list(tmp_path.glob("chorales-*.json"))) == 2


def test_transpose_moves_only_pitches_and_is_undone_by_the_opposite_shift():
    tokens = ["<start>", "3/4", "p60", "d1", "rest", "d1/2", "|", "p67", "d2", "fermata", "<end>"]
    up = transpose_tokens(tokens, 5)
    assert up == ["<start>", "3/4", "p65", "d1", "rest", "d1/2", "|", "p72", "d2", "fermata",
                  "<end>"]  # fmt: skip
    assert transpose_tokens(up, -5) == tokens
    assert tune_signature(up) == tune_signature(tokens) == (7,)


def test_augment_keeps_the_range_and_the_original_key():
    low = Chorale("a", ("<start>", "4/4", "p60", "d1", "p62", "d1", "<end>"))
    high = Chorale("b", ("<start>", "4/4", "p70", "d1", "p72", "d1", "<end>"))
    copies = augment_by_transposition([low, high], range(-2, 3), 59, 73)
    pitches = [[int(t[1:]) for t in c if chorales._is_pitch(t)] for c in copies]
    # low: shifts -1, 0, 1, 2 fit (58 does not); high: -2, -1, 0, 1 (74 does not).
    assert pitches == [[68, 70], [59, 61], [69, 71], [60, 62], [70, 72], [61, 63], [71, 73],
                       [62, 64]]  # fmt: skip
    assert list(low.tokens) in copies and list(high.tokens) in copies


def _tune(name, start, steps):
    tokens = ["<start>", "4/4"]
    pitch = start
    for step in steps:
        tokens += [f"p{pitch}", "d1"]
        pitch += step
    return Chorale(name, tuple(tokens + [f"p{pitch}", "d2", "<end>"]))


def test_split_keeps_every_version_of_a_tune_on_one_side():
    import random

    generator = random.Random(0)
    tunes = [[generator.choice([-2, -1, 1, 2, 3, -3, 4]) for _ in range(9)] for _ in range(200)]
    collection = []
    for t, steps in enumerate(tunes):
        for version in range(3):  # three versions in other keys, endings varied
            collection.append(_tune(f"bwv{t}.{version}.mxl", 60 + version, steps + [version]))
    train, held_out = split_by_tune(collection)
    assert len(train) + len(held_out) == len(collection)
    held_tunes = {tune_signature(c.tokens) for c in held_out}
    assert held_tunes.isdisjoint(tune_signature(c.tokens) for c in train)
    assert 0.08 < len(held_out) / len(collection) < 0.25
    # Fixed: the same split whatever the order and whatever else is in the collection.
    again_train, again_held = split_by_tune(collection[::-1])
    assert {c.name for c in again_held} == {c.name for c in held_out}
    fewer_train, fewer_held = split_by_tune(collection[:300])
    assert {c.name for c in fewer_held} == {c.name for c in held_out if c in collection[:300]}


def test_melody_from_tokens_reads_onsets_ties_fermatas_and_bars():
    tokens = ["<start>", "3/4", "p67", "d1", "|", "p72", "d2", "tie", "|", "p72", "d1/2",
              "rest", "d1/2", "p71", "d1", "fermata", "<end>", "p60", "d1"]  # fmt: skip
    melody = melody_from_tokens(tokens)
    assert melody.time_signature == "3/4"
    assert [(n.onset, n.duration, n.pitch, n.fermata) for n in melody.notes] == [
        (0, 1, 67, False),
        (1, Fraction(5, 2), 72, False),
        (Fraction(7, 2), Fraction(1, 2), None, False),
        (4, 1, 71, True),
    ]
    assert melody.bar_onsets == (1, 3)
    assert melody.well_formed_fraction == 1.0


def test_melody_from_tokens_skips_and_counts_broken_notes():
    melody = melody_from_tokens(["p60", "p62", "d1", "d1", "p64", "|", "p65", "d2", "tie", "p67",
                                 "d1"])  # fmt: skip
    assert [(n.pitch, n.onset) for n in melody.notes] == [(62, 0), (65, 1), (67, 3)]
    assert melody.well_formed_fraction == pytest.approx(3 / 5)
    assert melody.time_signature == "4/4"


def test_vocabulary_round_trip_and_unknown_token():
    vocabulary = TokenVocabulary.from_sequences([["p62", "d1", "<start>", "d1/2", "p60", "|"]])
    assert vocabulary.tokens == ["<start>", "|", "p60", "p62", "d1/2", "d1"]
    ids = vocabulary.encode(["p60", "d1", "|"])
    assert ids == [2, 5, 1] and vocabulary.decode(ids) == ["p60", "d1", "|"]
    with pytest.raises(ValueError, match="'p99' is not in the vocabulary"):
        vocabulary.encode(["p99"])
    with pytest.raises(ValueError, match="distinct"):
        TokenVocabulary(["a", "a"])


def test_duration_token_writes_fractions():
    assert chorales.duration_token(0.5) == "d1/2"
    assert chorales.duration_token(1.5) == "d3/2"
    assert chorales.duration_token(Fraction(1, 3)) == "d1/3"
    assert chorales.duration_token(4) == "d4"
    with pytest.raises(ValueError, match="positive"):
        chorales.duration_token(0)


def test_time_since_bar_line():
    tokens = ["p60", "d1", "<start>", "4/4", "p60", "d1", "|", "p62", "d1/2", "tie", "|",
              "p62", "d3/2", "fermata", "rest", "d1", "<end>"]  # fmt: skip
    assert time_since_bar_line(tokens) == [
        None, None, 0, 0, 0, 1, 0, 0, Fraction(1, 2), Fraction(1, 2), 0, 0, Fraction(3, 2),
        Fraction(3, 2), Fraction(3, 2), Fraction(5, 2), Fraction(5, 2),
    ]  # fmt: skip
