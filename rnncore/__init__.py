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
rnncore.long_range
    The long-range experiments that chapters 6 and 7 share: the adding problem and a
    one-symbol copy probe (RNN, LSTM, GRU by sequence length).
rnncore.keras_interop
    Keras 3 (torch backend) SimpleRNN, LSTM and GRU weights to and from rnncore's.
rnncore.timing
    Alternated, median-of-runs timing used by the benchmarks and chapter 8.
"""

__version__ = "0.1.0"
