"""The checks that grade the course's exercises, with feedback that names the bug.

A test cell of an assignment calls one check with the student's function(s)::

    from rnncore.grading import check_rnn_step_forward
    check_rnn_step_forward(rnn_step_forward)                  # visible cases
    check_rnn_step_forward(rnn_step_forward, cases="hidden")  # edge cases, when grading

Every check runs three separate steps, one module each, so that judging can move out of the
student's kernel:

1. :mod:`~rnncore.grading.inputs` draws the inputs: fresh random values on every run (the
   seed is printed in failure messages) with fixed edge-case shapes;
2. :mod:`~rnncore.grading.student_run` runs the student's function on copies of them,
   recording its result, exceptions, modified arguments and calls to the reference;
3. :mod:`~rnncore.grading.judge` compares the result with values computed at grading time
   from :mod:`rnncore.numpy`, ``torch.nn.RNN`` or finite differences, with dtype-aware
   tolerances, and names known mistakes (:mod:`~rnncore.grading.mistakes`).

:mod:`~rnncore.grading.autograde` is the instructors' batch script (``make grade``).
"""

import importlib

from rnncore.grading.attention_checks import (
    check_additive_attention,
    check_beam_search,
    check_dot_attention,
    check_greedy_decode,
)
from rnncore.grading.bptt_checks import (
    check_clip_grad_norm,
    check_gradient_check,
    check_numerical_gradient,
)
from rnncore.grading.ctc_checks import (
    check_ctc_backward,
    check_ctc_forward,
    check_ctc_greedy_decode,
    check_extend_with_blanks,
)
from rnncore.grading.gru_checks import (
    check_flip_update_gate,
    check_gru_backward,
    check_gru_forward,
    check_gru_params_to_torch,
    check_gru_step_backward,
    check_gru_step_forward,
)
from rnncore.grading.lstm_checks import (
    check_lstm_backward,
    check_lstm_forward,
    check_lstm_params_from_torch,
    check_lstm_params_to_torch,
    check_lstm_step_backward,
    check_lstm_step_forward,
    check_set_forget_bias,
)
from rnncore.grading.rnn_checks import (
    check_rnn_backward,
    check_rnn_forward,
    check_rnn_step_backward,
    check_rnn_step_forward,
)

__all__ = [
    "check_rnn_step_forward",
    "check_rnn_forward",
    "check_rnn_step_backward",
    "check_rnn_backward",
    "check_numerical_gradient",
    "check_gradient_check",
    "check_clip_grad_norm",
    "check_lstm_step_forward",
    "check_lstm_forward",
    "check_lstm_step_backward",
    "check_lstm_backward",
    "check_lstm_params_from_torch",
    "check_lstm_params_to_torch",
    "check_set_forget_bias",
    "check_gru_step_forward",
    "check_gru_forward",
    "check_gru_step_backward",
    "check_gru_backward",
    "check_flip_update_gate",
    "check_gru_params_to_torch",
    "check_pad_batch",
    "check_last_valid_state",
    "check_masked_mean",
    "check_final_states_bidirectional",
    "check_masked_loss",
    "check_classify",
    "check_batchify",
    "check_next_chunk",
    "check_detach_state",
    "check_train_step",
    "check_sample",
    "check_bits_per_character",
    "check_char_lm_training",
    "check_extend_with_blanks",
    "check_ctc_forward",
    "check_ctc_backward",
    "check_ctc_greedy_decode",
    "check_additive_attention",
    "check_dot_attention",
    "check_greedy_decode",
    "check_beam_search",
]

# The checks of the PyTorch assignments import torch, which takes seconds: they are loaded on
# first use (PEP 562), so that the NumPy assignments' checks start without it.
_LOADED_ON_FIRST_USE = {
    "check_batchify": "rnncore.grading.char_lm_checks",
    "check_next_chunk": "rnncore.grading.char_lm_checks",
    "check_detach_state": "rnncore.grading.char_lm_checks",
    "check_train_step": "rnncore.grading.char_lm_checks",
    "check_sample": "rnncore.grading.char_lm_checks",
    "check_bits_per_character": "rnncore.grading.char_lm_checks",
    "check_char_lm_training": "rnncore.grading.char_lm_training",
    "check_pad_batch": "rnncore.grading.sentiment_checks",
    "check_last_valid_state": "rnncore.grading.sentiment_checks",
    "check_masked_mean": "rnncore.grading.sentiment_checks",
    "check_final_states_bidirectional": "rnncore.grading.sentiment_checks",
    "check_masked_loss": "rnncore.grading.sentiment_checks",
    "check_classify": "rnncore.grading.sentiment_checks",
}


def __getattr__(name: str):
    module = _LOADED_ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module 'rnncore.grading' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
