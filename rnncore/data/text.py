"""An offline English corpus, a character vocabulary, and batches for next-character prediction.

The corpus is prose that ships with Python itself, so nothing is downloaded:

1. the help topics of the interactive ``help()`` system (the ``topics`` dict of the standard
   ``pydoc_data.topics`` module), taken in sorted key order;
2. optionally, the docstrings of the standard-library modules listed in
   :data:`DOCSTRING_MODULES`, in that order: for each module its own docstring, then those of
   its public top-level functions and classes and of the public methods of those classes, in
   source order, each distinct docstring once.

Docstrings are read from the modules' source files with :mod:`ast`, never from imported
objects: nothing is imported or run, and a program that replaces a standard function at run
time (a notebook kernel replaces ``builtins.input``, a debugger patches ``subprocess``) cannot
change the corpus. Modules written in C have no source file and are not in the list; a listed
module whose source file is missing (a stripped installation) is skipped.
The text is deterministic for one Python version (the course pins it); another Python version
ships slightly different documentation and so gives a slightly different corpus.

Cleaning, in order:

- each docstring is dedented (``inspect.cleandoc``, through ``ast.get_docstring``);
- typographic quotes, dashes and ellipses become their ASCII forms, accented letters lose their
  accents (Unicode NFKD), tabs become spaces, and every other character outside printable
  ASCII (codes 32 to 126) and the newline is dropped;
- trailing spaces are removed, runs of spaces *inside* a line become one space (indentation at
  the start of a line is kept, because code examples depend on it), and runs of blank lines
  become one blank line;
- documents are separated by one blank line.

Batches follow the course's batch-first layout: ``inputs`` and ``targets`` are int64 arrays of
shape (B, T), and ``targets[b, t]`` is the character that follows ``inputs[b, t]``.
Chapter 3 of the course, "Text as a sequence" (``chapters/03_text_as_sequence.md``), walks
through every function here.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import sysconfig
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnncore.shapes import format_shape

__all__ = [
    "DOCSTRING_MODULES",
    "CharVocabulary",
    "CorpusFingerprint",
    "corpus_fingerprint",
    "load_python_corpus",
    "corpus_tail",
    "split_text",
    "random_windows",
    "contiguous_batches",
]

#: Standard-library modules written in Python whose docstrings join the corpus, in this order.
DOCSTRING_MODULES = (
    "abc",
    "argparse",
    "ast",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "http.client",
    "inspect",
    "io",
    "ipaddress",
    "json",
    "logging",
    "mailbox",
    "operator",
    "optparse",
    "os",
    "pathlib",
    "pickle",
    "pprint",
    "queue",
    "random",
    "re",
    "sched",
    "shlex",
    "shutil",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "urllib.parse",
    "uuid",
    "zipfile",
)

# Typographic characters with a natural ASCII spelling; NFKD handles accents, the rest is dropped.
_ASCII_REPLACEMENTS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "--",
        "\u2026": "...",
        "\u00a0": " ",
        "\t": "    ",
    }
)
_INNER_SPACES = re.compile(r"(?<=\S) {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


# ASCII control characters other than the newline (tabs were replaced above).
_CONTROL_CHARACTERS = dict.fromkeys([*range(0, 10), *range(11, 32), 127])


def _to_printable_ascii(text: str) -> str:
    """Map ``text`` to printable ASCII plus newline (see the module docstring for the rules)."""
    text = unicodedata.normalize("NFKD", text.translate(_ASCII_REPLACEMENTS))
    return text.encode("ascii", errors="ignore").decode("ascii").translate(_CONTROL_CHARACTERS)


def _normalise_whitespace(text: str) -> str:
    """Strip line ends, collapse spaces inside lines and runs of blank lines."""
    lines = [_INNER_SPACES.sub(" ", line.rstrip()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _source_path(module_name: str) -> Path | None:
    """The source file of a standard-library module, found without importing it."""
    base = Path(sysconfig.get_paths()["stdlib"]).joinpath(*module_name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _definitions_with_docstrings(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """Public functions and classes of a module body and public methods of those classes."""
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in body:
        if isinstance(node, definitions) and not node.name.startswith("_"):
            yield node
            if isinstance(node, ast.ClassDef):
                yield from (
                    member
                    for member in node.body
                    if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not member.name.startswith("_")
                )


def _module_docstrings(source: str) -> list[str]:
    """Docstrings of a module's source, in source order, dedented."""
    tree = ast.parse(source)
    nodes = [tree, *_definitions_with_docstrings(tree.body)]
    docstrings = [ast.get_docstring(node, clean=True) for node in nodes]
    return [doc for doc in docstrings if doc]


@functools.lru_cache(maxsize=2)
def _build_corpus(include_docstrings: bool) -> str:
    from pydoc_data.topics import topics

    documents = [topics[key] for key in sorted(topics)]
    if include_docstrings:
        for module_name in DOCSTRING_MODULES:
            path = _source_path(module_name)
            if path is not None:
                documents.extend(_module_docstrings(path.read_text(encoding="utf-8")))
    cleaned, seen = [], set()
    for document in documents:
        document = _normalise_whitespace(_to_printable_ascii(document))
        # Overridden methods often repeat their parent's docstring: keep each text once.
        if document and document not in seen:
            seen.add(document)
            cleaned.append(document)
    return "\n\n".join(cleaned) + "\n"


def load_python_corpus(include_docstrings: bool = True, max_chars: int | None = None) -> str:
    """Return the course's offline English corpus: documentation shipped with Python.

    Parameters
    ----------
    include_docstrings : bool, default True
        Add the docstrings of the modules in :data:`DOCSTRING_MODULES` after the help topics.
    max_chars : int or None, default None
        Keep only the first ``max_chars`` characters (for quick experiments); None keeps all.

    Returns
    -------
    text : str
        Printable ASCII plus newline, ending with a newline (unless cut by ``max_chars``).
        The same string on every call for one Python version.

    Raises
    ------
    ValueError
        If ``max_chars`` is not a positive integer.
    """
    if max_chars is not None and (
        isinstance(max_chars, bool) or not isinstance(max_chars, int | np.integer) or max_chars < 1
    ):
        raise ValueError(f"max_chars must be a positive integer or None, got {max_chars!r}")
    text = _build_corpus(bool(include_docstrings))
    return text if max_chars is None else text[: int(max_chars)]


def corpus_tail(min_chars: int, include_docstrings: bool = True) -> str:
    """The end of the corpus, from the start of a document on, at least ``min_chars`` long.

    The cut goes back from ``len(corpus) - min_chars`` to the nearest blank line (the
    separator between documents), so the selection holds whole documents: the last
    docstrings of :data:`DOCSTRING_MODULES` in their order. Chapter 9 trains on such a tail,
    sized for its time budget, and holds out its last tenth.

    Parameters
    ----------
    min_chars : int
        At least 1; the whole corpus if it is not longer.
    include_docstrings : bool, default True
        As for :func:`load_python_corpus`.

    Returns
    -------
    text : str
        A suffix of ``load_python_corpus(include_docstrings)`` that starts a document.
    """
    min_chars = _check_positive("min_chars", min_chars)
    corpus = load_python_corpus(include_docstrings)
    if min_chars >= len(corpus):
        return corpus
    separator = corpus.rfind("\n\n", 0, len(corpus) - min_chars + 1)
    return corpus if separator < 0 else corpus[separator + 2 :]


class CorpusFingerprint(NamedTuple):
    """What identifies a text: its length and the start of its SHA-256 digest.

    Attributes
    ----------
    characters : int
        The number of characters.
    sha256 : str
        The first ``digits`` hexadecimal digits of the SHA-256 digest of the UTF-8 bytes.
    """

    characters: int
    sha256: str

    def __str__(self) -> str:
        return f"{self.characters:,} characters, SHA-256 {self.sha256}"


def corpus_fingerprint(text: str, digits: int = 16) -> CorpusFingerprint:
    """Fingerprint a text, so that a page can print which corpus it was built from.

    Two Python versions ship slightly different documentation; the fingerprint tells at a
    glance whether two builds saw the same text.

    Parameters
    ----------
    text : str
    digits : int, default 16
        Hexadecimal digits of the digest to keep, 1 to 64.

    Returns
    -------
    fingerprint : CorpusFingerprint

    Examples
    --------
    >>> corpus_fingerprint("abc", digits=8)
    CorpusFingerprint(characters=3, sha256='ba7816bf')
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 64:
        raise ValueError(f"digits must be an integer in 1 .. 64, got {digits!r}")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return CorpusFingerprint(len(text), digest[:digits])


class CharVocabulary:
    """A fixed alphabet of characters, each mapped to an integer id in ``0 .. V - 1``.

    Characters not in the vocabulary are an error (no unknown symbol): ``encode`` raises a
    ValueError naming the first such character and its position. The course builds the
    vocabulary from the whole corpus, so every split of it can be encoded.

    Parameters
    ----------
    characters : iterable of str
        Distinct single characters; the id of a character is its position.

    Examples
    --------
    >>> vocabulary = CharVocabulary.from_text("hello")
    >>> vocabulary.characters
    ('e', 'h', 'l', 'o')
    >>> vocabulary.encode("hole")
    array([1, 3, 2, 0])
    >>> vocabulary.decode([2, 0])
    'le'
    """

    def __init__(self, characters: Iterable[str]):
        characters = tuple(characters)
        if not characters:
            raise ValueError("characters must hold at least one character, got none")
        for character in characters:
            if not isinstance(character, str) or len(character) != 1:
                raise ValueError(f"characters must be single characters, got {character!r}")
        if len(set(characters)) != len(characters):
            repeated = sorted({ch for ch in characters if characters.count(ch) > 1})
            raise ValueError(f"characters must be distinct, repeated: {repeated!r}")
        self._characters = characters
        code_points = np.array([ord(ch) for ch in characters], dtype=np.int64)  # (V,)
        # Lookup table from Unicode code point to id; -1 marks characters outside the vocabulary.
        self._ids_by_code_point = np.full(int(code_points.max()) + 1, -1, dtype=np.int64)
        self._ids_by_code_point[code_points] = np.arange(len(characters))

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """Build the vocabulary of the distinct characters of ``text``, sorted by code point."""
        if not isinstance(text, str) or not text:
            raise ValueError(
                f"text must be a non-empty str, got {type(text).__name__} {text!r:.40}"
            )
        return cls(sorted(set(text)))

    @property
    def characters(self) -> tuple[str, ...]:
        """The characters, in id order."""
        return self._characters

    @property
    def size(self) -> int:
        """V, the number of characters."""
        return len(self._characters)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"CharVocabulary(size={self.size}, characters={''.join(self._characters)!r})"

    def encode(self, text: str) -> np.ndarray:
        """Map a string to its ids.

        Parameters
        ----------
        text : str
            N characters, all in the vocabulary.

        Returns
        -------
        ids : ndarray of shape (N,), dtype int64

        Raises
        ------
        ValueError
            If ``text`` is not a str, or names the first character that is not in the vocabulary.
        """
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        code_points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)  # (N,)
        inside = code_points < self._ids_by_code_point.size  # (N,)
        ids = np.full(code_points.shape, -1, dtype=np.int64)  # (N,)
        ids[inside] = self._ids_by_code_point[code_points[inside]]
        unknown = np.flatnonzero(ids < 0)
        if unknown.size:
            position = int(unknown[0])
            raise ValueError(
                f"text has the character {text[position]!r} at position {position}, which is "
                f"not in the vocabulary ({unknown.size} unknown characters in all)"
            )
        return ids

    def decode(self, indices) -> str:
        """Map ids back to a string.

        Parameters
        ----------
        indices : array-like of int, shape (N,)
            Ids in ``0 .. V - 1``.

        Returns
        -------
        text : str
            N characters.

        Raises
        ------
        ValueError
            If ``indices`` is not one-dimensional, not integer, or holds an id outside 0 .. V - 1.
        """
        indices = np.asarray(indices)
        if indices.ndim != 1:
            raise ValueError(
                f"indices must have 1 axis (N,), got shape {format_shape(indices.shape)}"
            )
        if indices.size == 0:
            return ""
        if not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(f"indices must be integers, got dtype {indices.dtype}")
        bad = np.flatnonzero((indices < 0) | (indices >= self.size))
        if bad.size:
            raise ValueError(
                f"indices must lie in 0 .. V - 1 = 0 .. {self.size - 1}, got {int(indices[bad[0]])}"
                f" at position {int(bad[0])}"
            )
        return "".join(self._characters[i] for i in indices.tolist())


def split_text(text: str, validation_fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into a training part and a held-out part taken from its end.

    The split is contiguous (no shuffling), so the held-out text is genuinely unseen prose
    rather than windows that overlap the training text.

    Parameters
    ----------
    text : str
    validation_fraction : float in (0, 1), default 0.1
        Share of the characters that go to the held-out part (rounded to a whole character).

    Returns
    -------
    train_text, validation_text : str
        ``train_text + validation_text == text``; both are non-empty.

    Raises
    ------
    ValueError
        If ``validation_fraction`` is outside (0, 1) or ``text`` is too short for two parts.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    fraction = float(validation_fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must lie in (0, 1), got {validation_fraction!r}")
    validation_length = int(round(len(text) * fraction))
    if validation_length < 1 or validation_length >= len(text):
        raise ValueError(
            f"text of {len(text)} characters is too short to hold out a fraction "
            f"{validation_fraction!r} and keep both parts non-empty"
        )
    cut = len(text) - validation_length
    return text[:cut], text[cut:]


def _check_ids(ids) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must have 1 axis (N,), got shape {format_shape(ids.shape)}")
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be an integer array, got dtype {ids.dtype}")
    return ids.astype(np.int64, copy=False)


def _check_positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def random_windows(
    ids, batch_size: int, seq_len: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw B windows of T characters at random start positions, with their next characters.

    .. math::

        \\text{inputs}[b, t] = \\text{ids}[s_b + t], \\qquad
        \\text{targets}[b, t] = \\text{ids}[s_b + t + 1],

    with start positions :math:`s_b` drawn uniformly from ``0 .. N - T - 1``.

    Parameters
    ----------
    ids : array-like of int, shape (N,)
        The encoded text; N must be at least T + 1.
    batch_size : int
        B, the number of windows.
    seq_len : int
        T, the length of each window.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    inputs : ndarray of shape (B, T), dtype int64
    targets : ndarray of shape (B, T), dtype int64
        ``inputs`` shifted by one character.

    Raises
    ------
    ValueError
        If ``ids`` is not a 1-D integer array, B or T is not a positive integer, ``rng`` is not
        a Generator, or the text is shorter than T + 1 characters.
    """
    ids = _check_ids(ids)
    batch_size = _check_positive("batch_size", batch_size)
    seq_len = _check_positive("seq_len", seq_len)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    if ids.size < seq_len + 1:
        raise ValueError(
            f"ids must hold at least seq_len + 1 = {seq_len + 1} characters, got {ids.size}"
        )
    starts = rng.integers(0, ids.size - seq_len, size=batch_size)  # (B,)
    positions = starts[:, None] + np.arange(seq_len)  # (B, T)
    return ids[positions], ids[positions + 1]  # (B, T), (B, T)


def contiguous_batches(
    ids, batch_size: int, seq_len: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Cut the text into B parallel streams and walk along them T characters at a time.

    Stream ``b`` is the ``b``-th of B equal, consecutive pieces of the text. Batch ``k`` holds
    characters ``k T .. (k + 1) T - 1`` of every stream, so row ``b`` of batch ``k + 1``
    continues row ``b`` of batch ``k``: the final hidden state of one batch is the right
    initial state for the next (truncated backpropagation through time).

    .. math::

        S = \\left\\lfloor \\frac{N - 1}{B} \\right\\rfloor, \\qquad
        \\text{inputs}_k[b, t] = \\text{ids}[b S + k T + t], \\qquad
        \\text{targets}_k[b, t] = \\text{ids}[b S + k T + t + 1].

    The last ``S mod T`` characters of each stream, which would make a shorter batch, and the
    last ``(N - 1) mod B`` characters of the text are not used, so every batch has shape (B, T).

    Parameters
    ----------
    ids : array-like of int, shape (N,)
    batch_size : int
        B, the number of parallel streams.
    seq_len : int
        T, the number of time steps per batch.

    Yields
    ------
    inputs : ndarray of shape (B, T), dtype int64
    targets : ndarray of shape (B, T), dtype int64
        ``inputs`` shifted by one character along each stream.

    Raises
    ------
    ValueError
        At the call (not at the first batch) if ``ids`` is not a 1-D integer array, B or T is
        not a positive integer, or the text is too short for one batch (N < B T + 1).
    """
    ids = _check_ids(ids)
    batch_size = _check_positive("batch_size", batch_size)
    seq_len = _check_positive("seq_len", seq_len)
    stream_length = (ids.size - 1) // batch_size
    if stream_length < seq_len:
        raise ValueError(
            f"ids of {ids.size} characters is too short for one batch of B = {batch_size} "
            f"streams of T = {seq_len} steps: need at least B * T + 1 = "
            f"{batch_size * seq_len + 1}"
        )
    used = batch_size * stream_length
    input_streams = ids[:used].reshape(batch_size, stream_length)  # (B, S)
    target_streams = ids[1 : used + 1].reshape(batch_size, stream_length)  # (B, S)
    return _walk_streams(input_streams, target_streams, seq_len)


def _walk_streams(
    input_streams: np.ndarray, target_streams: np.ndarray, seq_len: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    number_of_batches = input_streams.shape[1] // seq_len
    for k in range(number_of_batches):
        window = slice(k * seq_len, (k + 1) * seq_len)
        yield input_streams[:, window].copy(), target_streams[:, window].copy()  # (B, T), (B, T)
