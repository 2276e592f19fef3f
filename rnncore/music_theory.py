r"""A simple music-theory check of a melody: key, notes in the key, range, intervals, bars.

Applied in the same way to a model's samples and to real chorales, it says whether the
samples keep to the habits of the real thing. Each measure is a plain number:

* the **key** is music21's estimate (the Krumhansl-Schmuckler key-finding algorithm, as
  ``stream.analyze("key")``: the correlation of the melody's duration-weighted pitch-class
  profile with a major and a minor key profile in each of the 12 keys);
* **in key**: the share of the notes whose pitch class belongs to that key's scale. The
  scale of a major key has its 7 degrees; a minor key's has the 7 degrees of the natural minor
  plus the raised 6th and 7th of the melodic and harmonic minor (9 pitch classes), since the
  leading tone belongs to a minor key in Bach's harmony;
* **range**: the highest minus the lowest pitch, in semitones (a soprano spans about an
  octave and a half);
* **steps**: the share of the intervals between successive notes (rests skipped, repeated
  notes included) of at most 2 semitones; chorale melodies move mostly by step;
* **largest leap**, in semitones;
* **bars on the grid**: the share of bar lines (after the first) that fall a whole number of
  bars after the first one, by the durations between them; a model whose bar lines and
  durations disagree scores low. Real chorales score a little below 1: their editions split
  some bars at a fermata (3 + 1 beats in 4/4), which puts one bar line off the grid;
* **well formed**: the share of pitch and rest tokens followed by a duration
  (:attr:`~rnncore.data.chorales.Melody.well_formed_fraction`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rnncore.data.chorales import Melody

__all__ = [
    "MAJOR_DEGREES",
    "MINOR_DEGREES",
    "MelodyCheck",
    "estimate_key",
    "scale_pitch_classes",
    "in_key_fraction",
    "intervals",
    "bar_grid_fraction",
    "check_melody",
]

MAJOR_DEGREES = (0, 2, 4, 5, 7, 9, 11)
# Natural minor (0 2 3 5 7 8 10) plus the raised 6th (9) and 7th (11).
MINOR_DEGREES = (0, 2, 3, 5, 7, 8, 9, 10, 11)


def estimate_key(melody: Melody):
    """music21's key estimate of the melody (a ``music21.key.Key``), or None without notes."""
    from music21 import note, stream

    pitched = [n for n in melody.notes if n.pitch is not None]
    if not pitched:
        return None
    part = stream.Stream()
    for item in pitched:
        element = note.Note(quarterLength=item.duration)
        element.pitch.midi = item.pitch
        part.insert(item.onset, element)
    return part.analyze("key")


def scale_pitch_classes(tonic_pitch_class: int, mode: str) -> frozenset[int]:
    """The pitch classes (0 = C) of a key's scale: see the module docstring for minor keys."""
    if mode not in ("major", "minor"):
        raise ValueError(f"mode must be 'major' or 'minor', got {mode!r}")
    degrees = MAJOR_DEGREES if mode == "major" else MINOR_DEGREES
    return frozenset((tonic_pitch_class + d) % 12 for d in degrees)


def in_key_fraction(pitches, tonic_pitch_class: int, mode: str) -> float:
    """Share of ``pitches`` (MIDI numbers) in the scale of the key; nan for no pitches."""
    pitches = np.asarray(pitches, dtype=np.int64)
    if pitches.size == 0:
        return float("nan")
    scale = np.array(sorted(scale_pitch_classes(tonic_pitch_class, mode)))
    return float(np.isin(pitches % 12, scale).mean())


def intervals(melody: Melody) -> np.ndarray:
    """Signed semitones from each pitched note to the next (rests skipped), shape (notes - 1,)."""
    pitches = np.array([n.pitch for n in melody.notes if n.pitch is not None], dtype=np.int64)
    return np.diff(pitches)


def bar_grid_fraction(melody: Melody) -> float:
    """Share of the bar lines after the first that lie a whole number of bars after it.

    .. math:: \\frac{1}{K - 1} \\sum_{k=2}^{K} [(b_k - b_1) \\bmod \\text{bar} = 0]

    for bar-line onsets :math:`b_1 .. b_K` and the bar length of the time signature. nan when
    the melody has fewer than two bar lines.
    """
    from rnncore.music_render import bar_length

    onsets = [Fraction(b) for b in melody.bar_onsets]
    if len(onsets) < 2:
        return float("nan")
    length = bar_length(melody.time_signature)
    return sum(1 for b in onsets[1:] if (b - onsets[0]) % length == 0) / (len(onsets) - 1)


@dataclass(frozen=True)
class MelodyCheck:
    """The measures of :func:`check_melody` for one melody (see the module docstring)."""

    key: str
    in_key: float
    lowest: int
    highest: int
    range: int
    steps: float
    largest_leap: int
    bars_on_grid: float
    well_formed: float
    notes: int


def check_melody(melody: Melody) -> MelodyCheck:
    """All the measures of the module docstring for one melody.

    Parameters
    ----------
    melody : Melody
        At least two pitched notes.

    Returns
    -------
    check : MelodyCheck
    """
    pitches = [n.pitch for n in melody.notes if n.pitch is not None]
    if len(pitches) < 2:
        raise ValueError(f"melody needs at least 2 pitched notes to check, got {len(pitches)}")
    found = estimate_key(melody)
    steps = intervals(melody)  # (notes - 1,)
    return MelodyCheck(
        key=f"{found.tonic.name} {found.mode}",
        in_key=in_key_fraction(pitches, found.tonic.pitchClass, found.mode),
        lowest=min(pitches),
        highest=max(pitches),
        range=max(pitches) - min(pitches),
        steps=float(np.mean(np.abs(steps) <= 2)),
        largest_leap=int(np.abs(steps).max()),
        bars_on_grid=bar_grid_fraction(melody),
        well_formed=melody.well_formed_fraction,
        notes=len(pitches),
    )
