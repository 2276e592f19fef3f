"""Tests of the log-mel features against direct formulas, and of the WAV writer."""

import io
import wave

import numpy as np
import pytest

from rnncore.data.features import (
    frame_signal,
    hann_window,
    hz_to_mel,
    log_mel_spectrogram,
    mel_filterbank,
    mel_to_hz,
    power_spectrum,
    subtract_band_means,
    warp_frequencies,
    wav_bytes,
    write_wav,
)


def test_frames_are_the_slices_and_the_end_is_zero_padded():
    audio = np.arange(1, 11, dtype=float)  # 10 samples
    frames = frame_signal(audio, 4, 3)
    assert frames.shape == (3, 4)  # 1 + ceil((10 - 4) / 3)
    np.testing.assert_array_equal(frames[0], [1, 2, 3, 4])
    np.testing.assert_array_equal(frames[1], [4, 5, 6, 7])
    np.testing.assert_array_equal(frames[2], [7, 8, 9, 10])
    np.testing.assert_array_equal(frame_signal(audio[:9], 4, 3)[2], [7, 8, 9, 0])
    assert frame_signal(audio[:2], 4, 3).shape == (1, 4)


def test_hann_window_is_the_periodic_formula():
    N = 8
    expected = [0.5 - 0.5 * np.cos(2 * np.pi * n / N) for n in range(N)]
    np.testing.assert_allclose(hann_window(N), expected, atol=1e-15)


def test_power_spectrum_equals_the_direct_dft():
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(3, 10))
    K = 16
    w = hann_window(10)
    n = np.arange(10)
    direct = np.array(
        [
            [
                abs(np.sum(w * frame * np.exp(-2j * np.pi * k * n / K))) ** 2
                for k in range(K // 2 + 1)
            ]
            for frame in frames
        ]
    )
    np.testing.assert_allclose(power_spectrum(frames, K), direct, rtol=1e-10, atol=1e-12)


def test_pure_tone_on_a_bin_has_the_analytic_power():
    # A cosine of amplitude A on bin k0 gives |A/2 sum_n w_n|^2 = (A N / 4)^2 in that bin.
    N, k0, A = 256, 20, 0.7
    n = np.arange(N)
    frame = A * np.cos(2 * np.pi * k0 * n / N)
    power = power_spectrum(frame[None, :], N)[0]
    assert power.argmax() == k0
    assert power[k0] == pytest.approx((A * N / 4) ** 2, rel=1e-10)
    assert power[k0 + 1] == pytest.approx((A * N / 8) ** 2, rel=1e-10)  # Hann's side bins
    assert power[k0 + 3] < 1e-20


def test_mel_scale_is_htk_and_inverts():
    assert hz_to_mel(700.0) == pytest.approx(2595 * np.log10(2))
    assert hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.1)
    hz = np.array([0.0, 123.0, 4000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(hz)), hz, atol=1e-9)


def test_filterbank_triangles_peak_at_their_centres_and_sum_to_one():
    M, K, rate = 20, 512, 8000
    bank = mel_filterbank(M, K, rate)
    assert bank.shape == (K // 2 + 1, M)
    assert bank.min() >= 0 and bank.max() <= 1
    bins = np.arange(K // 2 + 1) * rate / K
    centres = mel_to_hz(np.linspace(0, hz_to_mel(rate / 2), M + 2))[1:-1]
    # Each band's largest weight sits on one of the two bins around its centre, and each
    # band is 1 at its centre (checked by evaluating the triangles there).
    nearest = np.abs(bins[:, None] - centres[None, :]).argmin(axis=0)
    assert (np.abs(bank.argmax(axis=0) - nearest) <= 1).all()
    at_centres = mel_filterbank(M, K, rate)  # same bank, read by linear interpolation
    peaks = [np.interp(c, bins, at_centres[:, m]) for m, c in enumerate(centres)]
    assert min(peaks) > 0.5
    # Centres equally spaced in mel; between the first and last centre the weights sum to 1.
    np.testing.assert_allclose(np.diff(hz_to_mel(centres)), hz_to_mel(rate / 2) / (M + 1))
    inside = (bins >= centres[0]) & (bins <= centres[-1])
    np.testing.assert_allclose(bank[inside].sum(axis=1), 1.0, atol=1e-12)
    # Each bin belongs to at most two neighbouring bands.
    assert ((bank > 0).sum(axis=1) <= 2).all()


@pytest.mark.parametrize("frequency", [300.0, 1000.0, 2500.0])
def test_pure_tone_lands_in_the_band_whose_centre_is_nearest(frequency):
    rate, M = 8000, 40
    t = np.arange(rate) / rate
    features = log_mel_spectrogram(np.sin(2 * np.pi * frequency * t), rate, n_mels=M)
    assert features.shape == (1 + -(-(rate - 200) // 80), M)
    centres = mel_to_hz(np.linspace(0, hz_to_mel(rate / 2), M + 2))[1:-1]
    expected = int(np.abs(hz_to_mel(centres) - hz_to_mel(frequency)).argmin())
    band = np.bincount(features.argmax(axis=1)).argmax()
    assert band == expected or (
        abs(band - expected) == 1
        and abs(hz_to_mel(centres[band]) - hz_to_mel(frequency)) < hz_to_mel(rate / 2) / (M + 1)
    )
    # Far bands hold almost nothing (beyond the window's leakage).
    assert features[:, expected].mean() - features[:, (expected + M // 2) % M].mean() > 10


def test_log_mel_is_the_log_of_the_steps():
    rng = np.random.default_rng(1)
    audio = rng.normal(size=2000)
    rate = 8000
    frames = frame_signal(audio, 200, 80)
    expected = np.log(power_spectrum(frames, 256) @ mel_filterbank(40, 256, rate))
    np.testing.assert_allclose(log_mel_spectrogram(audio, rate), expected, rtol=1e-5)
    silent = log_mel_spectrogram(np.zeros(400), rate, floor=1e-10)
    np.testing.assert_allclose(silent, np.log(1e-10), rtol=1e-6)


def test_band_means_are_removed():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(30, 5)) + np.arange(5)
    normalised = subtract_band_means(features)
    np.testing.assert_allclose(normalised.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(normalised - features, -features.mean(axis=0) + 0 * features)


def test_wav_round_trip(tmp_path):
    rate = 8000
    audio = np.sin(np.linspace(0, 50, 1000)) * 0.5
    path = write_wav(tmp_path / "sub" / "x.wav", audio, rate)
    with wave.open(str(path), "rb") as file:
        assert file.getnchannels() == 1 and file.getsampwidth() == 2
        assert file.getframerate() == rate and file.getnframes() == 1000
        samples = np.frombuffer(file.readframes(1000), dtype="<i2")
    np.testing.assert_allclose(samples / 32767, audio, atol=1 / 32767)
    with wave.open(io.BytesIO(wav_bytes(np.array([2.0, -2.0]), rate)), "rb") as file:
        np.testing.assert_array_equal(np.frombuffer(file.readframes(2), "<i2"), [32767, -32767])


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="n_fft"):
        power_spectrum(np.zeros((2, 10)), 8)
    with pytest.raises(ValueError, match="f_max"):
        mel_filterbank(10, 256, 8000, f_max=5000)
    with pytest.raises(ValueError, match="hop_length"):
        frame_signal(np.zeros(10), 4, 0)


def test_warp_scales_low_frequencies_and_keeps_the_band():
    f_max = 4000.0
    hz = np.linspace(0, f_max, 101)
    np.testing.assert_allclose(warp_frequencies(hz, 1.0, f_max), hz)
    for warp in (0.85, 1.15):
        warped = warp_frequencies(hz, warp, f_max)
        assert warped[0] == 0 and warped[-1] == pytest.approx(f_max)
        assert (np.diff(warped) > 0).all()  # monotonic: no two bins swap places
        low = hz < 0.8 * f_max * min(warp, 1) / warp
        np.testing.assert_allclose(warped[low], warp * hz[low])


def test_warped_filterbank_moves_a_tone_up_a_band_or_more():
    rate = 8000
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 1000 * t)
    plain = log_mel_spectrogram(tone, rate).mean(axis=0).argmax()
    higher = log_mel_spectrogram(tone, rate, warp=1.15).mean(axis=0).argmax()
    assert higher > plain
