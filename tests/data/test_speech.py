"""Tests of the spoken-digit generator: eSpeak NG, the split, noise, the cache, the fallback."""

import dataclasses

import numpy as np
import pytest

from rnncore.data import speech
from rnncore.data.speech import (
    DIGIT_WORDS,
    TEST_ACCENTS,
    TEST_VARIANTS,
    TRAIN_ACCENTS,
    TRAIN_VARIANTS,
    SpeechConfig,
    add_noise,
    draw_utterances,
    dtmf_digits,
    espeak_status,
    make_digit_dataset,
    snr_db,
)

ESPEAK, _ = espeak_status()
needs_espeak = pytest.mark.skipif(not ESPEAK, reason="eSpeak NG (espeakng-loader) not loaded")


def test_utterances_have_3_to_7_digits_and_matching_words():
    config = SpeechConfig(oh_probability=0.5)
    utterances = draw_utterances("train", 400, 0, config)
    lengths = {len(u.digits) for u in utterances}
    assert lengths == {3, 4, 5, 6, 7}
    saw_oh = saw_zero = False
    for u in utterances:
        assert len(u.words) == len(u.digits)
        for digit, word in zip(u.digits, u.words, strict=True):
            if digit == 0:
                assert word in ("zero", "oh")
                saw_oh |= word == "oh"
                saw_zero |= word == "zero"
            else:
                assert word == DIGIT_WORDS[digit]
    assert saw_oh and saw_zero


def test_split_holds_out_accents_and_variants():
    assert not set(TRAIN_ACCENTS) & set(TEST_ACCENTS)
    assert not set(TRAIN_VARIANTS) & set(TEST_VARIANTS)
    config = SpeechConfig()
    for split in ("train", "seen"):
        drawn = draw_utterances(split, 300, 0, config)
        assert {u.accent for u in drawn} == set(TRAIN_ACCENTS)
        assert {u.variant for u in drawn} <= set(TRAIN_VARIANTS)
    test = draw_utterances("test", 300, 0, config)
    assert {u.accent for u in test} == set(TEST_ACCENTS)
    assert {u.variant for u in test} == set(TEST_VARIANTS)
    # "seen" draws other strings from the same voices.
    assert draw_utterances("seen", 50, 0, config) != draw_utterances("train", 50, 0, config)


def test_rate_and_pitch_vary_within_their_ranges():
    config = SpeechConfig(rate_range=(150, 200), pitch_range=(20, 40))
    drawn = draw_utterances("train", 300, 1, config)
    rates, pitches = [u.rate for u in drawn], [u.pitch for u in drawn]
    assert 150 <= min(rates) < 160 and 190 < max(rates) <= 200
    assert 20 <= min(pitches) < 25 and 35 < max(pitches) <= 40


def test_changing_the_noise_keeps_strings_and_voices():
    clean = draw_utterances("test", 40, 3, SpeechConfig())
    noisy = draw_utterances("test", 40, 3, SpeechConfig(snr_choices=(10.0,)))
    strip = [dataclasses.replace(u, snr_db=None) for u in noisy]
    assert strip == clean
    assert {u.snr_db for u in noisy} == {10.0}


@pytest.mark.parametrize("target", [0.0, 5.0, 20.0])
def test_add_noise_hits_the_signal_to_noise_ratio(target):
    rng = np.random.default_rng(0)
    clean = np.sin(np.linspace(0, 200, 8000)).astype(np.float32) * 0.3
    noisy = add_noise(clean, target, rng)
    assert abs(snr_db(clean, noisy) - target) < 0.01
    assert np.array_equal(add_noise(clean, None, rng), clean)


def test_snr_db_measures_a_known_ratio():
    clean = np.ones(1000)
    noisy = clean + np.where(np.arange(1000) % 2, 0.1, -0.1)  # noise power 0.01
    assert snr_db(clean, noisy) == pytest.approx(20.0)


def test_add_noise_refuses_silence():
    with pytest.raises(ValueError, match="silent"):
        add_noise(np.zeros(100), 10.0, np.random.default_rng(0))


@needs_espeak
def test_espeak_speaks_every_voice_and_the_words_take_time():
    config = SpeechConfig()
    data = make_digit_dataset("test", 30, 0, config, backend="espeak")
    assert data.backend == "espeak" and data.sample_rate == config.sample_rate
    for audio, utterance in zip(data.audio, data.utterances, strict=True):
        assert audio.dtype == np.float32
        seconds = audio.shape[0] / config.sample_rate
        # about 0.1 to 0.8 s per word at 140-220 words per minute, plus some silence
        assert 0.1 * len(utterance.words) < seconds < 0.8 * len(utterance.words) + 1.0
        assert np.abs(audio).max() == pytest.approx(config.peak, rel=1e-3)


@needs_espeak
def test_more_digits_take_longer_and_voices_differ():
    short = speech.synthesise(["one", "two"], "en-us", "m1", 175, 50, 8000)
    long = speech.synthesise(["one", "two", "three", "four", "five"], "en-us", "m1", 175, 50, 8000)
    assert long.shape[0] > 1.8 * short.shape[0]
    other_voice = speech.synthesise(["one", "two"], "en-gb-scotland", "f3", 175, 50, 8000)
    assert other_voice.shape != short.shape or not np.allclose(other_voice, short)
    faster = speech.synthesise(
        ["one", "two", "three", "four", "five"], "en-us", "m1", 350, 50, 8000
    )
    assert faster.shape[0] < 0.8 * long.shape[0]


@needs_espeak
def test_unknown_voice_and_variant_are_named():
    with pytest.raises(ValueError, match="no voice 'en-xx'"):
        speech.synthesise(["one"], "en-xx", "m1", 175, 50, 8000)
    with pytest.raises(ValueError, match="variant 'nobody'"):
        speech.synthesise(["one"], "en-us", "nobody", 175, 50, 8000)


def test_dtmf_generation_is_deterministic():
    config = SpeechConfig(snr_choices=(10.0,))
    first = make_digit_dataset("train", 5, 7, config, backend="dtmf")
    second = make_digit_dataset("train", 5, 7, config, backend="dtmf")
    for a, b in zip(first.audio, second.audio, strict=True):
        assert np.array_equal(a, b)


@needs_espeak
def test_espeak_repeats_an_utterance_to_within_a_few_milliseconds():
    # Not bit for bit: eSpeak NG's wave generator carries state from one utterance to the next.
    first = speech.synthesise(["four", "two"], "en-us", "m3", 175, 50, 8000)
    second = speech.synthesise(["four", "two"], "en-us", "m3", 175, 50, 8000)
    assert abs(first.shape[0] - second.shape[0]) < 0.01 * first.shape[0]


def test_noisy_dataset_measures_its_snr():
    backend = "dtmf"  # bit-reproducible, so the clean twin is the same signal
    config = SpeechConfig(snr_choices=(5.0,))
    noisy = make_digit_dataset("seen", 4, 2, config, backend=backend)
    clean = make_digit_dataset("seen", 4, 2, SpeechConfig(), backend=backend)
    for a, b in zip(clean.audio, noisy.audio, strict=True):
        assert abs(snr_db(a, b) - 5.0) < 0.01


def test_cache_reuses_files_and_its_key_holds_every_parameter(tmp_path):
    first = make_digit_dataset("train", 6, 0, SpeechConfig(), backend="dtmf", cache_dir=tmp_path)
    files = sorted(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"
    again = make_digit_dataset("train", 6, 0, SpeechConfig(), backend="dtmf", cache_dir=tmp_path)
    assert sorted(tmp_path.iterdir()) == files
    for a, b in zip(first.audio, again.audio, strict=True):
        assert np.array_equal(a, b)
    # Every parameter, the split, the size, the seed and the backend give a new file.
    changes = [
        {"config": SpeechConfig(sample_rate=16000)},
        {"config": SpeechConfig(max_digits=6)},
        {"config": SpeechConfig(rate_range=(141, 220))},
        {"config": SpeechConfig(pitch_range=(30, 71))},
        {"config": SpeechConfig(oh_probability=0.31)},
        {"config": SpeechConfig(snr_choices=(None, 10.0))},
        {"config": SpeechConfig(peak=0.4)},
        {"split": "seen"},
        {"n": 7},
        {"seed": 1},
    ]
    for change in changes:
        arguments = {"split": "train", "n": 6, "seed": 0, "config": SpeechConfig(), **change}
        make_digit_dataset(**arguments, backend="dtmf", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1 + len(changes)


def test_dtmf_fallback_puts_each_digits_two_tones_in_order():
    rng = np.random.default_rng(0)
    rate = 8000
    audio = dtmf_digits([1, 9, 0], 150, 50, rate, rng)
    # Find the tone segments (non-silent runs) and their two strongest frequencies.
    loud = np.convolve(np.abs(audio), np.ones(40), mode="same") > 0
    edges = np.flatnonzero(np.diff(loud.astype(int)))
    segments = list(zip(edges[::2] + 1, edges[1::2] + 1, strict=True))
    assert len(segments) == 3
    for (start, stop), digit in zip(segments, [1, 9, 0], strict=True):
        spectrum = np.abs(np.fft.rfft(audio[start:stop]))
        frequencies = np.fft.rfftfreq(stop - start, 1 / rate)
        top = sorted(frequencies[np.argsort(spectrum)[-2:]])
        low, high = speech.DTMF_FREQUENCIES[digit]
        assert abs(top[0] - low) < 10 and abs(top[1] - high) < 10


def test_auto_backend_falls_back_to_dtmf_without_the_library(monkeypatch):
    monkeypatch.setattr(speech._Espeak, "get", classmethod(lambda cls: None))
    monkeypatch.setattr(speech._Espeak, "_failure", "OSError: no library here")
    available, description = espeak_status()
    assert not available and "no library here" in description
    data = make_digit_dataset("test", 3, 0)
    assert data.backend == "dtmf" and len(data) == 3
    with pytest.raises(RuntimeError, match="backend='espeak'.*no library here"):
        make_digit_dataset("test", 3, 0, backend="espeak")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="split"):
        draw_utterances("valid", 3, 0, SpeechConfig())
    with pytest.raises(ValueError, match="min_digits"):
        SpeechConfig(min_digits=5, max_digits=3)
    with pytest.raises(ValueError, match="backend"):
        make_digit_dataset("train", 3, 0, backend="festival")
