"""Tests of the additive synthesiser: pitch, length, envelope, rests and aliasing."""

from fractions import Fraction

import numpy as np
import pytest

from rnncore.data.chorales import Melody, Note
from rnncore.data.features import wav_bytes
from rnncore.music_audio import Envelope, midi_to_frequency, note_waveform, synthesize

RATE = 16000


def _peak_frequencies(wave, sample_rate, count):
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(wave.size)))
    frequencies = np.fft.rfftfreq(wave.size, 1 / sample_rate)
    peaks = [i for i in range(1, spectrum.size - 1)
             if spectrum[i] > spectrum[i - 1] and spectrum[i] >= spectrum[i + 1]
             and spectrum[i] > 0.05 * spectrum.max()]  # fmt: skip
    peaks.sort(key=lambda i: -spectrum[i])
    return sorted(frequencies[i] for i in peaks[:count])


def test_equal_temperament():
    assert midi_to_frequency(69) == pytest.approx(440.0)
    assert midi_to_frequency(81) == pytest.approx(880.0)
    assert midi_to_frequency(60) == pytest.approx(261.6256, abs=1e-3)
    np.testing.assert_allclose(midi_to_frequency([57, 69]), [220.0, 440.0])


def test_a_note_sounds_at_its_pitch_with_harmonics():
    wave = note_waveform(69, 1.0, RATE, harmonics=3)
    assert wave.shape == (RATE,)
    peaks = _peak_frequencies(wave, RATE, 3)
    np.testing.assert_allclose(peaks, [440.0, 880.0, 1320.0], atol=2.0)


def test_harmonics_above_nyquist_are_left_out():
    wave = note_waveform(96, 0.5, 8000, harmonics=6)  # C7, 2093 Hz; the 2nd harmonic is 4186
    assert _peak_frequencies(wave, 8000, 6) == pytest.approx([2093.0], abs=4.0)


def test_envelope_starts_and_ends_at_zero_and_sustains():
    envelope = Envelope(attack=0.01, decay=0.05, sustain=0.5, release=0.05)
    wave = note_waveform(69, 0.5, RATE, harmonics=1, envelope=envelope)
    assert abs(wave[0]) < 1e-12 and abs(wave[-1]) < 0.01
    middle = wave[int(0.2 * RATE) : int(0.3 * RATE)]
    assert np.abs(middle).max() == pytest.approx(0.5, abs=0.01)


def test_synthesize_lengths_rests_fermatas_and_peak():
    notes = (
        Note(Fraction(0), Fraction(1), 60),
        Note(Fraction(1), Fraction(1, 2), None),
        Note(Fraction(3, 2), Fraction(2), 67, fermata=True),
    )
    melody = Melody(notes, "4/4", (), 1.0)
    audio = synthesize(melody, tempo=120, sample_rate=RATE, peak=0.5, fermata_hold=1.5)
    quarter = RATE // 2  # 0.5 s at 120 quarter notes a minute
    assert audio.shape == (quarter + quarter // 2 + 3 * quarter,)
    assert np.abs(audio).max() == pytest.approx(0.5)
    assert np.all(audio[quarter : quarter + quarter // 2] == 0)  # the rest is silent
    assert np.abs(audio[:quarter]).max() > 0.1
    assert wav_bytes(audio, RATE)[:4] == b"RIFF"
    with pytest.raises(ValueError, match="no notes"):
        synthesize(Melody((), "4/4", (), 0.0))
