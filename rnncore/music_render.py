r"""Show a melody to the eye: engraved notation (music21, then verovio) and a piano roll.

A :class:`~rnncore.data.chorales.Melody` (notes with onsets and durations in quarter notes,
read from tokens by :func:`~rnncore.data.chorales.melody_from_tokens`) becomes

* a music21 stream (:func:`melody_to_stream`): one part with the time signature, a key
  signature from music21's key analysis (so that black keys are spelled as sharps in sharp
  keys and as flats in flat keys), the notes and rests, fermatas, and bar lines placed by
  music21 from the time signature (notes that cross a bar line are split and tied);
* MusicXML text (:func:`melody_to_musicxml`), which any notation program opens;
* an SVG image of the engraved score (:func:`melody_to_svg`), drawn by verovio from the
  MusicXML, offline; a notebook shows it with ``IPython.display.SVG``;
* a piano roll (:func:`plot_piano_roll`): one bar per note, time across and pitch up.

The bar lines of the engraving come from the durations and the time signature, not from the
bar tokens: a model whose bar tokens disagree with its durations is engraved as its durations
say (:mod:`rnncore.music_theory` measures the disagreement).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from rnncore.data.chorales import Melody

__all__ = [
    "bar_length",
    "pickup_length",
    "spell_pitch",
    "melody_to_stream",
    "melody_to_musicxml",
    "melody_to_svg",
    "plot_piano_roll",
]

_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")


def bar_length(time_signature: str) -> Fraction:
    """Quarter notes in a bar: ``"3/4"`` gives 3, ``"4/4"`` gives 4."""
    numerator, denominator = (int(part) for part in time_signature.split("/"))
    return Fraction(4 * numerator, denominator)


def pickup_length(melody: Melody) -> Fraction:
    """The length of the upbeat before the first bar line, or 0 when the first bar is full.

    Taken from the first bar token, when it falls strictly inside the first bar.
    """
    length = bar_length(melody.time_signature)
    if melody.bar_onsets and 0 < melody.bar_onsets[0] < length:
        return Fraction(melody.bar_onsets[0])
    return Fraction(0)


def spell_pitch(midi: int, sharps: int) -> str:
    """The name with octave of MIDI pitch ``midi`` in a key of ``sharps`` sharps (< 0: flats).

    Black keys are spelled as sharps in keys with sharps and in C major / A minor, and as
    flats in keys with flats: ``spell_pitch(70, -2)`` is ``"B-4"``, ``spell_pitch(66, 1)``
    is ``"F#4"``.
    """
    names = _FLAT_NAMES if sharps < 0 else _SHARP_NAMES
    return f"{names[midi % 12]}{midi // 12 - 1}"


def _analysed_key(melody: Melody):
    from rnncore.music_theory import estimate_key

    return estimate_key(melody)


def melody_to_stream(melody: Melody):
    """A music21 Part of the melody, with time and key signatures, bar lines and fermatas.

    Parameters
    ----------
    melody : Melody
        At least one note.

    Returns
    -------
    part : music21.stream.Part
        Measures made by music21; an upbeat (:func:`pickup_length`) becomes a short first
        measure.
    """
    from music21 import expressions, key, meter, note, stream

    if not melody.notes:
        raise ValueError("melody has no notes to engrave")
    analysed = _analysed_key(melody)
    sharps = analysed.sharps if analysed is not None else 0
    pickup = pickup_length(melody)
    shift = (bar_length(melody.time_signature) - pickup) % bar_length(melody.time_signature)
    flat = stream.Part()
    flat.insert(0, meter.TimeSignature(melody.time_signature))
    flat.insert(0, key.KeySignature(sharps))
    for item in melody.notes:
        if item.pitch is None:
            element = note.Rest(quarterLength=item.duration)
        else:
            element = note.Note(spell_pitch(item.pitch, sharps), quarterLength=item.duration)
        if item.fermata:
            element.expressions.append(expressions.Fermata())
        flat.insert(item.onset + shift, element)
    part = flat.makeMeasures()
    part.makeTies(inPlace=True)
    if shift:
        first = part.getElementsByClass("Measure").first()
        for element in list(first.notesAndRests):
            offset = element.offset  # read before removing: a removed element has none
            first.remove(element)
            if offset >= shift:  # what came before the upbeat is padding
                first.insert(offset - shift, element)
        first.paddingLeft = float(shift)
    return part


def melody_to_musicxml(melody: Melody) -> str:
    """The melody as MusicXML text (a whole ``score-partwise`` document)."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    return GeneralObjectExporter(melody_to_stream(melody)).parse().decode("utf-8")


def melody_to_svg(melody: Melody, width: int = 1800, scale: int = 35) -> str:
    """The engraved melody as SVG text, drawn by verovio from its MusicXML.

    Parameters
    ----------
    melody : Melody
    width : int
        Page width in verovio's units (tenths of a staff space); systems break to fit it.
    scale : int
        Percent; the size of the drawing.

    Returns
    -------
    svg : str
        One page, as tall as the music needs, without header or footer.
    """
    import verovio

    toolkit = verovio.toolkit()
    toolkit.setOptions(
        {
            "pageWidth": int(width),
            "pageHeight": 60000,
            "adjustPageHeight": True,
            "scale": int(scale),
            "header": "none",
            "footer": "none",
            "breaks": "auto",
        }
    )
    if not toolkit.loadData(melody_to_musicxml(melody)):
        raise ValueError("verovio could not read the MusicXML of this melody")
    return toolkit.renderToSVG(1)


def plot_piano_roll(
    ax: Axes,
    melody: Melody,
    color: str = "#2f6f9f",
    pitch_range: tuple[int, int] | None = None,
    show_bars: bool = True,
) -> Axes:
    """Draw each note as a bar from its onset to its end at the height of its pitch.

    Parameters
    ----------
    ax : matplotlib Axes
    melody : Melody
        Rests leave gaps; fermatas are marked by a dot above the note.
    color : str
    pitch_range : (int, int), optional
        Lowest and highest MIDI pitch of the y axis (default: the melody's, with a margin).
    show_bars : bool
        Draw the bar lines from the melody's bar tokens as thin vertical lines.

    Returns
    -------
    ax : the same Axes
    """
    notes = [n for n in melody.notes if n.pitch is not None]
    if not notes:
        raise ValueError("melody has no pitched notes to draw")
    pitches = np.array([n.pitch for n in notes])
    low, high = (
        (int(pitches.min()) - 2, int(pitches.max()) + 2) if pitch_range is None else pitch_range
    )
    for item in notes:
        ax.add_patch(
            Rectangle(
                (float(item.onset), item.pitch - 0.4),
                float(item.duration),
                0.8,
                facecolor=color,
                edgecolor="black",
                linewidth=0.5,
            )
        )
        if item.fermata:
            end = float(item.onset + item.duration / 2)
            ax.plot([end], [item.pitch + 1.0], marker="o", color="black", markersize=2.5)
    if show_bars:
        for onset in melody.bar_onsets:
            ax.axvline(float(onset), color="0.8", linewidth=0.6, zorder=0)
    end = float(max(n.onset + n.duration for n in melody.notes))
    ax.set_xlim(0, end)
    ax.set_ylim(low - 0.5, high + 0.5)
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 7)]  # the Cs and Gs
    ax.set_yticks(ticks, [spell_pitch(p, 0) for p in ticks])
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("pitch")
    return ax
