r"""What a sentence classifier reads: gradient x input saliency over the word vectors.

For a model whose ``embedding`` maps token ids to vectors :math:`e_{bt}` (D,), the saliency of
token t of sentence b for the score :math:`s_b` of a chosen class is

.. math::

    \text{saliency}_{bt} = \frac{\partial s_b}{\partial e_{bt}} \cdot e_{bt},

the first-order estimate of how much the score would change if the word's vector were set to
zero (Simonyan et al., 2014). The sign says which way the word pushes
the score, the size how much. Padding gets 0. Attention weights, the other view, come from
:func:`rnncore.torch.sentence_classifier.attention_weights`.

Letters: B batch, T padded length, D embedding size, C classes.
"""

from __future__ import annotations

import torch
from torch import nn

from rnncore.torch.padding import check_lengths, length_mask

__all__ = ["gradient_times_input"]


def gradient_times_input(
    model: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Gradient x input of each token's vector, for the score of class ``target[b]``.

    Parameters
    ----------
    model : nn.Module
        ``model(ids, lengths) -> logits (B, C)``, with an ``embedding`` submodule that it
        calls on ``ids``. The model is run in evaluation mode; its mode is restored.
    ids : LongTensor of shape (B, T)
        Right-padded token ids.
    lengths : LongTensor of shape (B,)
        True lengths, 1..T.
    target : LongTensor of shape (B,)
        The class whose score each row explains (for example the predicted one).

    Returns
    -------
    saliency : Tensor of shape (B, T)
        Zero on the padding.
    """
    if not isinstance(getattr(model, "embedding", None), nn.Module):
        raise ValueError("model must have an `embedding` submodule that it calls on ids")
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
        raise ValueError("ids must be a torch tensor of shape (B, T)")
    B, T = ids.shape
    check_lengths(lengths, B, T)
    if not isinstance(target, torch.Tensor) or target.shape != (B,):
        raise ValueError(f"target must be a tensor of shape ({B},), one class per sentence")
    captured = []

    def keep_output(module, inputs, output):
        # Replace the vectors by a detached copy that requires grad: the gradient stops
        # there, and the model's parameters collect none.
        vectors = output.detach().requires_grad_(True)
        captured.append(vectors)
        return vectors

    was_training = model.training
    model.eval()
    handle = model.embedding.register_forward_hook(keep_output)
    try:
        with torch.enable_grad():
            logits = model(ids, lengths)  # (B, C)
            if len(captured) != 1:
                raise ValueError("model must call its embedding exactly once per forward pass")
            vectors = captured[0]  # (B, T, D)
            rows = torch.arange(B, device=logits.device)
            score = logits[rows, target.to(logits.device)].sum()
            (gradient,) = torch.autograd.grad(score, vectors)  # (B, T, D)
    finally:
        handle.remove()
        model.train(was_training)
    saliency = (gradient * vectors).sum(dim=-1).detach()  # (B, T)
    mask = length_mask(lengths, T, device=saliency.device)  # (B, T)
    return torch.where(mask, saliency, saliency.new_zeros(()))
