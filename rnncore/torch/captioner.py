r"""Describing an image with a recurrent decoder: "show, attend and tell" on digit strips.

The encoder (:class:`ColumnEncoder`) is a small convolutional network that turns a strip
image (B, 8, W) into one feature vector per image column, :math:`a_1 \dots a_W` (B, W, F),
each with a learned embedding of its column position added. The decoder
(:class:`Captioner`) is a GRU that writes the caption one token at a time. Following
Xu et al. (2015), at step t it

.. math::

    c_t &= \sum_s \alpha_{t,s}\, a_s, \quad
        \alpha_t = \mathrm{attention}(h_{t-1}, a) && (B, F) \\
    h_t &= \mathrm{GRU}([E y_{t-1};\ c_t],\ h_{t-1}) && (B, H) \\
    p(y_t \mid y_{<t}, \text{image}) &= \mathrm{softmax}([h_t;\ c_t]\, W_{out} + b_{out})
        && (B, V)

with additive attention (:class:`rnncore.torch.attention.AdditiveAttention`) over the real
columns of each strip, and the first state :math:`h_0 = \tanh(\bar a W_{init} + b_{init})`
from the mean :math:`\bar a` of the column features.

With ``attend=False`` the same model becomes the comparison decoder of "show and tell"
(Vinyals et al., 2015), fed only one image vector: the column features, zero-padded to the
widest strip, are flattened and mapped to a single vector,
:math:`g = \mathrm{ReLU}(\mathrm{vec}(a) W_{pool} + b_{pool})` (B, F), which keeps where
each feature sits (a plain mean over the columns would lose the order of the digits). That
vector is the first state's input and every step's context, the same for every token, so the
decoder must remember where it is in the strip and what comes next.

Training uses teacher forcing: the decoder reads the true previous token
(:func:`~rnncore.data.digit_strips.encode_captions`), through
:func:`rnncore.torch.train.train` with :func:`caption_batches` and :func:`caption_loss_fn`.
Decoding uses :func:`rnncore.torch.decode.greedy_decode` or
:func:`~rnncore.torch.decode.beam_search` over :func:`caption_step_fn`, or
:func:`greedy_captions` for a whole batch at once.

Letters: B batch, W columns (the source positions S of the attention), F column features,
C convolution channels, E token embedding, H decoder state, A attention size, V tokens,
T caption steps (digits + 1).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from rnncore.data.digit_strips import (
    BOS,
    DIGIT_SIZE,
    EOS,
    PAD,
    VOCABULARY_SIZE,
    DigitStrips,
    decode_caption,
    encode_captions,
)
from rnncore.shapes import check_shape
from rnncore.torch.attention import AdditiveAttention
from rnncore.torch.padding import length_mask

__all__ = [
    "ColumnEncoder",
    "Captioner",
    "strip_tensors",
    "caption_batches",
    "caption_loss_fn",
    "caption_step_fn",
    "greedy_captions",
    "attention_weights",
]


class ColumnEncoder(nn.Module):
    r"""Two 3 x 3 convolutions, then one feature vector per image column.

    .. math::

        u &= \mathrm{ReLU}(\mathrm{Conv}(\mathrm{ReLU}(\mathrm{Conv}(x)))) && (B, C, 8, W) \\
        a_s &= \mathrm{ReLU}(\mathrm{vec}(u_{:,:,s})\, W_{col} + b_{col}) + P_s && (B, W, F)

    Each column's C x 8 activations (a receptive field 5 columns wide) are mapped to F
    features, and the learned embedding :math:`P_s` of the column index s is added so that
    the attention can tell left from right.

    Parameters
    ----------
    channels : int
        C.
    feature_size : int
        F.
    max_width : int
        The widest strip, W_max: one position embedding per column.
    height : int
        Rows of the image (8 for the digits).
    """

    def __init__(
        self, channels: int, feature_size: int, max_width: int, height: int = DIGIT_SIZE
    ) -> None:
        super().__init__()
        self.height, self.max_width, self.feature_size = height, max_width, feature_size
        self.convolutions = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=(1, 0)),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=(1, 0)),
            nn.ReLU(),
        )
        self.column = nn.Linear(channels * height, feature_size)
        self.position = nn.Embedding(max_width, feature_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Column features.

        Parameters
        ----------
        images : Tensor of shape (B, 8, W)
            W <= max_width.

        Returns
        -------
        features : Tensor of shape (B, W, F)
        """
        dims = check_shape("images", images, "B, 8, W", {"8": self.height})
        if dims["W"] > self.max_width:
            raise ValueError(f"images are {dims['W']} columns wide, max_width={self.max_width}")
        # Two blank columns on each side instead of the convolutions' own zero padding: the
        # features of a column are then those of the same column with more blank strip
        # around it, so right-padding a strip with blank columns changes none of them.
        blank_border = nn.functional.pad(images, (2, 2))  # (B, 8, W + 4)
        u = self.convolutions(blank_border[:, None])  # (B, C, 8, W)
        u = u.flatten(1, 2).transpose(1, 2)  # (B, W, C * 8)
        columns = torch.arange(dims["W"], device=images.device)
        return torch.relu(self.column(u)) + self.position(columns)  # (B, W, F)


class Captioner(nn.Module):
    """CNN column encoder and GRU decoder, with attention over the columns or a pooled vector.

    Parameters
    ----------
    max_width : int
        The widest strip (:func:`rnncore.data.digit_strips.strip_width`).
    channels, feature_size : int
        C and F of :class:`ColumnEncoder`.
    embedding_size : int
        E.
    hidden_size : int
        H.
    attention_size : int
        A, for :class:`~rnncore.torch.attention.AdditiveAttention`.
    attend : bool
        True: attention over the columns (show, attend and tell); False: one learned image
        vector at every step (show and tell).
    vocabulary_size : int
        V: the ten digits, PAD, BOS and EOS.
    """

    def __init__(
        self,
        max_width: int,
        channels: int = 32,
        feature_size: int = 64,
        embedding_size: int = 16,
        hidden_size: int = 128,
        attention_size: int = 64,
        attend: bool = True,
        vocabulary_size: int = VOCABULARY_SIZE,
    ) -> None:
        super().__init__()
        self.attend = attend
        self.hidden_size = hidden_size
        self.encoder = ColumnEncoder(channels, feature_size, max_width)
        self.embedding = nn.Embedding(vocabulary_size, embedding_size)
        self.init_state = nn.Linear(feature_size, hidden_size)
        self.attention = (
            AdditiveAttention(hidden_size, feature_size, attention_size) if attend else None
        )
        # The pooled decoder's one image vector: a learned map of all columns' features.
        self.pool = None if attend else nn.Linear(max_width * feature_size, feature_size)
        self.cell = nn.GRUCell(embedding_size + feature_size, hidden_size)
        self.output = nn.Linear(hidden_size + feature_size, vocabulary_size)

    def encode(self, images: torch.Tensor, widths: torch.Tensor):
        """Column features, the mask of real columns and the decoder's first state.

        Parameters
        ----------
        images : Tensor of shape (B, 8, W)
        widths : LongTensor of shape (B,)
            Real columns of each strip, 1..W.

        Returns
        -------
        memory : tuple
            ``(features (B, W, F), mask (B, W), pooled (B, F), projected_keys (B, W, A) or
            None)``, what every decoder step reads. ``pooled`` is the mean of the real
            columns' features with attention, the learned image vector :math:`g` without.
        h0 : Tensor of shape (B, H)
        """
        dims = check_shape("images", images, "B, 8, W", {"8": self.encoder.height})
        check_shape("widths", widths, "B", dims)
        widths = widths.to(images.device)
        if bool(((widths < 1) | (widths > dims["W"])).any()):
            raise ValueError(f"widths must be in 1..W = 1..{dims['W']}, got {widths.tolist()}")
        features = self.encoder(images)  # (B, W, F)
        mask = length_mask(widths, dims["W"], device=images.device)  # (B, W)
        features_real = features * mask[:, :, None]  # (B, W, F), zero on padding
        if self.attend:
            pooled = features_real.sum(1) / widths[:, None]  # (B, F), the mean column
        else:
            padding = self.encoder.max_width - dims["W"]
            flat = nn.functional.pad(features_real, (0, 0, 0, padding)).flatten(1)  # (B, Wmax F)
            pooled = torch.relu(self.pool(flat))  # (B, F)
        projected = self.attention.project_keys(features) if self.attend else None  # (B, W, A)
        h0 = torch.tanh(self.init_state(pooled))  # (B, H)
        return (features, mask, pooled, projected), h0

    def step(self, tokens: torch.Tensor, h_prev: torch.Tensor, memory):
        """One decoder step: attend, read the previous token, predict the next one.

        Parameters
        ----------
        tokens : LongTensor of shape (B,)
            y_{t-1}: the previous token (BOS at the first step).
        h_prev : Tensor of shape (B, H)
        memory : tuple
            From :meth:`encode`.

        Returns
        -------
        logits : Tensor of shape (B, V)
        h_next : Tensor of shape (B, H)
        weights : Tensor of shape (B, W)
            The attention over the columns (uniform over the real ones if ``attend=False``).
        """
        features, mask, pooled, projected = memory
        if self.attend:
            context, weights = self.attention(
                h_prev, features, features, mask, projected_keys=projected
            )  # (B, F), (B, W)
        else:
            context = pooled  # (B, F)
            weights = mask.to(context.dtype) / mask.sum(
                1, keepdim=True
            )  # (B, W), uniform: no choice of where
        x = torch.cat([self.embedding(tokens), context], dim=1)  # (B, E + F)
        h_next = self.cell(x, h_prev)  # (B, H)
        logits = self.output(torch.cat([h_next, context], dim=1))  # (B, V)
        return logits, h_next, weights

    def forward(self, images: torch.Tensor, widths: torch.Tensor, tokens: torch.Tensor):
        """Teacher forcing: the decoder reads the true previous tokens.

        Parameters
        ----------
        images : Tensor of shape (B, 8, W)
        widths : LongTensor of shape (B,)
        tokens : LongTensor of shape (B, T)
            BOS then the caption (the ``inputs`` of :func:`encode_captions`).

        Returns
        -------
        logits : Tensor of shape (B, T, V)
            Scores of the next token at every step.
        weights : Tensor of shape (B, T, W)
            The attention of every step.
        """
        B = check_shape("images", images, "B, 8, W", {"8": self.encoder.height})["B"]
        check_shape("tokens", tokens, "B, T", {"B": B})
        memory, h = self.encode(images, widths)
        all_logits, all_weights = [], []
        for t in range(tokens.shape[1]):
            logits, h, weights = self.step(tokens[:, t], h, memory)  # (B, V), (B, H), (B, W)
            all_logits.append(logits)
            all_weights.append(weights)
        return torch.stack(all_logits, dim=1), torch.stack(all_weights, dim=1)


def strip_tensors(strips: DigitStrips, rows=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and widths of some strips as tensors, cropped to the widest of them.

    Returns
    -------
    images : Tensor of shape (B, 8, max width), float32
    widths : LongTensor of shape (B,)
    """
    rows = np.arange(len(strips)) if rows is None else np.asarray(rows)
    widths = torch.as_tensor(strips.widths[rows])
    images = torch.as_tensor(strips.images[rows][:, :, : int(widths.max())])
    return images, widths


def caption_batches(strips: DigitStrips, batch_size: int, rng: np.random.Generator) -> Iterator:
    """Endless shuffled batches for :func:`rnncore.torch.train.train` and
    :func:`caption_loss_fn`; each epoch reshuffles, its last partial batch is dropped.

    Yields
    ------
    inputs : (images (B, 8, W), widths (B,), tokens (B, T))
        ``tokens`` is BOS then the caption, PAD-filled.
    targets : LongTensor of shape (B, T)
        The caption then EOS, PAD-filled.
    """
    if not 1 <= batch_size <= len(strips):
        raise ValueError(f"batch_size must be in 1..{len(strips)}, got {batch_size}")
    while True:
        order = rng.permutation(len(strips))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            images, widths = strip_tensors(strips, rows)
            inputs, targets = encode_captions([strips.digits[i] for i in rows])
            yield (images, widths, torch.as_tensor(inputs)), torch.as_tensor(targets)


def caption_loss_fn(model: Captioner, inputs, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the next token over the real (non-PAD) steps of the batch."""
    images, widths, tokens = inputs
    logits, _ = model(images, widths, tokens)  # (B, T, V)
    return nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD
    )


def caption_step_fn(model: Captioner, image: torch.Tensor, width: int):
    """A ``step_fn`` and its start state for :func:`rnncore.torch.decode.greedy_decode` and
    :func:`~rnncore.torch.decode.beam_search`, for one strip.

    The strip is encoded once; ``step_fn(token, h) -> (log_probs (V,), h_next)`` runs one
    decoder step without gradients. Call ``model.eval()`` first; start the search with
    ``start_token=BOS`` and ``end_token=EOS``.

    Parameters
    ----------
    model : Captioner
    image : Tensor of shape (8, W)
    width : int
        Real columns, 1..W.

    Returns
    -------
    step_fn : callable
    start_state : Tensor of shape (1, H)
    """
    device = next(model.parameters()).device
    with torch.no_grad():
        memory, h0 = model.encode(image[None].to(device), torch.tensor([int(width)], device=device))

    def step_fn(token: int, h: torch.Tensor):
        with torch.no_grad():
            logits, h_next, _ = model.step(torch.tensor([token], device=device), h, memory)
            return torch.log_softmax(logits[0], dim=-1), h_next  # (V,), (1, H)

    return step_fn, h0


def greedy_captions(
    model: Captioner, strips: DigitStrips, max_digits: int = 8, batch_size: int = 256
) -> list[tuple[int, ...]]:
    """Greedy captions of many strips, a batch at a time: the same as
    :func:`~rnncore.torch.decode.greedy_decode` over :func:`caption_step_fn` per strip.

    At every step each strip takes its most likely token; a strip is done at its first EOS
    (later tokens are ignored), and all stop after ``max_digits + 1`` tokens. The model runs
    in eval mode; its mode is restored.

    Returns
    -------
    captions : list of N tuples of int
        The digits before the first EOS.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    captions = []
    try:
        with torch.no_grad():
            for start in range(0, len(strips), batch_size):
                images, widths = strip_tensors(
                    strips, range(start, min(start + batch_size, len(strips)))
                )
                memory, h = model.encode(images.to(device), widths.to(device))
                token = torch.full((len(widths),), BOS, dtype=torch.long, device=device)
                produced = []
                for _ in range(max_digits + 1):
                    logits, h, _ = model.step(token, h, memory)  # (B, V)
                    token = logits.argmax(dim=1)  # (B,)
                    produced.append(token)
                    if bool((torch.stack(produced, 1) == EOS).any(1).all()):
                        break
                rows = torch.stack(produced, dim=1).tolist()  # B lists
                captions.extend(decode_caption(row) for row in rows)
    finally:
        model.train(was_training)
    return captions


def attention_weights(model: Captioner, image: torch.Tensor, width: int, digits) -> torch.Tensor:
    """The attention of every step while the model writes ``digits`` then EOS.

    Reads BOS and the digits with teacher forcing; for the model's own greedy or beam caption
    these are exactly the weights it used while producing it.

    Parameters
    ----------
    model : Captioner
    image : Tensor of shape (8, W)
    width : int
    digits : sequence of int
        The caption, without BOS or EOS.

    Returns
    -------
    weights : Tensor of shape (len(digits) + 1, width), on the CPU
        Row t: where the model looked while predicting token t (the last row: EOS).
    """
    device = next(model.parameters()).device
    tokens = torch.tensor([[BOS, *[int(d) for d in digits]]], device=device)  # (1, L + 1)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            _, weights = model(
                image[None].to(device), torch.tensor([int(width)], device=device), tokens
            )
    finally:
        model.train(was_training)
    return weights[0, :, : int(width)].cpu()  # (L + 1, width)
