"""Characters, words and subwords: three ways to cut a text into tokens, and what each costs.

* **characters**: every character is a token;
* **words**: :func:`split_words` keeps runs of letters, runs of digits and single punctuation
  marks; white space only separates tokens (a model would need it back as tokens of its own,
  so the word sequence lengths below are a lower bound);
* **subwords**: byte-pair encoding (BPE; Sennrich et al., 2016) starts from the characters of
  each word and repeatedly merges the most frequent adjacent pair of symbols in the training
  words into a new symbol. :func:`learn_bpe` learns the merges; :class:`BytePairEncoding`
  applies them, in the order they were learned, to any word. A frequent word ends as one
  symbol, a rare one as a few pieces, and a word never seen still splits into known pieces.

:func:`compare_tokenizations` measures, for each level, the vocabulary learned from a training
text, the number of tokens of a held-out text and its out-of-vocabulary rate (the share of its
tokens missing from the vocabulary). Chapter 9, "Generating text"
(``chapters/09_text_generation.md``), shows the table for the course's corpus.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import NamedTuple

__all__ = [
    "split_words",
    "learn_bpe",
    "BytePairEncoding",
    "TokenizationStats",
    "compare_tokenizations",
]

_WORD = re.compile(r"[A-Za-z]+|[0-9]+|[^\sA-Za-z0-9]")


def split_words(text: str) -> list[str]:
    """Runs of letters, runs of digits and single other non-space characters, in order.

    Examples
    --------
    >>> split_words("x = f(10) isn't")
    ['x', '=', 'f', '(', '10', ')', 'isn', "'", 't']
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return _WORD.findall(text)


def _merge_pair(symbols: tuple, pair: tuple[str, str]) -> tuple:
    """Replace every non-overlapping occurrence of ``pair`` in ``symbols``, left to right."""
    merged, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            merged.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            merged.append(symbols[i])
            i += 1
    return tuple(merged)


def learn_bpe(word_counts: dict[str, int], num_merges: int) -> list[tuple[str, str]]:
    """Learn up to ``num_merges`` byte-pair merges from word frequencies.

    Each round merges the adjacent pair of symbols with the highest count, summed over the
    words weighted by their frequency (ties: the alphabetically first pair). Pair counts are
    updated only for the words that contain the merged pair, so a round costs a pass over the
    pairs, not over the text.

    Parameters
    ----------
    word_counts : dict of str to int
        Each word (no white space) and how often it occurs; counts > 0.
    num_merges : int
        >= 0; fewer merges are returned if no pair occurs any more.

    Returns
    -------
    merges : list of (str, str)
        In the order learned.

    Examples
    --------
    >>> learn_bpe({"low": 5, "lower": 2, "newest": 6, "widest": 3}, 3)
    [('e', 's'), ('es', 't'), ('l', 'o')]
    """
    if isinstance(num_merges, bool) or not isinstance(num_merges, int) or num_merges < 0:
        raise ValueError(f"num_merges must be a non-negative integer, got {num_merges!r}")
    words = [tuple(word) for word in word_counts]
    counts = list(word_counts.values())
    if any(not isinstance(c, int) or c < 1 for c in counts):
        raise ValueError("word_counts must map words to positive integer counts")
    pair_counts: Counter = Counter()
    containing: defaultdict = defaultdict(set)  # pair -> indices of words that may hold it
    for index, (symbols, count) in enumerate(zip(words, counts, strict=True)):
        for pair in zip(symbols, symbols[1:], strict=False):
            pair_counts[pair] += count
            containing[pair].add(index)
    merges = []
    for _ in range(num_merges):
        if not pair_counts:
            break
        best = min(pair_counts, key=lambda pair: (-pair_counts[pair], pair))
        merges.append(best)
        for index in containing.pop(best):
            symbols, count = words[index], counts[index]
            if best not in zip(symbols, symbols[1:], strict=False):
                continue  # an index left from an earlier merge
            for pair in zip(symbols, symbols[1:], strict=False):
                pair_counts[pair] -= count
                if pair_counts[pair] == 0:
                    del pair_counts[pair]
            words[index] = _merge_pair(symbols, best)
            for pair in zip(words[index], words[index][1:], strict=False):
                pair_counts[pair] += count
                containing[pair].add(index)
    return merges


class BytePairEncoding:
    """Split words into subwords with learned merges, applied in the order they were learned.

    Parameters
    ----------
    merges : sequence of (str, str)
        From :func:`learn_bpe`.

    Examples
    --------
    >>> bpe = BytePairEncoding([("e", "s"), ("es", "t"), ("l", "o")])
    >>> bpe.encode_word("lowest")
    ['lo', 'w', 'est']
    """

    def __init__(self, merges):
        self.merges = [tuple(pair) for pair in merges]
        self._rank = {pair: rank for rank, pair in enumerate(self.merges)}
        self._cache: dict[str, list[str]] = {}

    def encode_word(self, word: str) -> list[str]:
        """The subwords of one word: repeatedly merge its pair of the lowest rank."""
        if word not in self._cache:
            symbols = tuple(word)
            while len(symbols) > 1:
                pairs = zip(symbols, symbols[1:], strict=False)
                best = min(pairs, key=lambda pair: self._rank.get(pair, len(self._rank)))
                if best not in self._rank:
                    break
                symbols = _merge_pair(symbols, best)
            self._cache[word] = list(symbols)
        return self._cache[word]

    def encode(self, text: str) -> list[str]:
        """The subwords of every word of ``text`` (:func:`split_words`), in order."""
        return [piece for word in split_words(text) for piece in self.encode_word(word)]

    def vocabulary(self, alphabet) -> set[str]:
        """The symbols it can produce: the characters of ``alphabet`` and every merge."""
        return set(alphabet) | {a + b for a, b in self.merges}


class TokenizationStats(NamedTuple):
    """One row of :func:`compare_tokenizations`."""

    level: str
    vocabulary_size: int
    held_out_tokens: int
    characters_per_token: float
    out_of_vocabulary_rate: float


def compare_tokenizations(
    train_text: str, held_out_text: str, num_merges: int = 1000
) -> list[TokenizationStats]:
    """Vocabulary size, held-out length and out-of-vocabulary rate of three tokenizations.

    Each vocabulary is learned from ``train_text`` alone: its characters; its words
    (:func:`split_words`); its word characters plus ``num_merges`` BPE merges learned from its
    word counts. ``held_out_text`` is then cut the same way.

    Parameters
    ----------
    train_text, held_out_text : str
    num_merges : int
        For the subword level.

    Returns
    -------
    rows : list of TokenizationStats
        Levels "characters", "subwords (BPE)", "words", in that order.
    """
    word_counts = Counter(split_words(train_text))
    held_out_words = split_words(held_out_text)
    if not word_counts or not held_out_words:
        raise ValueError("train_text and held_out_text must each hold at least one word")
    bpe = BytePairEncoding(learn_bpe(dict(word_counts), num_merges))
    alphabet = {character for word in word_counts for character in word}
    subword_vocabulary = bpe.vocabulary(alphabet)
    held_out_pieces = [p for word in held_out_words for p in bpe.encode_word(word)]
    characters = set(train_text)
    levels = (
        ("characters", characters, list(held_out_text)),
        ("subwords (BPE)", subword_vocabulary, held_out_pieces),
        ("words", set(word_counts), held_out_words),
    )
    rows = []
    for level, vocabulary, tokens in levels:
        missing = sum(token not in vocabulary for token in tokens)
        rows.append(
            TokenizationStats(
                level,
                len(vocabulary),
                len(tokens),
                len(held_out_text) / len(tokens),
                missing / len(tokens),
            )
        )
    return rows
