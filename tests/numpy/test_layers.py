"""Affine, temporal affine, embedding and the activations."""

import warnings

import numpy as np
import torch

from rnncore.numpy import (
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    log_softmax,
    sigmoid,
    softmax,
    tanh,
    temporal_affine_backward,
    temporal_affine_forward,
)


def test_affine_gradients(rng, check_gradients):
    args = (rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5))
    out, cache = affine_forward(*args)
    np.testing.assert_allclose(out, args[0] @ args[1] + args[2])
    dout = rng.normal(size=out.shape)
    grads = affine_backward(dout, cache)
    check_gradients(lambda *a: affine_forward(*a)[0], args, grads, dout, ["x", "W", "b"])


def test_temporal_affine_gradients(sizes, rng, check_gradients):
    B, T, _, H = sizes
    M = 6
    args = (rng.normal(size=(B, T, H)), rng.normal(size=(H, M)), rng.normal(size=M))
    out, cache = temporal_affine_forward(*args)
    assert out.shape == (B, T, M)
    for t in range(T):  # the same affine map at every step
        np.testing.assert_allclose(out[:, t], affine_forward(args[0][:, t], *args[1:])[0])
    dout = rng.normal(size=out.shape)
    grads = temporal_affine_backward(dout, cache)
    check_gradients(lambda *a: temporal_affine_forward(*a)[0], args, grads, dout, ["x", "W", "b"])


def test_embedding_forward_looks_up_rows(rng):
    W = rng.normal(size=(6, 3))
    indices = np.array([[0, 5, 2], [2, 2, 1]])
    out, _ = embedding_forward(indices, W)
    assert out.shape == (2, 3, 3)
    for b in range(2):
        for t in range(3):
            np.testing.assert_array_equal(out[b, t], W[indices[b, t]])


def test_embedding_gradient(rng, check_gradients):
    W = rng.normal(size=(6, 3))
    indices = np.array([[0, 5, 2], [2, 2, 1]])
    out, cache = embedding_forward(indices, W)
    dout = rng.normal(size=out.shape)
    dW = embedding_backward(dout, cache)
    check_gradients(lambda W: embedding_forward(indices, W)[0], (W,), (dW,), dout, ["W"])


def test_embedding_backward_accumulates_repeated_indices(rng):
    W = rng.normal(size=(4, 2))
    indices = np.array([[1, 1, 1], [3, 1, 0]])  # token 1 four times, token 2 never
    dout = rng.normal(size=(2, 3, 2))
    dW = embedding_backward(dout, embedding_forward(indices, W)[1])
    expected = np.zeros_like(W)
    for b in range(2):
        for t in range(3):
            expected[indices[b, t]] += dout[b, t]
    np.testing.assert_allclose(dW, expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(dW[2], 0)
    # The tempting dW[indices] += dout keeps one write per row and would be wrong here.
    last_write_wins = np.zeros_like(W)
    last_write_wins[indices] += dout
    assert not np.allclose(last_write_wins, expected)


def test_sigmoid_matches_definition_and_torch(rng):
    x = rng.normal(scale=5, size=(4, 7))
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy(), atol=1e-15)


def test_activations_do_not_overflow():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        s = sigmoid(x)
        t = tanh(x)
        p = softmax(np.array([[1000.0, 0.0, -1000.0]]))
        log_p = log_softmax(np.array([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(s, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(t, [-1.0, -1.0, 0.0, 1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(log_p, [[0.0, -1000.0, -2000.0]])


def test_softmax_and_log_softmax(rng):
    x = rng.normal(size=(2, 3, 5))
    for axis in (-1, 0, 1):
        p = softmax(x, axis=axis)
        np.testing.assert_allclose(p.sum(axis=axis), 1.0, atol=1e-15)
        np.testing.assert_allclose(np.log(p), log_softmax(x, axis=axis), atol=1e-14)
        expected = torch.log_softmax(torch.tensor(x), dim=axis).numpy()
        np.testing.assert_allclose(log_softmax(x, axis=axis), expected, atol=1e-14)
    np.testing.assert_allclose(softmax(x + 100.0), softmax(x), atol=1e-15)  # shift invariant
