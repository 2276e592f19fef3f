"""The NumPy reference path: every layer as a pure ``*_forward`` / ``*_backward`` pair.

Letters: B batch, T time steps, D input features, H hidden units, V vocabulary. Arrays are
batch-first, float64 by default, and keep the dtype they are given; no function modifies its
arguments. ``*_forward(...)`` returns ``(out, cache)`` and ``*_backward(dout, cache)`` returns
the gradients in the order of the forward's arguments.
"""

from rnncore.numpy.attention import additive_attention, dot_attention
from rnncore.numpy.ctc import ctc_backward, ctc_forward, ctc_greedy_decode, extend_with_blanks
from rnncore.numpy.gradcheck import numerical_gradient, relative_error
from rnncore.numpy.gru import (
    GRU_GATES,
    flip_update_gate,
    gru_backward,
    gru_forward,
    gru_reset_after_backward,
    gru_reset_after_forward,
    gru_reset_after_step_backward,
    gru_reset_after_step_forward,
    gru_step_backward,
    gru_step_forward,
    init_gru,
)
from rnncore.numpy.layers import (
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
from rnncore.numpy.losses import mse_loss, temporal_softmax_loss
from rnncore.numpy.lstm import (
    LSTM_GATES,
    init_lstm,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from rnncore.numpy.optim import SGD, Adam, Momentum, clip_grad_norm, clip_grad_value
from rnncore.numpy.rnn import (
    init_rnn,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "GRU_GATES",
    "LSTM_GATES",
    "SGD",
    "Adam",
    "Momentum",
    "additive_attention",
    "affine_backward",
    "affine_forward",
    "clip_grad_norm",
    "clip_grad_value",
    "ctc_backward",
    "ctc_forward",
    "ctc_greedy_decode",
    "dot_attention",
    "embedding_backward",
    "embedding_forward",
    "extend_with_blanks",
    "flip_update_gate",
    "gru_backward",
    "gru_forward",
    "gru_reset_after_backward",
    "gru_reset_after_forward",
    "gru_reset_after_step_backward",
    "gru_reset_after_step_forward",
    "gru_step_backward",
    "gru_step_forward",
    "init_gru",
    "init_lstm",
    "init_rnn",
    "log_softmax",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "mse_loss",
    "numerical_gradient",
    "relative_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
    "softmax",
    "tanh",
    "temporal_affine_backward",
    "temporal_affine_forward",
    "temporal_softmax_loss",
]
