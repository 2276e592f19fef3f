"""temporal_softmax_loss and mse_loss: values, gradients, mask, stability, torch parity."""

import numpy as np
import pytest
import torch

from rnncore.numpy import mse_loss, numerical_gradient, relative_error, temporal_softmax_loss


def make_scores(rng, B=2, T=4, V=5):
    scores = rng.normal(size=(B, T, V))
    targets = rng.integers(0, V, size=(B, T))
    mask = rng.random(size=(B, T)) < 0.6
    mask[0, 0] = True  # at least one position
    return scores, targets, mask


@pytest.mark.parametrize("masked", [False, True])
def test_temporal_softmax_loss_gradient(rng, masked):
    scores, targets, mask = make_scores(rng)
    mask = mask if masked else None
    loss, dscores = temporal_softmax_loss(scores, targets, mask)
    numeric = numerical_gradient(lambda s: temporal_softmax_loss(s, targets, mask)[0], scores, 1.0)
    assert relative_error(dscores, numeric) < 1e-7


def test_temporal_softmax_loss_is_mean_over_unmasked_positions(rng):
    scores, targets, mask = make_scores(rng)
    loss, dscores = temporal_softmax_loss(scores, targets, mask)
    terms = []
    for b, t in zip(*np.nonzero(mask), strict=True):
        p = np.exp(scores[b, t]) / np.exp(scores[b, t]).sum()
        terms.append(-np.log(p[targets[b, t]]))
    assert loss == pytest.approx(np.mean(terms), rel=1e-13)
    np.testing.assert_array_equal(dscores[~mask], 0)
    assert np.abs(dscores[mask]).min() > 0


def test_temporal_softmax_loss_matches_torch(rng):
    scores, targets, mask = make_scores(rng, B=3, T=4, V=7)
    loss, dscores = temporal_softmax_loss(scores, targets, mask)
    scores_t = torch.tensor(scores, requires_grad=True)
    masked_targets = torch.tensor(np.where(mask, targets, -100))  # -100: torch's ignore_index
    loss_t = torch.nn.functional.cross_entropy(scores_t.reshape(-1, 7), masked_targets.reshape(-1))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, scores_t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_temporal_softmax_loss_mask_none_means_all(rng):
    scores, targets, _ = make_scores(rng)
    everything = np.ones(targets.shape, dtype=bool)
    loss_none, d_none = temporal_softmax_loss(scores, targets)
    loss_all, d_all = temporal_softmax_loss(scores, targets, everything)
    assert loss_none == loss_all
    np.testing.assert_array_equal(d_none, d_all)


def test_temporal_softmax_loss_is_stable_for_large_scores(rng):
    scores, targets, mask = make_scores(rng)
    big = scores * 1e4
    loss, dscores = temporal_softmax_loss(big, targets, mask)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    # Adding a constant to all scores changes nothing.
    shifted = temporal_softmax_loss(big + 1e5, targets, mask)
    assert shifted[0] == pytest.approx(loss, rel=1e-9)


def test_temporal_softmax_loss_rejects_an_all_false_mask(rng):
    scores, targets, mask = make_scores(rng)
    with pytest.raises(ValueError, match="mask must keep at least one position"):
        temporal_softmax_loss(scores, targets, np.zeros_like(mask))


def test_mse_loss_value_gradient_and_torch(rng):
    prediction, target = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    loss, dprediction = mse_loss(prediction, target)
    assert loss == pytest.approx(np.mean((prediction - target) ** 2), rel=1e-14)
    numeric = numerical_gradient(lambda p: mse_loss(p, target)[0], prediction, 1.0)
    assert relative_error(dprediction, numeric) < 1e-7
    prediction_t = torch.tensor(prediction, requires_grad=True)
    loss_t = torch.nn.functional.mse_loss(prediction_t, torch.tensor(target))
    loss_t.backward()
    assert loss == pytest.approx(loss_t.item(), rel=1e-13)
    np.testing.assert_allclose(dprediction, prediction_t.grad.numpy(), rtol=1e-13)
