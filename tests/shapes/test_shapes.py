"""rnncore.shapes: the messages every public function relies on."""

import numpy as np
import pytest

from rnncore.shapes import check_float_arrays, check_same_shape, check_shape, format_shape


def test_binds_letters_then_checks_them():
    dims = check_shape("x", np.zeros((3, 5)), "B, D")
    check_shape("Wh", np.zeros((4, 16)), "H, 4H", dims)
    assert dims == {"B": 3, "D": 5, "H": 4}


def test_wrong_multiple_names_letters_and_numbers():
    dims = {"H": 32}
    with pytest.raises(
        ValueError, match=r"^Wh must have shape \(H, 4H\) = \(32, 128\), got \(32, 96\)$"
    ):
        check_shape("Wh", np.zeros((32, 96)), "H, 4H", dims)


def test_wrong_number_of_axes():
    with pytest.raises(ValueError, match=r"^x must have 3 axes \(B, T, D\), got shape \(4, 5\)$"):
        check_shape("x", np.zeros((4, 5)), "B, T, D")


def test_unbound_multiple_that_does_not_divide():
    with pytest.raises(ValueError, match=r"b must have shape \(4H,\), got \(5,\)"):
        check_shape("b", np.zeros(5), "4H")


def test_not_an_array():
    with pytest.raises(ValueError, match="x must be an array, got list"):
        check_shape("x", [1, 2], "B")


def test_same_shape():
    check_same_shape("dh", np.zeros((2, 3)), "h", np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"dh must have the shape of h, \(2, 3\), got \(3, 2\)"):
        check_same_shape("dh", np.zeros((3, 2)), "h", np.zeros((2, 3)))


def test_float_arrays_keep_one_dtype():
    assert check_float_arrays(x=np.zeros(2, np.float32), b=None) == np.float32
    with pytest.raises(ValueError, match="x must be a NumPy floating-point array, got int64"):
        check_float_arrays(x=np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="Wx has dtype float32 but x has float64"):
        check_float_arrays(x=np.zeros(2), Wx=np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="h0 must be a NumPy array, got list"):
        check_float_arrays(h0=[0.0])


def test_format_shape():
    assert format_shape((3,)) == "(3,)"
    assert format_shape((3, 4)) == "(3, 4)"
