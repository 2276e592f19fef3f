r"""Token error rate and whole-sequence accuracy of transcriptions, computed with jiwer.

The token error rate (word error rate, or here digit error rate) counts the fewest
substitutions S, deletions D and insertions I that turn each hypothesis into its reference,
summed over the corpus, against the number N of reference tokens,

.. math::

    \mathrm{ER} = \frac{S + D + I}{N},

so it can exceed 1 when a system inserts a lot. jiwer computes the alignments (Levenshtein
distance on token lists); tokens here are any hashable values (digits), turned into words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jiwer

__all__ = ["ErrorCounts", "token_error_counts", "token_error_rate", "sequence_accuracy"]


class ErrorCounts(NamedTuple):
    """Corpus totals of one comparison of hypotheses with references."""

    substitutions: int
    deletions: int
    insertions: int
    reference_tokens: int

    @property
    def rate(self) -> float:
        """(S + D + I) / N."""
        return (self.substitutions + self.deletions + self.insertions) / self.reference_tokens


def _as_words(sequences: Sequence[Sequence], name: str) -> list[str]:
    words = []
    for sequence in sequences:
        tokens = [str(token) for token in sequence]
        if any(not token or any(c.isspace() for c in token) for token in tokens):
            raise ValueError(f"{name} tokens must print as non-empty words without spaces")
        words.append(" ".join(tokens))
    return words


def token_error_counts(
    references: Sequence[Sequence], hypotheses: Sequence[Sequence]
) -> ErrorCounts:
    """Substitutions, deletions, insertions and reference tokens over a corpus.

    Parameters
    ----------
    references : sequence of R token sequences
        Each non-empty.
    hypotheses : sequence of R token sequences
        May be empty (every reference token then counts as deleted).

    Returns
    -------
    counts : ErrorCounts
    """
    if len(references) != len(hypotheses):
        raise ValueError(
            f"need one hypothesis per reference, got {len(hypotheses)} for {len(references)}"
        )
    if not references:
        raise ValueError("references must hold at least one sequence")
    if any(len(reference) == 0 for reference in references):
        raise ValueError("every reference must hold at least one token")
    output = jiwer.process_words(
        _as_words(references, "reference"), _as_words(hypotheses, "hypothesis")
    )
    return ErrorCounts(
        output.substitutions,
        output.deletions,
        output.insertions,
        sum(len(reference) for reference in references),
    )


def token_error_rate(references: Sequence[Sequence], hypotheses: Sequence[Sequence]) -> float:
    """(S + D + I) / N over the corpus; see :func:`token_error_counts`."""
    return token_error_counts(references, hypotheses).rate


def sequence_accuracy(references: Sequence[Sequence], hypotheses: Sequence[Sequence]) -> float:
    """The fraction of hypotheses equal to their reference, token for token."""
    if len(references) != len(hypotheses) or not references:
        raise ValueError(
            f"need one hypothesis per reference and at least one, got {len(hypotheses)} "
            f"for {len(references)}"
        )
    same = sum(
        list(reference) == list(hypothesis)
        for reference, hypothesis in zip(references, hypotheses, strict=True)
    )
    return same / len(references)
