r"""RNN, LSTM and GRU cells in PyTorch, written from the equations (one time step).

The same row-vector layout as :mod:`rnncore.numpy`: a batch of inputs ``x`` is (B, D), a
hidden state ``h_prev`` is (B, H), and

.. math::

    h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad
    W_x \in \mathbb{R}^{D \times H},\; W_h \in \mathbb{R}^{H \times H},\; b \in \mathbb{R}^H.

Gated cells stack their G gates along the last axis in PyTorch's order (LSTM: i, f, g, o;
GRU: r, z, n), so ``Wx`` is (D, G*H), ``Wh`` is (H, G*H) and ``b`` is (G*H,). Autograd gives
the backward pass; :mod:`rnncore.numpy` writes it by hand and the tests check both agree.

Each cell comes in two forms:

* ``lstm_cell(x, h_prev, c_prev, Wx, Wh, b)`` takes the input ``x`` and does everything;
* ``lstm_cell_from_projection(xw, h_prev, c_prev, Wh)`` takes ``xw = x @ Wx + b`` (B, G*H),
  already computed. A sequence layer computes ``xw`` for all T steps in one matrix product
  (hoisting the input projection out of the time loop) and calls this form once per step.

Letters: B batch, D input features, H hidden units, G gates (1 RNN, 4 LSTM, 3 GRU).
"""

from __future__ import annotations

import torch

from rnncore.shapes import check_shape

__all__ = [
    "LSTM_GATES",
    "GRU_GATES",
    "NONLINEARITIES",
    "check_float_tensors",
    "check_nonlinearity",
    "rnn_cell",
    "rnn_cell_from_projection",
    "lstm_cell",
    "lstm_cell_from_projection",
    "gru_cell",
    "gru_cell_from_projection",
    "gru_cell_reset_before",
    "gru_cell_reset_before_from_projection",
]

LSTM_GATES = ("i", "f", "g", "o")
GRU_GATES = ("r", "z", "n")
NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


def check_float_tensors(**tensors) -> torch.dtype:
    """Check that every tensor is a floating-point torch tensor, all in one dtype and device.

    Parameters
    ----------
    **tensors : Tensor
        Keyword arguments ``name=tensor``; ``None`` values are skipped (optional arguments).

    Returns
    -------
    dtype : torch.dtype
        The common dtype.

    Raises
    ------
    ValueError
        ``"x must be a torch floating-point tensor, got torch.int64"``,
        ``"Wx has dtype torch.float32 but x has torch.float64: pass every tensor in one
        dtype"`` or ``"Wx is on cuda:0 but x is on cpu: move every tensor to one device"``.
    """
    first_name, dtype, device = None, None, None
    for name, tensor in tensors.items():
        if tensor is None:
            continue
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{name} must be a torch tensor, got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise ValueError(f"{name} must be a torch floating-point tensor, got {tensor.dtype}")
        if dtype is None:
            first_name, dtype, device = name, tensor.dtype, tensor.device
        elif tensor.dtype != dtype:
            raise ValueError(
                f"{name} has dtype {tensor.dtype} but {first_name} has {dtype}: "
                "pass every tensor in one dtype"
            )
        elif tensor.device != device:
            raise ValueError(
                f"{name} is on {tensor.device} but {first_name} is on {device}: "
                "move every tensor to one device"
            )
    return dtype


def _check_cell(gates: int, x, h_prev, Wx, Wh, b, **extra) -> None:
    """Shapes and dtypes of a cell called with its input ``x`` (``extra`` has (B, H) states)."""
    gate_spec = "H" if gates == 1 else f"{gates}H"
    check_float_tensors(x=x, h_prev=h_prev, Wx=Wx, Wh=Wh, b=b, **extra)
    dims = check_shape("x", x, "B, D")
    check_shape("h_prev", h_prev, "B, H", dims)
    check_shape("Wx", Wx, f"D, {gate_spec}", dims)
    check_shape("Wh", Wh, f"H, {gate_spec}", dims)
    check_shape("b", b, gate_spec, dims)
    for name, state in extra.items():
        if state is not None:
            check_shape(name, state, "H" if name == "b_hn" else "B, H", dims)


def _check_projection(gates: int, xw, h_prev, Wh, **extra) -> None:
    """Shapes and dtypes of a cell called with the projected input ``xw``."""
    gate_spec = "H" if gates == 1 else f"{gates}H"
    check_float_tensors(xw=xw, h_prev=h_prev, Wh=Wh, **extra)
    dims = check_shape("h_prev", h_prev, "B, H")
    check_shape("xw", xw, f"B, {gate_spec}", dims)
    check_shape("Wh", Wh, f"H, {gate_spec}", dims)
    for name, state in extra.items():
        if state is not None:
            check_shape(name, state, "H" if name == "b_hn" else "B, H", dims)


def check_nonlinearity(nonlinearity: str) -> None:
    """Raise ValueError unless ``nonlinearity`` names one of :data:`NONLINEARITIES`."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}"
        )


def rnn_cell_from_projection(
    xw: torch.Tensor,
    h_prev: torch.Tensor,
    Wh: torch.Tensor,
    nonlinearity: str = "tanh",
    check: bool = True,
    recurrent=None,
) -> torch.Tensor:
    r"""One step of a vanilla RNN from the projected input ``xw = x @ Wx + b``.

    .. math::

        h_t = \phi(xw_t + h_{t-1} W_h), \qquad \phi = \tanh \text{ or } \mathrm{relu}

    Parameters
    ----------
    xw : Tensor of shape (B, H)
        ``x_t @ Wx + b``.
    h_prev : Tensor of shape (B, H)
    Wh : Tensor of shape (H, H)
    nonlinearity : {"tanh", "relu"}
    check : bool
        Check shapes and dtypes. Sequence layers check once per sequence and pass False.
    recurrent : callable, optional
        Computes the recurrent projection from ``h_prev`` instead of ``h_prev @ Wh`` (the
        layers pass one for recurrent dropout and layer normalisation); (B, H) -> (B, G*H).

    Returns
    -------
    h_next : Tensor of shape (B, H)
    """
    if check:
        check_nonlinearity(nonlinearity)
        _check_projection(1, xw, h_prev, Wh)
    u = h_prev @ Wh if recurrent is None else recurrent(h_prev)  # (B, H)
    return NONLINEARITIES[nonlinearity](xw + u)  # (B, H)


def rnn_cell(
    x: torch.Tensor,
    h_prev: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
    nonlinearity: str = "tanh",
) -> torch.Tensor:
    r"""One step of a vanilla RNN.

    .. math::

        h_t = \phi(x_t W_x + h_{t-1} W_h + b), \qquad \phi = \tanh \text{ or } \mathrm{relu}

    Parameters
    ----------
    x : Tensor of shape (B, D)
    h_prev : Tensor of shape (B, H)
    Wx : Tensor of shape (D, H)
    Wh : Tensor of shape (H, H)
    b : Tensor of shape (H,)
    nonlinearity : {"tanh", "relu"}

    Returns
    -------
    h_next : Tensor of shape (B, H)
    """
    check_nonlinearity(nonlinearity)
    _check_cell(1, x, h_prev, Wx, Wh, b)
    xw = x @ Wx + b  # (B, H)
    return rnn_cell_from_projection(xw, h_prev, Wh, nonlinearity, check=False)


def lstm_cell_from_projection(
    xw: torch.Tensor,
    h_prev: torch.Tensor,
    c_prev: torch.Tensor,
    Wh: torch.Tensor,
    check: bool = True,
    recurrent=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step of an LSTM from the projected input ``xw = x @ Wx + b``.

    .. math::

        [a_i, a_f, a_g, a_o] &= xw_t + h_{t-1} W_h \\
        i = \sigma(a_i),\; f &= \sigma(a_f),\; g = \tanh(a_g),\; o = \sigma(a_o) \\
        c_t &= f \odot c_{t-1} + i \odot g \\
        h_t &= o \odot \tanh(c_t)

    Parameters
    ----------
    xw : Tensor of shape (B, 4H)
        ``x_t @ Wx + b``, gates in the order i, f, g, o.
    h_prev : Tensor of shape (B, H)
    c_prev : Tensor of shape (B, H)
    Wh : Tensor of shape (H, 4H)
    check : bool
        Check shapes and dtypes. Sequence layers check once per sequence and pass False.
    recurrent : callable, optional
        As for :func:`rnn_cell_from_projection`: (B, H) -> (B, 4H) instead of ``h_prev @ Wh``.

    Returns
    -------
    h_next : Tensor of shape (B, H)
    c_next : Tensor of shape (B, H)
    """
    if check:
        _check_projection(4, xw, h_prev, Wh, c_prev=c_prev)
    a = xw + (h_prev @ Wh if recurrent is None else recurrent(h_prev))  # (B, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)  # 4 x (B, H)
    i = torch.sigmoid(a_i)
    f = torch.sigmoid(a_f)
    g = torch.tanh(a_g)
    o = torch.sigmoid(a_o)
    c_next = f * c_prev + i * g  # (B, H)
    h_next = o * torch.tanh(c_next)  # (B, H)
    return h_next, c_next


def lstm_cell(
    x: torch.Tensor,
    h_prev: torch.Tensor,
    c_prev: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step of an LSTM (gates i, f, g, o, as in torch.nn.LSTM).

    .. math::

        [a_i, a_f, a_g, a_o] &= x_t W_x + h_{t-1} W_h + b \\
        i = \sigma(a_i),\; f &= \sigma(a_f),\; g = \tanh(a_g),\; o = \sigma(a_o) \\
        c_t &= f \odot c_{t-1} + i \odot g \\
        h_t &= o \odot \tanh(c_t)

    Parameters
    ----------
    x : Tensor of shape (B, D)
    h_prev : Tensor of shape (B, H)
    c_prev : Tensor of shape (B, H)
    Wx : Tensor of shape (D, 4H)
    Wh : Tensor of shape (H, 4H)
    b : Tensor of shape (4H,)

    Returns
    -------
    h_next : Tensor of shape (B, H)
    c_next : Tensor of shape (B, H)
    """
    _check_cell(4, x, h_prev, Wx, Wh, b, c_prev=c_prev)
    xw = x @ Wx + b  # (B, 4H)
    return lstm_cell_from_projection(xw, h_prev, c_prev, Wh, check=False)


def gru_cell_from_projection(
    xw: torch.Tensor,
    h_prev: torch.Tensor,
    Wh: torch.Tensor,
    b_hn: torch.Tensor,
    check: bool = True,
    recurrent=None,
) -> torch.Tensor:
    r"""One step of PyTorch's GRU (reset gate applied after the product) from ``xw``.

    .. math::

        [a_r, a_z, a_n] &= xw_t, \qquad [u_r, u_z, u_n] = h_{t-1} W_h \\
        r &= \sigma(a_r + u_r), \qquad z = \sigma(a_z + u_z) \\
        n &= \tanh(a_n + r \odot (u_n + b_{hn})) \\
        h_t &= (1 - z) \odot n + z \odot h_{t-1}

    Parameters
    ----------
    xw : Tensor of shape (B, 3H)
        ``x_t @ Wx + b``, gates in the order r, z, n.
    h_prev : Tensor of shape (B, H)
    Wh : Tensor of shape (H, 3H)
    b_hn : Tensor of shape (H,)
        The hidden bias of the candidate, inside the reset gate's product.
    check : bool
        Check shapes and dtypes. Sequence layers check once per sequence and pass False.
    recurrent : callable, optional
        As for :func:`rnn_cell_from_projection`: (B, H) -> (B, 3H) instead of ``h_prev @ Wh``;
        the interpolation with ``h_prev`` still reads the state itself.

    Returns
    -------
    h_next : Tensor of shape (B, H)
    """
    if check:
        _check_projection(3, xw, h_prev, Wh, b_hn=b_hn)
    a_r, a_z, a_n = xw.chunk(3, dim=1)  # 3 x (B, H)
    u = h_prev @ Wh if recurrent is None else recurrent(h_prev)  # (B, 3H)
    u_r, u_z, u_n = u.chunk(3, dim=1)  # 3 x (B, H)
    r = torch.sigmoid(a_r + u_r)
    z = torch.sigmoid(a_z + u_z)
    n = torch.tanh(a_n + r * (u_n + b_hn))
    return (1 - z) * n + z * h_prev  # (B, H)


def gru_cell(
    x: torch.Tensor,
    h_prev: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
    b_hn: torch.Tensor,
) -> torch.Tensor:
    r"""One step of PyTorch's GRU: the reset gate multiplies ``h_prev @ Wh_n + b_hn``.

    This is what torch.nn.GRU and cuDNN compute.

    .. math::

        r &= \sigma(x_t W_{x,r} + h_{t-1} W_{h,r} + b_r) \\
        z &= \sigma(x_t W_{x,z} + h_{t-1} W_{h,z} + b_z) \\
        n &= \tanh(x_t W_{x,n} + b_n + r \odot (h_{t-1} W_{h,n} + b_{hn})) \\
        h_t &= (1 - z) \odot n + z \odot h_{t-1}

    Parameters
    ----------
    x : Tensor of shape (B, D)
    h_prev : Tensor of shape (B, H)
    Wx : Tensor of shape (D, 3H)
        Gates r, z, n along the last axis.
    Wh : Tensor of shape (H, 3H)
    b : Tensor of shape (3H,)
    b_hn : Tensor of shape (H,)

    Returns
    -------
    h_next : Tensor of shape (B, H)
    """
    _check_cell(3, x, h_prev, Wx, Wh, b, b_hn=b_hn)
    xw = x @ Wx + b  # (B, 3H)
    return gru_cell_from_projection(xw, h_prev, Wh, b_hn, check=False)


def gru_cell_reset_before_from_projection(
    xw: torch.Tensor,
    h_prev: torch.Tensor,
    Wh: torch.Tensor,
    check: bool = True,
) -> torch.Tensor:
    r"""One step of the seed's GRU (reset gate applied before the product) from ``xw``.

    .. math::

        [a_r, a_z, a_n] &= xw_t \\
        r &= \sigma(a_r + h_{t-1} W_{h,r}), \qquad z = \sigma(a_z + h_{t-1} W_{h,z}) \\
        \tilde h_t &= \tanh(a_n + (r \odot h_{t-1}) W_{h,n}) \\
        h_t &= (1 - z) \odot h_{t-1} + z \odot \tilde h_t

    Parameters
    ----------
    xw : Tensor of shape (B, 3H)
        ``x_t @ Wx + b``, gates in the order r, z, n.
    h_prev : Tensor of shape (B, H)
    Wh : Tensor of shape (H, 3H)
    check : bool
        Check shapes and dtypes. Sequence layers check once per sequence and pass False.

    Returns
    -------
    h_next : Tensor of shape (B, H)
    """
    if check:
        _check_projection(3, xw, h_prev, Wh)
    H = h_prev.shape[1]
    a_r, a_z, a_n = xw.chunk(3, dim=1)  # 3 x (B, H)
    u_r, u_z = (h_prev @ Wh[:, : 2 * H]).chunk(2, dim=1)  # 2 x (B, H)
    r = torch.sigmoid(a_r + u_r)
    z = torch.sigmoid(a_z + u_z)
    h_candidate = torch.tanh(a_n + (r * h_prev) @ Wh[:, 2 * H :])  # (B, H)
    return (1 - z) * h_prev + z * h_candidate  # (B, H)


def gru_cell_reset_before(
    x: torch.Tensor,
    h_prev: torch.Tensor,
    Wx: torch.Tensor,
    Wh: torch.Tensor,
    b: torch.Tensor,
) -> torch.Tensor:
    r"""One step of the seed's GRU: the reset gate multiplies ``h_prev`` before ``Wh_n``.

    The same function as :func:`rnncore.numpy.gru.gru_step_forward`. torch.nn.GRU computes
    :func:`gru_cell` instead; no choice of weights makes the two equal in general.

    .. math::

        r &= \sigma(x_t W_{x,r} + h_{t-1} W_{h,r} + b_r) \\
        z &= \sigma(x_t W_{x,z} + h_{t-1} W_{h,z} + b_z) \\
        \tilde h_t &= \tanh(x_t W_{x,n} + (r \odot h_{t-1}) W_{h,n} + b_n) \\
        h_t &= (1 - z) \odot h_{t-1} + z \odot \tilde h_t

    Parameters
    ----------
    x : Tensor of shape (B, D)
    h_prev : Tensor of shape (B, H)
    Wx : Tensor of shape (D, 3H)
        Gates r, z, n along the last axis.
    Wh : Tensor of shape (H, 3H)
    b : Tensor of shape (3H,)

    Returns
    -------
    h_next : Tensor of shape (B, H)
    """
    _check_cell(3, x, h_prev, Wx, Wh, b)
    xw = x @ Wx + b  # (B, 3H)
    return gru_cell_reset_before_from_projection(xw, h_prev, Wh, check=False)
