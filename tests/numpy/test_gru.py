"""GRU, both reset-gate placements: gradients, sequence == loop of steps, parity with
torch.nn.GRU, and what maps one convention to the other (and what cannot)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore.numpy import (
    GRU_GATES,
    flip_update_gate,
    gru_backward,
    gru_forward,
    gru_reset_after_backward,
    gru_reset_after_forward,
    gru_reset_after_step_backward,
    gru_reset_after_step_forward,
    gru_step_backward,
    gru_step_forward,
    init_gru,
    sigmoid,
)

CONVENTIONS = {
    "reset_before": (gru_step_forward, gru_step_backward, gru_forward, gru_backward),
    "reset_after": (
        gru_reset_after_step_forward,
        gru_reset_after_step_backward,
        gru_reset_after_forward,
        gru_reset_after_backward,
    ),
}


def make_inputs(rng, B, T, D, H, convention):
    params = init_gru(D, H, rng, reset_after=convention == "reset_after")
    x = rng.normal(size=(B, T, D))  # (B, T, D)
    h0 = rng.normal(size=(B, H))  # (B, H), nonzero on purpose
    return x, h0, params


def test_gate_order_constant():
    assert GRU_GATES == ("r", "z", "n")


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_gru_step_gradients(convention, sizes, rng, check_gradients):
    step_forward, step_backward, _, _ = CONVENTIONS[convention]
    B, T, D, H = sizes
    x, h0, p = make_inputs(rng, B, T, D, H, convention)
    args = (x[:, 0], h0, *p.values())
    h_next, cache = step_forward(*args)
    dh_next = rng.normal(size=h_next.shape)
    grads = step_backward(dh_next, cache)
    names = ["x", "h_prev", *p]
    check_gradients(lambda *a: step_forward(*a)[0], args, grads, dh_next, names)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_gru_sequence_gradients(convention, sizes, rng, check_gradients):
    _, _, forward, backward = CONVENTIONS[convention]
    B, T, D, H = sizes
    x, h0, p = make_inputs(rng, B, T, D, H, convention)
    args = (x, h0, *p.values())
    h, cache = forward(*args)
    dh = rng.normal(size=h.shape)
    grads = backward(dh, cache)
    check_gradients(lambda *a: forward(*a)[0], args, grads, dh, ["x", "h0", *p])


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_gru_sequence_equals_loop_of_steps(convention, sizes, rng):
    step_forward, step_backward, forward, backward = CONVENTIONS[convention]
    B, T, D, H = sizes
    x, h0, p = make_inputs(rng, B, T, D, H, convention)
    h, cache = forward(x, h0, **p)

    h_prev, step_caches, outputs = h0, [], []
    for t in range(T):
        h_prev, step_cache = step_forward(x[:, t], h_prev, **p)
        outputs.append(h_prev)
        step_caches.append(step_cache)
    np.testing.assert_allclose(h, np.stack(outputs, axis=1), rtol=0, atol=1e-12)

    dh = rng.normal(size=h.shape)
    dx, dh0, *parameter_grads = backward(dh, cache)
    dh_next = np.zeros((B, H))
    dx_loop = np.empty_like(x)
    sums = [0] * len(parameter_grads)
    for t in reversed(range(T)):
        dx_loop[:, t], dh_next, *step_grads = step_backward(dh[:, t] + dh_next, step_caches[t])
        sums = [total + grad for total, grad in zip(sums, step_grads, strict=True)]
    for ours, desired in zip([dx, dh0, *parameter_grads], [dx_loop, dh_next, *sums], strict=True):
        np.testing.assert_allclose(ours, desired, rtol=0, atol=1e-12)


def torch_gru_weights(reference):
    """(Wx, Wh, b, b_hn) of the reset-after GRU that computes what ``reference`` computes."""
    H = reference.hidden_size
    b_ih, b_hh = reference.bias_ih_l0.detach().numpy(), reference.bias_hh_l0.detach().numpy()
    Wx = reference.weight_ih_l0.detach().numpy().T.copy()  # (D, 3H)
    Wh = reference.weight_hh_l0.detach().numpy().T.copy()  # (H, 3H)
    b = np.concatenate([b_ih[: 2 * H] + b_hh[: 2 * H], b_ih[2 * H :]])  # (3H,)
    b_hn = b_hh[2 * H :].copy()  # (H,)
    return Wx, Wh, b, b_hn


@settings(max_examples=25, deadline=None)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 4),
    D=st.integers(1, 4),
    H=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_gru_reset_after_matches_torch(B, T, D, H, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    reference = torch.nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    Wx, Wh, b, b_hn = torch_gru_weights(reference)
    x, h0, dh = rng.normal(size=(B, T, D)), rng.normal(size=(B, H)), rng.normal(size=(B, T, H))

    h, cache = gru_reset_after_forward(x, h0, Wx, Wh, b, b_hn)
    dx, dh0, dWx, dWh, db, db_hn = gru_reset_after_backward(dh, cache)

    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)  # (1, B, H)
    h_t, _ = reference(x_t, h0_t)
    (h_t * torch.tensor(dh)).sum().backward()
    b_ih_grad, b_hh_grad = reference.bias_ih_l0.grad.numpy(), reference.bias_hh_l0.grad.numpy()
    close = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(h, h_t.detach().numpy(), **close)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), **close)
    np.testing.assert_allclose(dh0, h0_t.grad[0].numpy(), **close)
    np.testing.assert_allclose(dWx, reference.weight_ih_l0.grad.numpy().T, **close)
    np.testing.assert_allclose(dWh, reference.weight_hh_l0.grad.numpy().T, **close)
    np.testing.assert_allclose(db, b_ih_grad, **close)  # r, z: b_ih and b_hh; n: b_ih only
    np.testing.assert_allclose(db[: 2 * H], b_hh_grad[: 2 * H], **close)
    np.testing.assert_allclose(db_hn, b_hh_grad[2 * H :], **close)


def test_torch_gru_is_not_the_reset_before_gru(rng):
    """The seed's equations with torch's weights give a different function (guards a mix-up)."""
    torch.manual_seed(0)
    reference = torch.nn.GRU(3, 4, batch_first=True, dtype=torch.float64)
    Wx, Wh, b, b_hn = torch_gru_weights(reference)
    x, h0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    h_torch = reference(torch.tensor(x), torch.tensor(h0[None]))[0].detach().numpy()
    np.testing.assert_allclose(gru_reset_after_forward(x, h0, Wx, Wh, b, b_hn)[0], h_torch)
    for Wx_try, Wh_try, b_try in [(Wx, Wh, b), flip_update_gate(Wx, Wh, b)]:
        assert np.abs(gru_forward(x, h0, Wx_try, Wh_try, b_try)[0] - h_torch).max() > 1e-3


# --- the update gate: an exact map ---------------------------------------------------------


def reset_before_step_with_other_update_sign(x, h_prev, Wx, Wh, b):
    """The seed's step written with the other update sign: h = z h_prev + (1 - z) h~."""
    H = h_prev.shape[1]
    a = x @ Wx + b  # (B, 3H)
    r = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])  # (B, H)
    z = sigmoid(a[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H])  # (B, H)
    candidate = np.tanh(a[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :])  # (B, H)
    return z * h_prev + (1 - z) * candidate  # (B, H)


def reset_after_step_with_other_update_sign(x, h_prev, Wx, Wh, b, b_hn):
    """PyTorch's step written with the other update sign: h = z n + (1 - z) h_prev."""
    H = h_prev.shape[1]
    a = x @ Wx + b  # (B, 3H)
    r = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])  # (B, H)
    z = sigmoid(a[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H])  # (B, H)
    n = np.tanh(a[:, 2 * H :] + r * (h_prev @ Wh[:, 2 * H :] + b_hn))  # (B, H)
    return z * n + (1 - z) * h_prev  # (B, H)


def test_flip_update_gate_maps_one_update_sign_to_the_other(rng):
    """sigmoid(-a) = 1 - sigmoid(a): negating the z block swaps the roles of z and 1 - z."""
    p = init_gru(3, 4, rng, reset_after=True)
    x, h_prev = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    Wx, Wh, b = flip_update_gate(p["Wx"], p["Wh"], p["b"])

    ours = gru_step_forward(x, h_prev, p["Wx"], p["Wh"], p["b"])[0]
    other = reset_before_step_with_other_update_sign(x, h_prev, Wx, Wh, b)
    np.testing.assert_allclose(ours, other, rtol=0, atol=1e-14)
    # Without the flip the two signs disagree, so the map is doing the work.
    unflipped = reset_before_step_with_other_update_sign(x, h_prev, p["Wx"], p["Wh"], p["b"])
    assert np.abs(ours - unflipped).max() > 1e-2

    ours = gru_reset_after_step_forward(x, h_prev, **p)[0]
    other = reset_after_step_with_other_update_sign(x, h_prev, Wx, Wh, b, p["b_hn"])
    np.testing.assert_allclose(ours, other, rtol=0, atol=1e-14)


def test_flip_update_gate_touches_only_z_and_is_its_own_inverse(rng):
    p = init_gru(3, 4, rng)
    flipped = flip_update_gate(p["Wx"], p["Wh"], p["b"])
    for original, new in zip((p["Wx"], p["Wh"], p["b"]), flipped, strict=True):
        assert new is not original
        np.testing.assert_array_equal(new[..., 4:8], -original[..., 4:8])  # z block
        np.testing.assert_array_equal(new[..., :4], original[..., :4])  # r block
        np.testing.assert_array_equal(new[..., 8:], original[..., 8:])  # n block
    for original, twice in zip((p["Wx"], p["Wh"], p["b"]), flip_update_gate(*flipped), strict=True):
        np.testing.assert_array_equal(twice, original)


# --- the reset gate: different functions ---------------------------------------------------


def test_reset_placements_differ_with_identical_weights(rng):
    """Same weights, b_hn = 0, update signs matched by flip_update_gate: still different.

    The only remaining difference is the candidate's recurrent term. Before the product it is
    (r * h) @ Wh_n = h @ diag(r) @ Wh_n; after the product it is r * (h @ Wh_n) =
    h @ Wh_n @ diag(r). These agree for every h only if diag(r) Wh_n = Wh_n diag(r), that is
    Wh_n[j, k] (r_k - r_j) = 0 for all j, k. Since r changes with the input and the state, its
    entries are not all equal in general, so Wh_n must be diagonal (H = 1 is the trivial
    case). With b_hn != 0 there is one more term, r * b_hn, which depends on the input through
    r and which the reset-before form has no parameter for. So neither family of weights can
    reproduce the other in general; the two forms coincide only in special cases (below).
    """
    B, T, D, H = 4, 6, 3, 5
    p = init_gru(D, H, rng)
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    Wx, Wh, b = flip_update_gate(p["Wx"], p["Wh"], p["b"])
    before = gru_forward(x, h0, Wx, Wh, b)[0]
    after = gru_reset_after_forward(x, h0, p["Wx"], p["Wh"], p["b"], np.zeros(H))[0]
    assert np.abs(before - after).max() > 1e-3

    # The reason, on one state: the two recurrent terms differ by h (diag(r) W - W diag(r)).
    Wh_n = p["Wh"][:, 2 * H :]  # (H, H)
    r = sigmoid(rng.normal(size=H))  # (H,)
    h = rng.normal(size=(1, H))  # (1, H)
    commutator = np.diag(r) @ Wh_n - Wh_n @ np.diag(r)  # (H, H)
    np.testing.assert_allclose((r * h) @ Wh_n - r * (h @ Wh_n), h @ commutator, atol=1e-14)
    assert np.abs(commutator).max() > 1e-3
    diagonal = np.diag(np.diag(Wh_n))
    np.testing.assert_array_equal(np.diag(r) @ diagonal, diagonal @ np.diag(r))


def test_reset_placements_coincide_when_the_reset_gate_is_open(rng):
    """r == 1 (large reset bias) and b_hn = 0: both candidates are tanh(x Wx_n + h Wh_n + b_n)."""
    B, T, D, H = 3, 5, 4, 2
    p = init_gru(D, H, rng)
    p["b"][:H] = 50.0  # sigmoid(50 + small) rounds to 1.0 in float64
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    after, cache = gru_reset_after_forward(x, h0, p["Wx"], p["Wh"], p["b"], np.zeros(H))
    assert np.all(cache.gates[:, :, :H] == 1.0)
    before = gru_forward(x, h0, *flip_update_gate(p["Wx"], p["Wh"], p["b"]))[0]
    np.testing.assert_allclose(before, after, rtol=0, atol=1e-12)


def test_reset_placements_coincide_when_Wh_n_is_diagonal(rng):
    """A diagonal Wh_n commutes with diag(r); with b_hn = 0 the two forms then agree."""
    B, T, D, H = 3, 5, 4, 3
    p = init_gru(D, H, rng)
    p["Wh"][:, 2 * H :] = np.diag(rng.normal(size=H))
    x, h0 = rng.normal(size=(B, T, D)), rng.normal(size=(B, H))
    after = gru_reset_after_forward(x, h0, p["Wx"], p["Wh"], p["b"], np.zeros(H))[0]
    before = gru_forward(x, h0, *flip_update_gate(p["Wx"], p["Wh"], p["b"]))[0]
    np.testing.assert_allclose(before, after, rtol=0, atol=1e-12)
    # ... but not with a hidden bias inside the reset gate, which varies with r.
    after_with_bias = gru_reset_after_forward(x, h0, **p, b_hn=np.ones(H))[0]
    assert np.abs(before - after_with_bias).max() > 1e-3


def test_init_gru_shapes_and_reset_after_bias():
    params = init_gru(3, 8, np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {"Wx": (3, 24), "Wh": (8, 24), "b": (24,)}
    params = init_gru(3, 8, np.random.default_rng(0), np.float32, reset_after=True)
    assert params["b_hn"].shape == (8,)
    for value in params.values():
        assert value.dtype == np.float32
        assert np.abs(value).max() <= 1 / np.sqrt(8)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        init_gru(3, 8, None)
