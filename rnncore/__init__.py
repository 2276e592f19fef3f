"""rnncore: the tested reference package of the open RNN course.

Subpackages
-----------
rnncore.numpy
    The reference path students re-derive: RNN, LSTM and GRU forward and backward (BPTT).
rnncore.torch
    The same equations in PyTorch, on the CPU and on CUDA, with weight interop to torch.nn.
rnncore.grading
    The checks that grade the course's exercises.
rnncore.data
    Offline datasets.
"""

__version__ = "0.1.0"
