"""Optimisers and clipping: the update rules against torch.optim, state, and purity."""

import numpy as np
import pytest
import torch

from rnncore.numpy import SGD, Adam, Momentum, clip_grad_norm, clip_grad_value


def make_params_and_grads(rng):
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    grads_per_step = [{name: rng.normal(size=p.shape) for name, p in params.items()} for _ in "abc"]
    return params, grads_per_step


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (lambda: Momentum(0.1, 0.8), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8)),
        (
            lambda: Adam(0.01, 0.8, 0.9, 1e-6),
            lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.9), eps=1e-6),
        ),
    ],
    ids=["SGD", "Momentum", "Adam"],
)
def test_optimiser_matches_torch_over_three_steps(ours, theirs, rng):
    params, grads_per_step = make_params_and_grads(rng)
    tensors = {name: torch.tensor(p.copy(), requires_grad=True) for name, p in params.items()}
    optimiser, reference = ours(), theirs(list(tensors.values()))
    for grads in grads_per_step:
        params = optimiser.step(params, grads)
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[name])
        reference.step()
        for name, tensor in tensors.items():
            np.testing.assert_allclose(params[name], tensor.detach().numpy(), rtol=1e-13)


def test_momentum_and_adam_keep_state_between_steps(rng):
    params, grads_per_step = make_params_and_grads(rng)
    for make in (lambda: Momentum(0.1), lambda: Adam(0.1)):
        fresh = make()
        used = make()
        used.step(params, grads_per_step[0])
        # The second step of a used optimiser differs from the first step of a fresh one.
        a = used.step(params, grads_per_step[1])["W"]
        b = fresh.step(params, grads_per_step[1])["W"]
        assert np.abs(a - b).max() > 1e-6


def test_step_does_not_modify_its_arguments(rng):
    params, grads_per_step = make_params_and_grads(rng)
    for optimiser in (SGD(0.1), Momentum(0.1), Adam(0.1)):
        before_params = {k: v.copy() for k, v in params.items()}
        before_grads = {k: v.copy() for k, v in grads_per_step[0].items()}
        for _ in range(2):
            new = optimiser.step(params, grads_per_step[0])
        for name in params:
            np.testing.assert_array_equal(params[name], before_params[name])
            np.testing.assert_array_equal(grads_per_step[0][name], before_grads[name])
            assert new[name] is not params[name]


def test_clip_grad_norm_scales_down_and_keeps_direction(rng):
    grads = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    clipped, total_norm = clip_grad_norm(grads, max_norm=0.5)
    assert isinstance(total_norm, float)
    assert total_norm == pytest.approx(norm, rel=1e-14)
    new_norm = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert new_norm == pytest.approx(0.5, rel=1e-12)
    for name in grads:
        np.testing.assert_allclose(clipped[name], grads[name] * 0.5 / norm, rtol=1e-14)
    tensors = [torch.tensor(g) for g in grads.values()]
    for tensor in tensors:
        tensor.grad = tensor.clone()
    assert total_norm == pytest.approx(torch.nn.utils.clip_grad_norm_(tensors, 0.5).item())


def test_clip_grad_norm_leaves_small_gradients_alone(rng):
    grads = {"W": rng.normal(size=(3, 4)) * 1e-3}
    clipped, total_norm = clip_grad_norm(grads, max_norm=1.0)
    np.testing.assert_array_equal(clipped["W"], grads["W"])
    assert clipped["W"] is not grads["W"]
    assert total_norm < 1.0


def test_clip_grad_value_clips_each_element(rng):
    grads = {"W": np.array([[-3.0, -0.5], [0.2, 7.0]])}
    clipped = clip_grad_value(grads, 1.0)
    np.testing.assert_array_equal(clipped["W"], [[-1.0, -0.5], [0.2, 1.0]])
    np.testing.assert_array_equal(grads["W"], [[-3.0, -0.5], [0.2, 7.0]])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: SGD(0.0), "lr must be positive, got 0.0"),
        (lambda: SGD("0.1"), "lr must be a number, got str"),
        (lambda: Momentum(0.1, momentum=1.0), r"momentum must lie in \[0, 1\), got 1.0"),
        (lambda: Adam(beta1=-0.1), r"beta1 must lie in \[0, 1\), got -0.1"),
        (lambda: Adam(beta2=1.0), r"beta2 must lie in \[0, 1\), got 1.0"),
        (lambda: Adam(eps=0), "eps must be positive, got 0"),
        (lambda: clip_grad_norm({"W": np.ones(2)}, 0), "max_norm must be positive, got 0"),
        (lambda: clip_grad_value({"W": np.ones(2)}, -1), "clip_value must be positive, got -1"),
        (lambda: clip_grad_value([np.ones(2)], 1.0), "grads must be a dict of arrays, got list"),
    ],
)
def test_bad_hyperparameters_are_rejected(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("optimiser", [SGD(0.1), Momentum(0.1), Adam()], ids=type)
def test_step_rejects_mismatched_params_and_grads(optimiser):
    params = {"W": np.ones((2, 3)), "b": np.ones(3)}
    with pytest.raises(ValueError, match="params and grads must have the same keys"):
        optimiser.step(params, {"W": np.ones((2, 3))})
    with pytest.raises(ValueError, match=r"grads\['b'\] must have the shape of params\['b'\]"):
        optimiser.step(params, {"W": np.ones((2, 3)), "b": np.ones(4)})
    with pytest.raises(ValueError, match=r"grads\['b'\] must be a NumPy floating-point array"):
        optimiser.step(params, {"W": np.ones((2, 3)), "b": np.ones(3, dtype=int)})
    with pytest.raises(ValueError, match=r"grads\['b'\] has dtype float32 but params\['b'\]"):
        optimiser.step(params, {"W": np.ones((2, 3)), "b": np.ones(3, dtype=np.float32)})
