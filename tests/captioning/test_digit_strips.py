"""Digit strips: the split shares no image, strips are the pool's images at their segments."""

import numpy as np
import pytest

from rnncore.data import digit_strips as ds


@pytest.fixture(scope="module")
def pools():
    return ds.split_digit_images(test_fraction=0.5, seed=0)


def test_load_digit_images_scaled_to_unit_interval():
    pool = ds.load_digit_images()
    assert pool.images.shape == (1797, 8, 8)
    assert pool.images.dtype == np.float32
    assert pool.images.min() == 0.0 and pool.images.max() == 1.0
    assert set(pool.labels.tolist()) == set(range(10))


def test_split_is_disjoint_complete_and_stratified(pools):
    train, test = pools
    assert not set(train.indices.tolist()) & set(test.indices.tolist())
    assert sorted(train.indices.tolist() + test.indices.tolist()) == list(range(1797))
    everything = ds.load_digit_images()
    for pool in (train, test):
        np.testing.assert_array_equal(pool.images, everything.images[pool.indices])
        np.testing.assert_array_equal(pool.labels, everything.labels[pool.indices])
    for digit in range(10):
        n_train = int((train.labels == digit).sum())
        n_test = int((test.labels == digit).sum())
        assert abs(n_train - n_test) <= 1


def test_split_depends_on_seed_only(pools):
    again = ds.split_digit_images(test_fraction=0.5, seed=0)
    other = ds.split_digit_images(test_fraction=0.5, seed=1)
    np.testing.assert_array_equal(pools[1].indices, again[1].indices)
    assert not np.array_equal(pools[1].indices, other[1].indices)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_split_rejects_fractions_outside_the_open_interval(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        ds.split_digit_images(test_fraction=fraction)


def test_strips_hold_the_pool_images_at_their_segments(pools):
    train, _ = pools
    everything = ds.load_digit_images()
    strips = ds.make_strips(train, 200, np.random.default_rng(0), max_gap=2)
    W = ds.strip_width(6, 2)
    assert strips.images.shape == (200, 8, W)
    assert len(strips) == 200
    for i in range(len(strips)):
        digits, segments, sources = strips.digits[i], strips.segments[i], strips.sources[i]
        assert 3 <= len(digits) <= 6
        assert len(segments) == len(sources) == len(digits)
        covered = np.zeros(W, dtype=bool)
        previous_end = 0
        for digit, (start, end), source in zip(digits, segments, sources, strict=True):
            assert end - start == 8
            assert 0 <= start - previous_end <= 2  # the gap before the digit
            np.testing.assert_array_equal(strips.images[i, :, start:end], everything.images[source])
            assert everything.labels[source] == digit
            covered[start:end] = True
            previous_end = end
        assert strips.widths[i] == segments[-1][1]
        # Gaps and the padding after the strip are blank.
        assert not strips.images[i][:, ~covered].any()


def test_strips_use_only_their_pool(pools):
    train, test = pools
    train_strips = ds.make_strips(train, 300, np.random.default_rng(0))
    test_strips = ds.make_strips(test, 300, np.random.default_rng(1))
    train_sources = {s for strip in train_strips.sources for s in strip}
    test_sources = {s for strip in test_strips.sources for s in strip}
    assert train_sources <= set(train.indices.tolist())
    assert test_sources <= set(test.indices.tolist())
    assert not train_sources & test_sources


def test_strip_lengths_cover_the_range_or_are_fixed(pools):
    train, _ = pools
    strips = ds.make_strips(train, 400, np.random.default_rng(0), min_digits=3, max_digits=6)
    assert {len(d) for d in strips.digits} == {3, 4, 5, 6}
    fixed = ds.make_strips(train, 50, np.random.default_rng(0), n_digits=4)
    assert {len(d) for d in fixed.digits} == {4}
    no_gap = ds.make_strips(train, 20, np.random.default_rng(0), n_digits=5, max_gap=0)
    assert set(no_gap.widths.tolist()) == {40}


def test_strips_are_reproducible_from_the_generator(pools):
    train, _ = pools
    a = ds.make_strips(train, 30, np.random.default_rng(5))
    b = ds.make_strips(train, 30, np.random.default_rng(5))
    np.testing.assert_array_equal(a.images, b.images)
    assert a.digits == b.digits


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_strips": 0}, "n_strips"),
        ({"n_strips": 5, "min_digits": 4, "max_digits": 3}, "min_digits"),
        ({"n_strips": 5, "max_gap": -1}, "max_gap"),
        ({"n_strips": 5, "n_digits": 7}, "n_digits"),
    ],
)
def test_make_strips_rejects_bad_settings(pools, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ds.make_strips(pools[0], rng=np.random.default_rng(0), **kwargs)


def test_encode_captions_shifts_targets_by_one():
    inputs, targets = ds.encode_captions([(3, 1, 4), (1, 5, 9, 2)])
    B, E, P = ds.BOS, ds.EOS, ds.PAD
    np.testing.assert_array_equal(inputs, [[B, 3, 1, 4, P], [B, 1, 5, 9, 2]])
    np.testing.assert_array_equal(targets, [[3, 1, 4, E, P], [1, 5, 9, 2, E]])


@pytest.mark.parametrize(
    ("digits", "match"), [([], "at least one"), ([()], "at least one"), ([(1, 10)], "0..9")]
)
def test_encode_captions_rejects_bad_captions(digits, match):
    with pytest.raises(ValueError, match=match):
        ds.encode_captions(digits)


def test_decode_caption_stops_at_the_first_end_token():
    assert ds.decode_caption([3, 1, ds.EOS, 4, ds.EOS]) == (3, 1)
    assert ds.decode_caption([ds.BOS, 7, ds.PAD, 2]) == (7, 2)
    assert ds.decode_caption([ds.EOS]) == ()
    _, targets = ds.encode_captions([(0, 9, 8)])
    assert ds.decode_caption(targets[0]) == (0, 9, 8)
