"""Translation scores come from sacrebleu and exact match, on token lists."""

import pytest
import sacrebleu

from rnncore.translation_metrics import translation_scores

REFERENCES = [["vier", "tausend", "ein", "und", "zwanzig"], ["sieben", "und", "dreißig"]]


def test_perfect_translations_score_full_marks():
    scores = translation_scores(REFERENCES, REFERENCES)
    assert scores["exact_match"] == 1.0
    assert scores["bleu"] == pytest.approx(100.0)
    assert scores["chrf"] == pytest.approx(100.0)


def test_scores_equal_sacrebleu_on_the_joined_sentences():
    hypotheses = [["vier", "tausend", "zwanzig", "und", "ein"], ["sieben", "und", "dreißig"]]
    scores = translation_scores(REFERENCES, hypotheses)
    joined = [" ".join(h) for h in hypotheses], [[" ".join(r) for r in REFERENCES]]
    assert scores["exact_match"] == 0.5
    assert scores["bleu"] == pytest.approx(sacrebleu.corpus_bleu(*joined).score)
    assert scores["chrf"] == pytest.approx(sacrebleu.corpus_chrf(*joined).score)
    assert 0 < scores["bleu"] < 100 and 0 < scores["chrf"] < 100
    assert scores["signatures"]["bleu"].startswith("nrefs:1")


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="one hypothesis per reference"):
        translation_scores(REFERENCES, REFERENCES[:1])
