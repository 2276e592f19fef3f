"""Tests of the offline text corpus, the character vocabulary and the batch makers."""

import numpy as np
import pytest

from rnncore.data import text
from rnncore.data.text import (
    CharVocabulary,
    contiguous_batches,
    load_python_corpus,
    random_windows,
    split_text,
)

# -- corpus --------------------------------------------------------------------------------


def test_corpus_is_deterministic_across_rebuilds():
    first = load_python_corpus()
    text._build_corpus.cache_clear()
    second = load_python_corpus()
    assert first is not second
    assert first == second


def test_corpus_is_large_printable_ascii_with_normalised_whitespace():
    corpus = load_python_corpus()
    assert len(corpus) > 500_000
    assert set(corpus) <= {"\n"} | {chr(code) for code in range(32, 127)}
    assert "\n\n\n" not in corpus
    assert " \n" not in corpus
    assert corpus.endswith("\n") and not corpus.startswith("\n")


def test_help_topics_come_first_and_docstrings_extend_them():
    topics_only = load_python_corpus(include_docstrings=False)
    corpus = load_python_corpus()
    assert len(topics_only) < len(corpus)
    # The help topics open the corpus; the docstrings follow after a blank line.
    assert corpus.startswith(topics_only.rstrip("\n") + "\n\n")
    assert "assert" in topics_only


def test_corpus_ignores_functions_replaced_at_run_time(monkeypatch):
    # A notebook kernel replaces builtins.input, a debugger patches subprocess: the corpus is
    # read from source files, so it must not change.
    import builtins
    import subprocess

    expected = load_python_corpus()
    text._build_corpus.cache_clear()

    def replacement(*args, **kwargs):
        """A replacement with another docstring."""

    monkeypatch.setattr(builtins, "input", replacement)
    monkeypatch.setattr(subprocess, "run", replacement)
    patched = load_python_corpus()
    text._build_corpus.cache_clear()
    assert patched == expected
    assert "A replacement with another docstring." not in patched


def test_docstrings_come_from_source_in_order_and_missing_modules_are_skipped(monkeypatch):
    source = '''"""Module doc."""
def shown():
    """Function doc."""
def _hidden():
    """Private doc."""
class Shown:
    """Class doc."""
    def method(self):
        """Method doc."""
    def _private(self):
        """Private method doc."""
'''
    docstrings = text._module_docstrings(source)
    assert docstrings == ["Module doc.", "Function doc.", "Class doc.", "Method doc."]

    monkeypatch.setattr(text, "DOCSTRING_MODULES", ("no_such_module_here", "textwrap"))
    text._build_corpus.cache_clear()
    try:
        corpus = load_python_corpus()
    finally:
        text._build_corpus.cache_clear()
    assert text._source_path("no_such_module_here") is None
    assert "Text wrapping and filling." in corpus
    assert "Heap queue algorithm" not in corpus  # heapq is not in the patched list


def test_max_chars_cuts_the_corpus():
    assert load_python_corpus(max_chars=1000) == load_python_corpus()[:1000]
    assert len(load_python_corpus(max_chars=1)) == 1


@pytest.mark.parametrize("max_chars", [0, -5, 2.5, "100", True])
def test_max_chars_must_be_a_positive_integer(max_chars):
    with pytest.raises(ValueError, match="max_chars must be a positive integer"):
        load_python_corpus(max_chars=max_chars)


def test_cleaning_maps_typography_to_ascii_and_drops_the_rest():
    raw = "\u201cquoted\u201d \u2013 caf\u00e9\u2026 \u00df\u00b0ok\tend\r\x0c\x7f\n"
    assert text._to_printable_ascii(raw) == '"quoted" - cafe... ok    end\n'


def test_whitespace_keeps_indentation_and_collapses_inner_runs_and_blank_lines():
    raw = "\n\nFirst  line.   Next  \n\n\n\n    indented  code\n"
    assert text._normalise_whitespace(raw) == "First line. Next\n\n    indented code"


# -- vocabulary ----------------------------------------------------------------------------


def test_vocabulary_is_sorted_and_round_trips():
    vocabulary = CharVocabulary.from_text("hello world\n")
    assert vocabulary.characters == ("\n", " ", "d", "e", "h", "l", "o", "r", "w")
    assert vocabulary.size == len(vocabulary) == 9
    ids = vocabulary.encode("hello world\nworld")
    assert ids.dtype == np.int64 and ids.shape == (17,)
    np.testing.assert_array_equal(ids[:5], [4, 3, 5, 5, 6])
    assert vocabulary.decode(ids) == "hello world\nworld"
    assert vocabulary.decode(list(ids)) == "hello world\nworld"
    assert vocabulary.encode("").shape == (0,)
    assert vocabulary.decode(np.array([], dtype=np.int64)) == ""


def test_corpus_vocabulary_round_trips_the_whole_corpus():
    corpus = load_python_corpus()
    vocabulary = CharVocabulary.from_text(corpus)
    assert vocabulary.size <= 96
    assert vocabulary.decode(vocabulary.encode(corpus)) == corpus


def test_unknown_character_raises_naming_it_and_its_position():
    vocabulary = CharVocabulary.from_text("abc")
    with pytest.raises(ValueError, match=r"character 'z' at position 2"):
        vocabulary.encode("abzc")
    with pytest.raises(ValueError, match="character '\u20ac' at position 0"):
        vocabulary.encode("\u20ac")
    with pytest.raises(ValueError, match="text must be a str"):
        vocabulary.encode(["a"])


def test_decode_rejects_out_of_range_non_integer_and_two_dimensional_ids():
    vocabulary = CharVocabulary.from_text("abc")
    with pytest.raises(ValueError, match=r"0 \.\. 2, got 3 at position 1"):
        vocabulary.decode([0, 3])
    with pytest.raises(ValueError, match=r"got -1"):
        vocabulary.decode([-1])
    with pytest.raises(ValueError, match="must be integers"):
        vocabulary.decode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"indices must have 1 axis \(N,\), got shape \(1, 2\)"):
        vocabulary.decode(np.array([[0, 1]]))


def test_vocabulary_rejects_bad_characters():
    with pytest.raises(ValueError, match="distinct"):
        CharVocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match="single characters"):
        CharVocabulary(["ab"])
    with pytest.raises(ValueError, match="at least one"):
        CharVocabulary([])
    with pytest.raises(ValueError, match="non-empty str"):
        CharVocabulary.from_text("")


# -- split ---------------------------------------------------------------------------------


def test_split_is_contiguous_with_the_held_out_part_at_the_end():
    sample = "abcdefghijklmnopqrst"
    train, validation = split_text(sample, validation_fraction=0.25)
    assert (train, validation) == ("abcdefghijklmno", "pqrst")
    train, validation = split_text(sample)
    assert train + validation == sample and len(validation) == 2


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_fraction_must_lie_strictly_between_zero_and_one(fraction):
    with pytest.raises(ValueError, match=r"validation_fraction must lie in \(0, 1\)"):
        split_text("abcdefghij", validation_fraction=fraction)


def test_split_refuses_a_text_too_short_for_two_parts():
    with pytest.raises(ValueError, match="too short"):
        split_text("abc", validation_fraction=0.1)
    with pytest.raises(ValueError, match="text must be a str"):
        split_text(b"abc")


# -- random windows ------------------------------------------------------------------------


def test_random_window_targets_are_inputs_shifted_by_one():
    ids = np.arange(100) * 7 % 13  # a text whose characters are not their positions
    inputs, targets = random_windows(ids, batch_size=6, seq_len=10, rng=np.random.default_rng(0))
    assert inputs.shape == targets.shape == (6, 10)
    assert inputs.dtype == targets.dtype == np.int64
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    positions = np.arange(100)
    starts, _ = random_windows(positions, 6, 10, np.random.default_rng(0))
    for row in range(6):
        window = np.arange(starts[row, 0], starts[row, 0] + 11)
        np.testing.assert_array_equal(inputs[row], ids[window[:-1]])
        np.testing.assert_array_equal(targets[row], ids[window[1:]])


def test_random_windows_reach_every_start_and_stay_inside_the_text():
    positions = np.arange(12)
    inputs, targets = random_windows(positions, 500, 4, np.random.default_rng(1))
    assert set(inputs[:, 0].tolist()) == set(range(8))  # starts 0 .. N - T - 1
    assert targets.max() == 11


def test_random_windows_depend_only_on_the_generator():
    ids = np.arange(50)
    first = random_windows(ids, 4, 5, np.random.default_rng(3))
    second = random_windows(ids, 4, 5, np.random.default_rng(3))
    other = random_windows(ids, 4, 5, np.random.default_rng(4))
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
        (dict(seq_len=2.5), "seq_len must be a positive integer, got 2.5"),
        (dict(seq_len=10), r"at least seq_len \+ 1 = 11 characters, got 10"),
        (dict(rng=np.random.RandomState(0)), "rng must be a numpy.random.Generator"),
        (dict(ids=np.zeros((2, 5), dtype=np.int64)), r"ids must have 1 axis \(N,\), got shape"),
        (dict(ids=np.linspace(0, 1, 10)), "ids must be an integer array"),
    ],
)
def test_random_windows_reject_bad_arguments(kwargs, message):
    arguments = dict(ids=np.arange(10), batch_size=2, seq_len=3, rng=np.random.default_rng(0))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        random_windows(**arguments)


# -- contiguous batches --------------------------------------------------------------------


def test_contiguous_batches_continue_each_stream():
    ids = np.arange(103)  # N - 1 = 102 = 3 streams of S = 34; 34 // 5 = 6 batches
    batches = list(contiguous_batches(ids, batch_size=3, seq_len=5))
    assert len(batches) == 6
    for inputs, targets in batches:
        assert inputs.shape == targets.shape == (3, 5)
        assert inputs.dtype == np.int64
        np.testing.assert_array_equal(targets, inputs + 1)
    streams = np.concatenate([inputs for inputs, _ in batches], axis=1)  # (B, 30)
    for row in range(3):
        np.testing.assert_array_equal(streams[row], row * 34 + np.arange(30))


def test_contiguous_batches_match_the_text_characters():
    ids = np.arange(41) * 5 % 11
    (inputs, targets), *rest = list(contiguous_batches(ids, batch_size=2, seq_len=20))
    assert rest == []
    np.testing.assert_array_equal(inputs, ids[:40].reshape(2, 20))
    np.testing.assert_array_equal(targets, ids[1:41].reshape(2, 20))


def test_contiguous_batches_validate_at_the_call():
    with pytest.raises(ValueError, match=r"need at least B \* T \+ 1 = 21"):
        contiguous_batches(np.arange(20), batch_size=2, seq_len=10)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got -1"):
        contiguous_batches(np.arange(20), batch_size=-1, seq_len=2)
    with pytest.raises(ValueError, match="seq_len must be a positive integer, got True"):
        contiguous_batches(np.arange(20), batch_size=1, seq_len=True)
    with pytest.raises(ValueError, match="ids must be an integer array"):
        contiguous_batches(np.ones(20), batch_size=1, seq_len=2)


# -- fingerprint ---------------------------------------------------------------------------


def test_fingerprint_is_the_length_and_the_sha256_prefix():
    import hashlib

    from rnncore.data.text import corpus_fingerprint

    fingerprint = corpus_fingerprint("abc", digits=8)
    assert fingerprint.characters == 3
    assert fingerprint.sha256 == "ba7816bf"  # SHA-256("abc") = ba7816bf 8f01cfea ...
    corpus = load_python_corpus()
    full = corpus_fingerprint(corpus, digits=64)
    assert full.sha256 == hashlib.sha256(corpus.encode()).hexdigest()
    assert corpus_fingerprint(corpus).sha256 == full.sha256[:16]
    # One changed character changes the digest, not the length.
    changed = corpus_fingerprint(corpus[:-2] + "x" + corpus[-1])
    assert changed.characters == full.characters and changed.sha256 != full.sha256[:16]
    assert str(fingerprint) == "3 characters, SHA-256 ba7816bf"


@pytest.mark.parametrize("digits", [0, 65, 1.5, True])
def test_fingerprint_refuses_bad_digits(digits):
    from rnncore.data.text import corpus_fingerprint

    with pytest.raises(ValueError, match="digits"):
        corpus_fingerprint("abc", digits=digits)
    with pytest.raises(ValueError, match="text"):
        corpus_fingerprint(b"abc")


def test_corpus_tail_holds_whole_documents_and_at_least_the_asked_length():
    from rnncore.data.text import corpus_tail

    corpus = load_python_corpus()
    for min_chars in (1, 1_000, 200_000):
        tail = corpus_tail(min_chars)
        assert corpus.endswith(tail) and len(tail) >= min_chars
        start = len(corpus) - len(tail)
        assert corpus[start - 2 : start] == "\n\n"  # a document starts here
        # The shortest such tail: no blank line between the cut and the asked length.
        assert "\n\n" not in corpus[start - 1 : len(corpus) - min_chars + 1]
    assert corpus_tail(10**9) == corpus
    with pytest.raises(ValueError, match="min_chars"):
        corpus_tail(0)
