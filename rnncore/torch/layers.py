"""Sequence layers RNN, LSTM and GRU: the cells of :mod:`rnncore.torch.cells` over time.

Each layer is a drop-in for ``torch.nn.RNN/LSTM/GRU(..., batch_first=True)``: the same
arguments, the same outputs and the same layout of the returned state, so code written for
one runs with the other, and :mod:`rnncore.torch.interop` moves weights between them.

Layouts (the returned state follows torch.nn, NOT batch-first)::

    x       (B, T, D)                      input, batch first
    output  (B, T, num_directions * H)     top layer's hidden state at every step;
                                           forward then backward direction on the last axis
    h_n     (num_layers * num_directions, B, H)
    c_n     (num_layers * num_directions, B, H)   LSTM only
    row of h_n for layer l and direction d: l * num_directions + d  (d = 1 runs backwards)

The parameters of layer ``l`` and direction ``d`` live in ``layer.weights[l][d]``, a
ParameterDict named like the maths: ``Wx`` (D_l, G*H), ``Wh`` (H, G*H), ``b`` (G*H,) and,
for the GRU, ``b_hn`` (H,). ``D_l`` is D for the first layer and num_directions * H above.
One bias ``b`` stands for torch.nn's two biases ``b_ih + b_hh`` (see interop).

Equivalent loop (one layer, one direction) of what ``forward`` computes::

    xw = x @ Wx + b                        # (B, T, G*H): all input projections at once
    for t in range(T):
        h = cell_from_projection(xw[:, t], h, Wh, ...)   # (B, H)

The code loops over ``xw.unbind(1)`` rather than indexing ``xw[:, t]``: each index would
add a backward node that writes a full (B, T, G*H) gradient, making the backward pass
quadratic in T; ``unbind`` makes one node for all steps.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnncore.shapes import check_shape
from rnncore.torch.cells import (
    check_float_tensors,
    check_nonlinearity,
    gru_cell_from_projection,
    gru_cell_reset_before_from_projection,
    lstm_cell_from_projection,
    rnn_cell_from_projection,
)

__all__ = ["RNN", "LSTM", "GRU"]


class _RecurrentLayer(nn.Module):
    """Shared machinery: parameters per layer and direction, the loop over layers and time.

    Subclasses set ``gates`` (G), ``state_count`` (1 for h, 2 for h and c) and implement
    ``_step(xw_t, state, weights) -> state`` with ``state`` a tuple whose first item is h.
    """

    gates = 1
    state_count = 1
    has_hidden_candidate_bias = False  # GRU (reset after) adds b_hn

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        factory = {"device": device, "dtype": dtype}
        H, G = hidden_size, self.gates
        self.weights = nn.ModuleList()
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else self.num_directions * H
            directions = nn.ModuleList()
            for _direction in range(self.num_directions):
                weights = nn.ParameterDict(
                    {
                        "Wx": nn.Parameter(torch.empty(layer_input_size, G * H, **factory)),
                        "Wh": nn.Parameter(torch.empty(H, G * H, **factory)),
                        "b": nn.Parameter(torch.empty(G * H, **factory)),
                    }
                )
                if self.has_hidden_candidate_bias:
                    weights["b_hn"] = nn.Parameter(torch.empty(H, **factory))
                directions.append(weights)
            self.weights.append(directions)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from uniform(-1/sqrt(H), 1/sqrt(H)), torch.nn's rule."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text

    def _step(self, xw_t, state, weights):
        raise NotImplementedError

    def _initial_state(self, x, state) -> tuple[torch.Tensor, ...]:
        """Check ``state`` and return it as a tuple of (L * num_directions, B, H) tensors."""
        L, B, H = self.num_layers, x.shape[0], self.hidden_size
        spec = ("2L" if self.bidirectional else "L") + ", B, H"
        names = ("h0", "c0")[: self.state_count]
        if state is None:
            zeros = x.new_zeros(L * self.num_directions, B, H)  # (L * dirs, B, H)
            return (zeros,) * self.state_count
        if self.state_count == 1:
            state = (state,)
        elif not isinstance(state, tuple | list) or len(state) != self.state_count:
            raise ValueError(f"state must be a tuple (h0, c0), got {type(state).__name__}")
        for name, tensor in zip(names, state, strict=True):
            check_float_tensors(x=x, **{name: tensor})
            check_shape(name, tensor, spec, {"L": L, "B": B, "H": H})
        return tuple(state)

    def forward(self, x: torch.Tensor, state=None):
        """Run every layer and direction over the sequence.

        Parameters
        ----------
        x : Tensor of shape (B, T, D)
        state : Tensor of shape (L * num_directions, B, H), or tuple of two, optional
            The initial state in torch.nn's layout (row ``l * num_directions + d`` for layer
            l, direction d); for the LSTM a tuple ``(h0, c0)``. Default zeros.

        Returns
        -------
        output : Tensor of shape (B, T, num_directions * H)
            The top layer's hidden states; the backward direction's on the second half.
        state : Tensor of shape (L * num_directions, B, H), or tuple of two
            The final state, same layout (``(h_n, c_n)`` for the LSTM); for the backward
            direction, the state after reading ``x[:, 0]``.
        """
        check_float_tensors(x=x, Wx=self.weights[0][0]["Wx"])
        check_shape("x", x, "B, T, D", {"D": self.input_size})
        initial = self._initial_state(x, state)
        initial_per_row = [tensor.unbind(0) for tensor in initial]  # each: L * dirs x (B, H)
        final_per_row: list[tuple[torch.Tensor, ...]] = []
        layer_input = x  # (B, T, D_l)
        for layer, directions in enumerate(self.weights):
            direction_outputs = []
            for direction, weights in enumerate(directions):
                row = layer * self.num_directions + direction
                xw = layer_input @ weights["Wx"] + weights["b"]  # (B, T, G*H)
                steps = xw.unbind(1)  # T x (B, G*H)
                if direction == 1:
                    steps = steps[::-1]
                step_state = tuple(rows[row] for rows in initial_per_row)
                hidden_states = []
                for xw_t in steps:
                    step_state = self._step(xw_t, step_state, weights)
                    hidden_states.append(step_state[0])
                if direction == 1:
                    hidden_states.reverse()
                direction_outputs.append(torch.stack(hidden_states, dim=1))  # (B, T, H)
                final_per_row.append(step_state)
            layer_input = torch.cat(direction_outputs, dim=2)  # (B, T, dirs * H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = nn.functional.dropout(layer_input, self.dropout, training=True)
        final = tuple(
            torch.stack([row_state[k] for row_state in final_per_row], dim=0)  # (L*dirs, B, H)
            for k in range(self.state_count)
        )
        return layer_input, (final if self.state_count == 2 else final[0])


class RNN(_RecurrentLayer):
    r"""Multi-layer Elman RNN, batch first, a drop-in for ``torch.nn.RNN(batch_first=True)``.

    .. math::

        h_t = \phi(x_t W_x + h_{t-1} W_h + b), \qquad \phi = \tanh \text{ or } \mathrm{relu}

    Parameters
    ----------
    input_size : int
        D.
    hidden_size : int
        H.
    num_layers : int
        L; layer l > 0 reads the outputs of layer l - 1.
    bidirectional : bool
        Add a direction that reads the sequence from the end.
    dropout : float
        Dropout on the outputs of every layer but the last, in training mode (as torch.nn).
    nonlinearity : {"tanh", "relu"}
    device, dtype
        Where and in which dtype the parameters are created.

    Notes
    -----
    ``forward(x (B, T, D), state=None) -> (output (B, T, dirs * H), h_n (L * dirs, B, H))``;
    see the module docstring for the layouts.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        check_nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout, device, dtype)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def _step(self, xw_t, state, weights):
        (h_prev,) = state
        return (rnn_cell_from_projection(xw_t, h_prev, weights["Wh"], self.nonlinearity, False),)


class LSTM(_RecurrentLayer):
    r"""Multi-layer LSTM, batch first, a drop-in for ``torch.nn.LSTM(batch_first=True)``.

    .. math::

        [a_i, a_f, a_g, a_o] &= x_t W_x + h_{t-1} W_h + b \\
        c_t &= \sigma(a_f) \odot c_{t-1} + \sigma(a_i) \odot \tanh(a_g) \\
        h_t &= \sigma(a_o) \odot \tanh(c_t)

    Parameters
    ----------
    input_size, hidden_size, num_layers, bidirectional, dropout, device, dtype
        As for :class:`RNN`. ``Wx`` is (D, 4H), gates i, f, g, o.

    Notes
    -----
    ``forward(x (B, T, D), state=None | (h0, c0)) -> (output (B, T, dirs * H), (h_n, c_n))``
    with h0, c0, h_n, c_n of shape (L * dirs, B, H).
    """

    gates = 4
    state_count = 2

    def _step(self, xw_t, state, weights):
        h_prev, c_prev = state
        return lstm_cell_from_projection(xw_t, h_prev, c_prev, weights["Wh"], False)


class GRU(_RecurrentLayer):
    r"""Multi-layer GRU, batch first, a drop-in for ``torch.nn.GRU(batch_first=True)``.

    With ``reset_after=True`` (the default) it computes torch.nn.GRU's function:

    .. math::

        r &= \sigma(x_t W_{x,r} + h_{t-1} W_{h,r} + b_r), \quad
        z = \sigma(x_t W_{x,z} + h_{t-1} W_{h,z} + b_z) \\
        n &= \tanh(x_t W_{x,n} + b_n + r \odot (h_{t-1} W_{h,n} + b_{hn})) \\
        h_t &= (1 - z) \odot n + z \odot h_{t-1}

    With ``reset_after=False`` it computes the seed's GRU (no ``b_hn`` parameter):

    .. math::

        \tilde h_t &= \tanh(x_t W_{x,n} + (r \odot h_{t-1}) W_{h,n} + b_n) \\
        h_t &= (1 - z) \odot h_{t-1} + z \odot \tilde h_t

    Parameters
    ----------
    input_size, hidden_size, num_layers, bidirectional, dropout, device, dtype
        As for :class:`RNN`. ``Wx`` is (D, 3H), gates r, z, n.
    reset_after : bool
        Which convention (above). Only ``True`` has a torch.nn equivalent.
    """

    gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        reset_after: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        self.reset_after = bool(reset_after)
        self.has_hidden_candidate_bias = self.reset_after
        super().__init__(input_size, hidden_size, num_layers, bidirectional, dropout, device, dtype)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"

    def _step(self, xw_t, state, weights):
        (h_prev,) = state
        if self.reset_after:
            return (gru_cell_from_projection(xw_t, h_prev, weights["Wh"], weights["b_hn"], False),)
        return (gru_cell_reset_before_from_projection(xw_t, h_prev, weights["Wh"], False),)
