r"""Sequence layers RNN, LSTM and GRU: the cells of :mod:`rnncore.torch.cells` over time.

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

**Two paths, one function.** ``fast=False`` (the default) runs the loop above, cells under
autograd, every step readable. ``fast=True`` runs each layer and direction through
:mod:`rnncore.torch.fast` instead (``rnn_sequence_fast`` and friends: the same input
projection of all steps in one product, fused gates, a hand-written backward). The
parameters, arguments and outputs are the same, so the two can be swapped or compared
directly; only the GRU with ``reset_after=False`` has no fast path.

**Variable lengths.** ``forward(x, state, lengths)`` with ``lengths`` (B,) for a right-padded
batch holds each sequence's state fixed on its padded steps and writes zeros to its output
there. Forward directions thus stop at step ``lengths - 1``, backward directions start there,
and every output and final state equals that of a torch.nn layer fed the same batch through
``pack_padded_sequence`` (see :mod:`rnncore.torch.padding`). Readable path only.

**Regularising the recurrence** (readable path only, ``reset_after=True`` for the GRU):

* ``recurrent_dropout=p`` is the *variational* (locked) dropout of Gal and Ghahramani (2016)
  on the recurrent connection: in training mode each layer, direction and sequence draws one
  mask :math:`m \in \{0, 1/(1-p)\}^H` per forward pass and uses it at every step,
  :math:`h_{t-1} W_h \to (m \odot h_{t-1}) W_h`; the state itself (the LSTM's cell, the GRU's
  interpolation) is not dropped. A fresh mask at every step would erase the memory a little
  at each step; one mask per sequence removes whole units for the whole sequence.
* ``layer_norm=True`` normalises the input and the recurrent projections of every step
  separately over their G·H pre-activations, with a learnable gain each (Ba et al., 2016):
  :math:`a_t = \mathrm{LN}_x(x_t W_x) + \mathrm{LN}_h(h_{t-1} W_h) + b`, where
  :math:`\mathrm{LN}(v) = \gamma \odot (v - \mu_v) / \sqrt{\sigma_v^2 + \epsilon}`. The gains
  live in ``layer.norms[l][d]["x"]`` and ``["h"]`` and start at 1.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnncore.shapes import check_shape
from rnncore.torch import fast as fast_paths
from rnncore.torch.cells import (
    check_float_tensors,
    check_nonlinearity,
    gru_cell_from_projection,
    gru_cell_reset_before_from_projection,
    lstm_cell_from_projection,
    rnn_cell_from_projection,
)
from rnncore.torch.padding import check_lengths, length_mask

__all__ = ["RNN", "LSTM", "GRU"]


class _RecurrentLayer(nn.Module):
    """Shared machinery: parameters per layer and direction, the loop over layers and time.

    Subclasses set ``gates`` (G), ``state_count`` (1 for h, 2 for h and c) and implement
    ``_step(xw_t, state, weights) -> state`` with ``state`` a tuple whose first item is h,
    and ``_sequence_fast(x, state, weights) -> (h (B, T, H), state)`` for ``fast=True``.
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
        fast: bool = False,
        recurrent_dropout: float = 0.0,
        layer_norm: bool = False,
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
        if not 0.0 <= recurrent_dropout < 1.0:
            raise ValueError(f"recurrent_dropout must be in [0, 1), got {recurrent_dropout!r}")
        if fast and (recurrent_dropout or layer_norm):
            raise ValueError(
                "recurrent_dropout and layer_norm need fast=False: rnncore.torch.fast runs the "
                "plain cells only"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dropout = float(dropout)
        self.fast = bool(fast)
        self.recurrent_dropout = float(recurrent_dropout)
        self.layer_norm = bool(layer_norm)
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
        # Gains of the two layer normalisations of each layer and direction (no bias: b is
        # the layer's one bias).
        self.norms = nn.ModuleList()
        if self.layer_norm:
            for _layer in range(num_layers):
                self.norms.append(
                    nn.ModuleList(
                        nn.ModuleDict(
                            {
                                "x": nn.LayerNorm(G * H, bias=False, **factory),
                                "h": nn.LayerNorm(G * H, bias=False, **factory),
                            }
                        )
                        for _direction in range(self.num_directions)
                    )
                )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight and bias from uniform(-1/sqrt(H), 1/sqrt(H)), torch.nn's rule;
        layer-normalisation gains start at 1."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.weights.parameters():
            nn.init.uniform_(parameter, -bound, bound)
        for parameter in self.norms.parameters():
            nn.init.ones_(parameter)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.bidirectional:
            text += ", bidirectional=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.fast:
            text += ", fast=True"
        if self.recurrent_dropout:
            text += f", recurrent_dropout={self.recurrent_dropout}"
        if self.layer_norm:
            text += ", layer_norm=True"
        return text

    def _step(self, xw_t, state, weights, recurrent=None):
        raise NotImplementedError

    def _sequence_fast(self, x, state, weights):
        raise NotImplementedError

    def _recurrent_projection(self, weights, norms, batch_size: int, like: torch.Tensor):
        """The map h_{t-1} (B, H) -> (B, G*H) of one layer and direction, or None for the plain
        ``h_{t-1} @ Wh``. The recurrent-dropout mask (B, H) is drawn here, once per sequence."""
        drop = self.recurrent_dropout if self.training else 0.0
        if not drop and norms is None:
            return None
        Wh = weights["Wh"]
        keep = None
        if drop:
            keep = like.new_empty(batch_size, self.hidden_size).bernoulli_(1.0 - drop)
            keep = keep / (1.0 - drop)  # (B, H): 0 or 1 / (1 - p), the same at every step

        def recurrent(h_prev: torch.Tensor) -> torch.Tensor:
            u = (h_prev if keep is None else h_prev * keep) @ Wh  # (B, G*H)
            return u if norms is None else norms["h"](u)

        return recurrent

    def _run_direction(self, layer_input, state, weights, reverse: bool, mask, norms=None):
        """One layer, one direction: (hidden states (B, T, H), final state tuple).

        ``mask`` (B, T) bool or None; with a mask, padded steps keep the previous state and
        output zeros, so a backward direction starts at each sequence's last real step.
        ``norms``: the layer normalisations of this layer and direction, or None.
        """
        if self.fast:
            if reverse:
                hidden, state = self._sequence_fast(layer_input.flip(1), state, weights)
                return hidden.flip(1), state  # (B, T, H)
            return self._sequence_fast(layer_input, state, weights)
        xw = layer_input @ weights["Wx"]  # (B, T, G*H)
        if norms is not None:
            xw = norms["x"](xw)  # normalised over the G*H pre-activations of each step
        xw = xw + weights["b"]
        recurrent = self._recurrent_projection(weights, norms, layer_input.shape[0], xw)
        steps = list(xw.unbind(1))  # T x (B, G*H)
        keep = None if mask is None else list(mask.unsqueeze(2).unbind(1))  # T x (B, 1)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        hidden_states = [None] * len(steps)
        for t in order:
            new_state = self._step(steps[t], state, weights, recurrent)
            if keep is None:
                state = new_state
                hidden_states[t] = state[0]
            else:
                # A padded step keeps the old state (where, not a product: no 0 * inf), and
                # outputs zeros, as pad_packed_sequence does.
                state = tuple(
                    torch.where(keep[t], new, old)
                    for new, old in zip(new_state, state, strict=True)
                )
                hidden_states[t] = torch.where(keep[t], state[0], state[0].new_zeros(()))
        return torch.stack(hidden_states, dim=1), state  # (B, T, H)

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

    def forward(self, x: torch.Tensor, state=None, lengths: torch.Tensor | None = None):
        """Run every layer and direction over the sequence.

        Parameters
        ----------
        x : Tensor of shape (B, T, D)
        state : Tensor of shape (L * num_directions, B, H), or tuple of two, optional
            The initial state in torch.nn's layout (row ``l * num_directions + d`` for layer
            l, direction d); for the LSTM a tuple ``(h0, c0)``. Default zeros.
        lengths : LongTensor of shape (B,), optional
            True lengths, 1..T, of a right-padded batch (readable path only). Padded steps
            leave the state unchanged and output zeros, as a packed torch.nn layer.

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
        if x.shape[1] < 1:
            raise ValueError(
                f"x must have at least one time step (T >= 1), got shape {tuple(x.shape)}"
            )
        mask = None
        if lengths is not None:
            if self.fast:
                raise ValueError(
                    "lengths needs fast=False; for speed, pack the batch "
                    "(torch.nn.utils.rnn.pack_padded_sequence) and use torch.nn"
                )
            check_lengths(lengths, x.shape[0], x.shape[1])
            mask = length_mask(lengths, x.shape[1], device=x.device)  # (B, T)
        initial = self._initial_state(x, state)
        initial_per_row = [tensor.unbind(0) for tensor in initial]  # each: L * dirs x (B, H)
        final_per_row: list[tuple[torch.Tensor, ...]] = []
        layer_input = x  # (B, T, D_l)
        for layer, directions in enumerate(self.weights):
            direction_outputs = []
            for direction, weights in enumerate(directions):
                row = layer * self.num_directions + direction
                step_state = tuple(rows[row] for rows in initial_per_row)
                norms = self.norms[layer][direction] if self.layer_norm else None
                hidden, step_state = self._run_direction(
                    layer_input, step_state, weights, direction == 1, mask, norms
                )
                direction_outputs.append(hidden)  # (B, T, H)
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
    recurrent_dropout : float
        Variational dropout on the recurrent connection (module docstring); default 0.
    layer_norm : bool
        Layer normalisation of the input and recurrent projections (module docstring).
    device, dtype
        Where and in which dtype the parameters are created.
    fast : bool
        Run :func:`rnncore.torch.fast.rnn_sequence_fast` (hand-written backward) instead of
        the loop of cells; the same function and parameters.

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
        fast: bool = False,
        recurrent_dropout: float = 0.0,
        layer_norm: bool = False,
    ) -> None:
        check_nonlinearity(nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            dropout,
            device,
            dtype,
            fast,
            recurrent_dropout,
            layer_norm,
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def _step(self, xw_t, state, weights, recurrent=None):
        (h_prev,) = state
        return (
            rnn_cell_from_projection(
                xw_t, h_prev, weights["Wh"], self.nonlinearity, False, recurrent
            ),
        )

    def _sequence_fast(self, x, state, weights):
        (h0,) = state
        h, h_last = fast_paths.rnn_sequence_fast(
            x, h0, weights["Wx"], weights["Wh"], weights["b"], self.nonlinearity
        )
        return h, (h_last,)  # (B, T, H), ((B, H),)


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
    fast : bool
        Run :func:`rnncore.torch.fast.lstm_sequence_fast` instead of the loop of cells.

    Notes
    -----
    ``forward(x (B, T, D), state=None | (h0, c0)) -> (output (B, T, dirs * H), (h_n, c_n))``
    with h0, c0, h_n, c_n of shape (L * dirs, B, H).
    """

    gates = 4
    state_count = 2

    def _step(self, xw_t, state, weights, recurrent=None):
        h_prev, c_prev = state
        return lstm_cell_from_projection(xw_t, h_prev, c_prev, weights["Wh"], False, recurrent)

    def _sequence_fast(self, x, state, weights):
        h0, c0 = state
        h, (h_last, c_last) = fast_paths.lstm_sequence_fast(
            x, h0, c0, weights["Wx"], weights["Wh"], weights["b"]
        )
        return h, (h_last, c_last)  # (B, T, H), ((B, H), (B, H))


class GRU(_RecurrentLayer):
    r"""Multi-layer GRU, batch first, a drop-in for ``torch.nn.GRU(batch_first=True)``.

    With ``reset_after=True`` (the default) it computes torch.nn.GRU's function:

    .. math::

        r &= \sigma(x_t W_{x,r} + h_{t-1} W_{h,r} + b_r), \quad
        z = \sigma(x_t W_{x,z} + h_{t-1} W_{h,z} + b_z) \\
        n &= \tanh(x_t W_{x,n} + b_n + r \odot (h_{t-1} W_{h,n} + b_{hn})) \\
        h_t &= (1 - z) \odot n + z \odot h_{t-1}

    With ``reset_after=False`` it computes the GRU of Chung et al. (2014), the course's
    ``gru_forward`` (no ``b_hn`` parameter):

    .. math::

        \tilde h_t &= \tanh(x_t W_{x,n} + (r \odot h_{t-1}) W_{h,n} + b_n) \\
        h_t &= (1 - z) \odot h_{t-1} + z \odot \tilde h_t

    Parameters
    ----------
    input_size, hidden_size, num_layers, bidirectional, dropout, device, dtype
        As for :class:`RNN`. ``Wx`` is (D, 3H), gates r, z, n.
    reset_after : bool
        Which convention (above). Only ``True`` has a torch.nn equivalent.
    fast : bool
        Run :func:`rnncore.torch.fast.gru_sequence_fast` instead of the loop of cells; needs
        ``reset_after=True``.
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
        fast: bool = False,
        recurrent_dropout: float = 0.0,
        layer_norm: bool = False,
    ) -> None:
        if fast and not reset_after:
            raise ValueError(
                "fast=True needs reset_after=True: rnncore.torch.fast has only PyTorch's GRU"
            )
        if not reset_after and (recurrent_dropout or layer_norm):
            raise ValueError(
                "recurrent_dropout and layer_norm need reset_after=True: with the reset gate "
                "before the product, the recurrent product reads r * h, not h"
            )
        self.reset_after = bool(reset_after)
        self.has_hidden_candidate_bias = self.reset_after
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            dropout,
            device,
            dtype,
            fast,
            recurrent_dropout,
            layer_norm,
        )

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"

    def _step(self, xw_t, state, weights, recurrent=None):
        (h_prev,) = state
        if self.reset_after:
            return (
                gru_cell_from_projection(
                    xw_t, h_prev, weights["Wh"], weights["b_hn"], False, recurrent
                ),
            )
        return (gru_cell_reset_before_from_projection(xw_t, h_prev, weights["Wh"], False),)

    def _sequence_fast(self, x, state, weights):
        (h0,) = state
        h, h_last = fast_paths.gru_sequence_fast(
            x, h0, weights["Wx"], weights["Wh"], weights["b"], weights["b_hn"]
        )
        return h, (h_last,)  # (B, T, H), ((B, H),)
