"""Tests of the notation (music21, MusicXML, verovio SVG) and the piano roll."""

from fractions import Fraction

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from rnncore.data.chorales import melody_from_tokens  # noqa: E402
from rnncore.music_render import (  # noqa: E402
    bar_length,
    melody_to_musicxml,
    melody_to_stream,
    melody_to_svg,
    pickup_length,
    plot_piano_roll,
    spell_pitch,
)

# An upbeat of one quarter, a tie over the bar line, a rest and a fermata, in F major.
TOKENS = ["<start>", "4/4", "p60", "d1", "|", "p65", "d1", "p67", "d1", "p69", "d1", "p70",
          "d1", "tie", "|", "p70", "d1", "p69", "d1/2", "p67", "d1/2", "rest", "d1", "p65", "d1",
          "fermata", "<end>"]  # fmt: skip


def test_bar_and_pickup_lengths():
    assert bar_length("4/4") == 4 and bar_length("3/4") == 3 and bar_length("6/8") == 3
    melody = melody_from_tokens(TOKENS)
    assert pickup_length(melody) == 1
    assert pickup_length(melody_from_tokens(TOKENS[:2] + TOKENS[5:])) == 0


def test_spelling_follows_the_key_signature():
    assert spell_pitch(70, -1) == "B-4"
    assert spell_pitch(66, 2) == "F#4"
    assert spell_pitch(61, 0) == "C#4"
    assert spell_pitch(60, 0) == "C4" and spell_pitch(72, -3) == "C5"


def _sounding(part):
    """(midi or None, quarter length, fermata) of each note, ties merged."""
    merged = part.stripTies()
    return [
        (None if n.isRest else n.pitch.midi, Fraction(n.quarterLength),
         any(type(e).__name__ == "Fermata" for e in n.expressions))
        for n in merged.recurse().notesAndRests
    ]  # fmt: skip


def test_stream_keeps_the_notes_the_upbeat_and_the_key():
    melody = melody_from_tokens(TOKENS)
    part = melody_to_stream(melody)
    expected = [(n.pitch, n.duration, n.fermata) for n in melody.notes]
    assert _sounding(part) == expected
    measures = list(part.getElementsByClass("Measure"))
    assert measures[0].paddingLeft == 3.0  # music21: the quarters missing from the bar
    assert measures[0].duration.quarterLength == 1.0
    assert measures[1].duration.quarterLength == 4.0
    signature = part.recurse().getElementsByClass("KeySignature").first()
    assert signature.sharps == -1  # F major: B flat, spelled as such
    names = [n.pitch.name for n in part.recurse().notes]
    assert "B-" in names and "A#" not in names


def test_musicxml_parses_back_to_the_same_notes():
    from music21 import converter

    melody = melody_from_tokens(TOKENS)
    text = melody_to_musicxml(melody)
    assert "<score-partwise" in text
    part = converter.parseData(text, format="musicxml").parts[0]
    assert _sounding(part) == [(n.pitch, n.duration, n.fermata) for n in melody.notes]


def test_svg_engraves_every_written_note():
    melody = melody_from_tokens(TOKENS)
    svg = melody_to_svg(melody)
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:200]
    written = len(list(melody_to_stream(melody).recurse().notes))  # tied halves count twice
    assert svg.count('class="note"') == written == 9
    assert svg.count('class="rest"') == 1
    assert svg.count('class="fermata"') == 1


def test_piano_roll_draws_one_bar_per_pitched_note():
    melody = melody_from_tokens(TOKENS)
    fig, ax = plt.subplots()
    assert plot_piano_roll(ax, melody) is ax
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    pitched = [n for n in melody.notes if n.pitch is not None]
    assert len(bars) == len(pitched)
    assert [(b.get_x(), b.get_width(), b.get_y() + 0.4) for b in bars] == [
        pytest.approx((float(n.onset), float(n.duration), n.pitch)) for n in pitched
    ]
    assert ax.get_xlim() == (0.0, float(sum(n.duration for n in melody.notes)))
    plt.close(fig)
    with pytest.raises(ValueError, match="no pitched notes"):
        plot_piano_roll(ax, melody_from_tokens(["rest", "d1"]))
