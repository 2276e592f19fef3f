r"""Hear a melody: additive synthesis of each note, shaped by an envelope, in NumPy.

Each note of MIDI pitch m sounds at the fundamental frequency

.. math:: f_0 = 440 \cdot 2^{(m - 69) / 12} \text{ Hz}

(A4 = MIDI 69 = 440 Hz, equal temperament), as a sum of K harmonics with amplitudes falling
as :math:`k^{-\alpha}`, shaped by an attack-decay-sustain-release envelope :math:`e(t)`:

.. math::

    x(t) = e(t) \sum_{k=1}^{K} k^{-\alpha} \sin(2 \pi k f_0 t), \qquad
    e(t) = \begin{cases}
        t / t_a & t < t_a \\
        1 - (1 - s)(t - t_a) / t_d & t_a \le t < t_a + t_d \\
        s & \text{until the release} \\
        s \, (1 - (t - t_r) / t_{rel}) & \text{over the last } t_{rel} \text{ of the note}
    \end{cases}

Harmonics above the Nyquist frequency (half the sample rate) are left out. Rests are
silence. The result is scaled so that its loudest sample has the chosen peak, and written as
a WAV file by :func:`rnncore.data.features.wav_bytes`. The sound is an organ-like tone, enough
to hear a melody; it imitates no instrument.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnncore.data.chorales import Melody

__all__ = ["Envelope", "midi_to_frequency", "note_waveform", "synthesize"]


@dataclass(frozen=True)
class Envelope:
    """Attack, decay and release times in seconds, and the sustain level in (0, 1]."""

    attack: float = 0.015
    decay: float = 0.08
    sustain: float = 0.7
    release: float = 0.06


def midi_to_frequency(midi) -> np.ndarray | float:
    """:math:`440 \\cdot 2^{(m - 69)/12}` Hz for MIDI pitch(es) m."""
    frequency = 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)
    return float(frequency) if np.ndim(frequency) == 0 else frequency


def _envelope_curve(samples: int, sample_rate: int, envelope: Envelope) -> np.ndarray:
    t = np.arange(samples) / sample_rate  # (S,)
    length = samples / sample_rate
    curve = np.full(samples, envelope.sustain)  # (S,)
    attack = t < envelope.attack
    curve[attack] = t[attack] / envelope.attack
    decay = (t >= envelope.attack) & (t < envelope.attack + envelope.decay)
    curve[decay] = 1.0 - (1.0 - envelope.sustain) * (t[decay] - envelope.attack) / envelope.decay
    release_start = max(length - envelope.release, 0.0)
    release = t >= release_start
    # Ends at zero whatever the earlier stage: no click at the end of a short note.
    curve[release] *= np.clip((length - t[release]) / envelope.release, 0.0, 1.0)
    return curve


def note_waveform(
    midi: int,
    seconds: float,
    sample_rate: int = 22050,
    harmonics: int = 6,
    rolloff: float = 1.5,
    envelope: Envelope = Envelope(),
) -> np.ndarray:
    """One note: the harmonic sum times the envelope, unscaled.

    Parameters
    ----------
    midi : int
        MIDI pitch.
    seconds : float
        Length of the note, > 0.
    sample_rate : int
    harmonics : int
        K, harmonics including the fundamental.
    rolloff : float
        :math:`\\alpha`: harmonic k has amplitude :math:`k^{-\\alpha}`.
    envelope : Envelope

    Returns
    -------
    waveform : ndarray of shape (S,)
        S = round(seconds * sample_rate) samples.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    samples = int(round(seconds * sample_rate))
    t = np.arange(samples) / sample_rate  # (S,)
    f0 = midi_to_frequency(midi)
    wave = np.zeros(samples)  # (S,)
    for k in range(1, harmonics + 1):
        if k * f0 >= sample_rate / 2:  # above Nyquist it would alias
            break
        wave += k**-rolloff * np.sin(2 * np.pi * k * f0 * t)
    return wave * _envelope_curve(samples, sample_rate, envelope)  # (S,)


def synthesize(
    melody: Melody,
    tempo: float = 90.0,
    sample_rate: int = 22050,
    peak: float = 0.8,
    fermata_hold: float = 1.5,
    **note_options,
) -> np.ndarray:
    """The whole melody as one waveform.

    Parameters
    ----------
    melody : Melody
    tempo : float
        Quarter notes per minute.
    sample_rate : int
    peak : float
        The largest absolute sample, in (0, 1].
    fermata_hold : float
        A note under a fermata lasts this many times its written length (and the music after
        it waits), as singers hold the end of a phrase.
    **note_options
        Passed to :func:`note_waveform` (harmonics, rolloff, envelope).

    Returns
    -------
    audio : ndarray of shape (S,)
        Floats in [-peak, peak]; silence for rests.
    """
    if not melody.notes:
        raise ValueError("melody has no notes to synthesise")
    if not 0 < peak <= 1:
        raise ValueError(f"peak must lie in (0, 1], got {peak!r}")
    seconds_per_quarter = 60.0 / tempo
    pieces = []
    for item in melody.notes:
        seconds = float(item.duration) * seconds_per_quarter
        if item.fermata:
            seconds *= fermata_hold
        if item.pitch is None:
            pieces.append(np.zeros(int(round(seconds * sample_rate))))
        else:
            pieces.append(note_waveform(item.pitch, seconds, sample_rate, **note_options))
    audio = np.concatenate(pieces)  # (S,)
    loudest = np.abs(audio).max()
    return audio * (peak / loudest) if loudest > 0 else audio
