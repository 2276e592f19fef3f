r"""Scores of translations against references: exact match, BLEU and chrF (from sacrebleu).

- Exact match: the fraction of hypotheses equal to their reference token for token
  (:func:`rnncore.error_rates.sequence_accuracy`).
- BLEU (Papineni et al., 2002): the geometric mean of modified n-gram precisions, n = 1..4,
  times a brevity penalty, over the whole corpus; on a 0..100 scale.
- chrF (Popović, 2015): the F-score (beta = 2) of character n-grams, n = 1..6, whitespace
  ignored; on a 0..100 scale. It gives partial credit inside a word, which suits German
  compounds.

Both come from sacrebleu with its default settings (Post, 2018), never a hand-written copy, so
the numbers can be compared with anyone else's sacrebleu numbers on the same text; the
signature (:func:`translation_scores`'s ``signatures``) records those settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from sacrebleu.metrics import BLEU, CHRF

from rnncore.error_rates import sequence_accuracy

__all__ = ["translation_scores"]


def translation_scores(
    references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]
) -> dict:
    """Exact match, corpus BLEU and corpus chrF of tokenised hypotheses.

    Parameters
    ----------
    references, hypotheses : sequences of lists of str
        One token list per sentence, in the same order; tokens are joined with spaces for
        sacrebleu.

    Returns
    -------
    dict
        ``{"exact_match": float in 0..1, "bleu": float in 0..100, "chrf": float in 0..100,
        "signatures": {"bleu": str, "chrf": str}}``.
    """
    exact = sequence_accuracy(references, hypotheses)
    references_text = [" ".join(reference) for reference in references]
    hypotheses_text = [" ".join(hypothesis) for hypothesis in hypotheses]
    bleu, chrf = BLEU(), CHRF()
    return {
        "exact_match": exact,
        "bleu": bleu.corpus_score(hypotheses_text, [references_text]).score,
        "chrf": chrf.corpus_score(hypotheses_text, [references_text]).score,
        "signatures": {"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())},
    }
