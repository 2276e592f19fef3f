"""Review-like sentences whose label depends on word order, and a word vocabulary for them.

Every sentence is built by our own small grammar; only the polarity of its adjectives comes
from outside, from the VADER lexicon (Hutto and Gilbert, 2014) that ships inside the installed
``vaderSentiment`` package (MIT licence). The lexicon file ``vaderSentiment/vader_lexicon.txt``
is read at run time with :mod:`importlib.resources` (one token per line, tab-separated: the
token, its mean rating from -4 to 4, the standard deviation and the ten raw ratings); nothing
of it is stored in this repository.

Polarity words
    :data:`CANDIDATE_ADJECTIVES` is our own list of adjectives that fit after "the film was";
    a candidate is kept if VADER rates it with ``|mean| >= POLARITY_THRESHOLD``, and its sign
    there is its polarity. A seeded shuffle then sets aside :data:`HELD_OUT_FRACTION` of each
    polarity's words as *held-out words*.

Clauses
    ``subject verb [intensifier] adjective``, e.g. "the plot was very clever", or with the
    verb negated (:data:`NEGATIONS`), "the plot never seemed clever", "the plot was not very
    clever". A clause's polarity is its adjective's, flipped by a negation;
    intensifiers (:data:`INTENSIFIERS`) do not change it. A subject and a verb together are a
    *frame*; :data:`HELD_OUT_FRAMES` are never used in training.

Constructions (each example records its own) and their labels
    ``plain`` one clause, no modifier: its polarity.
    ``intensified`` one clause with an intensifier: its polarity.
    ``negated`` one clause with a negator: the opposite of its adjective.
    ``contrast`` two clauses of opposite polarity; the label is the main clause's: the one
    after "but", or the one *not* introduced by "although" / "even though", whichever side it
    stands on; also "the film was dull at first but moving", whose label is the last adjective.
    ``multi_clause`` three clauses: two of one polarity joined by "and", against one main clause
    of the other polarity (same connectives as ``contrast``).
    ``long`` (test only) the multi-clause templates with four to seven clauses, every sentence
    longer than the longest training sentence.

The split keeps memory from passing for generalisation:

- held-out words appear in training only in ``plain`` and ``intensified`` sentences, where
  a bag of words learns their polarity; every test sentence uses held-out words only, so no
  negated or contrasted use of them (no "not superb") was ever seen;
- every test sentence uses held-out frames only, and the contrast templates in
  :data:`HELD_OUT_TEMPLATES` appear only in the test sets;
- the validation set is drawn like the training set (training words, frames and templates),
  and no sentence is in two sets.

Labels: 1 positive, 0 negative, balanced in every construction.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CANDIDATE_ADJECTIVES",
    "POLARITY_THRESHOLD",
    "HELD_OUT_FRACTION",
    "NOUNS",
    "SUBJECTS",
    "VERBS",
    "HELD_OUT_FRAMES",
    "NEGATIONS",
    "INTENSIFIERS",
    "TEMPLATES",
    "HELD_OUT_TEMPLATES",
    "CONSTRUCTIONS",
    "LEXICON_SOURCE",
    "SentimentExample",
    "SentimentData",
    "WordVocabulary",
    "load_vader_lexicon",
    "polarity_words",
    "tokenize",
    "make_sentiment_data",
]

LEXICON_SOURCE = "vaderSentiment/vader_lexicon.txt"

#: Our candidate polarity adjectives: words a reviewer puts after "the film was". VADER keeps
#: or drops each one and gives its polarity.
CANDIDATE_ADJECTIVES = (
    # expected positive
    "admirable", "amazing", "awesome", "beautiful", "brilliant", "charming", "clever",
    "delightful", "effective", "elegant", "engaging", "enjoyable", "entertaining", "excellent",
    "exciting", "fantastic", "fascinating", "flawless", "fresh", "funny", "gorgeous", "great",
    "hilarious", "impressive", "inspiring", "lovely", "magnificent", "marvelous", "original",
    "outstanding", "perfect", "pleasant", "powerful", "remarkable", "rewarding", "satisfying",
    "smart", "splendid", "stunning", "superb", "terrific", "thoughtful", "thrilling",
    "wonderful",
    # expected negative
    "annoying", "appalling", "awful", "bad", "boring", "crappy", "depressing", "disappointing",
    "disgusting", "dismal", "dreadful", "dreary", "dull", "dumb", "embarrassing", "exhausting",
    "feeble", "frustrating", "horrendous", "horrible", "idiotic", "incompetent", "insipid",
    "irritating", "joyless", "lame", "lazy", "lousy", "messy", "mindless", "miserable",
    "obnoxious", "painful", "pathetic", "poor", "ridiculous", "rotten", "stupid", "terrible",
    "ugly", "unpleasant", "useless", "vile", "weak", "worthless",
)  # fmt: skip

#: Keep a candidate if VADER's mean rating has at least this magnitude (the scale is -4..4).
POLARITY_THRESHOLD = 1.2
#: Fraction of each polarity's words held out from every order-dependent training sentence.
HELD_OUT_FRACTION = 1 / 3

NOUNS = (
    "film", "movie", "plot", "story", "acting", "script", "ending", "cast", "soundtrack",
    "dialogue", "pacing", "direction", "finale", "premise", "screenplay", "humour",
)  # fmt: skip
SUBJECTS = ("the {noun}", "this {noun}", "the whole {noun}", "i thought the {noun}")
VERBS = ("was", "is", "felt", "seemed")
#: (subject index, verb index) pairs used only in the test sets: every subject and every verb
#: still appears in training, in other frames.
HELD_OUT_FRAMES = ((0, 3), (1, 2), (2, 1), (3, 0))
#: How each verb is negated; "{verb}" stands for the verb itself, so that the negator can
#: come before it ("never seemed") or after it ("was not").
NEGATIONS = {
    "was": ("was not", "was never", "was not at all", "was far from", "was hardly"),
    "is": ("is not", "is never", "is not at all", "is far from", "is hardly"),
    "felt": ("did not feel", "never felt", "hardly felt", "felt far from", "felt not at all"),
    "seemed": (
        "did not seem",
        "never seemed",
        "hardly seemed",
        "seemed far from",
        "seemed not at all",
    ),
}
#: Negations that an intensifier may follow ("was not very good").
NEGATIONS_WITH_INTENSIFIER = ("was not", "is not", "did not feel", "did not seem")
INTENSIFIERS = ("very", "really", "truly", "extremely", "incredibly", "quite")

#: Sentence templates per construction. ``{main}`` is the clause that decides the label,
#: ``{other}`` (``{other2}``) a clause of the opposite polarity, ``{main2}`` a second clause
#: of the main polarity; ``{subject} {verb}``, ``{adjective}``, ``{other_adjective}`` fill
#: the one-frame template.
TEMPLATES = {
    "plain": ("{clause}",),
    "intensified": ("{clause}",),
    "negated": ("{clause}",),
    "contrast": (
        "{other} but {main}",
        "although {other} , {main}",
        "{main} , although {other}",
        "{main} even though {other}",
        "{subject} {verb} {other_adjective} at first but {adjective}",
        "even though {other} , {main}",
    ),
    "multi_clause": (
        "{other} and {other2} but {main}",
        "although {other} and {other2} , {main}",
        "{main} and {main2} , although {other}",
        "{main} , even though {other} and {other2}",
        "even though {other} and {other2} , {main}",
    ),
}
#: Templates that appear only in the test sets (each recombines connectives seen in training).
HELD_OUT_TEMPLATES = {
    "contrast": ("even though {other} , {main}",),
    "multi_clause": ("even though {other} and {other2} , {main}",),
}
CONSTRUCTIONS = ("plain", "intensified", "negated", "contrast", "multi_clause", "long")
#: Share of each construction in the training, validation and main test sets.
_MIX = {"plain": 0.15, "intensified": 0.1, "negated": 0.25, "contrast": 0.25, "multi_clause": 0.25}

_TOKEN = re.compile(r"[a-z]+|,")


def tokenize(text: str) -> list[str]:
    """Lower-case words and commas, in order: ``"Not bad, really"`` -> not bad , really."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    return _TOKEN.findall(text.lower())


@functools.lru_cache(maxsize=1)
def load_vader_lexicon() -> dict[str, float]:
    """VADER's mean rating of every token in its lexicon, read from the installed package.

    Returns
    -------
    lexicon : dict of str to float
        Token -> mean rating in -4..4.
    """
    package, name = LEXICON_SOURCE.split("/")
    try:
        text = importlib.resources.files(package).joinpath(name).read_text(encoding="utf-8")
    except ModuleNotFoundError as error:  # pragma: no cover - it is in the lock
        raise RuntimeError(
            "the sentiment data need the vaderSentiment package (pip install vaderSentiment)"
        ) from error
    lexicon = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            lexicon[fields[0]] = float(fields[1])
    return lexicon


def polarity_words(threshold: float = POLARITY_THRESHOLD) -> dict[str, float]:
    """The candidate adjectives VADER rates at least ``threshold`` away from 0.

    Parameters
    ----------
    threshold : float
        Minimum ``|mean rating|``.

    Returns
    -------
    words : dict of str to float
        Adjective -> VADER mean rating, in the order of :data:`CANDIDATE_ADJECTIVES`; the sign
        of the rating is the word's polarity.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    lexicon = load_vader_lexicon()
    return {
        word: lexicon[word]
        for word in CANDIDATE_ADJECTIVES
        if word in lexicon and abs(lexicon[word]) >= threshold
    }


@dataclass(frozen=True)
class SentimentExample:
    """One sentence and how it was built.

    Attributes
    ----------
    text : str
    tokens : tuple of str
        ``tokenize(text)``.
    label : int
        1 positive, 0 negative.
    construction : str
        One of :data:`CONSTRUCTIONS`.
    template : str
        The sentence template it was built from.
    negated : bool
        Whether any clause has a negator.
    """

    text: str
    tokens: tuple[str, ...]
    label: int
    construction: str
    template: str
    negated: bool

    @property
    def length(self) -> int:
        """Number of tokens."""
        return len(self.tokens)


@dataclass(frozen=True)
class SentimentData:
    """The four sets and where their words came from.

    Attributes
    ----------
    train, valid, test, long_test : tuple of SentimentExample
    positive_words, negative_words : tuple of str
        Every polarity word kept from the lexicon.
    held_out_words : tuple of str
        The polarity words of the test sets; in training only in plain and intensified
        sentences.
    seed : int
    """

    train: tuple[SentimentExample, ...]
    valid: tuple[SentimentExample, ...]
    test: tuple[SentimentExample, ...]
    long_test: tuple[SentimentExample, ...]
    positive_words: tuple[str, ...]
    negative_words: tuple[str, ...]
    held_out_words: tuple[str, ...]
    seed: int

    def splits(self) -> dict[str, tuple[SentimentExample, ...]]:
        """``{"train": ..., "valid": ..., "test": ..., "long_test": ...}``."""
        return {
            "train": self.train,
            "valid": self.valid,
            "test": self.test,
            "long_test": self.long_test,
        }


class _Grammar:
    """Draws clauses and sentences from one pool of words, frames and templates."""

    def __init__(self, rng, positive, negative, frames, templates):
        self.rng = rng
        self.words = {1: positive, 0: negative}
        self.frames = frames
        self.templates = templates
        self.queues = {1: [], 0: []}

    def word(self, polarity: int) -> str:
        """The next word of a polarity: every word once per round, in a seeded order, so that
        even a small set uses them all."""
        if not self.queues[polarity]:
            pool = self.words[polarity]
            self.queues[polarity] = [pool[i] for i in self.rng.permutation(len(pool))]
        return self.queues[polarity].pop()

    def choice(self, options):
        return options[int(self.rng.integers(len(options)))]

    def frame(self):
        subject_index, verb_index = self.choice(self.frames)
        subject = SUBJECTS[subject_index].format(noun=self.choice(NOUNS))
        return subject, VERBS[verb_index]

    def clause(self, polarity: int, kind: str) -> tuple[str, bool]:
        """A clause of ``polarity`` (1/0); kind "plain", "intensified", "negated" or "any"."""
        if kind == "any":
            kind = self.choice(("plain", "intensified", "negated", "negated"))
        subject, verb = self.frame()
        negated = kind == "negated"
        adjective = self.word(1 - polarity if negated else polarity)
        words = [subject, verb]
        if negated:
            words[1] = self.choice(NEGATIONS[verb])
            if words[1] in NEGATIONS_WITH_INTENSIFIER and self.rng.random() < 0.3:
                words.append(self.choice(INTENSIFIERS))
        elif kind == "intensified":
            words.append(self.choice(INTENSIFIERS))
        return " ".join([*words, adjective]), negated

    def sentence(self, construction: str, label: int, extra_clauses: int = 0):
        if construction in ("plain", "intensified", "negated"):
            text, negated = self.clause(label, construction)
            return text, "{clause}", negated
        template = self.choice(self.templates[construction])
        if "{adjective}" in template:
            subject, verb = self.frame()
            text = template.format(
                subject=subject,
                verb=verb,
                adjective=self.word(label),
                other_adjective=self.word(1 - label),
            )
            return text, template, False
        # Draw a clause for every slot, then join extra clauses (longer sentences) with "and"
        # to the side that already has two: main2 with main, or other2 with other.
        polarities = {"main": label, "main2": label, "other": 1 - label, "other2": 1 - label}
        fields, negated = {}, False
        longer = "main2" if "{main2}" in template else "other2"
        for name, polarity in polarities.items():
            count = 1 + (extra_clauses if name == longer else 0)
            clauses = [self.clause(polarity, "any") for _ in range(count)]
            fields[name] = " and ".join(text for text, _ in clauses)
            if "{" + name + "}" in template:
                negated |= any(was_negated for _, was_negated in clauses)
        return template.format(**fields), template, negated


def _draw(grammar, construction, count, seen, extra_range=(0, 0), min_length=0):
    """``count`` new balanced examples of one construction, none of whose texts is in seen."""
    examples, attempts = [], 0
    while len(examples) < count:
        attempts += 1
        if attempts > 200 * count + 1000:
            raise RuntimeError(f"could not draw {count} distinct {construction} sentences")
        label = len(examples) % 2
        extra = int(grammar.rng.integers(extra_range[0], extra_range[1] + 1))
        text, template, negated = grammar.sentence(
            "multi_clause" if construction == "long" else construction, label, extra
        )
        tokens = tuple(tokenize(text))
        if text in seen or len(tokens) <= min_length:
            continue
        seen.add(text)
        examples.append(SentimentExample(text, tokens, label, construction, template, negated))
    return examples


def _counts(total: int) -> dict[str, int]:
    counts = {name: int(round(share * total)) for name, share in _MIX.items()}
    counts["negated"] += total - sum(counts.values())
    return counts


def make_sentiment_data(
    seed: int = 0,
    n_train: int = 6000,
    n_valid: int = 600,
    n_test: int = 2000,
    n_long: int = 400,
) -> SentimentData:
    """Generate the training, validation, test and long test sets (see the module docstring).

    Parameters
    ----------
    seed : int
        The same seed gives the same sets.
    n_train, n_valid, n_test, n_long : int
        Sizes; the first three are split over the constructions in fixed shares (15% plain,
        10% intensified, 25% negated, 25% contrast, 25% multi-clause).

    Returns
    -------
    data : SentimentData
    """
    for name, value in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 20:
            raise ValueError(f"{name} must be an integer of at least 20, got {value!r}")
    if not isinstance(n_long, int) or isinstance(n_long, bool) or n_long < 2:
        raise ValueError(f"n_long must be an integer of at least 2, got {n_long!r}")
    rng = np.random.default_rng(seed)
    words = polarity_words()
    positive = tuple(word for word, mean in words.items() if mean > 0)
    negative = tuple(word for word, mean in words.items() if mean < 0)
    held_out = []
    kept = {}
    for polarity, pool in ((1, positive), (0, negative)):
        order = [pool[i] for i in rng.permutation(len(pool))]
        n_held = max(1, int(round(HELD_OUT_FRACTION * len(pool))))
        held_out.extend(sorted(order[:n_held]))
        kept[polarity] = tuple(sorted(order[n_held:]))
    held_set = set(held_out)
    held = {
        1: tuple(w for w in positive if w in held_set),
        0: tuple(w for w in negative if w in held_set),
    }
    all_frames = [(s, v) for s in range(len(SUBJECTS)) for v in range(len(VERBS))]
    train_frames = [frame for frame in all_frames if frame not in HELD_OUT_FRAMES]
    train_templates = {
        name: tuple(t for t in options if t not in HELD_OUT_TEMPLATES.get(name, ()))
        for name, options in TEMPLATES.items()
    }
    # Training grammars: order-dependent sentences see training words only; plain and
    # intensified sentences see every word, so that each word's polarity can be learned.
    compose = _Grammar(rng, kept[1], kept[0], train_frames, train_templates)
    lexical = _Grammar(rng, positive, negative, train_frames, train_templates)
    test_grammar = _Grammar(rng, held[1], held[0], list(HELD_OUT_FRAMES), TEMPLATES)

    seen: set[str] = set()
    sets = {}
    for split, total in (("train", n_train), ("valid", n_valid)):
        examples = []
        for construction, count in _counts(total).items():
            grammar = lexical if construction in ("plain", "intensified") else compose
            if split == "valid" and construction in ("plain", "intensified"):
                grammar = compose
            examples.extend(_draw(grammar, construction, count, seen))
        sets[split] = examples
    longest_train = max(example.length for example in sets["train"] + sets["valid"])
    examples = []
    for construction, count in _counts(n_test).items():
        examples.extend(_draw(test_grammar, construction, count, seen))
    sets["test"] = examples
    sets["long_test"] = _draw(test_grammar, "long", n_long, seen, (2, 4), longest_train)
    order = {}
    for split, examples in sets.items():
        permutation = rng.permutation(len(examples))
        order[split] = tuple(examples[i] for i in permutation)
    return SentimentData(
        train=order["train"],
        valid=order["valid"],
        test=order["test"],
        long_test=order["long_test"],
        positive_words=positive,
        negative_words=negative,
        held_out_words=tuple(sorted(held_out)),
        seed=seed,
    )


class WordVocabulary:
    """Words to integer ids and back, with a padding id 0 and an unknown-word id 1.

    Parameters
    ----------
    tokens : iterable of str
        The words to index (typically every token of the training sentences); each distinct
        word gets an id from 2 on, in order of decreasing count, ties alphabetical.
    """

    PAD = "<pad>"
    UNK = "<unk>"

    def __init__(self, tokens: Iterable[str]) -> None:
        counts = Counter(tokens)
        if not counts:
            raise ValueError("tokens must hold at least one word")
        ordered = sorted(counts, key=lambda word: (-counts[word], word))
        self.words = (self.PAD, self.UNK, *ordered)
        self.index = {word: i for i, word in enumerate(self.words)}
        self.pad_id, self.unk_id = 0, 1

    @classmethod
    def from_examples(cls, examples: Iterable[SentimentExample]) -> WordVocabulary:
        """The vocabulary of every token of ``examples``."""
        return cls(token for example in examples for token in example.tokens)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; a word not in the vocabulary gets ``unk_id``."""
        if isinstance(tokens, str):
            raise ValueError("encode takes a list of tokens; call tokenize(text) first")
        return [self.index.get(token, self.unk_id) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids``."""
        words = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.words):
                raise ValueError(f"id {i} is outside the vocabulary 0..{len(self.words) - 1}")
            words.append(self.words[i])
        return words
