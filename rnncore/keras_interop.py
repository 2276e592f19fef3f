r"""Weights to and from Keras 3's SimpleRNN, LSTM and GRU layers, for rnncore.numpy.

Keras is imported lazily, inside the functions, and must run on its **torch** backend (the
course installs no TensorFlow): set ``os.environ["KERAS_BACKEND"] = "torch"`` before the first
``import keras``. Letters: D input features, H hidden units.

Keras stores a recurrent cell in the course's row-vector form already, ``x_t @ kernel``::

    kernel             (D, G*H)
    recurrent_kernel   (H, G*H)
    bias               (G*H,), or (2, 3H) for GRU(reset_after=True): input and recurrent bias

so no transpose is needed; what differs is the order of the gates and, for the GRU, the
direction of the update gate.

**SimpleRNN** (G = 1): ``Wx = kernel``, ``Wh = recurrent_kernel``, ``b = bias``;
:func:`rnncore.numpy.rnn.rnn_forward` computes the same h when the activation is tanh.

**LSTM** (G = 4): Keras orders the gates i, f, c, o, which is PyTorch's and rnncore's
i, f, g, o under another name for the candidate, so the arrays are copied as they are, for
:func:`rnncore.numpy.lstm.lstm_forward`.

**GRU** (G = 3): Keras orders the gates z, r, h and mixes with

.. math::

    h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t,

the update-gate direction of PyTorch and the opposite of the seed's
:math:`h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t`. With Keras's blocks
:math:`K = [K^z, K^r, K^h]` (the same for the recurrent kernel and the bias):

- ``reset_after=False`` (reset gate on :math:`h_{t-1}` before the product, the seed's
  candidate): ``Wx = [K^r, -K^z, K^h]``, and likewise ``Wh`` and ``b``, for
  :func:`rnncore.numpy.gru.gru_forward`. The minus sign is
  :func:`rnncore.numpy.gru.flip_update_gate`: since :math:`\sigma(-a) = 1 - \sigma(a)`, the
  seed's gate computed from the negated block is :math:`1 - z_t`, which turns the seed's
  mixing into Keras's exactly.
- ``reset_after=True`` (the default; reset gate after the product, cuDNN's form) with bias
  rows :math:`b_0` (input) and :math:`b_1` (recurrent): ``Wx = [K^r, K^z, K^h]``,
  ``b = [b_0^r + b_1^r, b_0^z + b_1^z, b_0^h]`` and ``b_hn = b_1^h``, for
  :func:`rnncore.numpy.gru.gru_reset_after_forward`. The update gates point the same way, so
  nothing is negated; :math:`b_1^h` sits inside the reset gate's product and stays separate.

Going back, the ``*_to_keras`` functions apply the inverse maps and put a summed bias into the
input row, with 0 in the recurrent row. A layer must have weights (be built) to be read or
written. Only the cell's weights are mapped: options that change what the layer does with
them (``go_backwards``, dropout at training time) are the caller's business.
"""

from __future__ import annotations

import numpy as np

from rnncore.numpy.gru import flip_update_gate
from rnncore.shapes import check_float_arrays, check_shape

__all__ = [
    "simple_rnn_params_from_keras",
    "simple_rnn_params_to_keras",
    "lstm_params_from_keras",
    "lstm_params_to_keras",
    "gru_params_from_keras",
    "gru_params_to_keras",
]


def _keras():
    """The keras module, checked to run on the torch backend."""
    try:
        import keras
    except ImportError as error:  # pragma: no cover - keras is in the course's lock file
        raise ImportError(
            "rnncore.keras_interop needs Keras 3: pip install 'rnncore[keras]'"
        ) from error
    backend = keras.backend.backend()
    if backend != "torch":
        raise RuntimeError(
            f"rnncore.keras_interop needs Keras on the torch backend, but Keras runs on "
            f"{backend!r}: set os.environ['KERAS_BACKEND'] = 'torch' before the first "
            "import of keras (in a new Python process)"
        )
    return keras


def _cell(layer, kind: str):
    """The built Keras cell of ``layer`` (a layer such as keras.layers.GRU, or its cell)."""
    keras = _keras()
    layer_class = getattr(keras.layers, kind)
    cell_class = getattr(keras.layers, kind + "Cell")
    if isinstance(layer, layer_class):
        cell = layer.cell
    elif isinstance(layer, cell_class):
        cell = layer
    else:
        raise ValueError(
            f"layer must be a keras.layers.{kind} or keras.layers.{kind}Cell, "
            f"got {type(layer).__name__}"
        )
    if not cell.built:
        raise ValueError(
            f"layer {layer.name!r} has no weights yet: build it first, by calling it on a batch "
            "or with layer.build((None, None, D))"
        )
    if cell.activation is not keras.activations.tanh:
        raise ValueError(
            f"layer {layer.name!r} must use activation='tanh' (rnncore's cells do), "
            f"got {getattr(cell.activation, '__name__', cell.activation)!r}"
        )
    recurrent_activation = getattr(cell, "recurrent_activation", keras.activations.sigmoid)
    if recurrent_activation is not keras.activations.sigmoid:
        raise ValueError(
            f"layer {layer.name!r} must use recurrent_activation='sigmoid' (rnncore's gates "
            f"do), got {getattr(recurrent_activation, '__name__', recurrent_activation)!r}"
        )
    return cell


def _read(variable, dtype) -> np.ndarray:
    """A new NumPy array with the value of a Keras variable, in ``dtype`` or its own dtype."""
    tensor = variable.value.detach().cpu()  # on the torch backend, a torch Parameter
    if not tensor.is_floating_point() or tensor.dtype.itemsize < 4:
        tensor = tensor.float()  # float16 and bfloat16 have no place in rnncore.numpy
    array = tensor.numpy().copy()  # never shares memory with the layer
    return array if dtype is None else array.astype(dtype)


def _write(variable, value) -> None:
    variable.assign(np.asarray(value, dtype=variable.dtype))


def _read_cell(cell, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """kernel (D, G*H), recurrent_kernel (H, G*H) and the bias, zeros when use_bias=False."""
    kernel = _read(cell.kernel, dtype)  # (D, G*H)
    recurrent_kernel = _read(cell.recurrent_kernel, dtype)  # (H, G*H)
    if cell.use_bias:
        bias = _read(cell.bias, dtype)  # (G*H,) or (2, 3H)
    else:
        bias = np.zeros(kernel.shape[1:], dtype=kernel.dtype)  # (G*H,)
    return kernel, recurrent_kernel, bias


def _check_params(params, keys, gate_spec: str, cell) -> dict:
    """Check the keys, dtypes and shapes of rnncore parameters against a Keras cell."""
    if not isinstance(params, dict) or set(params) != set(keys):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {sorted(keys)}, got {got}")
    check_float_arrays(**params)
    dims = {"D": int(cell.kernel.shape[0]), "H": int(cell.units)}
    check_shape("Wx", params["Wx"], f"D, {gate_spec}", dims)
    check_shape("Wh", params["Wh"], f"H, {gate_spec}", dims)
    check_shape("b", params["b"], gate_spec, dims)
    if "b_hn" in params:
        check_shape("b_hn", params["b_hn"], "H", dims)
    return dims


def _write_cell(cell, kernel, recurrent_kernel, bias) -> None:
    _write(cell.kernel, kernel)
    _write(cell.recurrent_kernel, recurrent_kernel)
    if cell.use_bias:
        _write(cell.bias, bias)
    elif np.any(bias):
        raise ValueError(f"params has nonzero biases but layer {cell.name!r} has use_bias=False")


def _swap_first_two_gates(array: np.ndarray, H: int) -> np.ndarray:
    """Keras's z, r, h <-> rnncore's r, z, n along the last axis (its own inverse)."""
    return np.concatenate(
        [array[..., H : 2 * H], array[..., :H], array[..., 2 * H :]], axis=-1
    )  # (..., 3H)


# --- SimpleRNN ------------------------------------------------------------------------------


def simple_rnn_params_from_keras(layer, dtype=None) -> dict[str, np.ndarray]:
    r"""A keras.layers.SimpleRNN's weights as the arguments of :func:`rnncore.numpy.rnn_forward`.

    .. math::

        h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \quad
        W_x = \mathrm{kernel},\ W_h = \mathrm{recurrent\_kernel},\ b = \mathrm{bias}

    Parameters
    ----------
    layer : keras.layers.SimpleRNN or keras.layers.SimpleRNNCell
        Built, with activation tanh, on the torch backend.
    dtype : numpy dtype, optional
        Convert to this dtype; by default keep the layer's (Keras's float32 stays float32).

    Returns
    -------
    params : dict of ndarray
        ``Wx`` of shape (D, H), ``Wh`` of shape (H, H), ``b`` of shape (H,); new arrays.
    """
    kernel, recurrent_kernel, bias = _read_cell(_cell(layer, "SimpleRNN"), dtype)
    return {"Wx": kernel, "Wh": recurrent_kernel, "b": bias}


def simple_rnn_params_to_keras(params: dict, layer):
    """Write rnncore RNN parameters into a built keras.layers.SimpleRNN, in place.

    Parameters
    ----------
    params : dict of ndarray
        ``Wx`` of shape (D, H), ``Wh`` of shape (H, H), ``b`` of shape (H,), sizes matching
        the layer; converted to the layer's dtype.
    layer : keras.layers.SimpleRNN or keras.layers.SimpleRNNCell

    Returns
    -------
    layer : the same layer, for chaining.
    """
    cell = _cell(layer, "SimpleRNN")
    _check_params(params, ("Wx", "Wh", "b"), "H", cell)
    _write_cell(cell, params["Wx"], params["Wh"], params["b"])
    return layer


# --- LSTM -----------------------------------------------------------------------------------


def lstm_params_from_keras(layer, dtype=None) -> dict[str, np.ndarray]:
    r"""A keras.layers.LSTM's weights as the arguments of :func:`rnncore.numpy.lstm_forward`.

    Keras's gate order i, f, c, o is rnncore's i, f, g, o, so the arrays are the same:

    .. math::

        [i_t, f_t, g_t, o_t] = [\sigma, \sigma, \tanh, \sigma](x_t W_x + h_{t-1} W_h + b),
        \quad W_x = \mathrm{kernel},\ W_h = \mathrm{recurrent\_kernel},\ b = \mathrm{bias}

    Parameters
    ----------
    layer : keras.layers.LSTM or keras.layers.LSTMCell
        Built, activation tanh, recurrent_activation sigmoid, on the torch backend.
    dtype : numpy dtype, optional
        Convert to this dtype; by default keep the layer's.

    Returns
    -------
    params : dict of ndarray
        ``Wx`` of shape (D, 4H), ``Wh`` of shape (H, 4H), ``b`` of shape (4H,); new arrays.
    """
    kernel, recurrent_kernel, bias = _read_cell(_cell(layer, "LSTM"), dtype)
    return {"Wx": kernel, "Wh": recurrent_kernel, "b": bias}


def lstm_params_to_keras(params: dict, layer):
    """Write rnncore LSTM parameters (gates i, f, g, o) into a built keras.layers.LSTM.

    Parameters
    ----------
    params : dict of ndarray
        ``Wx`` of shape (D, 4H), ``Wh`` of shape (H, 4H), ``b`` of shape (4H,).
    layer : keras.layers.LSTM or keras.layers.LSTMCell

    Returns
    -------
    layer : the same layer, for chaining.
    """
    cell = _cell(layer, "LSTM")
    _check_params(params, ("Wx", "Wh", "b"), "4H", cell)
    _write_cell(cell, params["Wx"], params["Wh"], params["b"])
    return layer


# --- GRU ------------------------------------------------------------------------------------


def gru_params_from_keras(layer, dtype=None) -> dict[str, np.ndarray]:
    r"""A keras.layers.GRU's weights as the arguments of the rnncore GRU that computes its h.

    With Keras's blocks :math:`K = [K^z, K^r, K^h]` (kernel, recurrent kernel and bias alike):

    - ``layer.reset_after`` False: :math:`W_x = [K^r, -K^z, K^h]` (the update gate flipped,
      as :func:`rnncore.numpy.flip_update_gate` does), for
      :func:`rnncore.numpy.gru_forward`;
    - ``layer.reset_after`` True: :math:`W_x = [K^r, K^z, K^h]`,
      :math:`b = [b_0^r + b_1^r,\ b_0^z + b_1^z,\ b_0^h]` and :math:`b_{hn} = b_1^h` from the
      bias rows :math:`b_0` (input) and :math:`b_1` (recurrent), for
      :func:`rnncore.numpy.gru_reset_after_forward`.

    Parameters
    ----------
    layer : keras.layers.GRU or keras.layers.GRUCell
        Built, activation tanh, recurrent_activation sigmoid, on the torch backend.
    dtype : numpy dtype, optional
        Convert to this dtype; by default keep the layer's.

    Returns
    -------
    params : dict of ndarray
        ``Wx`` of shape (D, 3H), ``Wh`` of shape (H, 3H), ``b`` of shape (3H,) in the gate
        order r, z, n, and, when ``layer.reset_after``, ``b_hn`` of shape (H,); new arrays.
    """
    cell = _cell(layer, "GRU")
    H = int(cell.units)
    kernel, recurrent_kernel, bias = _read_cell(cell, dtype)
    Wx = _swap_first_two_gates(kernel, H)  # (D, 3H), now r, z, n
    Wh = _swap_first_two_gates(recurrent_kernel, H)  # (H, 3H)
    if not cell.reset_after:
        b = _swap_first_two_gates(bias, H)  # (3H,)
        Wx, Wh, b = flip_update_gate(Wx, Wh, b)  # z -> 1 - z: Keras's mixing, the seed's form
        return {"Wx": Wx, "Wh": Wh, "b": b}
    if bias.ndim == 1:  # use_bias=False gave one row of zeros
        bias = np.stack([bias, bias])  # (2, 3H)
    input_bias, recurrent_bias = bias[0], bias[1]  # (3H,), (3H,)
    b = input_bias.copy()  # (3H,)
    b[: 2 * H] += recurrent_bias[: 2 * H]  # z and r: both biases reach the same sum
    return {
        "Wx": Wx,
        "Wh": Wh,
        "b": _swap_first_two_gates(b, H),  # (3H,)
        "b_hn": recurrent_bias[2 * H :].copy(),  # (H,), multiplied by r: kept apart
    }


def gru_params_to_keras(params: dict, layer):
    """Write rnncore GRU parameters into a built keras.layers.GRU, in place.

    The inverse of :func:`gru_params_from_keras`: for ``reset_after=False`` the parameters of
    :func:`rnncore.numpy.gru_forward` (keys ``Wx``, ``Wh``, ``b``), for ``reset_after=True``
    those of :func:`rnncore.numpy.gru_reset_after_forward` (plus ``b_hn``), whose ``b`` goes to
    the input bias row and ``b_hn`` to the n block of the recurrent row (zeros elsewhere).

    Parameters
    ----------
    params : dict of ndarray
        ``Wx`` of shape (D, 3H), ``Wh`` of shape (H, 3H), ``b`` of shape (3H,), gate order
        r, z, n; and ``b_hn`` of shape (H,) exactly when the layer has ``reset_after=True``.
    layer : keras.layers.GRU or keras.layers.GRUCell

    Returns
    -------
    layer : the same layer, for chaining.
    """
    cell = _cell(layer, "GRU")
    keys = ("Wx", "Wh", "b", "b_hn") if cell.reset_after else ("Wx", "Wh", "b")
    if isinstance(params, dict) and set(params) != set(keys):
        form = "reset_after=True needs" if cell.reset_after else "reset_after=False takes"
        raise ValueError(
            f"layer {cell.name!r} has {form} params with keys {sorted(keys)} "
            f"(gru_reset_after_* has b_hn, gru_* has not), got {sorted(params)}"
        )
    H = _check_params(params, keys, "3H", cell)["H"]
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    if not cell.reset_after:
        Wx, Wh, b = flip_update_gate(Wx, Wh, b)  # back to Keras's update-gate direction
        bias = _swap_first_two_gates(b, H)  # (3H,)
    else:
        bias = np.zeros((2, 3 * H), dtype=b.dtype)  # (2, 3H): input row, recurrent row
        bias[0] = _swap_first_two_gates(b, H)
        bias[1, 2 * H :] = params["b_hn"]
        if not cell.use_bias:
            bias = bias.reshape(-1)  # (6H,), only checked to be zero
    _write_cell(cell, _swap_first_two_gates(Wx, H), _swap_first_two_gates(Wh, H), bias)
    return layer
