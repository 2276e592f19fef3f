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

from rnncore.grading.bptt_checks import (
    check_clip_grad_norm,
    check_gradient_check,
    check_numerical_gradient,
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
]
