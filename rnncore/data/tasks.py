"""Generated long-range tasks: the adding problem, the copy task and the first-symbol probe.

Each task is a function of an explicit ``numpy.random.Generator``: the same seed gives the same
batch, and nothing is downloaded. Each comes with the loss of a trivial predictor that ignores
the input, so an experiment can say whether a model learned anything at all:

- :func:`adding_problem` (regression) and :func:`adding_problem_baseline_mse`;
- :func:`copy_task` (sequence classification) and :func:`copy_task_baseline_cross_entropy`;
- :func:`first_symbol_task` (classification) and :func:`first_symbol_baseline_cross_entropy`.

Letters: B batch, T time steps, V vocabulary (number of input ids), S length of the sequence
to copy, K number of data symbols.

Chapter 5 of the course (label ``ch-vanishing``) uses the adding problem to show that a
vanilla RNN stops learning once the two marked values lie far apart.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "adding_problem",
    "adding_problem_baseline_mse",
    "copy_task",
    "copy_task_baseline_cross_entropy",
    "first_symbol_task",
    "first_symbol_baseline_cross_entropy",
]


def _check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as an int, or raise a ValueError naming ``name`` and the bound."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_float_dtype(dtype) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise ValueError(f"dtype must be a NumPy floating-point dtype, got {dtype!r}") from error
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a NumPy floating-point dtype, got {dtype}")
    return dtype


def adding_problem(
    batch_size: int,
    length: int,
    rng: np.random.Generator,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw a batch of the adding problem: add the two marked numbers of a long sequence.

    The task of Hochreiter and Schmidhuber (1997), in the form most papers now use (Le, Jaitly
    and Hinton 2015; Arjovsky, Shah and Bengio 2016). Each step carries two features:

    - channel 0, the *value*: independent draws from the uniform distribution on [0, 1);
    - channel 1, the *marker*: 0 everywhere except exactly two steps, which hold 1. The first
      marked step is uniform over the first half, steps ``0 .. T//2 - 1``; the second is
      uniform over the second half, steps ``T//2 .. T - 1`` (for odd T the second half is one
      step longer).

    The target is the sum of the two marked values,

    .. math::

        y = \sum_{t=0}^{T-1} x_{t,0} \, x_{t,1} \in [0, 2).

    To answer, a model must carry the first marked value across at least one step and at most
    T - 1 steps (T/2 steps on average). The original 1997 variant differs in details (values
    in [-1, 1], the first marker among the first ten steps, the target rescaled); this one
    keeps the long gap and needs no rescaling.

    Random numbers are drawn in this order, so that one seed gives one batch: the values
    (B, T), then the first marked steps (B,), then the second marked steps (B,).

    Parameters
    ----------
    batch_size : int
        B, at least 1.
    length : int
        T, at least 2 (one step in each half).
    rng : numpy.random.Generator
        The only source of randomness.
    dtype : NumPy floating-point dtype, default float64
        The dtype of ``x`` and ``y``.

    Returns
    -------
    x : ndarray of shape (B, T, 2)
        ``x[..., 0]`` the values, ``x[..., 1]`` the markers (exactly two ones per sequence).
    y : ndarray of shape (B, 1)
        The sum of the two marked values, computed in ``dtype``.

    Raises
    ------
    ValueError
        If ``batch_size`` < 1, ``length`` < 2, ``rng`` is not a Generator or ``dtype`` is not
        a floating-point dtype.

    See Also
    --------
    adding_problem_baseline_mse : the loss of always predicting 1.
    """
    B = _check_int("batch_size", batch_size, 1)
    T = _check_int("length", length, 2)
    rng = _check_rng(rng)
    dtype = _check_float_dtype(dtype)

    half = T // 2
    values = rng.random((B, T)).astype(dtype)  # (B, T)
    first = rng.integers(0, half, size=B)  # (B,)
    second = rng.integers(half, T, size=B)  # (B,)
    markers = np.zeros((B, T), dtype=dtype)  # (B, T)
    rows = np.arange(B)  # (B,)
    markers[rows, first] = 1
    markers[rows, second] = 1
    x = np.stack([values, markers], axis=-1)  # (B, T, 2)
    y = (values[rows, first] + values[rows, second])[:, None]  # (B, 1)
    return x, y


def adding_problem_baseline_mse() -> float:
    r"""The mean squared error of the best constant prediction for :func:`adding_problem`: 1/6.

    The target is the sum of two independent uniform draws on [0, 1), so its mean is 1 and its
    variance is twice the variance of one uniform draw:

    .. math::

        \mathbb{E}\big[(y - 1)^2\big] = \operatorname{Var}(u_1 + u_2)
        = 2 \cdot \tfrac{1}{12} = \tfrac{1}{6} \approx 0.1667.

    No constant does better (the mean minimises the squared error), so a model whose
    validation MSE stays near 1/6 has learned nothing from the input.

    Returns
    -------
    float
        1/6.
    """
    return 1.0 / 6.0


def copy_task(
    batch_size: int,
    sequence_length: int,
    delay: int,
    num_symbols: int,
    rng: np.random.Generator,
    one_hot: bool = True,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a batch of the copy task: read S symbols, wait, then write them back in order.

    Ids: ``0 .. K - 1`` are the data symbols, ``K`` is the blank and ``K + 1`` the go marker,
    so the vocabulary has V = K + 2 ids. Each sequence has T = 2S + delay steps:

    ============================  =========================  ==========================
    steps                         input ``x``                target ``y``
    ============================  =========================  ==========================
    ``0 .. S - 1``                the S symbols              blank
    ``S .. S + delay - 2``        blank                      blank
    ``S + delay - 1``             go marker                  blank
    ``S + delay .. 2S + delay-1`` blank                      the S symbols, in order
    ============================  =========================  ==========================

    Symbol ``s`` read at step ``s`` must be written at step ``S + delay + s``: every symbol
    is held for exactly S + delay steps. (This is the variant of Arjovsky, Shah and Bengio
    2016 with the go marker as the last step of the delay.)

    Parameters
    ----------
    batch_size : int
        B, at least 1.
    sequence_length : int
        S, the number of symbols to copy, at least 1.
    delay : int
        The number of steps between the last symbol read and the first written, at least 1
        (the last of them carries the go marker).
    num_symbols : int
        K, the number of data symbols, at least 1.
    rng : numpy.random.Generator
        The only source of randomness (the symbols, drawn as one (B, S) array).
    one_hot : bool, default True
        Return ``x`` one-hot (B, T, V) in ``dtype``; otherwise integer ids (B, T).
    dtype : NumPy floating-point dtype, default float64
        The dtype of the one-hot ``x``.

    Returns
    -------
    x : ndarray of shape (B, T, V), or int64 ndarray of shape (B, T) when ``one_hot=False``
        The input, with T = 2S + delay and V = K + 2.
    y : int64 ndarray of shape (B, T)
        The target id at every step (blank except the last S steps). Train with
        ``temporal_softmax_loss(scores, y)`` over all steps, or pass a mask that keeps only
        the last S steps.

    Raises
    ------
    ValueError
        If an integer argument is below its minimum, ``rng`` is not a Generator or ``dtype``
        is not a floating-point dtype.

    See Also
    --------
    copy_task_baseline_cross_entropy : the loss of a model that copies nothing.
    """
    B = _check_int("batch_size", batch_size, 1)
    S = _check_int("sequence_length", sequence_length, 1)
    delay = _check_int("delay", delay, 1)
    K = _check_int("num_symbols", num_symbols, 1)
    rng = _check_rng(rng)
    dtype = _check_float_dtype(dtype)

    blank, go = K, K + 1
    T = 2 * S + delay
    symbols = rng.integers(0, K, size=(B, S), dtype=np.int64)  # (B, S)
    ids = np.full((B, T), blank, dtype=np.int64)  # (B, T)
    ids[:, :S] = symbols
    ids[:, S + delay - 1] = go
    targets = np.full((B, T), blank, dtype=np.int64)  # (B, T)
    targets[:, S + delay :] = symbols
    if not one_hot:
        return ids, targets
    x = np.eye(K + 2, dtype=dtype)[ids]  # (B, T, V)
    return x, targets


def copy_task_baseline_cross_entropy(sequence_length: int, delay: int, num_symbols: int) -> float:
    r"""Mean cross-entropy (nats per step) of a model that knows the layout but copies nothing.

    Such a model predicts the blank with certainty wherever the target is blank and a uniform
    guess over the K symbols during the S recall steps:

    .. math::

        \frac{S \log K}{2S + \text{delay}}.

    This is the loss averaged over all T steps, as :func:`copy_task`'s targets are laid out;
    averaged over the recall steps only it is :math:`\log K`.

    Parameters
    ----------
    sequence_length, delay, num_symbols : int
        S, the delay and K, as in :func:`copy_task`.

    Returns
    -------
    float
    """
    S = _check_int("sequence_length", sequence_length, 1)
    delay = _check_int("delay", delay, 1)
    K = _check_int("num_symbols", num_symbols, 1)
    return S * float(np.log(K)) / (2 * S + delay)


def first_symbol_task(
    batch_size: int,
    length: int,
    num_symbols: int,
    rng: np.random.Generator,
    one_hot: bool = True,
    dtype=np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a batch of the first-symbol probe: name the symbol seen at step 0, read at step T-1.

    Every step holds a symbol drawn uniformly from ``0 .. V - 1``; the target is the first
    one. Steps ``1 .. T - 1`` are distractors, so the answer must be carried for T - 1 steps.
    The simplest probe of memory span: a model reads the whole sequence and is scored on its
    output at the last step.

    Parameters
    ----------
    batch_size : int
        B, at least 1.
    length : int
        T, at least 1.
    num_symbols : int
        V, at least 2.
    rng : numpy.random.Generator
        The only source of randomness (the symbols, drawn as one (B, T) array).
    one_hot : bool, default True
        Return ``x`` one-hot (B, T, V) in ``dtype``; otherwise integer ids (B, T).
    dtype : NumPy floating-point dtype, default float64
        The dtype of the one-hot ``x``.

    Returns
    -------
    x : ndarray of shape (B, T, V), or int64 ndarray of shape (B, T) when ``one_hot=False``
    y : int64 ndarray of shape (B,)
        The symbol at step 0.

    Raises
    ------
    ValueError
        If an integer argument is below its minimum, ``rng`` is not a Generator or ``dtype``
        is not a floating-point dtype.

    See Also
    --------
    first_symbol_baseline_cross_entropy : log V, the loss of a uniform guess.
    """
    B = _check_int("batch_size", batch_size, 1)
    T = _check_int("length", length, 1)
    V = _check_int("num_symbols", num_symbols, 2)
    rng = _check_rng(rng)
    dtype = _check_float_dtype(dtype)

    ids = rng.integers(0, V, size=(B, T), dtype=np.int64)  # (B, T)
    targets = ids[:, 0].copy()  # (B,)
    if not one_hot:
        return ids, targets
    x = np.eye(V, dtype=dtype)[ids]  # (B, T, V)
    return x, targets


def first_symbol_baseline_cross_entropy(num_symbols: int) -> float:
    r"""Cross-entropy (nats) of a uniform guess on :func:`first_symbol_task`: :math:`\log V`."""
    V = _check_int("num_symbols", num_symbols, 2)
    return float(np.log(V))
