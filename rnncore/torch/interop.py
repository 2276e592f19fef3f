r"""Weights to and from torch.nn.RNN, torch.nn.LSTM and torch.nn.GRU.

torch.nn stores, for layer ``l`` (suffix ``_reverse`` for the backward direction)::

    weight_ih_l{l}   (G*H, D_l)   column form: W_ih @ x_t
    weight_hh_l{l}   (G*H, H)
    bias_ih_l{l}     (G*H,)
    bias_hh_l{l}     (G*H,)

and rnncore uses the row form ``x_t @ Wx`` with one bias::

    Wx = weight_ih.T   (D_l, G*H)
    Wh = weight_hh.T   (H, G*H)
    b  = bias_ih + bias_hh   (G*H,)

**Gate order.** Both stack the gates in the same order along the G*H axis (LSTM i, f, g, o;
GRU r, z, n), so a transpose is the whole mapping: no block is permuted.

**Why the two biases are summed.** In an RNN or LSTM both biases are added to the same
pre-activation, ``x W_ih^T + b_ih + h W_hh^T + b_hh``; only their sum reaches the output, so one
bias ``b = b_ih + b_hh`` computes the same function. Going back, ``b_ih = b`` and ``b_hh = 0`` is
one of the infinitely many splits with that sum.

**Why the GRU's b_hn cannot be summed.** The GRU's candidate multiplies the hidden part,
bias included, by the reset gate:

.. math::

    n = \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn}))

``b_in`` is added outside the product with ``r`` and ``b_hn`` inside it, so they act
differently whenever r != 1. The r and z blocks are summed as above; the n block keeps
``b_in`` in ``b[2H:]`` and ``b_hn`` as a separate parameter (H,).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from rnncore.shapes import check_shape
from rnncore.torch import layers

__all__ = [
    "params_from_torch",
    "params_to_torch",
    "load_from_torch",
    "to_torch_module",
    "numpy_params_from_torch",
]

_GATES = {nn.RNN: 1, nn.LSTM: 4, nn.GRU: 3}
_MATCHING = {layers.RNN: nn.RNN, layers.LSTM: nn.LSTM, layers.GRU: nn.GRU}


def _gate_count(module: nn.Module) -> int:
    for kind, gates in _GATES.items():
        if type(module) is kind:
            if getattr(module, "proj_size", 0):
                raise ValueError(
                    "LSTM with proj_size > 0 is not supported: rnncore has no projection"
                )
            return gates
    raise ValueError(
        f"module must be a torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU, got {type(module).__name__}"
    )


def _torch_names(layer: int, direction: int) -> dict[str, str]:
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
    return {
        "W_ih": "weight_ih" + suffix,
        "W_hh": "weight_hh" + suffix,
        "b_ih": "bias_ih" + suffix,
        "b_hh": "bias_hh" + suffix,
    }


def params_from_torch(module: nn.Module) -> list[list[dict[str, torch.Tensor]]]:
    """Read a torch.nn.RNN/LSTM/GRU's weights in rnncore's row-vector layout.

    Parameters
    ----------
    module : torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU
        Any number of layers, either direction setting, batch_first or not.

    Returns
    -------
    params : list of lists of dicts of Tensor
        ``params[layer][direction]`` has ``Wx`` (D_l, G*H), ``Wh`` (H, G*H), ``b`` (G*H,) and,
        for the GRU, ``b_hn`` (H,). New tensors, detached, on the module's device and dtype.
    """
    gates = _gate_count(module)
    H = module.hidden_size
    num_directions = 2 if module.bidirectional else 1
    params = []
    with torch.no_grad():
        for layer in range(module.num_layers):
            directions = []
            for direction in range(num_directions):
                names = _torch_names(layer, direction)
                W_ih = getattr(module, names["W_ih"])  # (G*H, D_l)
                W_hh = getattr(module, names["W_hh"])  # (G*H, H)
                if module.bias:
                    b_ih = getattr(module, names["b_ih"])  # (G*H,)
                    b_hh = getattr(module, names["b_hh"])  # (G*H,)
                else:
                    b_ih = b_hh = W_ih.new_zeros(gates * H)  # (G*H,)
                entry = {"Wx": W_ih.T.clone(), "Wh": W_hh.T.clone()}  # (D_l, G*H), (H, G*H)
                if gates == 3:
                    entry["b"] = torch.cat([b_ih[: 2 * H] + b_hh[: 2 * H], b_ih[2 * H :]])  # (3H,)
                    entry["b_hn"] = b_hh[2 * H :].clone()  # (H,)
                else:
                    entry["b"] = b_ih + b_hh  # (G*H,)
                directions.append(entry)
            params.append(directions)
    return params


def params_to_torch(params: list[list[dict[str, torch.Tensor]]], module: nn.Module) -> nn.Module:
    """Load rnncore-layout weights into an existing torch.nn.RNN/LSTM/GRU, in place.

    ``weight_ih = Wx.T``, ``weight_hh = Wh.T``, ``bias_ih = b``, ``bias_hh = 0``, except the
    GRU's ``bias_hh[2H:] = b_hn``. Values are converted to the module's dtype and device.

    Parameters
    ----------
    params : list of lists of dicts of Tensor
        ``params[layer][direction]`` as returned by :func:`params_from_torch`.
    module : torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU
        The module to overwrite; its sizes must match ``params``.

    Returns
    -------
    module : the same module, for chaining.
    """
    gates = _gate_count(module)
    H = module.hidden_size
    num_directions = 2 if module.bidirectional else 1
    gate_spec = "H" if gates == 1 else f"{gates}H"
    device = module.weight_ih_l0.device

    def on_device(value) -> torch.Tensor:  # an array or a tensor, read on the module's device
        return torch.as_tensor(value, device=device)

    if len(params) != module.num_layers:
        raise ValueError(f"params has {len(params)} layers, module has {module.num_layers}")
    with torch.no_grad():
        for layer, directions in enumerate(params):
            if len(directions) != num_directions:
                raise ValueError(
                    f"params[{layer}] has {len(directions)} directions, module has {num_directions}"
                )
            D_l = module.input_size if layer == 0 else num_directions * H
            for direction, entry in enumerate(directions):
                where = f"params[{layer}][{direction}]"
                expected_keys = {"Wx", "Wh", "b"} | ({"b_hn"} if gates == 3 else set())
                if set(entry) != expected_keys:
                    raise ValueError(
                        f"{where} must have keys {sorted(expected_keys)}, got {sorted(entry)}"
                    )
                dims = {"D": D_l, "H": H}
                check_shape(f"{where}['Wx']", entry["Wx"], f"D, {gate_spec}", dims)
                check_shape(f"{where}['Wh']", entry["Wh"], f"H, {gate_spec}", dims)
                check_shape(f"{where}['b']", entry["b"], gate_spec, dims)
                if gates == 3:
                    check_shape(f"{where}['b_hn']", entry["b_hn"], "H", dims)
                names = _torch_names(layer, direction)
                getattr(module, names["W_ih"]).copy_(on_device(entry["Wx"]).T)
                getattr(module, names["W_hh"]).copy_(on_device(entry["Wh"]).T)
                if not module.bias:
                    if on_device(entry["b"]).any() or (
                        gates == 3 and on_device(entry["b_hn"]).any()
                    ):
                        raise ValueError(
                            f"{where} has nonzero biases but the module was built with bias=False"
                        )
                    continue
                getattr(module, names["b_ih"]).copy_(on_device(entry["b"]))
                b_hh = getattr(module, names["b_hh"])
                b_hh.zero_()
                if gates == 3:
                    b_hh[2 * H :].copy_(on_device(entry["b_hn"]))
    return module


def _check_pair(ours: nn.Module, theirs: nn.Module) -> None:
    """Raise ValueError unless the rnncore layer and the torch.nn module compute alike."""
    kind = _MATCHING.get(type(ours))
    if kind is None:
        raise ValueError(
            "our_module must be an rnncore.torch.layers RNN, LSTM or GRU, "
            f"got {type(ours).__name__}"
        )
    if type(theirs) is not kind:
        raise ValueError(
            f"torch_module must be a torch.nn.{kind.__name__} to match {type(ours).__name__}, "
            f"got {type(theirs).__name__}"
        )
    _gate_count(theirs)
    for name in ("input_size", "hidden_size", "num_layers", "bidirectional"):
        if getattr(ours, name) != getattr(theirs, name):
            raise ValueError(
                f"{name} differs: {getattr(ours, name)} in our module, "
                f"{getattr(theirs, name)} in torch_module"
            )
    if isinstance(ours, layers.RNN) and ours.nonlinearity != theirs.nonlinearity:
        raise ValueError(
            f"nonlinearity differs: {ours.nonlinearity!r} in our module, "
            f"{theirs.nonlinearity!r} in torch_module"
        )
    if isinstance(ours, layers.GRU) and not ours.reset_after:
        raise ValueError(
            "torch.nn.GRU computes the reset-after GRU; a GRU with reset_after=False has no "
            "torch.nn equivalent"
        )


def load_from_torch(our_module: nn.Module, torch_module: nn.Module) -> nn.Module:
    """Copy a torch.nn.RNN/LSTM/GRU's weights into the matching rnncore layer, in place.

    Parameters
    ----------
    our_module : rnncore.torch.layers.RNN, LSTM or GRU (reset_after=True)
    torch_module : torch.nn.RNN, LSTM or GRU with the same sizes (batch_first either way)

    Returns
    -------
    our_module : the same module, for chaining; its dtype and device are kept.
    """
    _check_pair(our_module, torch_module)
    with torch.no_grad():
        for ours, theirs in zip(our_module.weights, params_from_torch(torch_module), strict=True):
            for our_weights, their_weights in zip(ours, theirs, strict=True):
                for name, value in their_weights.items():
                    our_weights[name].copy_(value)
    return our_module


def to_torch_module(our_module: nn.Module) -> nn.Module:
    """Build the torch.nn module (batch_first=True) that computes what ``our_module`` does.

    Parameters
    ----------
    our_module : rnncore.torch.layers.RNN, LSTM or GRU (reset_after=True)

    Returns
    -------
    module : torch.nn.RNN, LSTM or GRU
        On the device and in the dtype of ``our_module``, with the same dropout, weights
        loaded by :func:`params_to_torch`.
    """
    kind = _MATCHING.get(type(our_module))
    if kind is None:
        raise ValueError(
            "our_module must be an rnncore.torch.layers RNN, LSTM or GRU, "
            f"got {type(our_module).__name__}"
        )
    reference = our_module.weights[0][0]["Wx"]
    options = {}
    if kind is nn.RNN:
        options["nonlinearity"] = our_module.nonlinearity
    module = kind(
        our_module.input_size,
        our_module.hidden_size,
        num_layers=our_module.num_layers,
        bidirectional=our_module.bidirectional,
        dropout=our_module.dropout,
        batch_first=True,
        device=reference.device,
        dtype=reference.dtype,
        **options,
    )
    _check_pair(our_module, module)
    params = [[dict(weights) for weights in directions] for directions in our_module.weights]
    return params_to_torch(params, module)


def numpy_params_from_torch(
    module: nn.Module, layer: int = 0, direction: int = 0, dtype=None
) -> dict[str, np.ndarray]:
    """One layer and direction of a torch.nn.RNN/LSTM/GRU as NumPy arrays for rnncore.numpy.

    The keys match the NumPy functions' arguments, so
    ``rnn_forward(x, h0, **numpy_params_from_torch(module))`` runs the same RNN (for the GRU,
    ``gru_reset_after_forward``; for the LSTM, ``lstm_forward``).

    Parameters
    ----------
    module : torch.nn.RNN, torch.nn.LSTM or torch.nn.GRU
    layer : int
        Which layer, 0 to num_layers - 1.
    direction : int
        0 forward, 1 backward (bidirectional modules only).
    dtype : numpy dtype, optional
        Convert to this dtype; by default keep the module's (float32 stays float32).

    Returns
    -------
    params : dict of ndarray
        ``Wx`` of shape (D_l, G*H), ``Wh`` of shape (H, G*H), ``b`` of shape (G*H,) and,
        for the GRU, ``b_hn`` of shape (H,). New arrays; the module is not shared.
    """
    _gate_count(module)
    if not 0 <= layer < module.num_layers:
        raise ValueError(f"layer must be in 0..{module.num_layers - 1}, got {layer}")
    num_directions = 2 if module.bidirectional else 1
    if not 0 <= direction < num_directions:
        raise ValueError(f"direction must be in 0..{num_directions - 1}, got {direction}")
    entry = params_from_torch(module)[layer][direction]
    arrays = {}
    for name, tensor in entry.items():
        array = tensor.detach().cpu().numpy().copy()
        arrays[name] = array if dtype is None else array.astype(dtype)
    return arrays
