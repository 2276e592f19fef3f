"""Shared fixtures for the rnncore.numpy tests.

``sizes`` runs a test on several (B, T, D, H): D != H everywhere, and B = 1, T = 1 occur.
``check_gradients`` compares analytic gradients with centred differences.
``public_call`` runs a test once per public function, with valid arguments built for a dtype.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnncore.numpy as rn

SIZES = [(2, 3, 4, 5), (1, 1, 3, 2), (3, 4, 2, 3), (1, 5, 3, 4)]


@pytest.fixture(params=SIZES, ids=lambda s: "B{}-T{}-D{}-H{}".format(*s))
def sizes(request):
    """(B, T, D, H)."""
    return request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _check_gradients(forward_output, args, analytic, dout, names, tolerance=1e-7):
    """Assert that ``analytic[k]`` is the gradient of sum(forward_output(*args) * dout).

    ``args[k]`` is perturbed one element at a time; entries named ``None`` are skipped.
    """
    assert len(analytic) == len(args) == len(names)
    for k, name in enumerate(names):
        if name is None:
            continue

        def output_of(value, k=k):
            changed = list(args)
            changed[k] = value
            return forward_output(*changed)

        numeric = rn.numerical_gradient(output_of, args[k], dout)
        assert analytic[k].shape == args[k].shape, name
        error = rn.relative_error(analytic[k], numeric)
        assert error < tolerance, f"d{name}: relative error {error:.2e}"


@pytest.fixture
def check_gradients():
    return _check_gradients


def _public_calls(dtype):
    """name -> (function, args): one valid call of every public function of rnncore.numpy."""
    rng = np.random.default_rng(7)
    B, T, D, H, V = 2, 3, 4, 5, 6

    def normal(*shape):
        return rng.normal(size=shape).astype(dtype)

    x_step, x_seq, h0, c0 = normal(B, D), normal(B, T, D), normal(B, H), normal(B, H)
    rnn = rn.init_rnn(D, H, rng, dtype)
    lstm = rn.init_lstm(D, H, rng, dtype)
    gru = rn.init_gru(D, H, rng, dtype, reset_after=True)
    gru_seed = (gru["Wx"], gru["Wh"], gru["b"])
    gru_after = (*gru_seed, gru["b_hn"])
    W_affine, b_affine = normal(D, V), normal(V)
    W_temporal = normal(H, V)
    W_embed = normal(V, D)
    indices = np.array([[0, 1, 1], [5, 0, 1]])
    scores, targets = normal(B, T, V), np.array([[0, 2, 5], [1, 1, 3]])
    mask = np.array([[True, False, True], [True, True, False]])

    calls = {}

    def add_pair(name, forward, args, backward, outputs=1):
        """Record the forward call and a backward call on its cache with random upstream."""
        result = forward(*args)
        cache = result[-1]
        upstream = tuple(normal(*out.shape) for out in result[:outputs])
        calls[name + "_forward"] = (forward, args)
        calls[name + "_backward"] = (backward, (*upstream, cache))

    add_pair("rnn_step", rn.rnn_step_forward, (x_step, h0, *rnn.values()), rn.rnn_step_backward)
    add_pair("rnn", rn.rnn_forward, (x_seq, h0, *rnn.values()), rn.rnn_backward)
    add_pair(
        "lstm_step",
        rn.lstm_step_forward,
        (x_step, h0, c0, *lstm.values()),
        rn.lstm_step_backward,
        outputs=2,
    )
    add_pair("lstm", rn.lstm_forward, (x_seq, h0, *lstm.values(), c0), rn.lstm_backward)
    add_pair("gru_step", rn.gru_step_forward, (x_step, h0, *gru_seed), rn.gru_step_backward)
    add_pair("gru", rn.gru_forward, (x_seq, h0, *gru_seed), rn.gru_backward)
    add_pair(
        "gru_reset_after_step",
        rn.gru_reset_after_step_forward,
        (x_step, h0, *gru_after),
        rn.gru_reset_after_step_backward,
    )
    add_pair(
        "gru_reset_after",
        rn.gru_reset_after_forward,
        (x_seq, h0, *gru_after),
        rn.gru_reset_after_backward,
    )
    add_pair("affine", rn.affine_forward, (x_step, W_affine, b_affine), rn.affine_backward)
    add_pair(
        "temporal_affine",
        rn.temporal_affine_forward,
        (normal(B, T, H), W_temporal, b_affine),
        rn.temporal_affine_backward,
    )
    add_pair("embedding", rn.embedding_forward, (indices, W_embed), rn.embedding_backward)
    calls["flip_update_gate"] = (rn.flip_update_gate, gru_seed)
    for activation in (rn.sigmoid, rn.tanh, rn.softmax, rn.log_softmax):
        calls[activation.__name__] = (activation, (normal(B, T, V),))
    calls["temporal_softmax_loss"] = (rn.temporal_softmax_loss, (scores, targets, mask))
    calls["mse_loss"] = (rn.mse_loss, (normal(B, H), normal(B, H)))
    params = {"W": normal(D, H), "b": normal(H)}
    grads = {"W": normal(D, H), "b": normal(H)}
    calls["clip_grad_norm"] = (rn.clip_grad_norm, (grads, 0.5))
    calls["clip_grad_value"] = (rn.clip_grad_value, (grads, 0.5))
    for optimiser in (rn.SGD(0.1), rn.Momentum(0.1), rn.Adam(0.1)):
        # Two steps, so that the optimiser's own state is in use.
        calls[type(optimiser).__name__ + ".step"] = (_two_steps(optimiser), (params, grads))
    calls["numerical_gradient"] = (
        rn.numerical_gradient,
        (np.tanh, normal(2, 3), normal(2, 3)),
    )
    calls["relative_error"] = (rn.relative_error, (normal(2, 3), normal(2, 3)))
    log_probs, labels = rn.log_softmax(normal(T + 2, V)), np.array([1, 1, 3])  # (5, V), (L,)
    calls["extend_with_blanks"] = (rn.extend_with_blanks, (labels, 0))
    calls["ctc_forward"] = (rn.ctc_forward, (log_probs, labels, 0))
    log_alphas = rn.ctc_forward(log_probs, labels, 0)[1]  # (5, 2L + 1)
    calls["ctc_backward"] = (rn.ctc_backward, (log_probs, labels, 0, log_alphas))
    calls["ctc_greedy_decode"] = (rn.ctc_greedy_decode, (log_probs, 0))
    S, A = 4, 3
    keys, values = normal(B, S, H), normal(B, S, D)  # (B, S, H), (B, S, D)
    attention_mask = np.array([[True, True, True, False], [True, True, True, True]])  # (B, S)
    calls["additive_attention"] = (
        rn.additive_attention,
        (normal(B, D), keys, values, attention_mask, normal(D, A), normal(H, A), normal(A)),
    )
    calls["dot_attention"] = (rn.dot_attention, (normal(B, H), keys, values, attention_mask))
    return calls


def _two_steps(optimiser):
    def step_twice(params, grads):
        return optimiser.step(optimiser.step(params, grads), grads)

    step_twice.__name__ = type(optimiser).__name__ + ".step"
    return step_twice


PUBLIC_CALL_NAMES = list(_public_calls(np.float64))


@pytest.fixture(params=PUBLIC_CALL_NAMES)
def public_call(request):
    """(name, build) where ``build(dtype)`` returns (function, args) of one public function."""
    name = request.param
    return name, lambda dtype: _public_calls(dtype)[name]


@pytest.fixture
def public_call_names():
    """Names of every call that ``public_call`` runs."""
    return PUBLIC_CALL_NAMES
