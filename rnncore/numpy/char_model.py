"""A character-level language model: embedding, vanilla RNN, affine read-out, softmax loss.

Built only from the pieces of :mod:`rnncore.numpy` (chapter 4 of the course derives the
backward pass that :func:`char_rnn_backward` chains together). For a batch of character ids
``inputs`` of shape (B, T) the model computes

.. math::

    x_t = W_{embed}[c_t], \\qquad
    h_t = \\tanh(x_t W_x + h_{t-1} W_h + b), \\qquad
    s_t = h_t W_{out} + b_{out}, \\qquad
    p(c_{t+1} \\mid c_{\\le t}) = \\mathrm{softmax}(s_t)

and is trained to put high probability on ``targets``, the next character at every position.

Letters: B batch, T time steps, V vocabulary size, D embedding size, H hidden units.

Truncated backpropagation through time (:func:`train_char_rnn`) cuts a long text into
consecutive windows of T characters: the last hidden state of one window is the first hidden
state of the next (the forward pass sees the whole history), but gradients stop at the
window boundary (the backward pass sees at most T steps).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from rnncore.numpy.layers import (
    affine_forward,
    embedding_backward,
    embedding_forward,
    softmax,
    temporal_affine_backward,
    temporal_affine_forward,
)
from rnncore.numpy.losses import temporal_softmax_loss
from rnncore.numpy.optim import clip_grad_norm
from rnncore.numpy.rnn import init_rnn, rnn_backward, rnn_forward, rnn_step_forward
from rnncore.shapes import check_float_arrays, check_shape

__all__ = [
    "CHAR_RNN_PARAMETERS",
    "HISTORY_KEYS",
    "CharRNNCache",
    "init_char_rnn",
    "char_rnn_forward",
    "char_rnn_backward",
    "char_rnn_loss",
    "sample_characters",
    "evaluate_nats_per_character",
    "train_char_rnn",
]

#: The parameter names, in the order of the computation.
CHAR_RNN_PARAMETERS = ("W_embed", "Wx", "Wh", "b", "W_out", "b_out")

#: What :func:`train_char_rnn` records.
HISTORY_KEYS = ("loss", "grad_norm", "evaluate_step", "evaluate_nats")

#: Held-out text is read as this many parallel streams, in windows of this many characters.
EVALUATE_BATCH_SIZE, EVALUATE_SEQ_LEN = 16, 256


class CharRNNCache(NamedTuple):
    """What :func:`char_rnn_backward` needs from :func:`char_rnn_forward`."""

    embedding: tuple  # cache of embedding_forward
    rnn: tuple  # cache of rnn_forward
    readout: tuple  # cache of temporal_affine_forward


def init_char_rnn(
    V: int, D: int, H: int, rng: np.random.Generator, dtype=np.float64
) -> dict[str, np.ndarray]:
    """Random initial parameters of a character-level RNN language model.

    Parameters
    ----------
    V : int
        Vocabulary size (number of distinct characters).
    D : int
        Embedding size: each character becomes a vector of D numbers.
    H : int
        Hidden units of the RNN.
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : numpy dtype, default float64

    Returns
    -------
    params : dict of str to ndarray
        ``W_embed`` (V, D), ``Wx`` (D, H), ``Wh`` (H, H), ``b`` (H,) from
        :func:`rnncore.numpy.rnn.init_rnn`, ``W_out`` (H, V) and ``b_out`` (V,) (zeros, so
        that the first prediction is close to uniform).
    """
    for name, size in (("V", V), ("D", D), ("H", H)):
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    W_embed = rng.standard_normal((V, D)).astype(dtype)  # (V, D)
    rnn_params = init_rnn(D, H, rng, dtype=dtype)  # Wx (D, H), Wh (H, H), b (H,)
    # Scaled by 1/sqrt(H) so that the initial scores are small and the first loss is near log V.
    W_out = (rng.standard_normal((H, V)) / np.sqrt(H)).astype(dtype)  # (H, V)
    b_out = np.zeros(V, dtype=dtype)  # (V,)
    return {
        "W_embed": W_embed,
        "Wx": rnn_params["Wx"],
        "Wh": rnn_params["Wh"],
        "b": rnn_params["b"],
        "W_out": W_out,
        "b_out": b_out,
    }


def _check_params(params: dict[str, np.ndarray]) -> dict[str, int]:
    """Check names, shapes and dtype of ``params``; return the sizes V, D, H."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
    missing = [name for name in CHAR_RNN_PARAMETERS if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {CHAR_RNN_PARAMETERS}")
    check_float_arrays(**{name: params[name] for name in CHAR_RNN_PARAMETERS})
    dims: dict[str, int] = {}
    check_shape("W_embed", params["W_embed"], "V, D", dims)
    check_shape("Wx", params["Wx"], "D, H", dims)
    check_shape("Wh", params["Wh"], "H, H", dims)
    check_shape("b", params["b"], "H", dims)
    check_shape("W_out", params["W_out"], "H, V", dims)
    check_shape("b_out", params["b_out"], "V", dims)
    return dims


def _check_ids(name: str, ids, spec: str, dims: dict[str, int]) -> None:
    """Check that ``ids`` is an integer array of shape ``spec`` with values in [0, V)."""
    if not isinstance(ids, np.ndarray) or not np.issubdtype(ids.dtype, np.integer):
        kind = ids.dtype if isinstance(ids, np.ndarray) else type(ids).__name__
        raise ValueError(f"{name} must be a NumPy integer array of character ids, got {kind}")
    check_shape(name, ids, spec, dims)
    if ids.size and (ids.min() < 0 or ids.max() >= dims["V"]):
        raise ValueError(
            f"{name} must hold ids in [0, V) = [0, {dims['V']}), "
            f"got values in [{ids.min()}, {ids.max()}]"
        )


def char_rnn_forward(
    params: dict[str, np.ndarray], inputs: np.ndarray, h0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, CharRNNCache]:
    """Scores for the next character at every position of ``inputs``.

    Parameters
    ----------
    params : dict of str to ndarray
        As returned by :func:`init_char_rnn`.
    inputs : ndarray of int of shape (B, T)
        Character ids in [0, V).
    h0 : ndarray of shape (B, H), optional
        Initial hidden state; zeros when omitted.

    Returns
    -------
    scores : ndarray of shape (B, T, V)
        Unnormalised log-probabilities of the next character.
    h_last : ndarray of shape (B, H)
        The last hidden state, a copy, to start the next window with (truncated BPTT).
    cache : CharRNNCache
    """
    dims = _check_params(params)
    _check_ids("inputs", inputs, "B, T", dims)
    dtype = params["Wx"].dtype
    if h0 is None:
        h0 = np.zeros((inputs.shape[0], dims["H"]), dtype=dtype)  # (B, H)
    check_shape("h0", h0, "B, H", dims)
    check_float_arrays(Wx=params["Wx"], h0=h0)
    x, embedding_cache = embedding_forward(inputs, params["W_embed"])  # (B, T, D)
    h, rnn_cache = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])  # (B, T, H)
    W_out, b_out = params["W_out"], params["b_out"]
    scores, readout_cache = temporal_affine_forward(h, W_out, b_out)  # (B, T, V)
    h_last = h[:, -1, :].copy()  # (B, H)
    return scores, h_last, CharRNNCache(embedding_cache, rnn_cache, readout_cache)


def char_rnn_backward(dscores: np.ndarray, cache: CharRNNCache) -> dict[str, np.ndarray]:
    """Gradients of every parameter, given the upstream gradient of the scores.

    The gradient with respect to ``h0`` is dropped: in truncated BPTT the initial state is a
    constant carried over from the previous window.

    Parameters
    ----------
    dscores : ndarray of shape (B, T, V)
        Gradient of the loss with respect to ``scores``.
    cache : CharRNNCache
        From :func:`char_rnn_forward`.

    Returns
    -------
    grads : dict of str to ndarray
        One gradient per parameter, with the parameter's name and shape.
    """
    dh, dW_out, db_out = temporal_affine_backward(dscores, cache.readout)  # (B, T, H)
    dx, _dh0, dWx, dWh, db = rnn_backward(dh, cache.rnn)  # dx (B, T, D)
    dW_embed = embedding_backward(dx, cache.embedding)  # (V, D)
    return {"W_embed": dW_embed, "Wx": dWx, "Wh": dWh, "b": db, "W_out": dW_out, "b_out": db_out}


def char_rnn_loss(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray | None = None,
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """Mean next-character cross-entropy (nats), its gradients, and the last hidden state.

    .. math::

        L = -\\frac{1}{BT} \\sum_{b=1}^{B} \\sum_{t=1}^{T} \\log p(\\text{targets}_{b,t}
            \\mid \\text{inputs}_{b,1..t}, h_0)

    Parameters
    ----------
    params : dict of str to ndarray
        As returned by :func:`init_char_rnn`.
    inputs : ndarray of int of shape (B, T)
        Character ids in [0, V).
    targets : ndarray of int of shape (B, T)
        The character that follows each input (usually ``inputs`` shifted by one).
    h0 : ndarray of shape (B, H), optional
        Initial hidden state (zeros when omitted). No gradient flows into it.

    Returns
    -------
    loss : float
        Mean cross-entropy in nats per character.
    grads : dict of str to ndarray
        Gradient of ``loss`` for every parameter, same names and shapes as ``params``.
    h_last : ndarray of shape (B, H)
        The last hidden state, to carry into the next window.
    """
    scores, h_last, cache = char_rnn_forward(params, inputs, h0)  # (B, T, V)
    dims = {"B": inputs.shape[0], "T": inputs.shape[1], "V": scores.shape[2]}
    _check_ids("targets", targets, "B, T", dims)
    loss, dscores = temporal_softmax_loss(scores, targets)  # dscores (B, T, V)
    grads = char_rnn_backward(dscores, cache)
    return float(loss), grads, h_last


def sample_characters(
    params: dict[str, np.ndarray],
    start_ids: np.ndarray,
    length: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
) -> np.ndarray:
    """Generate ``length`` characters, one at a time, after reading ``start_ids``.

    Each new character is drawn from :math:`\\mathrm{softmax}(s_t / \\tau)` and fed back as
    the next input. A temperature :math:`\\tau < 1` sharpens the distribution (towards the
    most likely character, the argmax, as :math:`\\tau \\to 0`); :math:`\\tau > 1` flattens it.

    Parameters
    ----------
    params : dict of str to ndarray
        As returned by :func:`init_char_rnn`.
    start_ids : ndarray of int of shape (T,)
        The prompt, at least one character; the model reads it before generating.
    length : int
        How many characters to generate (0 or more).
    rng : numpy.random.Generator
        The only source of randomness.
    temperature : float, default 1.0
        Positive.

    Returns
    -------
    ids : ndarray of int64 of shape (length,)
        The generated characters (the prompt is not included).
    """
    dims = _check_params(params)
    _check_ids("start_ids", start_ids, "T", dims)
    if start_ids.shape[0] < 1:
        raise ValueError("start_ids must hold at least one character, got shape (0,)")
    if int(length) != length or length < 0:
        raise ValueError(f"length must be a non-negative integer, got {length!r}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    # Read the prompt in one call; the scores at its last position predict the first new char.
    scores, h, _ = char_rnn_forward(params, start_ids[None, :])  # (1, T, V), h (1, H)
    next_scores = scores[:, -1, :]  # (1, V)
    generated = np.empty(int(length), dtype=np.int64)  # (length,)
    for position in range(int(length)):
        probabilities = softmax(next_scores[0] / temperature)  # (V,)
        next_id = rng.choice(dims["V"], p=probabilities)
        generated[position] = next_id
        x = params["W_embed"][[next_id]]  # (1, D)
        h, _ = rnn_step_forward(x, h, params["Wx"], params["Wh"], params["b"])  # (1, H)
        next_scores, _ = affine_forward(h, params["W_out"], params["b_out"])  # (1, V)
    return generated


def _streams(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut ``ids`` into ``batch_size`` equal, consecutive streams, one per row.

    Returns an array of shape (B, N // B); the last ``N % B`` ids are dropped.
    """
    stream_length = ids.shape[0] // batch_size
    return ids[: batch_size * stream_length].reshape(batch_size, stream_length)  # (B, N // B)


def evaluate_nats_per_character(
    params: dict[str, np.ndarray], ids: np.ndarray, seq_len: int, batch_size: int = 1
) -> float:
    """Cross-entropy of the model on held-out text, in nats per character.

    The text is cut into ``batch_size`` consecutive streams that are read in windows of
    ``seq_len`` characters; the hidden state is carried from one window to the next, so the
    model sees the whole preceding stream, as when it reads the text in one go. Every character
    of a stream except its first is predicted once (up to ``batch_size - 1`` characters at the
    end of ``ids`` that do not fill a stream are left out).

    Parameters
    ----------
    params : dict of str to ndarray
        As returned by :func:`init_char_rnn`.
    ids : ndarray of int of shape (N,)
        Encoded held-out text, N > batch_size.
    seq_len : int
        Window length T. Only memory and speed depend on it, not the result.
    batch_size : int, default 1
        Number of parallel streams B.

    Returns
    -------
    nats : float
        Mean of :math:`-\\log p(c_{t+1} \\mid c_{\\le t})` over the predicted characters.
    """
    dims = _check_params(params)
    _check_ids("ids", ids, "N", dims)
    if int(seq_len) != seq_len or seq_len < 1:
        raise ValueError(f"seq_len must be a positive integer, got {seq_len!r}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if ids.shape[0] < 2 * batch_size:
        raise ValueError(
            f"ids must hold at least 2 * batch_size = {2 * batch_size} characters, "
            f"got {ids.shape[0]}"
        )
    streams = _streams(ids, int(batch_size))  # (B, N // B)
    total_nats, total_count = 0.0, 0
    h = None
    for start in range(0, streams.shape[1] - 1, int(seq_len)):
        stop = min(start + int(seq_len), streams.shape[1] - 1)
        inputs = streams[:, start:stop]  # (B, T)
        targets = streams[:, start + 1 : stop + 1]  # (B, T)
        scores, h, _ = char_rnn_forward(params, inputs, h)  # (B, T, V)
        loss, _ = temporal_softmax_loss(scores, targets)
        total_nats += float(loss) * targets.size
        total_count += targets.size
    return total_nats / total_count


def train_char_rnn(
    params: dict[str, np.ndarray],
    train_ids: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    seq_len: int,
    optimizer,
    clip_norm: float | None,
    rng: np.random.Generator,
    truncated: bool = True,
    evaluate_ids: np.ndarray | None = None,
    evaluate_every: int = 0,
    callback: Callable[[int, float], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, list]]:
    """Train the model with (truncated) backpropagation through time.

    With ``truncated=True`` the training text is cut into ``batch_size`` consecutive streams
    read window after window (T = ``seq_len`` characters at a time). The last hidden state of
    a window is the initial state of the next one, but no gradient flows back across the
    boundary: the forward pass remembers the whole stream, the backward pass at most T steps.
    When the streams run out, training starts again from a random offset with a zero state.

    With ``truncated=False`` every step draws ``batch_size`` windows at random positions and
    starts each from a zero hidden state: the model never sees more than T characters.

    Parameters
    ----------
    params : dict of str to ndarray
        Initial parameters (:func:`init_char_rnn`); they are not modified.
    train_ids : ndarray of int of shape (N,)
        Encoded training text.
    steps : int
        Number of parameter updates.
    batch_size : int
        B, sequences per update.
    seq_len : int
        T, characters per window (the truncation length).
    optimizer : object with ``step(params, grads) -> params``
        For example :class:`rnncore.numpy.optim.Adam`.
    clip_norm : float or None
        Global gradient-norm clipping threshold (None: no clipping).
    rng : numpy.random.Generator
        The only source of randomness (offsets and windows).
    truncated : bool, default True
        Carry the hidden state across consecutive windows (see above).
    evaluate_ids : ndarray of int of shape (M,), optional
        Held-out text, evaluated with :func:`evaluate_nats_per_character` (as
        ``EVALUATE_BATCH_SIZE`` = 16 streams) every ``evaluate_every`` steps and after the last
        step.
    evaluate_every : int, default 0
        0 evaluates only after the last step (when ``evaluate_ids`` is given).
    callback : callable (step, loss) -> None, optional
        Called after every update (a progress bar, for instance).

    Returns
    -------
    params : dict of str to ndarray
        The trained parameters.
    history : dict of str to list
        ``"loss"``: training loss (nats per character) of every step; ``"grad_norm"``: the
        global gradient norm before clipping; ``"evaluate_step"`` and ``"evaluate_nats"``:
        the held-out evaluations.
    """
    dims = _check_params(params)
    _check_ids("train_ids", train_ids, "N", dims)
    for name, value in (("steps", steps), ("batch_size", batch_size), ("seq_len", seq_len)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if train_ids.shape[0] < batch_size * (seq_len + 1) + 1:
        raise ValueError(
            f"train_ids must hold more than batch_size * (seq_len + 1) = "
            f"{batch_size * (seq_len + 1)} characters, got {train_ids.shape[0]}"
        )
    if evaluate_ids is not None:
        _check_ids("evaluate_ids", evaluate_ids, "M", dims)

    history: dict[str, list] = {name: [] for name in HISTORY_KEYS}
    streams, position, h = None, 0, None
    for step in range(1, int(steps) + 1):
        if truncated:
            if streams is None or position + seq_len + 1 > streams.shape[1]:
                # A new pass over the text, from a random offset so windows do not repeat.
                offset = int(rng.integers(0, seq_len))
                streams = _streams(train_ids[offset:], batch_size)  # (B, N // B)
                position, h = 0, None
            inputs = streams[:, position : position + seq_len]  # (B, T)
            targets = streams[:, position + 1 : position + seq_len + 1]  # (B, T)
            position += seq_len
        else:
            starts = rng.integers(0, train_ids.shape[0] - seq_len, size=batch_size)  # (B,)
            window = starts[:, None] + np.arange(seq_len + 1)  # (B, T + 1)
            inputs, targets = train_ids[window[:, :-1]], train_ids[window[:, 1:]]  # (B, T)
            h = None
        loss, grads, h_last = char_rnn_loss(params, inputs, targets, h)
        # Carrying h_last forward as a constant is exactly the truncation: char_rnn_loss
        # returns no gradient for h0, so nothing flows into the previous window.
        h = h_last if truncated else None
        if clip_norm is not None:
            grads, grad_norm = clip_grad_norm(grads, clip_norm)
        else:
            grad_norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
        params = optimizer.step(params, grads)
        history["loss"].append(loss)
        history["grad_norm"].append(float(grad_norm))
        if callback is not None:
            callback(step, loss)
        last_step = step == int(steps)
        if evaluate_ids is not None and (
            last_step or (evaluate_every and step % evaluate_every == 0)
        ):
            history["evaluate_step"].append(step)
            history["evaluate_nats"].append(
                evaluate_nats_per_character(
                    params, evaluate_ids, seq_len=EVALUATE_SEQ_LEN, batch_size=EVALUATE_BATCH_SIZE
                )
            )
    return params, history
