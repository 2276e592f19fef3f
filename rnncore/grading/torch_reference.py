"""Expected values from ``torch.nn.RNN``, a reference the course did not write.

The course's row-vector weights map to PyTorch's column layout as ``weight_ih_l0 = Wx.T``,
``weight_hh_l0 = Wh.T``, ``bias_ih_l0 = b`` and ``bias_hh_l0 = 0`` (PyTorch has two biases
whose sum plays the role of ``b``). torch is imported only when these functions run, so that
the other checks start quickly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["torch_rnn_forward", "torch_rnn_backward"]


def _module_and_tensors(x, h0, Wx, Wh, b):
    import torch

    D, H = Wx.shape
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wx.T, dtype=np.float64)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(Wh.T, dtype=np.float64)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(np.asarray(b, dtype=np.float64)))
        rnn.bias_hh_l0.zero_()
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)  # (B, T, D)
    state = torch.tensor(h0[None], dtype=torch.float64, requires_grad=True)  # (1, B, H)
    return rnn, inputs, state


def torch_rnn_forward(x, h0, Wx, Wh, b) -> dict:
    """``{"h": (B, T, H)}``: every hidden state of ``torch.nn.RNN`` with the mapped weights."""
    import torch

    rnn, inputs, state = _module_and_tensors(x, h0, Wx, Wh, b)
    with torch.no_grad():
        h, _ = rnn(inputs, state)  # (B, T, H)
    return {"h": h.numpy()}


def torch_rnn_backward(x, h0, Wx, Wh, b, dh) -> dict:
    """Gradients of ``sum(h * dh)`` by autograd, in the order of ``rnn_backward``'s result."""
    import torch

    rnn, inputs, state = _module_and_tensors(x, h0, Wx, Wh, b)
    h, _ = rnn(inputs, state)  # (B, T, H)
    h.backward(torch.tensor(dh, dtype=torch.float64))
    return {
        "dx": inputs.grad.numpy(),  # (B, T, D)
        "dh0": state.grad[0].numpy(),  # (B, H)
        "dWx": rnn.weight_ih_l0.grad.numpy().T,  # (D, H)
        "dWh": rnn.weight_hh_l0.grad.numpy().T,  # (H, H)
        "db": rnn.bias_ih_l0.grad.numpy(),  # (H,)
    }
