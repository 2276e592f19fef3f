"""Argument checks shared by the modules of :mod:`rnncore.long_range`; errors name the argument."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnncore.torch.models import CELLS


def _check_positive_int(name: str, value) -> int:
    """``value`` as an int, or ValueError naming ``name`` if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_cell(cell) -> str:
    """``cell`` itself, or ValueError if it is not one of ``CELLS``."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    return cell


def _check_lengths(lengths: Sequence[int], minimum: int) -> tuple[int, ...]:
    """The lengths as ints, or ValueError if one is not an integer of at least ``minimum``."""
    lengths = tuple(_check_positive_int("length", length) for length in lengths)
    if lengths and min(lengths) < minimum:
        raise ValueError(f"every length must be at least {minimum}, got {lengths}")
    return lengths
