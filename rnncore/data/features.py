r"""Log-mel spectrograms, computed step by step, and WAV files for listening.

The features a speech model reads are computed in four steps, each a function here:

1. cut the waveform into overlapping frames of ``frame_length`` samples, ``hop_length`` apart
   (:func:`frame_signal`);
2. multiply each frame by a periodic Hann window :math:`w_n = \tfrac12 - \tfrac12\cos(2\pi n/N)`
   and take the power of its discrete Fourier transform (:func:`power_spectrum`),

   .. math::

       P_{f,k} = \Big|\sum_{n=0}^{N-1} w_n\, x_{f,n}\, e^{-2\pi i k n / K}\Big|^2,
       \qquad k = 0, \dots, K/2,

   with K = ``n_fft`` (the frame is zero-padded to K samples);
3. pool the K/2 + 1 frequency bins into M triangular mel bands (:func:`mel_filterbank`), whose
   centres are equally spaced on the HTK mel scale (O'Shaughnessy's formula, as in HTK; Slaney's
   Auditory Toolbox, used by librosa's default, is linear below 1 kHz instead),

   .. math::

       m(f) = 2595 \log_{10}\!\left(1 + \frac{f}{700}\right);

   each triangle rises from the centre of the band below to 1 at its own centre and falls to 0
   at the centre of the band above (no area normalisation, as in HTK);
4. take the logarithm, with a floor so that silence gives a finite value:
   :math:`\log(\max(P\,F, \varepsilon))`.

Row-vector convention: a spectrogram is (frames, bins) and the filterbank (bins, bands), so the
mel spectrogram is ``power @ filterbank``. Letters: F frames, N frame length, K FFT size,
M mel bands.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

__all__ = [
    "frame_signal",
    "hann_window",
    "power_spectrum",
    "hz_to_mel",
    "mel_to_hz",
    "warp_frequencies",
    "mel_filterbank",
    "log_mel_spectrogram",
    "subtract_band_means",
    "wav_bytes",
    "write_wav",
]


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def frame_signal(audio: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Overlapping frames of a waveform; the end is zero-padded to fill the last frame.

    Parameters
    ----------
    audio : ndarray of shape (S,)
        S >= 1 samples.
    frame_length : int
        N, samples per frame.
    hop_length : int
        Samples between the starts of consecutive frames.

    Returns
    -------
    frames : ndarray of shape (F, N)
        ``frames[f] = audio[f * hop_length : f * hop_length + N]``, with
        F = 1 + ceil(max(S - N, 0) / hop_length).
    """
    _check_positive_int("frame_length", frame_length)
    _check_positive_int("hop_length", hop_length)
    audio = np.asarray(audio)
    if audio.ndim != 1 or audio.shape[0] < 1:
        raise ValueError(f"audio must have shape (S,) with S >= 1, got {audio.shape}")
    count = 1 + -(-max(audio.shape[0] - frame_length, 0) // hop_length)
    padded_length = (count - 1) * hop_length + frame_length
    padded = np.zeros(padded_length, dtype=audio.dtype)
    padded[: audio.shape[0]] = audio
    starts = np.arange(count)[:, None] * hop_length  # (F, 1)
    return padded[starts + np.arange(frame_length)[None, :]]  # (F, N)


def hann_window(length: int) -> np.ndarray:
    r"""The periodic Hann window :math:`w_n = \tfrac12 - \tfrac12 \cos(2\pi n / N)`.

    Returns
    -------
    window : ndarray of shape (N,), float64
    """
    _check_positive_int("length", length)
    n = np.arange(length)
    return 0.5 - 0.5 * np.cos(2 * np.pi * n / length)


def power_spectrum(frames: np.ndarray, n_fft: int) -> np.ndarray:
    """Power of the real FFT of each Hann-windowed frame (formula in the module docstring).

    Parameters
    ----------
    frames : ndarray of shape (F, N)
    n_fft : int
        K >= N; frames are zero-padded to K samples.

    Returns
    -------
    power : ndarray of shape (F, K // 2 + 1), float64
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2:
        raise ValueError(f"frames must have shape (F, N), got {frames.shape}")
    _check_positive_int("n_fft", n_fft)
    if n_fft < frames.shape[1]:
        raise ValueError(f"n_fft = {n_fft} must be at least the frame length {frames.shape[1]}")
    spectrum = np.fft.rfft(frames * hann_window(frames.shape[1]), n=n_fft, axis=1)  # (F, K/2+1)
    return spectrum.real**2 + spectrum.imag**2


def hz_to_mel(hz):
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    """Inverse of :func:`hz_to_mel`: 700 (10^(m / 2595) - 1)."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def warp_frequencies(hz, warp: float, f_max: float) -> np.ndarray:
    r"""Vocal tract length perturbation: scale frequencies by ``warp``, keeping ``f_max`` fixed.

    Below :math:`f_c = 0.8 f_{max} \min(\alpha, 1) / \alpha` a frequency is multiplied by
    :math:`\alpha` = ``warp``; above it, a straight line joins :math:`\alpha f_c` to
    :math:`f_{max}`, so the whole band 0..f_max maps onto itself (Jaitly and Hinton, 2013).
    A longer or shorter vocal tract moves every formant by about one factor; warping the
    filterbank by random factors makes a training set sound like more speakers.

    Parameters
    ----------
    hz : array_like
        Frequencies in 0..f_max.
    warp : float
        alpha > 0; 1 changes nothing.
    f_max : float

    Returns
    -------
    warped : ndarray, same shape
    """
    if not warp > 0:
        raise ValueError(f"warp must be positive, got {warp!r}")
    hz = np.asarray(hz, dtype=np.float64)
    cut = 0.8 * f_max * min(warp, 1.0) / warp
    upper = f_max - (f_max - warp * cut) / (f_max - cut) * (f_max - hz)
    return np.where(hz <= cut, warp * hz, upper)


def mel_filterbank(
    n_mels: int,
    n_fft: int,
    sample_rate: int,
    f_min: float = 0.0,
    f_max: float | None = None,
    warp: float = 1.0,
) -> np.ndarray:
    """Triangular filters on the HTK mel scale, one column per band.

    M + 2 points equally spaced in mel from ``f_min`` to ``f_max`` give the edges: band m
    rises linearly from point m to 1 at point m + 1 and falls to 0 at point m + 2 (linear in
    Hz between the points). Between the first and the last centre the filters sum to 1.

    Parameters
    ----------
    n_mels : int
        M.
    n_fft : int
        K: the bins are at k * sample_rate / K Hz, k = 0..K/2.
    sample_rate : int
    f_min, f_max : float
        Edges of the lowest and highest band, Hz; default 0 and sample_rate / 2.
    warp : float
        Read each bin as if it were at :func:`warp_frequencies` of its frequency (1: no warp).

    Returns
    -------
    filterbank : ndarray of shape (K // 2 + 1, M), float64
    """
    _check_positive_int("n_mels", n_mels)
    _check_positive_int("n_fft", n_fft)
    _check_positive_int("sample_rate", sample_rate)
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate / 2 = {sample_rate / 2}, "
            f"got f_min={f_min}, f_max={f_max}"
        )
    points = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))  # (M+2,)
    bins = np.arange(n_fft // 2 + 1) * sample_rate / n_fft  # (K/2+1,) Hz
    if warp != 1.0:
        bins = warp_frequencies(bins, warp, sample_rate / 2)
    lower, centre, upper = points[:-2], points[1:-1], points[2:]  # (M,) each
    rising = (bins[:, None] - lower) / (centre - lower)  # (K/2+1, M)
    falling = (upper - bins[:, None]) / (upper - centre)  # (K/2+1, M)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel_spectrogram(
    audio: np.ndarray,
    sample_rate: int,
    n_mels: int = 40,
    frame_ms: float = 25.0,
    hop_ms: float = 10.0,
    n_fft: int | None = None,
    floor: float = 1e-10,
    warp: float = 1.0,
) -> np.ndarray:
    """Log-mel spectrogram: frames, Hann window, power spectrum, mel bands, log.

    Parameters
    ----------
    audio : ndarray of shape (S,)
    sample_rate : int
    n_mels : int
        M.
    frame_ms, hop_ms : float
        Frame length and hop in milliseconds (rounded to whole samples).
    n_fft : int, optional
        K; default the smallest power of two at least the frame length.
    floor : float
        Smallest power before the log.
    warp : float
        Frequency warp of the filterbank, for augmentation (see :func:`warp_frequencies`).

    Returns
    -------
    features : ndarray of shape (F, M), float32
        F = 1 + ceil(max(S - N, 0) / hop) frames (see :func:`frame_signal`).
    """
    frame_length = int(round(sample_rate * frame_ms / 1000))
    hop_length = int(round(sample_rate * hop_ms / 1000))
    if n_fft is None:
        n_fft = 1 << (frame_length - 1).bit_length()
    frames = frame_signal(audio, frame_length, hop_length)  # (F, N)
    power = power_spectrum(frames, n_fft)  # (F, K/2+1)
    mel = power @ mel_filterbank(n_mels, n_fft, sample_rate, warp=warp)  # (F, M)
    return np.log(np.maximum(mel, floor)).astype(np.float32)


def subtract_band_means(features: np.ndarray) -> np.ndarray:
    r"""Remove each band's mean over the utterance: :math:`x_{t,m} - \frac{1}{F}\sum_t x_{t,m}`.

    A fixed filter on the sound (a voice's formant profile, a microphone) multiplies the power
    in each band by a constant, which the log turns into a constant added to that band; taking
    away the band's mean removes it (cepstral mean normalisation, applied to log-mel bands).

    Parameters
    ----------
    features : ndarray of shape (F, M)

    Returns
    -------
    normalised : ndarray of shape (F, M), same dtype
    """
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(f"features must have shape (F, M), got {features.shape}")
    return features - features.mean(axis=0, keepdims=True)


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """A mono 16-bit PCM WAV file, in memory, of float audio in [-1, 1] (clipped there).

    Parameters
    ----------
    audio : ndarray of shape (S,)
    sample_rate : int

    Returns
    -------
    data : bytes
        The whole file, RIFF header included.
    """
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1:
        raise ValueError(f"audio must have shape (S,), got {audio.shape}")
    _check_positive_int("sample_rate", sample_rate)
    samples = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")  # little-endian int16
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(sample_rate)
        file.writeframes(samples.tobytes())
    return buffer.getvalue()


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write :func:`wav_bytes` to ``path`` (parent folders are created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(audio, sample_rate))
    return path
