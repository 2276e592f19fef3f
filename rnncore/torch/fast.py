r"""Fast sequence paths: RNN, LSTM and GRU with a hand-written backward pass (BPTT).

The readable version is :mod:`rnncore.torch.layers` over :mod:`rnncore.torch.cells`: a loop
of cells that autograd differentiates. This module computes exactly the same functions
(one layer, one direction, batch first) and is what to use when speed matters. It is the
backward of :mod:`rnncore.numpy` (``lstm_backward`` and friends) written in PyTorch, wrapped
in a :class:`torch.autograd.Function` so it still composes with autograd:

* **one input projection** for all steps: ``x @ Wx + b`` is one (T*B, D) x (D, G*H) product;
* **fused gates**: ``Wx`` (D, G*H) and ``Wh`` (H, G*H) hold every gate, so each step does one
  recurrent product ``h_prev @ Wh``, added in place into the step's pre-activations;
* **buffers allocated once**, time-major (T, B, ...), so that every step reads and writes
  contiguous (B, ...) blocks;
* **a hand-written backward**: autograd through a loop records ~10 nodes per step and
  allocates a tensor for each; here each step does about a dozen in-place elementwise
  operations on (B, ...) blocks that stay in cache (the local derivatives come from the saved
  gate values: ``i (1 - i)``, ``1 - g^2``, ...) and one product ``da_t @ Wh.T``; every
  parameter gradient (a sum over time) is one matrix product after the loop:

  .. math::

      dW_x = X^\top dA, \qquad dW_h = H_{prev}^\top dA, \qquad db = \textstyle\sum dA,
      \qquad dX = dA\, W_x^\top

  with :math:`X` (T*B, D), :math:`H_{prev}` (T*B, H), :math:`dA` (T*B, G*H) the gradients of
  every step's pre-activations stacked.

The layers of :mod:`rnncore.torch.layers` run these functions when built with ``fast=True``
(``LSTM(D, H, num_layers=2, bidirectional=True, fast=True)``): every layer and direction is one
call here, the backward direction on the time-reversed sequence.

The same code runs on CPU and CUDA (every buffer follows the device and dtype of ``x``).
The backward is not itself differentiable (``once_differentiable``): no double backward.
Memory: the forward keeps the gates (T, B, G*H) and states (T+1, B, H) for the backward,
as torch.nn does. The output ``h`` (B, T, H) and the gradient on ``x`` are transposed *views*
of these time-major buffers, not copies (a sequence-sized copy each, and on this 2-core machine
every freshly allocated megabyte also costs about half a millisecond of page faults); a
stacked layer transposes ``h`` back to time-major for free. Call ``.contiguous()`` where a
contiguous tensor is needed. Autograd refuses in-place changes to ``h`` while it tracks
gradients (it raises an error instead of computing a wrong backward).

Why this design: measured on a 2-core AMD EPYC, one thread, float32 LSTM, forward+backward
as a multiple of torch.nn's (oneDNN) time, median of 9 alternated runs: this path 1.0-1.1x at
(T, B, D, H) = (100, 64, 256, 256) and 1.1-1.3x at (200, 64, 512, 512), the spread following
the load of the shared host; ``torch.jit.script`` of the same loop under autograd 1.19x at
both; batch-first buffers (no transposed copies, but strided steps) no faster;
``torch.compile`` of an unrolled loop takes tens of seconds to compile. What bounds the large
size is the matrix-product library, not the Python loop: the products alone, through
``torch.mm`` (MKL), take about as long as torch.nn's whole forward+backward (the ``mm f+b``
column of the benchmark); MKL runs the forward step's (64, 512) x (512, 2048) product at about
40-50 GFLOP/s on this CPU, the backward's (64, 2048) x (2048, 512) at about 60. Tried without a
gain that survived the machine's noise: Wh stored by columns for that product, one product per
gate, the input projection computed in cache-sized chunks of steps. ``python -m bench.run
--suite torch`` prints the current numbers.

Letters: B batch, T time steps, D input features, H hidden units, G gates.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from rnncore.shapes import check_shape
from rnncore.torch.cells import check_float_tensors, check_nonlinearity

__all__ = ["rnn_sequence_fast", "lstm_sequence_fast", "gru_sequence_fast"]


def _check_sequence(gates: int, x, h0, Wx, Wh, b, **extra) -> dict[str, int]:
    """Shapes and dtypes of a sequence call; returns the bound letters B, T, D, H."""
    gate_spec = "H" if gates == 1 else f"{gates}H"
    check_float_tensors(x=x, h0=h0, Wx=Wx, Wh=Wh, b=b, **extra)
    dims = check_shape("x", x, "B, T, D")
    check_shape("Wh", Wh, f"H, {gate_spec}", dims)
    check_shape("Wx", Wx, f"D, {gate_spec}", dims)
    check_shape("b", b, gate_spec, dims)
    check_shape("h0", h0, "B, H", dims)
    for name, tensor in extra.items():
        check_shape(name, tensor, "H" if name == "b_hn" else "B, H", dims)
    if dims["T"] < 1:
        raise ValueError(f"x must have at least one time step (T >= 1), got shape {tuple(x.shape)}")
    return dims


def _time_major_2d(x: torch.Tensor) -> torch.Tensor:
    """(B, T, D) -> (T*B, D): row t*B + b is x[b, t], so step t is a contiguous block."""
    B, T, D = x.shape
    return x.transpose(0, 1).reshape(T * B, D)  # (T*B, D)


def _input_side_gradients(needs_input_grad, da_2d, x_2d, Wx, B, T):
    """dx (B, T, D), dWx and db from the stacked pre-activation gradients, one product each.

    ``da_2d`` (T*B, G*H) is the gradient of ``x_t @ Wx + b`` at every step, time-major;
    ``needs_input_grad`` (autograd's flags for x, h0, Wx, Wh, b, ...) skips unwanted products.
    """
    dx = dWx = db = None
    if needs_input_grad[0]:
        dx = (da_2d @ Wx.T).view(T, B, -1).transpose(0, 1)  # (B, T, D), a view
    if needs_input_grad[2]:
        dWx = x_2d.T @ da_2d  # (D, G*H)
    if needs_input_grad[4]:
        db = da_2d.sum(dim=0)  # (G*H,)
    return dx, dWx, db


class _RNNSequence(torch.autograd.Function):
    """Elman RNN over a sequence; see :func:`rnn_sequence_fast`."""

    @staticmethod
    def forward(ctx, x, h0, Wx, Wh, b, nonlinearity):
        B, T, _ = x.shape
        H = Wh.shape[0]
        x_2d = _time_major_2d(x)  # (T*B, D)
        # h_all[0] is h0 and h_all[t + 1] is h_t: the states and the "previous states" of the
        # backward are two views of one buffer. h_all[1:] first holds x_t @ Wx + b.
        h_all = x.new_empty(T + 1, B, H)  # (T+1, B, H)
        h_all[0] = h0
        torch.addmm(b, x_2d, Wx, out=h_all[1:].view(T * B, H))  # (T*B, H)
        activation = torch.Tensor.tanh_ if nonlinearity == "tanh" else torch.Tensor.relu_
        for t in range(T):
            activation(h_all[t + 1].addmm_(h_all[t], Wh))  # (B, H)
        ctx.save_for_backward(x_2d, Wx, Wh, h_all)
        ctx.nonlinearity = nonlinearity
        return h_all[1:].transpose(0, 1)  # (B, T, H), a view

    @staticmethod
    @once_differentiable
    def backward(ctx, dh):
        x_2d, Wx, Wh, h_all = ctx.saved_tensors
        T, B, H = h_all.shape[0] - 1, h_all.shape[1], h_all.shape[2]
        da = torch.empty_like(h_all[1:])  # (T, B, H): gradients of the pre-activations
        one = h_all.new_ones(())  # a 0-d tensor: addcmul's "1 -" below
        dh_time_major = dh.transpose(0, 1)  # (T, B, H), a view
        dh_next = torch.zeros_like(h_all[0])  # (B, H), gradient arriving from step t + 1
        for t in reversed(range(T)):
            dh_next += dh_time_major[t]  # now the total gradient on h_t
            h = h_all[t + 1]  # (B, H)
            # phi'(a_t) written from the output: 1 - h_t^2 for tanh, [h_t > 0] for relu.
            if ctx.nonlinearity == "tanh":
                torch.addcmul(one, h, h, value=-1, out=da[t])
            else:
                torch.gt(h, 0, out=da[t])
            da[t] *= dh_next  # (B, H)
            torch.mm(da[t], Wh.T, out=dh_next)  # (B, H), gradient on h_{t-1}
        da_2d = da.view(T * B, H)  # (T*B, H)
        needs = ctx.needs_input_grad
        dx, dWx, db = _input_side_gradients(needs, da_2d, x_2d, Wx, B, T)
        dWh = h_all[:-1].reshape(T * B, H).T @ da_2d if needs[3] else None  # (H, H)
        return dx, dh_next, dWx, dWh, db, None


class _LSTMSequence(torch.autograd.Function):
    """LSTM over a sequence; see :func:`lstm_sequence_fast`."""

    @staticmethod
    def forward(ctx, x, h0, Wx, Wh, b, c0):
        B, T, _ = x.shape
        H = Wh.shape[0]
        x_2d = _time_major_2d(x)  # (T*B, D)
        # gates first holds the input part of every step's pre-activations, then in place
        # the activated gates i, f, g, o that the backward reads.
        gates = torch.addmm(b, x_2d, Wx).view(T, B, 4 * H)  # (T, B, 4H)
        h_all = x.new_empty(T + 1, B, H)  # (T+1, B, H): h_all[t + 1] is h_t
        c_all = x.new_empty(T + 1, B, H)  # (T+1, B, H): c_all[t + 1] is c_t
        tanh_c = x.new_empty(T, B, H)  # (T, B, H)
        # The step's product lands in one small reused buffer that stays in cache; the gates
        # block of step t is read once (the product's C) and written once (the activations).
        pre = x.new_empty(B, 4 * H)  # (B, 4H), one step's pre-activations
        h_all[0] = h0
        c_all[0] = c0
        for t in range(T):
            a = gates[t]  # (B, 4H)
            torch.addmm(a, h_all[t], Wh, out=pre)  # pre-activations
            torch.sigmoid(pre[:, : 2 * H], out=a[:, : 2 * H])  # i, f
            torch.tanh(pre[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])  # g
            torch.sigmoid(pre[:, 3 * H :], out=a[:, 3 * H :])  # o
            i, f, g, o = a.split(H, dim=1)  # 4 x (B, H), views
            torch.mul(f, c_all[t], out=c_all[t + 1]).addcmul_(i, g)  # (B, H)
            torch.tanh(c_all[t + 1], out=tanh_c[t])  # (B, H)
            torch.mul(o, tanh_c[t], out=h_all[t + 1])  # (B, H)
        ctx.save_for_backward(x_2d, Wx, Wh, h_all, c_all, gates, tanh_c)
        return h_all[1:].transpose(0, 1), c_all[T].clone()  # (B, T, H) view, (B, H)

    @staticmethod
    @once_differentiable
    def backward(ctx, dh, dc_last):
        x_2d, Wx, Wh, h_all, c_all, gates, tanh_c = ctx.saved_tensors
        T, B, H = tanh_c.shape
        da = torch.empty_like(gates)  # (T, B, 4H): gradients of the pre-activations
        one = gates.new_ones(())  # a 0-d tensor: addcmul's "1 -" below
        o_times_dtanh = torch.empty_like(h_all[0])  # (B, H), reused at every step
        dh_time_major = dh.transpose(0, 1)  # (T, B, H), a view
        dh_next = torch.zeros_like(h_all[0])  # (B, H), gradient arriving from step t + 1
        dc_next = dc_last.clone()  # (B, H), the gradient on c_T starts the chain
        # Every step works on (B, ...) blocks that stay in cache; nothing of size T is
        # allocated inside the loop.
        for t in reversed(range(T)):
            i, f, g, o = gates[t].split(H, dim=1)  # 4 x (B, H), activated gates
            da_i, da_f, da_g, da_o = da[t].split(H, dim=1)  # 4 x (B, H), views into da
            dh_next += dh_time_major[t]  # now the total gradient on h_t
            # dc_t += dh_t o (1 - tanh(c_t)^2), with o tanh(c_t) = h_t already stored.
            torch.addcmul(o, h_all[t + 1], tanh_c[t], value=-1, out=o_times_dtanh)
            dc_next.addcmul_(o_times_dtanh, dh_next)  # now the total gradient on c_t
            # Local derivatives: s (1 - s) for the sigmoid gates, 1 - g^2 for g.
            torch.addcmul(gates[t], gates[t], gates[t], value=-1, out=da[t])  # (B, 4H)
            torch.addcmul(one, g, g, value=-1, out=da_g)
            da[t].view(B, 4, H)[:, :3] *= dc_next.unsqueeze(1)  # dc_t into da_i, da_f, da_g
            da_o *= dh_next
            da_i *= g  # dc_t / di_t = g_t
            da_f *= c_all[t]  # dc_t / df_t = c_{t-1}
            da_g *= i  # dc_t / dg_t = i_t
            da_o *= tanh_c[t]  # dh_t / do_t = tanh(c_t)
            dc_next *= f  # gradient on c_{t-1}
            torch.mm(da[t], Wh.T, out=dh_next)  # (B, H), gradient on h_{t-1}

        da_2d = da.view(T * B, 4 * H)  # (T*B, 4H)
        needs = ctx.needs_input_grad
        dx, dWx, db = _input_side_gradients(needs, da_2d, x_2d, Wx, B, T)
        dWh = h_all[:-1].reshape(T * B, H).T @ da_2d if needs[3] else None  # (H, 4H)
        return dx, dh_next, dWx, dWh, db, dc_next


class _GRUSequence(torch.autograd.Function):
    """PyTorch's GRU (reset after the product) over a sequence; see :func:`gru_sequence_fast`."""

    @staticmethod
    def forward(ctx, x, h0, Wx, Wh, b, b_hn):
        B, T, _ = x.shape
        H = Wh.shape[0]
        x_2d = _time_major_2d(x)  # (T*B, D)
        # gates holds a_t = x_t @ Wx + b, then in place r, z (activated) and n.
        gates = torch.addmm(b, x_2d, Wx).view(T, B, 3 * H)  # (T, B, 3H)
        # hidden holds u_t = h_{t-1} @ Wh + [0, 0, b_hn]; its n block is what r multiplies.
        hidden = x.new_empty(T, B, 3 * H)  # (T, B, 3H)
        hidden_bias = torch.cat([b_hn.new_zeros(2 * H), b_hn])  # (3H,)
        h_all = x.new_empty(T + 1, B, H)  # (T+1, B, H): h_all[t + 1] is h_t
        h_all[0] = h0
        for t in range(T):
            u = torch.addmm(hidden_bias, h_all[t], Wh, out=hidden[t])  # (B, 3H)
            a = gates[t]  # (B, 3H)
            a[:, : 2 * H].add_(u[:, : 2 * H]).sigmoid_()  # r, z
            r, z, n = a.split(H, dim=1)  # 3 x (B, H), views
            n.addcmul_(r, u[:, 2 * H :]).tanh_()  # n = tanh(a_n + r (u_n + b_hn))
            torch.lerp(n, h_all[t], z, out=h_all[t + 1])  # (1 - z) n + z h_{t-1}, (B, H)
        ctx.save_for_backward(x_2d, Wx, Wh, h_all, gates, hidden)
        return h_all[1:].transpose(0, 1)  # (B, T, H), a view

    @staticmethod
    @once_differentiable
    def backward(ctx, dh):
        x_2d, Wx, Wh, h_all, gates, hidden = ctx.saved_tensors
        T, B, H = h_all.shape[0] - 1, h_all.shape[1], h_all.shape[2]
        # With dh_t the total gradient on h_t, the gradients of the pre-activations are
        #   da_n = dh_t (1 - z)(1 - n^2),   da_z = dh_t (h_{t-1} - n) z (1 - z),
        #   da_r = da_n u_n r (1 - r),      du_n = da_n r,
        # and dh_{t-1} = dh_t z + du_t Wh^T. du (T, B, 3H) = [da_r, da_z, du_n] is the
        # gradient of u_t; that of a_t differs only in its n block, da_n, kept apart.
        du = torch.empty_like(gates)  # (T, B, 3H)
        da_n = gates.new_empty(T, B, H)  # (T, B, H)
        one = gates.new_ones(())  # a 0-d tensor: addcmul's "1 -" below
        h_minus_n = torch.empty_like(h_all[0])  # (B, H), reused at every step
        dh_time_major = dh.transpose(0, 1)  # (T, B, H), a view
        dh_next = torch.zeros_like(h_all[0])  # (B, H), gradient arriving from step t + 1
        # Every step works on (B, ...) blocks that stay in cache; nothing of size T is
        # allocated inside the loop.
        for t in reversed(range(T)):
            r, z, n = gates[t].split(H, dim=1)  # 3 x (B, H)
            du_r, du_z, du_n = du[t].split(H, dim=1)  # 3 x (B, H), views into du
            dh_next += dh_time_major[t]  # now the total gradient on h_t
            rz = gates[t][:, : 2 * H]  # (B, 2H): r and z side by side
            torch.addcmul(rz, rz, rz, value=-1, out=du[t, :, : 2 * H])  # r (1 - r), z (1 - z)
            torch.addcmul(one, n, n, value=-1, out=da_n[t])  # 1 - n^2
            da_n[t] *= dh_next
            da_n[t].addcmul_(da_n[t], z, value=-1)  # times (1 - z)
            du_r *= hidden[t, :, 2 * H :]  # u_n + b_hn
            du_r *= da_n[t]
            torch.sub(h_all[t], n, out=h_minus_n)
            h_minus_n *= dh_next
            du_z *= h_minus_n
            torch.mul(da_n[t], r, out=du_n)
            dh_next.mul_(z).addmm_(du[t], Wh.T)  # (B, H), gradient on h_{t-1}

        du_2d = du.view(T * B, 3 * H)  # (T*B, 3H)
        da = du.clone()  # (T, B, 3H)
        da[:, :, 2 * H :] = da_n
        da_2d = da.view(T * B, 3 * H)  # (T*B, 3H)
        needs = ctx.needs_input_grad
        dx, dWx, db = _input_side_gradients(needs, da_2d, x_2d, Wx, B, T)
        dWh = h_all[:-1].reshape(T * B, H).T @ du_2d if needs[3] else None  # (H, 3H)
        db_hn = du[:, :, 2 * H :].sum(dim=(0, 1)) if needs[5] else None  # (H,)
        return dx, dh_next, dWx, dWh, db, db_hn


def rnn_sequence_fast(
    x: torch.Tensor,
    h0: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
    nonlinearity: str = "tanh",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Elman RNN over a whole sequence, with a hand-written backward.

    .. math::

        h_t = \phi(x_t W_x + h_{t-1} W_h + b), \qquad \phi = \tanh \text{ or } \mathrm{relu}

    The same function as :class:`rnncore.torch.layers.RNN` (one layer) and as
    :func:`rnncore.torch.cells.rnn_cell` looped over time; the backward is that of
    :func:`rnncore.numpy.rnn.rnn_backward`.

    Parameters
    ----------
    x : Tensor of shape (B, T, D)
    h0 : Tensor of shape (B, H)
    Wx : Tensor of shape (D, H)
    Wh : Tensor of shape (H, H)
    b : Tensor of shape (H,)
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    h : Tensor of shape (B, T, H)
        Hidden state at every step.
    h_last : Tensor of shape (B, H)
        ``h[:, -1]``, the final state.
    """
    check_nonlinearity(nonlinearity)
    _check_sequence(1, x, h0, Wx, Wh, b)
    h = _RNNSequence.apply(x, h0, Wx, Wh, b, nonlinearity)  # (B, T, H)
    return h, h[:, -1]


def lstm_sequence_fast(
    x: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    r"""LSTM over a whole sequence (gates i, f, g, o), with a hand-written backward.

    .. math::

        [a^i_t, a^f_t, a^g_t, a^o_t] &= x_t W_x + h_{t-1} W_h + b \\
        i_t = \sigma(a^i_t),\; f_t &= \sigma(a^f_t),\; g_t = \tanh(a^g_t),\;
        o_t = \sigma(a^o_t) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \tanh(c_t)

    The same function as :class:`rnncore.torch.layers.LSTM` (one layer) and as
    :func:`rnncore.torch.cells.lstm_cell` looped over time; the backward is that of
    :func:`rnncore.numpy.lstm.lstm_backward`.

    Parameters
    ----------
    x : Tensor of shape (B, T, D)
    h0 : Tensor of shape (B, H)
    c0 : Tensor of shape (B, H)
    Wx : Tensor of shape (D, 4H)
    Wh : Tensor of shape (H, 4H)
    b : Tensor of shape (4H,)
        One bias: torch.nn's ``b_ih + b_hh`` (see :mod:`rnncore.torch.interop`).

    Returns
    -------
    h : Tensor of shape (B, T, H)
        Hidden state at every step.
    (h_last, c_last) : tuple of two Tensors of shape (B, H)
        The final hidden and cell states.
    """
    _check_sequence(4, x, h0, Wx, Wh, b, c0=c0)
    h, c_last = _LSTMSequence.apply(x, h0, Wx, Wh, b, c0)  # (B, T, H), (B, H)
    return h, (h[:, -1], c_last)


def gru_sequence_fast(
    x: torch.Tensor,
    h0: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
    b_hn: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""PyTorch's GRU (reset gate after the product; gates r, z, n), with a hand-written backward.

    .. math::

        [a^r_t, a^z_t, a^n_t] &= x_t W_x + b, \qquad
        [u^r_t, u^z_t, u^n_t] = h_{t-1} W_h \\
        r_t &= \sigma(a^r_t + u^r_t), \qquad z_t = \sigma(a^z_t + u^z_t) \\
        n_t &= \tanh(a^n_t + r_t \odot (u^n_t + b_{hn})) \\
        h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    The same function as :class:`rnncore.torch.layers.GRU` (one layer, ``reset_after=True``),
    :func:`rnncore.torch.cells.gru_cell` looped over time and torch.nn.GRU; the backward is
    that of :func:`rnncore.numpy.gru.gru_reset_after_backward`.

    Parameters
    ----------
    x : Tensor of shape (B, T, D)
    h0 : Tensor of shape (B, H)
    Wx : Tensor of shape (D, 3H)
    Wh : Tensor of shape (H, 3H)
    b : Tensor of shape (3H,)
        torch.nn's ``b_ih + b_hh`` on the r and z blocks, ``b_in`` on the n block.
    b_hn : Tensor of shape (H,)
        The hidden bias of the candidate, inside the reset gate's product.

    Returns
    -------
    h : Tensor of shape (B, T, H)
        Hidden state at every step.
    h_last : Tensor of shape (B, H)
        ``h[:, -1]``, the final state.
    """
    _check_sequence(3, x, h0, Wx, Wh, b, b_hn=b_hn)
    h = _GRUSequence.apply(x, h0, Wx, Wh, b, b_hn)  # (B, T, H)
    return h, h[:, -1]
