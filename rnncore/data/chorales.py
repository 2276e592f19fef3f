r"""The soprano lines of Bach's chorales, from music21's bundled corpus, as token sequences.

music21 ships the four-part chorales of J. S. Bach as MusicXML files
(``music21.corpus.getComposer("bach")``), offline. This module reads the soprano line of each
chorale and writes it as a sequence of tokens a language model can predict one at a time:

``<start> 4/4 p65 d1 | p67 d1/2 p72 d1/2 p65 d1 p69 d1 fermata | ... <end>``

* ``<start>``, ``<end>``: the boundaries of a chorale (a language model reads many chorales
  one after the other);
* ``4/4`` or ``3/4``: the time signature, right after ``<start>``;
* ``pNN``: a note of MIDI pitch NN (60 is middle C), always followed by a duration;
* ``rest``: a rest, always followed by a duration;
* ``dQ``: a duration of Q quarter notes, written as a fraction (``d1/2`` an eighth note,
  ``d3/2`` a dotted quarter);
* ``tie``: after a duration, the note goes on into the next note of the same pitch;
* ``fermata``: after a duration, the note ends a phrase (the chorales mark every phrase end);
* ``|``: a bar line.

The selection (:func:`select_chorales`) is every MusicXML file of the corpus whose parts
include Soprano, Alto, Tenor and Bass, whose time signature is 4/4 or 3/4 throughout, and
whose soprano holds one note at a time. Many hymn tunes occur in several chorales (Bach
harmonised the same melody for several cantatas), so the split (:func:`split_by_tune`) keeps
every version of a tune on one side: chorales whose soprano lines open with the same eight
pitch intervals are one tune, and a tune is held out when the SHA-256 of its first file name
(sorted) begins with a byte below 38, about 15 % of the tunes. Held-out chorales stay in their
original keys; the training chorales may be transposed (:func:`transpose_tokens`,
:func:`augment_by_transposition`) so that the model sees every tune in many keys.

Parsing all the files takes tens of seconds, so :func:`load_chorales` caches the tokens as
JSON (e.g. under ``_build/cache/``, never committed), keyed by music21's version and this
module's token format, and parses again when the cache is absent.

:func:`melody_from_tokens` turns tokens back into notes (onsets and durations in quarter
notes), the input of :mod:`rnncore.music_render`, :mod:`rnncore.music_audio` and
:mod:`rnncore.music_theory`. Chapter 15, "Composing music" (``chapters/15_music.md``), uses
them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

__all__ = [
    "START",
    "END",
    "BAR",
    "REST",
    "TIE",
    "FERMATA",
    "TIME_SIGNATURES",
    "TOKEN_FORMAT",
    "Chorale",
    "Note",
    "Melody",
    "TokenVocabulary",
    "corpus_paths",
    "soprano_tokens",
    "select_chorales",
    "load_chorales",
    "tune_signature",
    "split_by_tune",
    "transpose_tokens",
    "augment_by_transposition",
    "melody_from_tokens",
    "time_since_bar_line",
    "pitch_token",
    "duration_token",
]

START, END, BAR, REST, TIE, FERMATA = "<start>", "<end>", "|", "rest", "tie", "fermata"
TIME_SIGNATURES = ("4/4", "3/4")
TOKEN_FORMAT = 1  # bump when the tokens change, so that old caches are not reused
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
HELD_OUT_BYTE_BELOW = 38  # of 256: about 15 % of the tunes are held out


def pitch_token(midi: int) -> str:
    """The token of a note of MIDI pitch ``midi`` (60 is middle C): ``"p60"``."""
    return f"p{int(midi)}"


def duration_token(quarter_length) -> str:
    """The token of a duration in quarter notes, as a fraction: 0.5 gives ``"d1/2"``."""
    value = Fraction(quarter_length).limit_denominator(64)
    if value <= 0:
        raise ValueError(f"a duration must be positive, got {quarter_length!r}")
    return f"d{value}"


def _is_pitch(token: str) -> bool:
    return len(token) > 1 and token[0] == "p" and token[1:].isdigit()


def _is_duration(token: str) -> bool:
    return len(token) > 1 and token[0] == "d" and token[1].isdigit()


@dataclass(frozen=True)
class Chorale:
    """One chorale's soprano line as tokens.

    Attributes
    ----------
    name : str
        The corpus file name, e.g. ``"bwv1.6.mxl"``.
    tokens : tuple of str
        From ``<start>`` to ``<end>``, in the original key.
    """

    name: str
    tokens: tuple[str, ...]


class TokenVocabulary:
    """A fixed list of tokens and their ids.

    Parameters
    ----------
    tokens : sequence of str
        Distinct tokens; the id of a token is its position.
    """

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if len(set(tokens)) != len(tokens):
            raise ValueError("tokens must be distinct")
        self.tokens = tokens
        self.ids = {token: i for i, token in enumerate(tokens)}

    @classmethod
    def from_sequences(cls, sequences) -> TokenVocabulary:
        """Every token of ``sequences``: the specials first, then pitches, durations, others."""
        seen = {token for sequence in sequences for token in sequence}
        specials = [t for t in (START, END, BAR, REST, TIE, FERMATA, *TIME_SIGNATURES) if t in seen]
        pitches = sorted((t for t in seen if _is_pitch(t)), key=lambda t: int(t[1:]))
        durations = sorted((t for t in seen if _is_duration(t)), key=lambda t: Fraction(t[1:]))
        others = sorted(seen - set(specials) - set(pitches) - set(durations))
        return cls(specials + pitches + durations + others)

    @property
    def size(self) -> int:
        """V, the number of tokens."""
        return len(self.tokens)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """The ids of ``tokens``; an unknown token raises ValueError naming it."""
        try:
            return [self.ids[token] for token in tokens]
        except KeyError as error:
            raise ValueError(f"token {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> list[str]:
        """The tokens of ``ids`` (ints in 0 .. V - 1)."""
        return [self.tokens[int(i)] for i in ids]


def corpus_paths() -> list[Path]:
    """The MusicXML files (``.mxl``, ``.xml``) of music21's Bach corpus, sorted by name."""
    from music21 import corpus

    paths = [Path(p) for p in corpus.getComposer("bach")]
    return sorted((p for p in paths if p.suffix in (".mxl", ".xml")), key=lambda p: p.name)


def soprano_tokens(score) -> tuple[str, ...] | None:
    """The tokens of a parsed score's soprano line, or None if the score is outside the selection.

    Parameters
    ----------
    score : music21.stream.Score

    Returns
    -------
    tokens : tuple of str, or None
        None when the score lacks one of the four voices, has another time signature than 4/4
        or 3/4 (or changes it), or its soprano sounds two notes at once.
    """
    from music21 import chord, expressions, note

    parts = {part.partName: part for part in score.parts}
    if not all(voice in parts for voice in VOICES):
        return None
    signatures = {ts.ratioString for ts in score.recurse().getElementsByClass("TimeSignature")}
    if len(signatures) != 1 or not signatures <= set(TIME_SIGNATURES):
        return None
    tokens = [START, signatures.pop()]
    measures = list(parts["Soprano"].getElementsByClass("Measure"))
    for index, measure in enumerate(measures):
        if index:
            tokens.append(BAR)
        for element in measure.recurse().notesAndRests:
            if element.duration.quarterLength == 0:  # grace notes carry no time
                continue
            if isinstance(element, chord.Chord):
                return None
            if isinstance(element, note.Rest):
                tokens.append(REST)
            else:
                tokens.append(pitch_token(element.pitch.midi))
            tokens.append(duration_token(element.duration.quarterLength))
            if element.tie is not None and element.tie.type in ("start", "continue"):
                tokens.append(TIE)
            if any(isinstance(e, expressions.Fermata) for e in element.expressions):
                tokens.append(FERMATA)
    tokens.append(END)
    return tuple(tokens)


def select_chorales(paths: Sequence[Path] | None = None) -> list[Chorale]:
    """Parse ``paths`` (default: :func:`corpus_paths`) and keep the chorales of the selection.

    Slow (about 0.05 s per file): use :func:`load_chorales`, which caches the result.
    """
    from music21 import converter

    chorales = []
    for path in corpus_paths() if paths is None else paths:
        # forceSource: parse the file itself, not a pickle music21 may have left elsewhere.
        score = converter.parse(path, forceSource=True, storePickle=False)
        tokens = soprano_tokens(score)
        if tokens is not None:
            chorales.append(Chorale(Path(path).name, tokens))
    return chorales


def _cache_file(cache_dir: Path, paths: Sequence[Path] | None) -> Path:
    import music21

    names = "all" if paths is None else ",".join(sorted(Path(p).name for p in paths))
    selection = hashlib.sha256(names.encode()).hexdigest()[:12]
    return Path(cache_dir) / (
        f"chorales-music21-{music21.__version__}-format{TOKEN_FORMAT}-{selection}.json"
    )


def load_chorales(cache_dir=None, paths: Sequence[Path] | None = None) -> list[Chorale]:
    """The selected chorales, from the cache when present, else parsed (and then cached).

    Parameters
    ----------
    cache_dir : str or Path, optional
        Folder of the JSON cache (created if needed); None parses without caching. The file
        name holds music21's version, :data:`TOKEN_FORMAT` and a hash of the selection, so
        another version parses afresh.
    paths : sequence of Path, optional
        The files to read (default: every file of :func:`corpus_paths`).

    Returns
    -------
    chorales : list of Chorale
        In the order of the paths.
    """
    if cache_dir is None:
        return select_chorales(paths)
    cache = _cache_file(Path(cache_dir), paths)
    if cache.exists():
        stored = json.loads(cache.read_text())
        return [Chorale(item["name"], tuple(item["tokens"])) for item in stored]
    chorales = select_chorales(paths)
    cache.parent.mkdir(parents=True, exist_ok=True)
    payload = [{"name": c.name, "tokens": list(c.tokens)} for c in chorales]
    temporary = cache.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload))
    temporary.replace(cache)  # atomic: a build killed mid-write leaves no half cache
    return chorales


def tune_signature(tokens: Sequence[str], intervals: int = 8) -> tuple[int, ...]:
    """The first ``intervals`` pitch intervals of a melody, repeated notes merged.

    Two versions of a hymn tune in different keys, rhythms or harmonisations share it.
    """
    pitches = [int(t[1:]) for t in tokens if _is_pitch(t)]
    merged = [p for i, p in enumerate(pitches) if i == 0 or p != pitches[i - 1]]
    return tuple(b - a for a, b in zip(merged, merged[1:], strict=False))[:intervals]


def split_by_tune(chorales: Sequence[Chorale]) -> tuple[list[Chorale], list[Chorale]]:
    """Split into training and held-out chorales, every version of a tune on one side.

    A tune is the set of chorales with the same :func:`tune_signature`. It is held out when
    the first byte of the SHA-256 of the name of its first chorale (sorted by name) is below
    :data:`HELD_OUT_BYTE_BELOW` (38 of 256: about 15 % of the tunes), whatever else is in
    the selection.

    Returns
    -------
    train, held_out : lists of Chorale
        In the order of ``chorales``.
    """
    first_name: dict[tuple[int, ...], str] = {}
    for chorale in chorales:
        signature = tune_signature(chorale.tokens)
        first_name[signature] = min(first_name.get(signature, chorale.name), chorale.name)

    def held_out(chorale: Chorale) -> bool:
        name = first_name[tune_signature(chorale.tokens)]
        return hashlib.sha256(name.encode()).digest()[0] < HELD_OUT_BYTE_BELOW

    train = [c for c in chorales if not held_out(c)]
    return train, [c for c in chorales if held_out(c)]


def transpose_tokens(tokens: Sequence[str], semitones: int) -> list[str]:
    """The same melody ``semitones`` higher (negative: lower); other tokens are unchanged."""
    return [pitch_token(int(t[1:]) + semitones) if _is_pitch(t) else t for t in tokens]


def _pitch_range(tokens: Sequence[str]) -> tuple[int, int]:
    pitches = [int(t[1:]) for t in tokens if _is_pitch(t)]
    return min(pitches), max(pitches)


def augment_by_transposition(
    chorales: Sequence[Chorale], shifts: Sequence[int], lowest: int, highest: int
) -> list[list[str]]:
    """Every chorale transposed by every shift that keeps it within ``lowest`` .. ``highest``.

    Parameters
    ----------
    chorales : sequence of Chorale
        The training chorales (never the held-out ones).
    shifts : sequence of int
        Semitones; include 0 to keep the original key.
    lowest, highest : int
        MIDI pitches; a transposed copy with a note outside this range is dropped.

    Returns
    -------
    sequences : list of token lists
        Shift by shift, chorale by chorale within a shift.
    """
    sequences = []
    for shift in shifts:
        for chorale in chorales:
            low, high = _pitch_range(chorale.tokens)
            if lowest <= low + shift and high + shift <= highest:
                sequences.append(transpose_tokens(chorale.tokens, shift))
    return sequences


@dataclass(frozen=True)
class Note:
    """One note (or rest) of a melody.

    Attributes
    ----------
    onset : Fraction
        Start, in quarter notes from the beginning.
    duration : Fraction
        In quarter notes.
    pitch : int or None
        MIDI pitch; None for a rest.
    fermata : bool
        The note ends a phrase.
    """

    onset: Fraction
    duration: Fraction
    pitch: int | None
    fermata: bool = False


@dataclass(frozen=True)
class Melody:
    """The notes that :func:`melody_from_tokens` read, and how well-formed the tokens were.

    Attributes
    ----------
    notes : tuple of Note
        Tied notes are merged into one.
    time_signature : str
        The first time signature token, or "4/4" when there was none.
    bar_onsets : tuple of Fraction
        The onset of each bar line read.
    well_formed_fraction : float
        Share of the pitch and rest tokens that were followed by a duration (1.0 for real
        chorales; a model's samples may break the grammar).
    """

    notes: tuple[Note, ...]
    time_signature: str
    bar_onsets: tuple[Fraction, ...]
    well_formed_fraction: float


def melody_from_tokens(tokens: Sequence[str]) -> Melody:
    """Read a token sequence into notes with onsets and durations, leniently.

    A note is a pitch (or rest) token followed by a duration token; a pitch without a
    duration, a duration without a pitch, a second time signature, a ``tie`` or ``fermata``
    without a note are skipped. Reading stops at the first ``<end>`` after a note.
    """
    notes: list[Note] = []
    bars: list[Fraction] = []
    time_signature = None
    onset = Fraction(0)
    pending: str | None = None  # a pitch or rest token waiting for its duration
    heads, complete = 0, 0
    tied = False
    for token in tokens:
        if token == END and notes:
            break
        if _is_duration(token) and pending is not None:
            duration = Fraction(token[1:])
            pitch = None if pending == REST else int(pending[1:])
            if tied and notes and notes[-1].pitch == pitch and pitch is not None:
                last = notes[-1]
                notes[-1] = Note(last.onset, last.duration + duration, pitch, last.fermata)
            else:
                notes.append(Note(onset, duration, pitch))
            onset += duration
            complete += 1
            pending, tied = None, False
            continue
        if pending is not None:  # the note's duration never came
            pending = None
        if token == REST or _is_pitch(token):
            pending = token
            heads += 1
        elif token == TIE and notes:
            tied = True
        elif token == FERMATA and notes:
            last = notes[-1]
            notes[-1] = Note(last.onset, last.duration, last.pitch, True)
        elif token == BAR:
            bars.append(onset)
        elif token in TIME_SIGNATURES and time_signature is None:
            time_signature = token
    return Melody(
        tuple(notes),
        time_signature or "4/4",
        tuple(bars),
        complete / heads if heads else 0.0,
    )


def time_since_bar_line(tokens: Sequence[str]) -> list[Fraction | None]:
    """For each token, the quarter notes sounded since the last bar line, once it is read.

    A duration token adds its length; a bar line (and ``<start>``) sets the count to 0; other
    tokens leave it. Before the first bar line of a chorale the count runs from the start, so
    an upbeat of one quarter reads 1 where the first bar line follows.

    Returns
    -------
    times : list of Fraction or None
        One per token; None before the first ``<start>`` or bar line is read.
    """
    times: list[Fraction | None] = []
    elapsed: Fraction | None = None
    for token in tokens:
        if token in (START, BAR):
            elapsed = Fraction(0)
        elif _is_duration(token) and elapsed is not None:
            elapsed += Fraction(token[1:])
        times.append(elapsed)
    return times
