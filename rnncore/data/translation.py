r"""English number words to German number words: a translation task whose alignment crosses.

Every pair is one whole number written out by ``num2words`` (installed from the package index,
LGPL; the words are generated at run time, nothing is downloaded or committed)::

    21     twenty one                                ->  ein und zwanzig
    4 321  four thousand three hundred and twenty one  ->  vier tausend drei hundert ein und zwanzig

German says the units before the tens (*einundzwanzig*, "one-and-twenty"), so the target's
first piece of a two-digit group translates the source's *last* word: the alignment crosses.
Everything else (thousands, hundreds) is in the same order in both languages.

Tokens
------
- Source: English words, lower case; num2words's hyphens and commas are dropped
  ("twenty-one" -> ``twenty one``), "and" is kept.
- Target: German number words are written as one compound (*viertausenddreihundert...*); we
  cut them into their pieces (``ein``, ``und``, ``zwanzig``, ``hundert`` ...) by longest match
  against :data:`GERMAN_PIECES`. Joined without spaces the pieces give num2words's word back
  exactly (:func:`join_german`). Pieces keep the sequences short (at most 10 tokens) and make
  each target token line up with one source word, which is what an attention heatmap shows.

Splits (:func:`make_number_splits`)
-----------------------------------
Numbers are drawn from 1..``max_number`` with the number of digits uniform (so that short
numbers are not swamped by the many five-digit ones), each number at most once. They are split
*by number*: a held-out number never appears in training. The longest English sources
(``long_length`` words and more, e.g. ``ninety nine thousand nine hundred and ninety nine``)
are kept out of training and validation altogether and form the ``"long"`` test set: inputs
longer than any seen in training, built from parts that training does contain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "PAD",
    "BOS",
    "EOS",
    "GERMAN_PIECES",
    "english_words",
    "segment_german",
    "german_pieces",
    "join_german",
    "NumberPair",
    "make_pair",
    "Vocabulary",
    "NumberSplits",
    "make_number_splits",
]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"

# The pieces German number words (1..999 999) are built from. Longest match first, so that
# "siebzehn" is one piece, not "sieb" + "zehn"; "eins" only ends a number ("einhunderteins"),
# "ein" starts a compound ("einundzwanzig", "einhundert").
GERMAN_PIECES = (
    "null",
    "eins",
    "ein",
    "zwei",
    "drei",
    "vier",
    "fünf",
    "sechs",
    "sieben",
    "acht",
    "neun",
    "zehn",
    "elf",
    "zwölf",
    "dreizehn",
    "vierzehn",
    "fünfzehn",
    "sechzehn",
    "siebzehn",
    "achtzehn",
    "neunzehn",
    "zwanzig",
    "dreißig",
    "vierzig",
    "fünfzig",
    "sechzig",
    "siebzig",
    "achtzig",
    "neunzig",
    "hundert",
    "tausend",
    "und",
)
_BY_LENGTH = sorted(GERMAN_PIECES, key=len, reverse=True)


def _num2words(number: int, lang: str) -> str:
    from num2words import num2words  # imported here: only this module needs it

    if not isinstance(number, int | np.integer) or isinstance(number, bool) or number < 0:
        raise ValueError(f"number must be a non-negative integer, got {number!r}")
    if number >= 1_000_000:
        raise ValueError(f"number must be below 1 000 000 ('Million' is not a piece), got {number}")
    return num2words(int(number), lang=lang)


def english_words(number: int) -> list[str]:
    """The English words for ``number``, lower case, without hyphens and commas.

    >>> english_words(2021)
    ['two', 'thousand', 'and', 'twenty', 'one']
    """
    text = _num2words(number, "en").lower().replace("-", " ").replace(",", " ")
    return text.split()


def segment_german(word: str) -> list[str]:
    """Cut a German number word into :data:`GERMAN_PIECES` by longest match.

    >>> segment_german("einhunderteinundzwanzig")
    ['ein', 'hundert', 'ein', 'und', 'zwanzig']

    Raises
    ------
    ValueError
        If some part of ``word`` is not a known piece.
    """
    pieces, start = [], 0
    while start < len(word):
        for piece in _BY_LENGTH:
            if word.startswith(piece, start):
                pieces.append(piece)
                start += len(piece)
                break
        else:
            raise ValueError(
                f"cannot cut {word!r} into number pieces: no piece starts at {word[start:]!r}"
            )
    return pieces


def german_pieces(number: int) -> list[str]:
    """The German word for ``number`` (num2words, ``lang="de"``) cut into its pieces."""
    return segment_german(_num2words(number, "de"))


def join_german(pieces: Iterable[str]) -> str:
    """Pieces back to the German word: ``["ein", "und", "zwanzig"]`` -> ``"einundzwanzig"``."""
    return "".join(pieces)


@dataclass(frozen=True)
class NumberPair:
    """One translation pair."""

    number: int
    source: tuple[str, ...]  # English words
    target: tuple[str, ...]  # German pieces

    @property
    def german(self) -> str:
        """The target as num2words writes it (one word)."""
        return join_german(self.target)


def make_pair(number: int) -> NumberPair:
    """The :class:`NumberPair` of ``number``."""
    return NumberPair(int(number), tuple(english_words(number)), tuple(german_pieces(number)))


class Vocabulary:
    """Tokens to ids and back, with ``<pad>`` = 0, ``<bos>`` = 1 and ``<eos>`` = 2.

    Parameters
    ----------
    tokens : iterable of str
        The other tokens, in the order their ids are given (duplicates are kept once).
    """

    def __init__(self, tokens: Iterable[str]):
        self.tokens: list[str] = [PAD, BOS, EOS]
        for token in tokens:
            if token not in self.tokens:
                self.tokens.append(token)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.pad, self.bos, self.eos = 0, 1, 2

    @classmethod
    def from_sequences(cls, sequences: Iterable[Sequence[str]]) -> Vocabulary:
        """A vocabulary of every token in ``sequences``, sorted."""
        return cls(sorted({token for sequence in sequences for token in sequence}))

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str], eos: bool = False) -> list[int]:
        """Token ids, with ``<eos>`` appended when ``eos``; an unknown token is an error."""
        unknown = [token for token in tokens if token not in self.index]
        if unknown:
            raise ValueError(f"tokens not in the vocabulary: {unknown}")
        return [self.index[token] for token in tokens] + ([self.eos] if eos else [])

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` up to the first ``<eos>``; ``<pad>`` and ``<bos>`` are dropped."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i not in (self.pad, self.bos):
                tokens.append(self.tokens[i])
        return tokens


@dataclass(frozen=True)
class NumberSplits:
    """The pairs of each split and the two vocabularies (built from the training pairs)."""

    train: list[NumberPair]
    valid: list[NumberPair]
    test: list[NumberPair]
    long: list[NumberPair]
    source_vocabulary: Vocabulary
    target_vocabulary: Vocabulary
    long_length: int


def make_number_splits(
    seed: int = 0,
    max_number: int = 99_999,
    train_size: int = 20_000,
    valid_size: int = 1_000,
    test_size: int = 2_000,
    long_size: int = 1_000,
    long_length: int = 8,
) -> NumberSplits:
    """Draw distinct numbers and split them by number and by length.

    Numbers come from 1..``max_number`` with the digit count uniform over 1..digits of
    ``max_number``; each number is used once. Those whose English has at least ``long_length``
    words go to ``long`` (``long_size`` of them); the others fill ``train``, ``valid`` and
    ``test`` after a seeded shuffle, so the three share no number. The vocabularies come from
    the training pairs only. Numbers with few
    digits run out (there are only 9 one-digit numbers): their share goes to longer numbers.

    Parameters
    ----------
    seed : int
    max_number : int
        At most 999 999.
    train_size, valid_size, test_size, long_size : int
    long_length : int
        Source length (in words) from which a pair belongs to the long test set.

    Returns
    -------
    NumberSplits
    """
    if not 1 <= max_number < 1_000_000:
        raise ValueError(f"max_number must be in 1..999 999, got {max_number}")
    rng = np.random.default_rng(seed)
    short_needed = train_size + valid_size + test_size
    digits = len(str(max_number))
    pools = []  # one shuffled pool of numbers per digit count
    for d in range(1, digits + 1):
        low, high = 10 ** (d - 1), min(10**d - 1, max_number)
        pools.append(list(rng.permutation(np.arange(low, high + 1))))
    short, long = [], []
    while len(short) < short_needed or len(long) < long_size:
        live = [pool for pool in pools if pool]
        if not live:
            raise ValueError(
                f"only {len(short)} short and {len(long)} long numbers up to {max_number}: "
                "ask for fewer pairs"
            )
        number = int(live[rng.integers(len(live))].pop())
        source = english_words(number)  # cheap; the German only for numbers kept
        is_long = len(source) >= long_length
        if is_long and len(long) < long_size:
            long.append(make_pair(number))
        elif not is_long and len(short) < short_needed:
            short.append(make_pair(number))
    short = [short[i] for i in rng.permutation(len(short))]  # small numbers into every split
    train = short[:train_size]
    valid = short[train_size : train_size + valid_size]
    test = short[train_size + valid_size :]
    return NumberSplits(
        train=train,
        valid=valid,
        test=test,
        long=long,
        source_vocabulary=Vocabulary.from_sequences(pair.source for pair in train),
        target_vocabulary=Vocabulary.from_sequences(pair.target for pair in train),
        long_length=long_length,
    )
