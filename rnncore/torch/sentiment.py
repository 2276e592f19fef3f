r"""Training a sentence classifier on the sentiment sentences: batches, loss, predictions.

The pieces between :mod:`rnncore.data.sentiment` (sentences, vocabulary) and
:func:`rnncore.torch.train.train` (the one training loop):

* :func:`encode_examples`: token-id lists and labels of a list of examples;
* :func:`sentence_batches`: an endless stream of random right-padded batches
  ``((ids (B, T), lengths (B,)), labels (B,))``, the form ``train`` consumes;
* :func:`classification_loss`: the mean cross-entropy of a batch, ``loss_fn`` for ``train``;
* :func:`predict`: class predictions for any number of sentences, in batches, in eval mode;
* :func:`init_embedding_from_lexicon`: start one coordinate of every word vector at the word's
  lexicon rating, so that words met only in simple sentences share a direction with the
  words the model learns to negate and contrast.

Letters: B batch, T padded length, V vocabulary, D embedding size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnncore.torch.pooling import pad_batch

__all__ = [
    "encode_examples",
    "sentence_batches",
    "classification_loss",
    "predict",
    "init_embedding_from_lexicon",
]


def encode_examples(examples, vocabulary) -> tuple[list[list[int]], torch.Tensor]:
    """Token ids and labels of ``examples``.

    Parameters
    ----------
    examples : sequence of SentimentExample
    vocabulary : WordVocabulary

    Returns
    -------
    ids : list of B lists of int
    labels : LongTensor of shape (B,)
    """
    if len(examples) == 0:
        raise ValueError("examples must hold at least one example")
    ids = [vocabulary.encode(example.tokens) for example in examples]
    labels = torch.tensor([example.label for example in examples], dtype=torch.long)  # (B,)
    return ids, labels


def sentence_batches(
    ids: Sequence[Sequence[int]],
    labels: torch.Tensor,
    batch_size: int,
    pad_id: int,
    rng: np.random.Generator,
) -> Iterator[tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]]:
    """Endless random batches, each sentence drawn with replacement.

    Parameters
    ----------
    ids : list of N lists of int
    labels : LongTensor of shape (N,)
    batch_size : int
        B.
    pad_id : int
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same batches.

    Yields
    ------
    (ids, lengths), labels : (LongTensor (B, T), LongTensor (B,)), LongTensor (B,)
    """
    if len(ids) != len(labels):
        raise ValueError(f"ids has {len(ids)} sentences but labels has {len(labels)}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    while True:
        chosen = rng.integers(len(ids), size=batch_size)  # (B,)
        batch, lengths = pad_batch([ids[i] for i in chosen], pad_id)  # (B, T), (B,)
        yield (batch, lengths), labels[torch.from_numpy(chosen)]


def classification_loss(model: nn.Module, inputs, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``model(ids, lengths)`` (B, C) against ``targets`` (B,)."""
    batch, lengths = inputs
    return F.cross_entropy(model(batch, lengths), targets)


@torch.no_grad()
def predict(
    model: nn.Module, ids: Sequence[Sequence[int]], pad_id: int, batch_size: int = 512
) -> torch.Tensor:
    """The predicted class of every sentence, with the model in evaluation mode.

    The model's mode is restored afterwards.

    Parameters
    ----------
    model : nn.Module
        ``model(ids (B, T), lengths (B,)) -> logits (B, C)``.
    ids : list of N lists of int
    pad_id : int
    batch_size : int

    Returns
    -------
    predictions : LongTensor of shape (N,), on the CPU
    """
    if len(ids) == 0:
        raise ValueError("ids must hold at least one sentence")
    was_training = model.training
    device = next(model.parameters()).device
    model.eval()
    try:
        parts = []
        for start in range(0, len(ids), batch_size):
            batch, lengths = pad_batch(ids[start : start + batch_size], pad_id)  # (B, T), (B,)
            logits = model(batch.to(device), lengths)  # (B, C)
            parts.append(logits.argmax(dim=1).cpu())
    finally:
        model.train(was_training)
    return torch.cat(parts)  # (N,)


@torch.no_grad()
def init_embedding_from_lexicon(
    embedding: nn.Embedding,
    words: Sequence[str],
    lexicon: Mapping[str, float],
    scale: float = 2.0,
    others_scale: float = 0.3,
    pad_id: int | None = 0,
) -> nn.Embedding:
    r"""Start coordinate 0 of each word's vector at its lexicon rating; shrink the others.

    .. math::

        E_{w,0} = \text{rating}(w) / \text{scale}, \qquad
        E_{w,j} \leftarrow \text{others\_scale} \cdot E_{w,j} \quad (j > 0)

    A word missing from the lexicon gets 0 in coordinate 0. The whole table stays trainable:
    this is a starting point (the role pretrained word vectors play), not a frozen feature.

    Parameters
    ----------
    embedding : nn.Embedding
        Weight (V, D), changed in place.
    words : sequence of V str
        The word of each row (``WordVocabulary.words``).
    lexicon : mapping of str to float
        Word -> rating (``load_vader_lexicon()``).
    scale : float
        Ratings are divided by it (VADER's run from -4 to 4).
    others_scale : float
        Multiplies the other, randomly initialised coordinates.
    pad_id : int or None
        This row is set to zero (the padding's vector).

    Returns
    -------
    embedding : the same module
    """
    weight = embedding.weight  # (V, D)
    if len(words) != weight.shape[0]:
        raise ValueError(
            f"words has {len(words)} entries but the embedding has {weight.shape[0]} rows"
        )
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    ratings = torch.tensor([lexicon.get(word, 0.0) / scale for word in words])  # (V,)
    weight[:, 1:] *= others_scale
    weight[:, 0] = ratings.to(weight)
    if pad_id is not None:
        weight[pad_id] = 0.0
    return embedding
