"""The torch attention modules compute the NumPy reference's equations on the same weights."""

import numpy as np
import pytest
import torch

from rnncore.numpy.attention import additive_attention, dot_attention
from rnncore.torch.attention import AdditiveAttention, MultiplicativeAttention, masked_softmax


def draw(seed, B=3, S=5, Hq=4, Hk=6, Dv=2):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, S + 1, size=B)
    lengths[0] = max(S - 1, 1)  # at least one padded row when S > 1
    mask = np.arange(S)[None, :] < lengths[:, None]  # (B, S)
    return {
        "query": rng.standard_normal((B, Hq)),
        "keys": rng.standard_normal((B, S, Hk)),
        "values": rng.standard_normal((B, S, Dv)),
        "mask": mask,
    }


def as_torch(arrays):
    return {name: torch.from_numpy(array) for name, array in arrays.items()}


@pytest.mark.parametrize("sizes", [(3, 5, 4, 6, 2, 3), (1, 1, 2, 2, 3, 4), (2, 7, 3, 3, 5, 2)])
def test_additive_attention_equals_the_numpy_reference(sizes):
    B, S, Hq, Hk, Dv, A = sizes
    a = draw(0, B, S, Hq, Hk, Dv)
    module = AdditiveAttention(Hq, Hk, A).double()
    Wq, Wk, v = (p.detach().numpy() for p in (module.Wq, module.Wk, module.v))
    expected = additive_attention(**a, Wq=Wq, Wk=Wk, v=v)
    context, weights = module(**as_torch(a))
    assert context.shape == (B, Dv) and weights.shape == (B, S)
    np.testing.assert_allclose(context.detach().numpy(), expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.detach().numpy(), expected[1], rtol=1e-12, atol=1e-12)


def test_additive_attention_with_precomputed_keys_is_the_same():
    a = as_torch(draw(1))
    module = AdditiveAttention(4, 6, 3).double()
    plain = module(**a)
    cached = module(**a, projected_keys=module.project_keys(a["keys"]))
    for x, y in zip(plain, cached, strict=True):
        torch.testing.assert_close(x, y)


@pytest.mark.parametrize("sizes", [(3, 5, 4, 2), (1, 1, 2, 3), (2, 7, 3, 5)])
def test_dot_attention_equals_the_numpy_reference(sizes):
    B, S, H, Dv = sizes
    a = draw(2, B, S, H, H, Dv)
    expected = dot_attention(**a)
    context, weights = MultiplicativeAttention(H, H, score="dot")(**as_torch(a))
    np.testing.assert_allclose(context.numpy(), expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected[1], rtol=1e-12, atol=1e-12)


def test_general_attention_is_dot_attention_on_the_projected_query():
    a = draw(3, Hq=4, Hk=6)
    module = MultiplicativeAttention(4, 6, score="general").double()
    W = module.W.detach().numpy()
    expected = dot_attention(a["query"] @ W, a["keys"], a["values"], a["mask"])
    context, weights = module(**as_torch(a))
    np.testing.assert_allclose(context.detach().numpy(), expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.detach().numpy(), expected[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "module", [AdditiveAttention(4, 4, 3), MultiplicativeAttention(4, 4, score="general")]
)
def test_padding_gets_weight_zero_and_does_not_change_the_context(module):
    torch.manual_seed(0)
    query, keys, values = torch.randn(2, 4), torch.randn(2, 6, 4), torch.randn(2, 6, 3)
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    context, weights = module(query, keys, values, mask)
    assert torch.all(weights[0, 4:] == 0)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))
    # The padded row equals the same row cut to its real length, with padding garbage ignored.
    keys2, values2 = keys.clone(), values.clone()
    keys2[0, 4:], values2[0, 4:] = 1e3, -1e3
    context2, _ = module(query, keys2, values2, mask)
    torch.testing.assert_close(context2[0], context[0])
    alone, _ = module(query[:1], keys[:1, :4], values[:1, :4])
    torch.testing.assert_close(alone[0], context[0])


def test_no_mask_means_every_position_is_real():
    torch.manual_seed(1)
    module = AdditiveAttention(3, 5, 4)
    query, keys, values = torch.randn(2, 3), torch.randn(2, 4, 5), torch.randn(2, 4, 2)
    full = torch.ones(2, 4, dtype=torch.bool)
    for x, y in zip(module(query, keys, values), module(query, keys, values, full), strict=True):
        torch.testing.assert_close(x, y)


def test_gradients_flow_to_every_parameter():
    torch.manual_seed(2)
    for module in (AdditiveAttention(3, 5, 4), MultiplicativeAttention(3, 5)):
        query, keys = torch.randn(2, 3), torch.randn(2, 4, 5)
        context, _ = module(query, keys, keys)
        context.sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_masked_softmax_matches_softmax_over_real_positions():
    scores = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 9.0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    weights = masked_softmax(scores, mask)
    torch.testing.assert_close(weights[0, :2], torch.softmax(scores[0, :2], dim=0))
    assert weights[0, 2] == 0
    torch.testing.assert_close(weights[1], torch.softmax(scores[1], dim=0))


def test_errors_name_the_problem():
    module = AdditiveAttention(4, 6, 3)
    query, keys, values = torch.randn(2, 4), torch.randn(2, 5, 6), torch.randn(2, 5, 1)
    with pytest.raises(ValueError, match="keys must have shape"):
        module(query, torch.randn(2, 5, 7), values)
    with pytest.raises(ValueError, match="mask must be a torch bool tensor"):
        module(query, keys, values, torch.ones(2, 5))
    with pytest.raises(ValueError, match="no real position in row 1"):
        module(query, keys, values, torch.tensor([[True] * 5, [False] * 5]))
    with pytest.raises(ValueError, match="query_size == key_size"):
        MultiplicativeAttention(4, 6, score="dot")
    with pytest.raises(ValueError, match="score must be"):
        MultiplicativeAttention(4, 6, score="scaled")
