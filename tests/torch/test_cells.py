"""The functional cells against torch.nn's cells, and the two forms of each cell."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from rnncore.numpy.gru import flip_update_gate
from rnncore.torch import cells

TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}
B, D, H = 3, 4, 5


def random(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=generator)


def torch_cell_params(cell: torch.nn.Module) -> dict:
    """Row-layout parameters of a torch.nn.*Cell (the same mapping interop uses)."""
    params = {"Wx": cell.weight_ih.T, "Wh": cell.weight_hh.T}
    if isinstance(cell, torch.nn.GRUCell):
        params["b"] = torch.cat([(cell.bias_ih + cell.bias_hh)[: 2 * H], cell.bias_ih[2 * H :]])
        params["b_hn"] = cell.bias_hh[2 * H :]
    else:
        params["b"] = cell.bias_ih + cell.bias_hh
    return {name: p.detach() for name, p in params.items()}


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch_rnn_cell(nonlinearity):
    torch.manual_seed(0)
    reference = torch.nn.RNNCell(D, H, nonlinearity=nonlinearity, dtype=torch.float64)
    x, h_prev = random(B, D, seed=1), random(B, H, seed=2)
    h_next = cells.rnn_cell(x, h_prev, **torch_cell_params(reference), nonlinearity=nonlinearity)
    assert h_next.shape == (B, H)
    assert_allclose(h_next.numpy(), reference(x, h_prev).detach().numpy(), **TOLERANCE)


def test_relu_and_tanh_rnn_cells_differ():
    torch.manual_seed(0)
    params = torch_cell_params(torch.nn.RNNCell(D, H, dtype=torch.float64))
    x, h_prev = random(B, D, seed=1), random(B, H, seed=2)
    h_relu = cells.rnn_cell(x, h_prev, **params, nonlinearity="relu")
    h_tanh = cells.rnn_cell(x, h_prev, **params)
    assert (h_relu >= 0).all()
    assert (h_tanh < 0).any()
    assert not torch.allclose(h_relu, h_tanh)


def test_lstm_cell_matches_torch_lstm_cell():
    torch.manual_seed(0)
    reference = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    x, h_prev, c_prev = random(B, D, seed=1), random(B, H, seed=2), random(B, H, seed=3)
    h_next, c_next = cells.lstm_cell(x, h_prev, c_prev, **torch_cell_params(reference))
    h_ref, c_ref = reference(x, (h_prev, c_prev))
    assert h_next.shape == c_next.shape == (B, H)
    assert_allclose(h_next.numpy(), h_ref.detach().numpy(), **TOLERANCE)
    assert_allclose(c_next.numpy(), c_ref.detach().numpy(), **TOLERANCE)


def test_gru_cell_matches_torch_gru_cell():
    torch.manual_seed(0)
    reference = torch.nn.GRUCell(D, H, dtype=torch.float64)
    x, h_prev = random(B, D, seed=1), random(B, H, seed=2)
    h_next = cells.gru_cell(x, h_prev, **torch_cell_params(reference))
    assert_allclose(h_next.numpy(), reference(x, h_prev).detach().numpy(), **TOLERANCE)


def test_gru_cell_without_b_hn_is_not_torch_gru_cell():
    """Summing b_hn into b (the RNN/LSTM rule) gives a different function for the GRU."""
    torch.manual_seed(0)
    reference = torch.nn.GRUCell(D, H, dtype=torch.float64)
    params = torch_cell_params(reference)
    params["b"] = params["b"] + torch.cat([torch.zeros(2 * H, dtype=torch.float64), params["b_hn"]])
    params["b_hn"] = torch.zeros(H, dtype=torch.float64)
    x, h_prev = random(B, D, seed=1), random(B, H, seed=2)
    h_summed = cells.gru_cell(x, h_prev, **params)
    assert not torch.allclose(h_summed, reference(x, h_prev).detach())


def test_projection_forms_equal_the_full_cells():
    x, h_prev, c_prev = random(B, D, seed=1), random(B, H, seed=2), random(B, H, seed=3)
    b_hn = random(H, seed=4)
    forms = {
        "rnn": (
            1,
            lambda Wx, Wh, b: cells.rnn_cell(x, h_prev, Wx, Wh, b),
            lambda xw, Wh: cells.rnn_cell_from_projection(xw, h_prev, Wh),
        ),
        "lstm": (
            4,
            lambda Wx, Wh, b: cells.lstm_cell(x, h_prev, c_prev, Wx, Wh, b),
            lambda xw, Wh: cells.lstm_cell_from_projection(xw, h_prev, c_prev, Wh),
        ),
        "gru": (
            3,
            lambda Wx, Wh, b: cells.gru_cell(x, h_prev, Wx, Wh, b, b_hn),
            lambda xw, Wh: cells.gru_cell_from_projection(xw, h_prev, Wh, b_hn),
        ),
        "gru reset before": (
            3,
            lambda Wx, Wh, b: cells.gru_cell_reset_before(x, h_prev, Wx, Wh, b),
            lambda xw, Wh: cells.gru_cell_reset_before_from_projection(xw, h_prev, Wh),
        ),
    }
    for gates, full, from_projection in forms.values():
        Wx, Wh, b = random(D, gates * H, seed=5), random(H, gates * H, seed=6), random(gates * H)
        xw = x @ Wx + b  # (B, G*H)
        torch.testing.assert_close(from_projection(xw, Wh), full(Wx, Wh, b), rtol=0, atol=0)


def test_reset_after_and_reset_before_agree_only_where_a_mapping_exists():
    """Diagonal Wh_n, b_hn = 0 and the update gate flipped: then the two GRUs coincide.

    (r * h) @ W = h @ diag(r) W and r * (h @ W) = h @ W diag(r) are equal for every r only when
    W is diagonal; z -> 1 - z is exact through flip_update_gate.
    """
    x, h_prev = random(B, D, seed=1), random(B, H, seed=2)
    Wx, Wh, b = random(D, 3 * H, seed=3), random(H, 3 * H, seed=4), random(3 * H, seed=5)
    b_hn = torch.zeros(H, dtype=torch.float64)
    h_after = cells.gru_cell(x, h_prev, Wx, Wh, b, b_hn)
    flipped = [torch.from_numpy(a) for a in flip_update_gate(Wx.numpy(), Wh.numpy(), b.numpy())]
    # Full Wh_n: the functions differ.
    assert not torch.allclose(cells.gru_cell_reset_before(x, h_prev, *flipped), h_after)
    # Diagonal Wh_n: equal.
    Wh_diagonal = Wh.clone()
    Wh_diagonal[:, 2 * H :] = torch.diag(torch.diagonal(Wh[:, 2 * H :]))
    h_after = cells.gru_cell(x, h_prev, Wx, Wh_diagonal, b, b_hn)
    flipped = [
        torch.from_numpy(a) for a in flip_update_gate(Wx.numpy(), Wh_diagonal.numpy(), b.numpy())
    ]
    torch.testing.assert_close(cells.gru_cell_reset_before(x, h_prev, *flipped), h_after)


def test_cells_keep_float32():
    x, h_prev = random(B, D).float(), random(B, H).float()
    Wx, Wh, b = random(D, 4 * H).float(), random(H, 4 * H).float(), random(4 * H).float()
    h_next, c_next = cells.lstm_cell(x, h_prev, h_prev, Wx, Wh, b)
    assert h_next.dtype == c_next.dtype == torch.float32


def test_cells_do_not_modify_their_inputs():
    x, h_prev, c_prev = random(B, D, seed=1), random(B, H, seed=2), random(B, H, seed=3)
    Wx, Wh, b = random(D, 4 * H, seed=4), random(H, 4 * H, seed=5), random(4 * H, seed=6)
    before = [t.clone() for t in (x, h_prev, c_prev, Wx, Wh, b)]
    cells.lstm_cell(x, h_prev, c_prev, Wx, Wh, b)
    for original, copy in zip((x, h_prev, c_prev, Wx, Wh, b), before, strict=True):
        assert torch.equal(original, copy)


def test_check_float_tensors_accepts_one_dtype_and_rejects_others():
    assert cells.check_float_tensors(a=random(2), b=random(3), c=None) == torch.float64
    with pytest.raises(ValueError, match="x must be a torch floating-point tensor, got torch.int"):
        cells.check_float_tensors(x=torch.arange(3))
    with pytest.raises(ValueError, match="x must be a torch tensor, got ndarray"):
        cells.check_float_tensors(x=np.zeros(3))
    with pytest.raises(
        ValueError, match="Wx has dtype torch.float32 but x has torch.float64: pass every tensor"
    ):
        cells.check_float_tensors(x=random(2), Wx=random(2).float())


def test_check_nonlinearity():
    cells.check_nonlinearity("relu")
    with pytest.raises(ValueError, match="nonlinearity must be one of \\['relu', 'tanh'\\]"):
        cells.check_nonlinearity("sigmoid")
