"""Bad input raises ValueError naming the argument, the expected and the actual shape/dtype."""

import re

import numpy as np
import pytest

import rnncore.numpy as rn

rng = np.random.default_rng(3)
B, T, D, H, V = 2, 3, 4, 5, 6


def normal(*shape, dtype=np.float64):
    return rng.normal(size=shape).astype(dtype)


x2, x3, h0, c0 = normal(B, D), normal(B, T, D), normal(B, H), normal(B, H)
rnn = rn.init_rnn(D, H, rng)
lstm = rn.init_lstm(D, H, rng)
gru = rn.init_gru(D, H, rng, reset_after=True)
Wx_g, Wh_g, b_g, b_hn = gru["Wx"], gru["Wh"], gru["b"], gru["b_hn"]
h_rnn, rnn_cache = rn.rnn_forward(x3, h0, **rnn)
_, rnn_step_cache = rn.rnn_step_forward(x2, h0, **rnn)
h_lstm, lstm_cache = rn.lstm_forward(x3, h0, **lstm)
_, _, lstm_step_cache = rn.lstm_step_forward(x2, h0, c0, **lstm)
_, gru_cache = rn.gru_forward(x3, h0, Wx_g, Wh_g, b_g)
_, gru_step_cache = rn.gru_step_forward(x2, h0, Wx_g, Wh_g, b_g)
_, gru_after_cache = rn.gru_reset_after_forward(x3, h0, **gru)
_, gru_after_step_cache = rn.gru_reset_after_step_forward(x2, h0, **gru)
_, affine_cache = rn.affine_forward(x2, normal(D, V), normal(V))
_, temporal_cache = rn.temporal_affine_forward(normal(B, T, H), normal(H, V), normal(V))
indices = np.array([[0, 1, 2], [5, 4, 3]])
_, embedding_cache = rn.embedding_forward(indices, normal(V, D))
scores, targets = normal(B, T, V), np.array([[0, 1, 2], [5, 4, 3]])

CASES = {
    # rnn
    "rnn_step Wh": (
        lambda: rn.rnn_step_forward(x2, h0, rnn["Wx"], normal(H, 3), rnn["b"]),
        "Wh must have shape (H, H) = (5, 5), got (5, 3)",
    ),
    "rnn_step Wx": (
        lambda: rn.rnn_step_forward(x2, h0, normal(3, H), rnn["Wh"], rnn["b"]),
        "Wx must have shape (D, H) = (4, 5), got (3, 5)",
    ),
    "rnn x ndim": (
        lambda: rn.rnn_forward(x2, h0, **rnn),
        "x must have 3 axes (B, T, D), got shape (2, 4)",
    ),
    "rnn h0 batch": (
        lambda: rn.rnn_forward(x3, normal(3, H), **rnn),
        "h0 must have shape (B, H) = (2, 5), got (3, 5)",
    ),
    "rnn b": (
        lambda: rn.rnn_forward(x3, h0, rnn["Wx"], rnn["Wh"], normal(4)),
        "b must have shape (H,) = (5,), got (4,)",
    ),
    "rnn int x": (
        lambda: rn.rnn_forward(x3.astype(np.int64), h0, **rnn),
        "x must be a NumPy floating-point array, got int64",
    ),
    "rnn mixed dtypes": (
        lambda: rn.rnn_forward(x3, h0, rnn["Wx"].astype(np.float32), rnn["Wh"], rnn["b"]),
        "Wx has dtype float32 but x has float64: pass every array in one dtype",
    ),
    "rnn list x": (
        lambda: rn.rnn_forward(x3.tolist(), h0, **rnn),
        "x must be a NumPy array, got list",
    ),
    "rnn_step_backward dh_next": (
        lambda: rn.rnn_step_backward(normal(B, 4), rnn_step_cache),
        "dh_next must have the shape of h_next, (2, 5), got (2, 4)",
    ),
    "rnn_backward dh": (
        lambda: rn.rnn_backward(normal(B, T, 4), rnn_cache),
        "dh must have the shape of h, (2, 3, 5), got (2, 3, 4)",
    ),
    "rnn_backward dtype": (
        lambda: rn.rnn_backward(normal(B, T, H, dtype=np.float32), rnn_cache),
        "dh has dtype float32 but h has float64",
    ),
    # lstm
    "lstm Wh (32, 96)": (
        lambda: rn.lstm_forward(
            normal(2, 3, 7), normal(2, 32), normal(7, 128), normal(32, 96), normal(128)
        ),
        "Wh must have shape (H, 4H) = (32, 128), got (32, 96)",
    ),
    "lstm_step Wx": (
        lambda: rn.lstm_step_forward(x2, h0, c0, normal(D, 3 * H), lstm["Wh"], lstm["b"]),
        "Wx must have shape (D, 4H) = (4, 20), got (4, 15)",
    ),
    "lstm_step c_prev": (
        lambda: rn.lstm_step_forward(x2, h0, normal(B, 4), **lstm),
        "c_prev must have shape (B, H) = (2, 5), got (2, 4)",
    ),
    "lstm c0": (
        lambda: rn.lstm_forward(x3, h0, **lstm, c0=normal(H)),
        "c0 must have 2 axes (B, H), got shape (5,)",
    ),
    "lstm int c0": (
        lambda: rn.lstm_forward(x3, h0, **lstm, c0=np.zeros((B, H), dtype=np.int32)),
        "c0 must be a NumPy floating-point array, got int32",
    ),
    "lstm b": (
        lambda: rn.lstm_forward(x3, h0, lstm["Wx"], lstm["Wh"], normal(H)),
        "b must have shape (4H,) = (20,), got (5,)",
    ),
    "lstm_step_backward dc_next": (
        lambda: rn.lstm_step_backward(normal(B, H), normal(B, 3), lstm_step_cache),
        "dc_next must have the shape of c_next, (2, 5), got (2, 3)",
    ),
    "lstm_backward dh": (
        lambda: rn.lstm_backward(normal(B, 2, H), lstm_cache),
        "dh must have the shape of h, (2, 3, 5), got (2, 2, 5)",
    ),
    # gru
    "gru Wh": (
        lambda: rn.gru_forward(x3, h0, Wx_g, normal(H, 2 * H), b_g),
        "Wh must have shape (H, 3H) = (5, 15), got (5, 10)",
    ),
    "gru_step h_prev": (
        lambda: rn.gru_step_forward(x2, normal(B, H, 1), Wx_g, Wh_g, b_g),
        "h_prev must have 2 axes (B, H), got shape (2, 5, 1)",
    ),
    "gru mixed dtypes": (
        lambda: rn.gru_forward(x3, h0, Wx_g, Wh_g, b_g.astype(np.float32)),
        "b has dtype float32 but x has float64",
    ),
    "gru_backward dh": (
        lambda: rn.gru_backward(normal(B, T, H + 1), gru_cache),
        "dh must have the shape of h, (2, 3, 5), got (2, 3, 6)",
    ),
    "gru_step_backward dh_next": (
        lambda: rn.gru_step_backward(normal(H), gru_step_cache),
        "dh_next must have the shape of h_next, (2, 5), got (5,)",
    ),
    "gru_reset_after b_hn": (
        lambda: rn.gru_reset_after_forward(x3, h0, Wx_g, Wh_g, b_g, normal(3 * H)),
        "b_hn must have shape (H,) = (5,), got (15,)",
    ),
    "gru_reset_after_step int b_hn": (
        lambda: rn.gru_reset_after_step_forward(x2, h0, Wx_g, Wh_g, b_g, np.zeros(H, dtype=int)),
        "b_hn must be a NumPy floating-point array, got int64",
    ),
    "gru_reset_after_backward dh": (
        lambda: rn.gru_reset_after_backward(normal(T, B, H), gru_after_cache),
        "dh must have the shape of h, (2, 3, 5), got (3, 2, 5)",
    ),
    "gru_reset_after_step_backward dtype": (
        lambda: rn.gru_reset_after_step_backward(
            normal(B, H, dtype=np.float32), gru_after_step_cache
        ),
        "dh_next has dtype float32 but h_prev has float64",
    ),
    "flip_update_gate b": (
        lambda: rn.flip_update_gate(Wx_g, Wh_g, normal(2 * H)),
        "b must have shape (3H,) = (15,), got (10,)",
    ),
    # layers
    "affine W": (
        lambda: rn.affine_forward(x2, normal(D + 1, V), normal(V)),
        "W must have shape (D, M) = (4, 6), got (5, 6)",
    ),
    "affine_backward dout": (
        lambda: rn.affine_backward(normal(B, V + 1), affine_cache),
        "dout must have shape (B, M) = (2, 6), got (2, 7)",
    ),
    "temporal_affine x ndim": (
        lambda: rn.temporal_affine_forward(normal(B, H), normal(H, V), normal(V)),
        "x must have 3 axes (B, T, H), got shape (2, 5)",
    ),
    "temporal_affine_backward dout": (
        lambda: rn.temporal_affine_backward(normal(B, T + 1, V), temporal_cache),
        "dout must have shape (B, T, M) = (2, 3, 6), got (2, 4, 6)",
    ),
    "embedding float indices": (
        lambda: rn.embedding_forward(indices.astype(float), normal(V, D)),
        "indices must be a NumPy integer array, got float64",
    ),
    "embedding out of range": (
        lambda: rn.embedding_forward(indices + 1, normal(V, D)),
        "indices must lie in [0, V) = [0, 6), got values from 1 to 6",
    ),
    "embedding W ndim": (
        lambda: rn.embedding_forward(indices, normal(V)),
        "W must have 2 axes (V, D), got shape (6,)",
    ),
    "embedding int W": (
        lambda: rn.embedding_forward(indices, np.ones((V, D), dtype=int)),
        "W must be a NumPy floating-point array, got int64",
    ),
    "embedding_backward dout": (
        lambda: rn.embedding_backward(normal(B, T, D + 1), embedding_cache),
        "dout must have shape (B, T, D) = (2, 3, 4), got (2, 3, 5)",
    ),
    "sigmoid int": (lambda: rn.sigmoid(np.arange(3)), "x must be a NumPy floating-point"),
    "tanh list": (lambda: rn.tanh([0.5]), "x must be a NumPy array, got list"),
    "softmax int": (lambda: rn.softmax(np.arange(3)), "x must be a NumPy floating-point"),
    "log_softmax int": (lambda: rn.log_softmax(np.arange(3)), "x must be a NumPy floating-point"),
    # losses
    "loss scores ndim": (
        lambda: rn.temporal_softmax_loss(normal(B, V), targets),
        "scores must have 3 axes (B, T, V), got shape (2, 6)",
    ),
    "loss targets shape": (
        lambda: rn.temporal_softmax_loss(scores, targets[:, :2]),
        "targets must have shape (B, T) = (2, 3), got (2, 2)",
    ),
    "loss float targets": (
        lambda: rn.temporal_softmax_loss(scores, targets.astype(float)),
        "targets must be a NumPy integer array, got float64",
    ),
    "loss targets range": (
        lambda: rn.temporal_softmax_loss(scores, targets - 1),
        "targets must lie in [0, V) = [0, 6), got values from -1 to 4",
    ),
    "loss mask shape": (
        lambda: rn.temporal_softmax_loss(scores, targets, np.ones((B, T + 1), dtype=bool)),
        "mask must have shape (B, T) = (2, 3), got (2, 4)",
    ),
    "loss int mask": (
        lambda: rn.temporal_softmax_loss(scores, targets, np.ones((B, T), dtype=int)),
        "mask must be a NumPy bool array, got int64",
    ),
    "loss int scores": (
        lambda: rn.temporal_softmax_loss(np.ones((B, T, V), dtype=int), targets),
        "scores must be a NumPy floating-point array, got int64",
    ),
    "mse shapes": (
        lambda: rn.mse_loss(normal(B, H), normal(H, B)),
        "target must have the shape of prediction, (2, 5), got (5, 2)",
    ),
    "mse mixed dtypes": (
        lambda: rn.mse_loss(normal(B, H), normal(B, H, dtype=np.float32)),
        "target has dtype float32 but prediction has float64",
    ),
    # optim (more in test_optim.py)
    "clip_grad_norm int": (
        lambda: rn.clip_grad_norm({"W": np.ones(3, dtype=int)}, 1.0),
        "grads['W'] must be a NumPy floating-point array, got int64",
    ),
    "SGD step shapes": (
        lambda: rn.SGD(0.1).step({"W": normal(2, 3)}, {"W": normal(3, 2)}),
        "grads['W'] must have the shape of params['W'], (2, 3), got (3, 2)",
    ),
    # gradcheck
    "numerical_gradient int x": (
        lambda: rn.numerical_gradient(np.tanh, np.arange(3), np.ones(3)),
        "x must be a NumPy floating-point array, got int64",
    ),
    "numerical_gradient eps": (
        lambda: rn.numerical_gradient(np.tanh, normal(3), np.ones(3), eps=0.0),
        "eps must be positive, got 0.0",
    ),
    "relative_error shapes": (
        lambda: rn.relative_error(normal(2, 3), normal(3, 2)),
        "actual must have the shape of expected, (3, 2), got (2, 3)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_a_clear_value_error(case):
    call, message = CASES[case]
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: rn.rnn_forward(x3, h0, **rnn),
        lambda: rn.lstm_forward(x3, h0, **lstm),
        lambda: rn.gru_reset_after_forward(x3, h0, **gru),
        lambda: rn.temporal_softmax_loss(scores, targets),
        lambda: rn.embedding_forward(indices, rng.normal(size=(V, D))),
    ],
)
def test_the_same_fixtures_with_good_input_pass(call):
    """The error cases above change one argument of calls like these, which succeed."""
    assert call()[0] is not None
