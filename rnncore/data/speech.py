r"""Spoken digit strings, synthesised offline with eSpeak NG, for speech recognition with CTC.

Each utterance says 3 to 7 digits ("three one four oh nine") with one English accent (an
eSpeak NG language voice), one voice variant (a pitch and formant profile such as ``m3`` or
``f2``), one speaking rate and one pitch, and optionally white noise at a chosen
signal-to-noise ratio. The synthesiser is the eSpeak NG library bundled by the
``espeakng-loader`` package (library and voice data inside the wheel), called through ctypes:
nothing is downloaded and nothing outside the installed packages is needed.

The split holds out voices: the ``"train"`` and ``"seen"`` splits use the training accents and
variants (``"seen"`` draws new strings from them), while ``"test"`` uses only accents *and*
variants that never occur in training, so the test measures generalisation to new speakers.

Where the library cannot be loaded, ``backend="auto"`` falls back to DTMF tones (the
telephone keypad's two-tone digits), generated here, so that code built on this module still
runs; :func:`espeak_status` says which is in use and why.

Noise is added at a signal-to-noise ratio measured over the whole clean utterance,

.. math::

    \mathrm{SNR_{dB}} = 10 \log_{10} \frac{\frac{1}{N}\sum_n s_n^2}{\frac{1}{N}\sum_n e_n^2},

with :math:`s` the clean audio and :math:`e` the noise actually added (its sample power is
scaled to the target exactly).

Reproducibility: the strings, voices, rates, pitches and noise are fixed by the seed, and the
DTMF fallback is reproducible bit for bit. eSpeak NG is not: its wave generator carries a
little state from one utterance to the next, so the same utterance may come out a few samples
longer or shorter when it follows a different one. The cache (below) makes a build reuse the
same audio.

Generated audio is ours: it may be cached (``cache_dir``, e.g. under ``_build/``) and is never
committed. The cache key holds every generation parameter, the backend and the eSpeak NG
version, so a change to any of them generates afresh.

Thread and process safety: eSpeak NG keeps global state (one voice, one set of parameters,
one callback), so this module initialises it once per process and serialises every synthesis
behind a lock. Separate processes each initialise their own copy; do not share an initialised
library across ``fork`` (start worker processes before the first synthesis, or use "spawn").
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import json
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = [
    "DIGIT_WORDS",
    "ZERO_ALTERNATIVE",
    "ENGLISH_ACCENTS",
    "VOICE_VARIANTS",
    "TRAIN_ACCENTS",
    "TEST_ACCENTS",
    "TRAIN_VARIANTS",
    "TEST_VARIANTS",
    "SPLITS",
    "DTMF_FREQUENCIES",
    "SpeechConfig",
    "Utterance",
    "DigitDataset",
    "espeak_status",
    "synthesise",
    "dtmf_digits",
    "add_noise",
    "snr_db",
    "resample",
    "draw_utterances",
    "make_digit_dataset",
]

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ZERO_ALTERNATIVE = "oh"  # "three oh four": the other common way to say 0 in a digit string

# eSpeak NG's English voices (espeak-ng-data/lang/gmw), by the name espeak_SetVoiceByName takes.
ENGLISH_ACCENTS = (
    "en",  # Great Britain
    "en-us",  # America
    "en-gb-x-rp",  # Received Pronunciation
    "en-gb-x-gbclan",  # Lancaster
    "en-us-nyc",  # New York City
    "en-gb-scotland",  # Scotland
    "en-029",  # Caribbean
    "en-gb-x-gbcwmd",  # West Midlands
)
# Variants (espeak-ng-data/voices/!v): pitch, formant and voicing profiles, male and female.
TRAIN_VARIANTS = (
    "m1", "m2", "m3", "m6", "m7", "f1", "f2", "f4",
    "aunty", "belinda", "boris", "david", "grandma", "grandpa", "ian", "john",
    "linda", "max", "norbert", "paul", "rob", "robert", "victor", "zac",
)  # fmt: skip
TEST_VARIANTS = ("m4", "m5", "f3", "f5", "ed", "steph")
VOICE_VARIANTS = TRAIN_VARIANTS + TEST_VARIANTS
TRAIN_ACCENTS = ENGLISH_ACCENTS[:6]
TEST_ACCENTS = ENGLISH_ACCENTS[6:]
SPLITS = ("train", "seen", "test")

# Low (row) and high (column) frequency in Hz of each digit's key on a telephone keypad.
DTMF_FREQUENCIES = {
    1: (697, 1209),
    2: (697, 1336),
    3: (697, 1477),
    4: (770, 1209),
    5: (770, 1336),
    6: (770, 1477),
    7: (852, 1209),
    8: (852, 1336),
    9: (852, 1477),
    0: (941, 1336),
}

_ESPEAK_RATE, _ESPEAK_PITCH = 1, 3  # espeak_PARAMETER: espeakRATE, espeakPITCH
_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS
_CHARS_UTF8 = 1  # espeak_Synth flags: espeakCHARS_UTF8
_EE_OK = 0


@dataclass(frozen=True)
class SpeechConfig:
    """Every parameter of the generator (all of them enter the cache key).

    Parameters
    ----------
    sample_rate : int
        Hz of the returned audio (eSpeak NG speaks at 22050 Hz; the audio is resampled).
    min_digits, max_digits : int
        Length range of the digit strings, inclusive.
    rate_range : tuple of int
        Speaking rate in words per minute, drawn uniformly (eSpeak NG accepts 80 to 450).
    pitch_range : tuple of int
        eSpeak NG's pitch parameter (0 to 100, 50 the voice's normal), drawn uniformly.
    oh_probability : float
        Chance that a 0 is said "oh" instead of "zero".
    snr_choices : tuple of (float or None)
        Signal-to-noise ratios in dB, one drawn per utterance; None means clean.
    peak : float
        Clean audio is scaled to this peak amplitude (float audio lies in [-1, 1]).
    """

    sample_rate: int = 8000
    min_digits: int = 3
    max_digits: int = 7
    rate_range: tuple[int, int] = (140, 220)
    pitch_range: tuple[int, int] = (30, 70)
    oh_probability: float = 0.3
    snr_choices: tuple[float | None, ...] = (None,)
    peak: float = 0.5

    def __post_init__(self):
        if not 1 <= self.min_digits <= self.max_digits:
            raise ValueError(
                f"need 1 <= min_digits <= max_digits, got {self.min_digits}, {self.max_digits}"
            )
        if not 80 <= self.rate_range[0] <= self.rate_range[1] <= 450:
            raise ValueError(f"rate_range must lie in 80..450 words/min, got {self.rate_range}")
        if not 0 <= self.pitch_range[0] <= self.pitch_range[1] <= 100:
            raise ValueError(f"pitch_range must lie in 0..100, got {self.pitch_range}")
        if not 0 <= self.oh_probability <= 1:
            raise ValueError(f"oh_probability must be in [0, 1], got {self.oh_probability}")
        if not self.snr_choices:
            raise ValueError("snr_choices must hold at least one SNR (None for clean)")
        if not 1000 <= self.sample_rate <= 48000:
            raise ValueError(f"sample_rate must be in 1000..48000 Hz, got {self.sample_rate}")


@dataclass(frozen=True)
class Utterance:
    """What one utterance says and how: everything needed to generate it again."""

    digits: tuple[int, ...]
    words: tuple[str, ...]
    accent: str
    variant: str
    rate: int
    pitch: int
    snr_db: float | None
    noise_seed: int


@dataclass(frozen=True)
class DigitDataset:
    """Generated utterances.

    Attributes
    ----------
    audio : list of ndarray of shape (N_i,), float32
        One waveform per utterance, in [-1, 1].
    utterances : list of Utterance
    sample_rate : int
    backend : {"espeak", "dtmf"}
    split : str
    """

    audio: list
    utterances: list
    sample_rate: int
    backend: str
    split: str

    @property
    def digits(self) -> list[tuple[int, ...]]:
        """The transcription of each utterance, as digits 0..9."""
        return [u.digits for u in self.utterances]

    def __len__(self) -> int:
        return len(self.audio)


# -- the synthesiser -------------------------------------------------------------------------


class _Espeak:
    """The loaded library, initialised once per process; synthesis under a lock."""

    _lock = threading.Lock()
    _instance = None
    _failure = None

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None and cls._failure is None:
                try:
                    cls._instance = cls()
                except (ImportError, OSError, RuntimeError) as error:
                    cls._failure = f"{type(error).__name__}: {error}"
            return cls._instance

    def __init__(self):
        import espeakng_loader  # an optional dependency: only this backend needs it

        data_path = espeakng_loader.get_data_path()
        self.lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        self.lib.espeak_Info.restype = ctypes.c_char_p
        self.sample_rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, data_path.encode(), 0)
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed (returned {self.sample_rate})")
        self.version = self.lib.espeak_Info(None).decode()
        self.variants = {p.name for p in (Path(data_path) / "voices" / "!v").iterdir()}
        self._chunks: list[np.ndarray] = []
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )
        # Keep a reference: the library calls it after this method returns.
        self._callback = callback_type(self._receive)
        self.lib.espeak_SetSynthCallback(self._callback)

    def _receive(self, wav, n, events):
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0  # 0: continue synthesis

    def speak(self, text: str, accent: str, variant: str, rate: int, pitch: int) -> np.ndarray:
        if variant not in self.variants:  # the library silently ignores an unknown variant
            raise ValueError(f"unknown eSpeak NG voice variant {variant!r}")
        with self._lock:
            if self.lib.espeak_SetVoiceByName(f"{accent}+{variant}".encode()) != _EE_OK:
                raise ValueError(f"eSpeak NG has no voice {accent!r}")
            for parameter, value in ((_ESPEAK_RATE, rate), (_ESPEAK_PITCH, pitch)):
                if self.lib.espeak_SetParameter(parameter, int(value), 0) != _EE_OK:
                    raise ValueError(f"eSpeak NG refused parameter {parameter} = {value}")
            self._chunks = []
            encoded = text.encode()
            status = self.lib.espeak_Synth(
                encoded, len(encoded) + 1, 0, 0, 0, _CHARS_UTF8, None, None
            )
            self.lib.espeak_Synchronize()
            if status != _EE_OK:
                raise RuntimeError(f"espeak_Synth failed with status {status} on {text!r}")
            chunks, self._chunks = self._chunks, []
        if not chunks:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r}")
        return np.concatenate(chunks)  # int16 at self.sample_rate


def espeak_status() -> tuple[bool, str]:
    """Whether eSpeak NG can be used here, and a sentence that says which library or why not.

    Returns
    -------
    available : bool
    description : str
    """
    engine = _Espeak.get()
    if engine is None:
        return False, f"eSpeak NG could not be loaded ({_Espeak._failure})"
    return True, f"eSpeak NG {engine.version} at {engine.sample_rate} Hz (espeakng-loader)"


def synthesise(
    words, accent: str, variant: str, rate: int, pitch: int, sample_rate: int
) -> np.ndarray:
    """Speak ``words`` with eSpeak NG and return float audio at ``sample_rate``.

    Parameters
    ----------
    words : sequence of str
    accent : str
        An eSpeak NG voice name, e.g. "en-us" (see ``ENGLISH_ACCENTS``).
    variant : str
        A voice variant, e.g. "f3" (see ``VOICE_VARIANTS``).
    rate : int
        Words per minute.
    pitch : int
        0 to 100.
    sample_rate : int
        Hz of the result.

    Returns
    -------
    audio : ndarray of shape (N,), float32
        In [-1, 1], leading and trailing silence kept as eSpeak NG makes it.
    """
    engine = _Espeak.get()
    if engine is None:
        raise RuntimeError(
            f"eSpeak NG is not available ({_Espeak._failure}); install espeakng-loader, "
            "or use backend='dtmf'"
        )
    raw = engine.speak(" ".join(words), accent, variant, rate, pitch)  # int16
    return resample(raw.astype(np.float32) / 32768.0, engine.sample_rate, sample_rate)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling with an anti-aliasing filter (scipy.signal.resample_poly).

    Parameters
    ----------
    audio : ndarray of shape (N,)
    from_rate, to_rate : int
        Hz.

    Returns
    -------
    audio : ndarray of shape (round(N * to_rate / from_rate),), float32
    """
    if from_rate == to_rate:
        return audio.astype(np.float32)
    from scipy.signal import resample_poly

    ratio = Fraction(to_rate, from_rate)
    return resample_poly(audio, ratio.numerator, ratio.denominator).astype(np.float32)


def dtmf_digits(
    digits, rate: int, pitch: int, sample_rate: int, rng: np.random.Generator
) -> np.ndarray:
    """The fallback "voice": each digit as its two telephone-keypad tones, then a pause.

    Durations follow the speaking rate (a tone lasts about 60 % of a word at ``rate`` words per
    minute) and the pitch shifts both tones by up to +-3 %, so the fallback keeps the same
    kinds of variation as the speech.

    Parameters
    ----------
    digits : sequence of int
        0..9.
    rate, pitch : int
        As for :func:`synthesise`.
    sample_rate : int
    rng : numpy.random.Generator
        Draws small random changes of each tone's length.

    Returns
    -------
    audio : ndarray of shape (N,), float32
    """
    word_seconds = 60.0 / rate
    shift = 1.0 + 0.06 * (pitch - 50) / 100.0
    pieces = [np.zeros(int(0.1 * sample_rate), dtype=np.float32)]
    for digit in digits:
        low, high = DTMF_FREQUENCIES[int(digit)]
        tone_seconds = 0.6 * word_seconds * rng.uniform(0.85, 1.15)
        t = np.arange(int(tone_seconds * sample_rate)) / sample_rate  # (N_tone,)
        tone = 0.5 * (np.sin(2 * np.pi * low * shift * t) + np.sin(2 * np.pi * high * shift * t))
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms fades: no clicks
        pieces.append((tone * ramp).astype(np.float32))
        pieces.append(np.zeros(int(0.4 * word_seconds * sample_rate), dtype=np.float32))
    pieces.append(np.zeros(int(0.1 * sample_rate), dtype=np.float32))
    return np.concatenate(pieces)


# -- noise -----------------------------------------------------------------------------------


def add_noise(audio: np.ndarray, snr: float | None, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise whose sample power sits exactly ``snr`` dB below the audio's.

    Parameters
    ----------
    audio : ndarray of shape (N,)
        Clean audio, not all zeros.
    snr : float or None
        Decibels; None returns a copy of the clean audio.
    rng : numpy.random.Generator

    Returns
    -------
    noisy : ndarray of shape (N,), float32
    """
    if snr is None:
        return audio.astype(np.float32)
    signal_power = float(np.mean(np.square(audio, dtype=np.float64)))
    if signal_power == 0:
        raise ValueError("cannot set a signal-to-noise ratio for silent audio")
    noise = rng.standard_normal(audio.shape[0])  # (N,)
    noise *= np.sqrt(signal_power / 10 ** (snr / 10) / np.mean(noise**2))
    return (audio + noise).astype(np.float32)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """The signal-to-noise ratio of ``noisy`` against ``clean``, in dB (formula above)."""
    noise = noisy.astype(np.float64) - clean.astype(np.float64)
    clean_power = np.mean(np.square(clean, dtype=np.float64))
    return float(10 * np.log10(clean_power / np.mean(noise**2)))


# -- the dataset -----------------------------------------------------------------------------


def _voices(split: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split == "test":
        return TEST_ACCENTS, TEST_VARIANTS
    return TRAIN_ACCENTS, TRAIN_VARIANTS


def draw_utterances(split: str, n: int, seed: int, config: SpeechConfig) -> list[Utterance]:
    """Draw what ``n`` utterances say and how, from the voices of ``split``.

    Parameters
    ----------
    split : {"train", "seen", "test"}
        "train" and "seen" use the training accents and variants, "test" the held-out ones.
    n : int
    seed : int
        Together with ``split``, fixes every draw; the noise of each utterance has its own
        seed, so changing ``config.snr_choices`` leaves the strings and voices unchanged.
    config : SpeechConfig

    Returns
    -------
    utterances : list of Utterance
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    accents, variants = _voices(split)
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    noise_rng = np.random.default_rng([seed, SPLITS.index(split), 1])
    utterances = []
    for _ in range(n):
        length = int(rng.integers(config.min_digits, config.max_digits + 1))
        digits = tuple(int(d) for d in rng.integers(0, 10, size=length))
        say_oh = rng.random(length) < config.oh_probability
        words = tuple(
            ZERO_ALTERNATIVE if d == 0 and oh else DIGIT_WORDS[d]
            for d, oh in zip(digits, say_oh, strict=True)
        )
        utterances.append(
            Utterance(
                digits=digits,
                words=words,
                accent=str(rng.choice(accents)),
                variant=str(rng.choice(variants)),
                rate=int(rng.integers(config.rate_range[0], config.rate_range[1] + 1)),
                pitch=int(rng.integers(config.pitch_range[0], config.pitch_range[1] + 1)),
                snr_db=config.snr_choices[int(noise_rng.integers(len(config.snr_choices)))],
                noise_seed=int(noise_rng.integers(2**31)),
            )
        )
    return utterances


def _generate(utterance: Utterance, config: SpeechConfig, backend: str) -> np.ndarray:
    rng = np.random.default_rng(utterance.noise_seed)
    if backend == "espeak":
        clean = synthesise(
            utterance.words,
            utterance.accent,
            utterance.variant,
            utterance.rate,
            utterance.pitch,
            config.sample_rate,
        )
    else:
        clean = dtmf_digits(
            utterance.digits, utterance.rate, utterance.pitch, config.sample_rate, rng
        )
    clean = clean * (config.peak / max(float(np.abs(clean).max()), 1e-12))
    return add_noise(clean, utterance.snr_db, rng)


def _resolve_backend(backend: str) -> str:
    if backend not in ("auto", "espeak", "dtmf"):
        raise ValueError(f"backend must be 'auto', 'espeak' or 'dtmf', got {backend!r}")
    available, description = espeak_status()
    if backend == "espeak" and not available:
        raise RuntimeError(f"backend='espeak' asked for, but {description}")
    if backend == "auto":
        return "espeak" if available else "dtmf"
    return backend


def _cache_key(split, n, seed, config, backend) -> str:
    version = _Espeak.get().version if backend == "espeak" else None
    record = {
        "format": 1,
        "split": split,
        "n": n,
        "seed": seed,
        "config": dataclasses.asdict(config),
        "backend": backend,
        "espeak_version": version,
        "voices": _voices(split),
    }
    text = json.dumps(record, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def make_digit_dataset(
    split: str,
    n: int,
    seed: int = 0,
    config: SpeechConfig | None = None,
    backend: str = "auto",
    cache_dir: str | Path | None = None,
) -> DigitDataset:
    """Generate (or load from the cache) ``n`` spoken digit strings of ``split``.

    Parameters
    ----------
    split : {"train", "seen", "test"}
        See :func:`draw_utterances`.
    n : int
    seed : int
    config : SpeechConfig, optional
        Default ``SpeechConfig()``.
    backend : {"auto", "espeak", "dtmf"}
        "auto" uses eSpeak NG when it loads and DTMF tones otherwise; "espeak" raises when it
        does not load.
    cache_dir : path, optional
        Where to keep the generated audio (one .npz per dataset, named by a hash of every
        generation parameter). None: generate every time.

    Returns
    -------
    dataset : DigitDataset
    """
    config = SpeechConfig() if config is None else config
    backend = _resolve_backend(backend)
    utterances = draw_utterances(split, n, seed, config)
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"digits-{split}-{_cache_key(split, n, seed, config, backend)}.npz"
        if path.exists():
            with np.load(path) as stored:
                ends = np.cumsum(stored["lengths"])
                audio = np.split(stored["samples"], ends[:-1])
            return DigitDataset(audio, utterances, config.sample_rate, backend, split)
    audio = [_generate(u, config, backend) for u in utterances]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, samples=np.concatenate(audio), lengths=np.array([len(a) for a in audio]))
        partial.replace(path)  # a reader never sees a half-written file
    return DigitDataset(audio, utterances, config.sample_rate, backend, split)
