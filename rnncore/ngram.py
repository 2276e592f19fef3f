"""Character n-gram language models: the baselines every recurrent model of the course must beat.

An n-gram model of order n predicts the next character from the n - 1 characters before it:
a unigram (n = 1) ignores the past, a bigram (n = 2) looks at one character, a trigram (n = 3)
at two. Counts of n-grams in the training text give the probabilities; *smoothing* keeps every
probability above zero, so that a character sequence never seen in training still gets a
finite log-probability on held-out text. Two smoothings are available.

Interpolated Kneser-Ney (``smoothing="kneser-ney"``, the default)
    With a context :math:`u` of k - 1 characters, its shortened context :math:`u'` (the first
    character dropped), counts :math:`c(u w)` and a discount :math:`0 < d \\le 1`:

    .. math::

        P_k(w \\mid u) = \\frac{\\max(c_k(u w) - d, 0)}{c_k(u \\cdot)}
            + \\frac{d \\, N_{1+}(u \\cdot)}{c_k(u \\cdot)} \\, P_{k-1}(w \\mid u'),
        \\qquad P_0(w) = \\frac{1}{V},

    where :math:`c_k(u \\cdot) = \\sum_w c_k(u w)` and :math:`N_{1+}(u \\cdot)` is the number of
    distinct characters seen after :math:`u`. A context never seen in training
    (:math:`c_k(u \\cdot) = 0`) hands its whole probability to the lower order,
    :math:`P_k(w \\mid u) = P_{k-1}(w \\mid u')`. The top order n uses raw counts; each lower
    order k < n uses *continuation counts* :math:`c_k(u w) = N_{1+}(\\cdot\\, u w)`, the number of
    distinct characters seen before the k-gram :math:`u w`: a lower order is only consulted
    when the longer context is rare, so it should reward characters that follow many
    different contexts, not characters that are merely frequent.
    The discounted mass equals the back-off weight, so every :math:`P_k(\\cdot \\mid u)` sums
    to one over the V characters.

Add-k (``smoothing="add-k"``)
    Pretend every n-gram was seen ``k`` more times than it was:

    .. math::

        P(w \\mid u) = \\frac{c(u w) + k}{c(u \\cdot) + k V}.

    Simple, but it moves a lot of probability to the many unseen n-grams of a high order.

Probabilities are looked up, never stored as dense V^n tables: each order keeps the sorted
integer codes :math:`\\sum_j w_j V^{k-1-j}` of its distinct k-grams and their counts, and a
query is a binary search (``np.searchsorted``). Fitting and evaluating a trigram on a
megabyte of text takes well under a second.

The course derives these models, and measures them on its corpus, in chapter 3,
"Text as a sequence" (``chapters/03_text_as_sequence.md``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from rnncore.shapes import format_shape

__all__ = ["NGramModel", "SMOOTHINGS", "bits_from_nats", "perplexity_from_nats"]

SMOOTHINGS = ("kneser-ney", "add-k")


def bits_from_nats(nats):
    """Convert an average negative log-probability from nats to bits.

    .. math:: \\text{bits} = \\frac{\\text{nats}}{\\ln 2}

    Parameters
    ----------
    nats : float or ndarray

    Returns
    -------
    bits : float or ndarray of the same shape
    """
    if np.ndim(nats):
        return np.asarray(nats, dtype=np.float64) / math.log(2.0)
    return float(nats) / math.log(2.0)


def perplexity_from_nats(nats):
    """Convert an average negative log-probability in nats to a perplexity.

    .. math:: \\text{perplexity} = e^{\\text{nats}} = 2^{\\text{bits}}

    A perplexity of P means the model is, on average, as unsure as a uniform choice among
    P characters.

    Parameters
    ----------
    nats : float or ndarray

    Returns
    -------
    perplexity : float or ndarray of the same shape
    """
    if np.ndim(nats):
        return np.exp(np.asarray(nats, dtype=np.float64))
    return math.exp(float(nats))


class _OrderCounts(NamedTuple):
    """The statistics of one order k: its k-grams and their (k - 1)-character contexts."""

    gram_codes: np.ndarray  # (G,) sorted distinct k-gram codes
    gram_counts: np.ndarray  # (G,) count of each k-gram (raw or continuation)
    context_codes: np.ndarray  # (C,) sorted distinct context codes
    context_totals: np.ndarray  # (C,) c(u .), the sum of the counts that follow the context
    context_types: np.ndarray  # (C,) N1+(u .), the number of distinct characters that follow


def _gram_codes(ids: np.ndarray, length: int, vocab_size: int) -> np.ndarray:
    """Integer code of every window of ``length`` consecutive ids: base-V digits."""
    count = ids.size - length + 1
    codes = np.zeros(count, dtype=np.int64)  # (N - length + 1,)
    for offset in range(length):
        codes = codes * vocab_size + ids[offset : offset + count]  # (N - length + 1,)
    return codes


def _order_counts(gram_codes: np.ndarray, gram_counts: np.ndarray, vocab_size: int):
    """Group distinct k-grams (sorted codes, counts) by their context, the code // V."""
    contexts = gram_codes // vocab_size  # (G,)
    context_codes, inverse = np.unique(contexts, return_inverse=True)  # (C,), (G,)
    context_totals = np.bincount(inverse, weights=gram_counts, minlength=context_codes.size)
    context_types = np.bincount(inverse, minlength=context_codes.size).astype(np.float64)
    return _OrderCounts(gram_codes, gram_counts, context_codes, context_totals, context_types)


def _lookup(sorted_codes: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values`` at the positions of ``queries`` in ``sorted_codes``; 0 where a query is absent."""
    if sorted_codes.size == 0:
        return np.zeros(queries.shape, dtype=np.float64)
    positions = np.searchsorted(sorted_codes, queries)  # (M,)
    positions = np.minimum(positions, sorted_codes.size - 1)
    found = sorted_codes[positions] == queries  # (M,)
    return np.where(found, values[positions], 0.0)  # (M,)


class NGramModel:
    """A smoothed character n-gram language model.

    Parameters
    ----------
    order : int
        n >= 1: the model predicts a character from the n - 1 characters before it.
    vocab_size : int
        V, the number of distinct character ids (ids lie in 0 .. V - 1).
    smoothing : {"kneser-ney", "add-k"}, default "kneser-ney"
        See the module docstring for the equations.
    discount : float in (0, 1], default 0.75
        d of interpolated Kneser-Ney (ignored by add-k).
    add_k : float > 0, default 1.0
        k of add-k smoothing (ignored by Kneser-Ney).

    Examples
    --------
    >>> import numpy as np
    >>> model = NGramModel(order=2, vocab_size=3).fit(np.array([0, 1, 0, 1, 0, 2]))
    >>> round(float(model.next_probabilities([0]).sum()), 12)
    1.0
    """

    def __init__(
        self,
        order: int,
        vocab_size: int,
        smoothing: str = "kneser-ney",
        discount: float = 0.75,
        add_k: float = 1.0,
    ):
        if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
            raise ValueError(f"order must be a positive integer (1 = unigram), got {order!r}")
        if (
            isinstance(vocab_size, bool)
            or not isinstance(vocab_size, int | np.integer)
            or vocab_size < 1
        ):
            raise ValueError(f"vocab_size must be a positive integer V, got {vocab_size!r}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        if not 0.0 < float(discount) <= 1.0:
            raise ValueError(f"discount must lie in (0, 1], got {discount!r}")
        if not float(add_k) > 0.0:
            raise ValueError(f"add_k must be positive, got {add_k!r}")
        # Codes of n-grams are base-V numbers with n digits: they must fit in an int64.
        if order * math.log2(max(int(vocab_size), 2)) > 62:
            raise ValueError(
                f"order {order} with vocab_size {vocab_size} gives n-gram codes beyond int64: "
                f"V ** order must stay below 2 ** 62"
            )
        self.order = int(order)
        self.vocab_size = int(vocab_size)
        self.smoothing = smoothing
        self.discount = float(discount)
        self.add_k = float(add_k)
        self._counts: list[_OrderCounts] | None = None

    def __repr__(self) -> str:
        return (
            f"NGramModel(order={self.order}, vocab_size={self.vocab_size}, "
            f"smoothing={self.smoothing!r})"
        )

    # -- fitting -----------------------------------------------------------------------------

    def _check_ids(self, name: str, ids, minimum_length: int) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1:
            raise ValueError(f"{name} must have 1 axis (N,), got shape {format_shape(ids.shape)}")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} must be an integer array of character ids, got {ids.dtype}")
        if ids.size < minimum_length:
            raise ValueError(
                f"{name} must hold at least {minimum_length} ids for a model of order "
                f"{self.order}, got {ids.size}"
            )
        bad = np.flatnonzero((ids < 0) | (ids >= self.vocab_size))
        if bad.size:
            raise ValueError(
                f"{name} must hold ids in 0 .. V - 1 = 0 .. {self.vocab_size - 1}, "
                f"got {int(ids[bad[0]])} at position {int(bad[0])}"
            )
        return ids.astype(np.int64, copy=False)

    def fit(self, ids) -> NGramModel:
        """Count the n-grams of a training text (replacing any earlier fit).

        Parameters
        ----------
        ids : array-like of int, shape (N,)
            The encoded training text, N >= order.

        Returns
        -------
        self : NGramModel
        """
        ids = self._check_ids("ids", ids, self.order)
        counts: list[_OrderCounts] = []
        # Distinct (k + 1)-grams of the previous step give the continuation counts of order k.
        longer_codes = None
        for length in range(self.order, 0, -1):
            raw_codes, raw_counts = np.unique(
                _gram_codes(ids, length, self.vocab_size), return_counts=True
            )  # (G,), (G,)
            if self.smoothing == "kneser-ney" and longer_codes is not None:
                # N1+(. u w): each distinct longer gram adds one to the count of its suffix.
                suffixes = longer_codes % self.vocab_size**length  # (G_longer,)
                codes, gram_counts = np.unique(suffixes, return_counts=True)  # (G,), (G,)
            else:
                codes, gram_counts = raw_codes, raw_counts
            counts.append(_order_counts(codes, gram_counts.astype(np.float64), self.vocab_size))
            longer_codes = raw_codes
        self._counts = counts[::-1]  # index k - 1 holds order k
        return self

    # -- probabilities -----------------------------------------------------------------------

    def _window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        """Probability of the last column of each row given the columns before it.

        ``windows`` has shape (M, k) with k <= order; orders 1 .. k are used, so a short
        context gives the model's lower-order estimate.
        """
        if self._counts is None:
            raise RuntimeError("the model is not fitted: call fit(train_ids) first")
        M, k = windows.shape
        V = self.vocab_size
        if self.smoothing == "add-k":
            stats = self._counts[k - 1]
            codes = _gram_codes_2d(windows, V)  # (M,)
            gram = _lookup(stats.gram_codes, stats.gram_counts, codes)  # (M,)
            total = _lookup(stats.context_codes, stats.context_totals, codes // V)  # (M,)
            return (gram + self.add_k) / (total + self.add_k * V)  # (M,)
        probabilities = np.full(M, 1.0 / V)  # (M,) P_0, the uniform distribution
        for length in range(1, k + 1):
            stats = self._counts[length - 1]
            codes = _gram_codes_2d(windows[:, k - length :], V)  # (M,)
            gram = _lookup(stats.gram_codes, stats.gram_counts, codes)  # (M,)
            total = _lookup(stats.context_codes, stats.context_totals, codes // V)  # (M,)
            types = _lookup(stats.context_codes, stats.context_types, codes // V)  # (M,)
            seen = total > 0
            safe_total = np.where(seen, total, 1.0)
            interpolated = (
                np.maximum(gram - self.discount, 0.0) + self.discount * types * probabilities
            ) / safe_total  # (M,)
            probabilities = np.where(seen, interpolated, probabilities)  # (M,)
        return probabilities

    def log_probs(self, ids) -> np.ndarray:
        """Natural-log probability of each character that has a full context of n - 1 characters.

        .. math:: \\ell_t = \\ln P(w_t \\mid w_{t-n+1} \\dots w_{t-1}),
            \\qquad t = n - 1, \\dots, N - 1

        Parameters
        ----------
        ids : array-like of int, shape (N,)
            An encoded text, N >= order; the first n - 1 characters serve only as context.

        Returns
        -------
        log_probs : ndarray of shape (N - order + 1,), dtype float64
            All finite (smoothing gives every character a probability above zero).
        """
        ids = self._check_ids("ids", ids, self.order)
        count = ids.size - self.order + 1
        windows = np.stack([ids[j : j + count] for j in range(self.order)], axis=1)  # (M, n)
        return np.log(self._window_probabilities(windows))  # (M,)

    def nats_per_character(self, ids) -> float:
        """Mean negative natural-log probability of the predicted characters of ``ids``.

        .. math:: \\text{nats} = -\\frac{1}{N - n + 1} \\sum_{t = n - 1}^{N - 1} \\ell_t

        Parameters
        ----------
        ids : array-like of int, shape (N,)

        Returns
        -------
        nats : float
            Cross-entropy in nats per character; ``bits_from_nats`` and ``perplexity_from_nats``
            convert it.
        """
        return float(-np.mean(self.log_probs(ids)))

    def next_probabilities(self, context=()) -> np.ndarray:
        """The distribution of the next character after ``context``.

        Parameters
        ----------
        context : array-like of int, shape (C,)
            Preceding ids; only the last n - 1 are used. A shorter context (at the start of a
            text) gives the lower-order estimate.

        Returns
        -------
        probabilities : ndarray of shape (V,), dtype float64
            Non-negative, summing to one.
        """
        context = self._check_ids("context", context, 0)
        context = context[max(context.size - (self.order - 1), 0) :]  # (k - 1,)
        V = self.vocab_size
        windows = np.empty((V, context.size + 1), dtype=np.int64)  # (V, k)
        windows[:, :-1] = context
        windows[:, -1] = np.arange(V)
        return self._window_probabilities(windows)  # (V,)

    def sample(self, length: int, rng: np.random.Generator, prefix=()) -> np.ndarray:
        """Generate characters one at a time, each drawn from ``next_probabilities``.

        Parameters
        ----------
        length : int
            Number of new characters, >= 0.
        rng : numpy.random.Generator
            The only source of randomness.
        prefix : array-like of int, shape (P,), default ()
            Ids the generated text continues (not included in the result).

        Returns
        -------
        ids : ndarray of shape (length,), dtype int64
        """
        if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
            raise ValueError(f"length must be a non-negative integer, got {length!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                f"got {type(rng).__name__}"
            )
        history = list(self._check_ids("prefix", prefix, 0).tolist())
        generated = np.empty(int(length), dtype=np.int64)  # (length,)
        for t in range(int(length)):
            context = history[len(history) - (self.order - 1) :] if self.order > 1 else []
            probabilities = self.next_probabilities(context)  # (V,)
            generated[t] = rng.choice(self.vocab_size, p=probabilities / probabilities.sum())
            history.append(int(generated[t]))
        return generated


def _gram_codes_2d(windows: np.ndarray, vocab_size: int) -> np.ndarray:
    """Base-V code of each row of ``windows`` (M, k)."""
    codes = np.zeros(windows.shape[0], dtype=np.int64)  # (M,)
    for column in range(windows.shape[1]):
        codes = codes * vocab_size + windows[:, column]  # (M,)
    return codes
