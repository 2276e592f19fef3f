"""Tests of the music-theory check: key, notes in the key, range, steps and bar lines."""

from fractions import Fraction

import numpy as np
import pytest

from rnncore.data.chorales import Melody, Note, melody_from_tokens
from rnncore.music_theory import (
    bar_grid_fraction,
    check_melody,
    in_key_fraction,
    intervals,
    scale_pitch_classes,
)


def _melody(pitches, bars=(), time_signature="4/4"):
    notes = tuple(
        Note(Fraction(i), Fraction(1), p) for i, p in enumerate(pitches)
    )  # one quarter note each
    return Melody(notes, time_signature, tuple(Fraction(b) for b in bars), 1.0)


def test_scales_of_major_and_minor_keys():
    assert scale_pitch_classes(0, "major") == {0, 2, 4, 5, 7, 9, 11}
    # A minor: natural minor plus F sharp and G sharp, the raised 6th and 7th.
    assert scale_pitch_classes(9, "minor") == {9, 11, 0, 2, 4, 5, 7, 6, 8}
    assert scale_pitch_classes(7, "major") == {7, 9, 11, 0, 2, 4, 6}
    with pytest.raises(ValueError, match="mode"):
        scale_pitch_classes(0, "dorian")


def test_in_key_fraction_counts_notes_not_pitch_classes():
    assert in_key_fraction([60, 61, 62, 62], 0, "major") == 0.75
    assert in_key_fraction([68, 69, 71], 9, "minor") == 1.0  # G sharp belongs to A minor
    assert in_key_fraction([70, 69], 9, "minor") == 0.5  # B flat does not
    assert np.isnan(in_key_fraction([], 0, "major"))


def test_check_of_a_c_major_scale():
    check = check_melody(_melody([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60]))
    assert check.key == "C major"
    assert check.in_key == 1.0
    assert (check.lowest, check.highest, check.range) == (60, 72, 12)
    assert check.steps == pytest.approx(7 / 10)
    assert check.largest_leap == 5
    assert check.notes == 11


def test_check_counts_the_chromatic_notes_of_a_melody_in_g_major():
    pitches = [67, 71, 74, 72, 71, 69, 67, 66, 67, 68, 69, 70, 71, 67]
    check = check_melody(_melody(pitches))
    assert check.key == "G major"
    assert check.in_key == pytest.approx(12 / 14)  # G sharp and B flat are outside G major


def test_intervals_skip_rests():
    melody = Melody(
        (Note(Fraction(0), Fraction(1), 60), Note(Fraction(1), Fraction(1), None),
         Note(Fraction(2), Fraction(1), 67), Note(Fraction(3), Fraction(1), 65)),
        "4/4", (), 1.0,
    )  # fmt: skip
    assert intervals(melody).tolist() == [7, -2]


def test_bar_grid_fraction():
    assert bar_grid_fraction(_melody([60], bars=(1, 5, 9, 13))) == 1.0
    # A 4/4 bar split into 3 + 1 at a fermata puts one bar line off the grid.
    assert bar_grid_fraction(_melody([60], bars=(1, 5, 8, 9, 13))) == 0.75
    assert bar_grid_fraction(_melody([60], bars=(0, 3, 6), time_signature="3/4")) == 1.0
    assert bar_grid_fraction(_melody([60], bars=(0, 4, 8), time_signature="3/4")) == 0.0
    assert np.isnan(bar_grid_fraction(_melody([60], bars=(4,))))


def test_check_reports_broken_tokens_and_rejects_tiny_melodies():
    melody = melody_from_tokens(["4/4", "p60", "d1", "p62", "p64", "d1", "d1", "p65", "d1"])
    assert check_melody(melody).well_formed == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="at least 2 pitched notes"):
        check_melody(_melody([60]))
