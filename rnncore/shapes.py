"""Shape and dtype checks whose errors name the array, the expected and the actual shape.

Every public function of rnncore validates its arguments with these helpers, so a student
who passes ``Wh`` of the wrong size reads::

    ValueError: Wh must have shape (H, 4H) = (32, 128), got (32, 96)

instead of a broadcasting error three calls deeper.

Shapes are written as strings of comma-separated terms in the course's letters
(B batch, T time steps, D input features, H hidden units, V vocabulary, L layers, G gates).
A term is a letter (``"H"``), a multiple of a letter (``"4H"``) or a literal size (``"1"``).
The first time a letter appears it is *bound* from the array; later appearances are checked::

    dims = {}
    check_shape("x", x, "B, D", dims)        # binds B and D
    check_shape("Wh", Wh, "H, 4H", dims)     # binds H from the first axis, checks 4H
    check_shape("h_prev", h_prev, "B, H", dims)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping

import numpy as np

__all__ = ["check_shape", "check_float_arrays", "check_same_shape", "format_shape"]

_TERM = re.compile(r"^\s*(\d*)\s*([A-Za-z][A-Za-z0-9_]*)?\s*$")


def format_shape(shape: Iterable[int]) -> str:
    """Format a shape as ``(3, 4)``; a 1-D shape as ``(3,)``."""
    shape = tuple(int(n) for n in shape)
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _parse(spec: str) -> list[tuple[int, str | None]]:
    """Split ``"B, 4H"`` into ``[(1, "B"), (4, "H")]``; a literal ``"1"`` gives ``(1, None)``."""
    terms = []
    for raw in spec.split(","):
        if not raw.strip():
            continue
        match = _TERM.match(raw)
        if match is None:
            raise ValueError(f"bad shape term {raw!r} in {spec!r}")
        factor, letter = match.groups()
        if letter is None:
            terms.append((int(factor), None))
        else:
            terms.append((int(factor) if factor else 1, letter))
    return terms


def _spec_text(terms: list[tuple[int, str | None]]) -> str:
    parts = []
    for factor, letter in terms:
        if letter is None:
            parts.append(str(factor))
        else:
            parts.append(f"{factor}{letter}" if factor != 1 else letter)
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def check_shape(
    name: str,
    array,
    spec: str,
    dims: MutableMapping[str, int] | None = None,
) -> MutableMapping[str, int]:
    """Check that ``array`` has the shape ``spec``, binding unknown letters in ``dims``.

    Parameters
    ----------
    name : str
        The argument's name, as the caller knows it (``"h_prev"``).
    array : array-like with a ``shape`` attribute (NumPy array or torch tensor)
    spec : str
        Expected shape in letters, for example ``"B, T, D"`` or ``"H, 4H"``.
    dims : dict, optional
        Letters already known. Unknown plain letters are bound from ``array`` and added.

    Returns
    -------
    dims : dict
        The same mapping, with any new letters bound.

    Raises
    ------
    ValueError
        ``"Wh must have shape (H, 4H) = (32, 128), got (32, 96)"``, or, when the number of
        axes differs, ``"x must have 3 axes (B, T, D), got shape (4, 5)"``.
    """
    if dims is None:
        dims = {}
    shape = getattr(array, "shape", None)
    if shape is None:
        raise ValueError(f"{name} must be an array, got {type(array).__name__}")
    shape = tuple(int(n) for n in shape)
    terms = _parse(spec)
    text = _spec_text(terms)
    if len(shape) != len(terms):
        axes = "axis" if len(terms) == 1 else "axes"
        raise ValueError(
            f"{name} must have {len(terms)} {axes} {text}, got shape {format_shape(shape)}"
        )
    # Bind unknown letters first (only from plain, factor-1 terms), then check every term.
    for (factor, letter), size in zip(terms, shape, strict=True):
        if letter is not None and letter not in dims:
            if factor == 1:
                dims[letter] = size
            elif size % factor == 0:
                dims[letter] = size // factor
            else:  # "4H" with a size that is not a multiple of 4: no H fits
                raise ValueError(
                    f"{name} must have shape {text}, got {format_shape(shape)} "
                    f"({size} is not a multiple of {factor})"
                )
    expected = []
    for factor, letter in terms:
        expected.append(factor if letter is None else factor * dims[letter])
    if tuple(expected) != shape:
        raise ValueError(
            f"{name} must have shape {text} = {format_shape(expected)}, got {format_shape(shape)}"
        )
    return dims


def check_same_shape(name: str, array, reference_name: str, reference) -> None:
    """Check that ``array`` has exactly the shape of ``reference`` (a gradient and its value)."""
    if tuple(array.shape) != tuple(reference.shape):
        raise ValueError(
            f"{name} must have the shape of {reference_name}, {format_shape(reference.shape)}, "
            f"got {format_shape(array.shape)}"
        )


def check_float_arrays(**arrays) -> np.dtype:
    """Check that every array is a NumPy floating-point array and that all share one dtype.

    Parameters
    ----------
    **arrays : ndarray
        Keyword arguments ``name=array``; ``None`` values are skipped (optional arguments).

    Returns
    -------
    dtype : numpy.dtype
        The common dtype, which the computation keeps (float64 or float32).

    Raises
    ------
    ValueError
        ``"x must be a NumPy floating-point array, got int64"`` or
        ``"Wx has dtype float32 but x has float64: pass every array in one dtype"``.
    """
    first_name, dtype = None, None
    for name, array in arrays.items():
        if array is None:
            continue
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{name} must be a NumPy array, got {type(array).__name__}")
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"{name} must be a NumPy floating-point array, got {array.dtype}")
        if dtype is None:
            first_name, dtype = name, array.dtype
        elif array.dtype != dtype:
            raise ValueError(
                f"{name} has dtype {array.dtype} but {first_name} has {dtype}: "
                "pass every array in one dtype"
            )
    return dtype
