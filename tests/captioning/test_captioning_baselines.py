"""The oracle-segmentation baseline: cuts at the true boundaries and reads digits in order."""

import numpy as np
import pytest

from rnncore.captioning_baselines import (
    cut_digits,
    fit_digit_classifier,
    oracle_segmentation_captions,
)
from rnncore.data import digit_strips as ds


@pytest.fixture(scope="module")
def pools():
    return ds.split_digit_images(seed=0)


class LookupClassifier:
    """Knows every load_digits image: the perfect per-digit classifier."""

    def __init__(self):
        everything = ds.load_digit_images()
        self.table = {
            image.tobytes(): int(label)
            for image, label in zip(everything.images, everything.labels, strict=True)
        }

    def predict(self, pixels):
        return np.array([self.table[row.astype(np.float32).tobytes()] for row in pixels])


def test_cut_digits_returns_each_digit_image_in_order(pools):
    strips = ds.make_strips(pools[1], 40, np.random.default_rng(0))
    pixels, strip_index = cut_digits(strips)
    everything = ds.load_digit_images()
    expected = [everything.images[s].reshape(-1) for strip in strips.sources for s in strip]
    np.testing.assert_array_equal(pixels, np.stack(expected))
    np.testing.assert_array_equal(
        strip_index, np.repeat(np.arange(40), [len(d) for d in strips.digits])
    )


def test_a_perfect_classifier_gives_every_caption_exactly(pools):
    strips = ds.make_strips(pools[1], 60, np.random.default_rng(1))
    assert oracle_segmentation_captions(LookupClassifier(), strips) == strips.digits


def test_one_misread_digit_changes_only_its_own_caption(pools):
    strips = ds.make_strips(pools[1], 10, np.random.default_rng(2), n_digits=3)

    class WrongOnFirst(LookupClassifier):
        def predict(self, pixels):
            labels = super().predict(pixels)
            labels[0] = (labels[0] + 1) % 10
            return labels

    captions = oracle_segmentation_captions(WrongOnFirst(), strips)
    assert captions[0] != strips.digits[0] and captions[0][1:] == strips.digits[0][1:]
    assert captions[1:] == strips.digits[1:]


def test_logistic_regression_reads_held_out_digits(pools):
    train, test = pools
    classifier = fit_digit_classifier(train, Cs=(0.1, 1.0), folds=3)
    assert classifier.best_params_["logisticregression__C"] in (0.1, 1.0)
    accuracy = (classifier.predict(test.images.reshape(len(test), -1)) == test.labels).mean()
    assert 0.9 < accuracy < 1.0
    strips = ds.make_strips(test, 200, np.random.default_rng(3), n_digits=4)
    captions = oracle_segmentation_captions(classifier, strips)
    exact = np.mean([c == d for c, d in zip(captions, strips.digits, strict=True)])
    # Independent errors: about accuracy ** 4 of the strips come out right.
    assert abs(exact - accuracy**4) < 0.1


def test_fit_digit_classifier_needs_candidates(pools):
    with pytest.raises(ValueError, match="Cs"):
        fit_digit_classifier(pools[0], Cs=())
