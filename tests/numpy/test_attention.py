"""Additive and dot attention against loops over the batch and torch's softmax."""

import numpy as np
import pytest
import torch

from rnncore.numpy.attention import additive_attention, dot_attention, masked_softmax


def draw(rng, B=3, S=5, Hq=4, Hk=6, Dv=2, A=3):
    lengths = rng.integers(1, S + 1, size=B)
    lengths[0] = S - 1 if S > 1 else 1  # at least one padded row when S > 1
    mask = np.arange(S)[None, :] < lengths[:, None]  # (B, S)
    return {
        "query": rng.standard_normal((B, Hq)),
        "keys": rng.standard_normal((B, S, Hk)),
        "values": rng.standard_normal((B, S, Dv)),
        "mask": mask,
        "Wq": rng.standard_normal((Hq, A)),
        "Wk": rng.standard_normal((Hk, A)),
        "v": rng.standard_normal(A),
    }


def loop_attention(scores_of, a):
    """One example and one position at a time, softmax over the real positions only."""
    B, S = a["mask"].shape
    weights = np.zeros((B, S))
    context = np.zeros((B, a["values"].shape[2]))
    for b in range(B):
        real = [s for s in range(S) if a["mask"][b, s]]
        scores = np.array([scores_of(b, s) for s in real])
        exp = np.exp(scores - scores.max())
        for s, w in zip(real, exp / exp.sum(), strict=True):
            weights[b, s] = w
            context[b] += w * a["values"][b, s]
    return context, weights


@pytest.mark.parametrize("sizes", [(3, 5, 4, 6, 2, 3), (1, 1, 2, 2, 3, 4), (2, 7, 3, 3, 5, 2)])
def test_additive_attention_matches_a_loop(sizes):
    a = draw(np.random.default_rng(0), *sizes)

    def score(b, s):
        return np.tanh(a["query"][b] @ a["Wq"] + a["keys"][b, s] @ a["Wk"]) @ a["v"]

    context, weights = additive_attention(**a)
    expected_context, expected_weights = loop_attention(score, a)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(context, expected_context, rtol=1e-12, atol=1e-14)


def test_dot_attention_matches_torch_masked_softmax():
    a = draw(np.random.default_rng(1), Hq=4, Hk=4)
    context, weights = dot_attention(a["query"], a["keys"], a["values"], a["mask"])
    q, k, v = (torch.tensor(a[n]) for n in ("query", "keys", "values"))
    scores = torch.einsum("bh,bsh->bs", q, k).masked_fill(~torch.tensor(a["mask"]), -torch.inf)
    torch_weights = torch.softmax(scores, dim=1)
    np.testing.assert_allclose(weights, torch_weights.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(context, torch.einsum("bs,bsd->bd", torch_weights, v).numpy())


def test_padding_gets_zero_weight_and_rows_sum_to_one():
    a = draw(np.random.default_rng(2), B=4, S=6)
    a["values"][~a["mask"]] = 1e6  # padding values must not leak into the context
    context, weights = additive_attention(**a)
    assert np.all(weights[~a["mask"]] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    assert np.all(np.abs(context) < 1e3)


def test_masked_softmax_is_stable_for_large_scores():
    scores = np.array([[1000.0, 999.0, -1000.0]])
    weights = masked_softmax(scores, np.array([[True, True, False]]))
    np.testing.assert_allclose(weights, [[1 / (1 + np.exp(-1)), 1 / (1 + np.e), 0.0]])


def test_float32_is_kept():
    a = draw(np.random.default_rng(3))
    a32 = {k: (x.astype(np.float32) if x.dtype == np.float64 else x) for k, x in a.items()}
    context, weights = additive_attention(**a32)
    assert context.dtype == weights.dtype == np.float32


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(mask=a["mask"].astype(int)), "mask must be a NumPy bool array"),
        (lambda a: a["mask"].__setitem__(1, False), "no real position in row 1"),
        (lambda a: a.update(keys=a["keys"][:, :-1]), "values must have shape"),
        (lambda a: a.update(Wk=a["Wk"][:-1]), "Wk must have shape"),
        (lambda a: a.update(v=a["v"][:-1]), "v must have shape"),
        (lambda a: a.update(query=a["query"].astype(np.float32)), "dtype"),
    ],
)
def test_clear_errors(change, message):
    a = draw(np.random.default_rng(4))
    change(a)
    with pytest.raises(ValueError, match=message):
        additive_attention(**a)


def test_dot_attention_needs_equal_query_and_key_sizes():
    a = draw(np.random.default_rng(5), Hq=4, Hk=6)
    with pytest.raises(ValueError, match="keys must have shape"):
        dot_attention(a["query"], a["keys"], a["values"], a["mask"])
