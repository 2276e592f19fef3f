"""The judge's pure functions: tolerances, comparisons, shape messages and failures."""

import re

import numpy as np
import pytest

from rnncore.grading import judge
from rnncore.grading.inputs import Case

CASE = Case("a case", {"x": np.zeros((3, 5))}, {"B": 3, "D": 5, "H": 4}, "values", 7, {})


def test_tolerance_follows_the_least_precise_dtype():
    float64 = judge.tolerance_for(np.float64, np.float64)
    float32 = judge.tolerance_for(np.float64, np.float32)
    float16 = judge.tolerance_for(np.float16)
    assert float64.rtol < float32.rtol < float16.rtol
    assert judge.tolerance_for(np.float32) == float32
    # Integer dtypes do not loosen or tighten anything.
    assert judge.tolerance_for(np.float64, np.int64) == float64


def test_compare_accepts_float32_rounding_only_with_float32_tolerance():
    expected = np.linspace(-1, 1, 12).reshape(3, 4)
    rounded = expected.astype(np.float32).astype(np.float64) + 1e-7
    assert judge.compare(rounded, expected, judge.tolerance_for(np.float32)) is None
    assert judge.compare(rounded, expected, judge.tolerance_for(np.float64)) is not None


def test_compare_finds_the_largest_difference():
    expected = np.zeros((2, 3))
    actual = expected.copy()
    actual[1, 2] = 0.5
    actual[0, 0] = 0.1
    mismatch = judge.compare(actual, expected, judge.tolerance_for(np.float64))
    assert mismatch == judge.Mismatch(2, 6, (1, 2), 0.5, 0.0)
    assert judge.describe_mismatch("dWh", mismatch) == (
        "2 of 6 entries of dWh differ; the largest difference is at dWh[1, 2]: got 0.5, expected 0"
    )


def test_compare_treats_nan_as_wrong():
    mismatch = judge.compare(np.array([0.0, np.nan]), np.zeros(2), judge.Tolerance(1e-6, 1e-8))
    assert mismatch is not None and mismatch.index == (1,)


def test_compare_scalars():
    assert judge.compare(2.0, 2.0, judge.Tolerance(1e-6, 1e-8)) is None
    assert judge.compare(2.1, 2.0, judge.Tolerance(1e-6, 1e-8)).index == ()


def test_expected_shape_reads_letters_and_multiples():
    assert judge.expected_shape("B, T, H", {"B": 2, "T": 3, "H": 4}) == (2, 3, 4)
    assert judge.expected_shape("H, 4H", {"H": 5}) == (5, 20)
    assert judge.expected_shape("H", {"H": 5}) == (5,)


@pytest.mark.parametrize(
    ("actual", "spec", "dims", "message"),
    [
        (
            (4, 3),
            "B, H",
            {"B": 3, "H": 4},
            "h_next has shape (4, 3), expected (B, H) = (3, 4). It looks transposed.",
        ),
        ((3, 5), "B, H", {"B": 3, "H": 4}, "h_next has shape (3, 5), expected (B, H) = (3, 4)."),
        (
            (4, 3, 6),
            "B, T, H",
            {"B": 3, "T": 4, "H": 6},
            "h_next has shape (4, 3, 6), expected (B, T, H) = (3, 4, 6). It looks time-major",
        ),
        ((3, 6), "B, T, H", {"B": 3, "T": 4, "H": 6}, "It looks like one time step only"),
        ((3, 4), "H", {"H": 4}, "h_next has shape (3, 4), expected (H,) = (4,). Sum over"),
    ],
)
def test_shape_message(actual, spec, dims, message):
    assert message in judge.shape_message("h_next", actual, spec, dims)


def test_fail_names_function_problem_and_case():
    with pytest.raises(AssertionError) as failure:
        judge.fail("rnn_forward", CASE, "h is wrong.")
    message = str(failure.value)
    assert message.startswith("rnn_forward: h is wrong.")
    assert "case 'a case' (B=3, D=5, H=4, float64, seed 7)" in message
    assert "seed=7" in message


def test_judge_error():
    judge.judge_error("f", CASE, None)
    with pytest.raises(AssertionError, match="it is not written yet"):
        judge.judge_error("f", CASE, NotImplementedError())
    with pytest.raises(AssertionError, match=re.escape("it raised KeyError: 'x'. hint")):
        judge.judge_error("f", CASE, KeyError("x"), "hint")


def test_judge_modified_and_reference_calls():
    judge.judge_modified("f", CASE, [])
    judge.judge_reference_calls("f", CASE, [])
    with pytest.raises(AssertionError, match="modifies its arguments x and h0 in place"):
        judge.judge_modified("f", CASE, ["x", "h0"])
    with pytest.raises(
        AssertionError, match=re.escape("reference (rnncore.numpy.rnn.rnn_forward)")
    ):
        judge.judge_reference_calls("f", CASE, ["rnncore.numpy.rnn.rnn_forward"])


def test_unpack():
    assert judge.unpack("f", CASE, (1, 2), ["a", "b"]) == {"a": 1, "b": 2}
    with pytest.raises(AssertionError, match=re.escape("must return 2 values (a, b), got 3")):
        judge.unpack("f", CASE, (1, 2, 3), ["a", "b"])
    with pytest.raises(AssertionError, match="got ndarray"):
        judge.unpack("f", CASE, np.zeros(2), ["a", "b"])


def test_judge_array():
    judge.judge_array("f", CASE, "h", np.zeros((3, 4)), "B, H", CASE.dims)
    with pytest.raises(AssertionError, match="h must be a NumPy array, got list"):
        judge.judge_array("f", CASE, "h", [[0.0] * 4] * 3, "B, H", CASE.dims)
    with pytest.raises(AssertionError, match="h must hold floats"):
        judge.judge_array("f", CASE, "h", np.zeros((3, 4), dtype=int), "B, H", CASE.dims)
    with pytest.raises(AssertionError, match="NaN or infinite values. hint"):
        judge.judge_array("f", CASE, "h", np.full((3, 4), np.inf), "B, H", CASE.dims, " hint")


def test_judge_like():
    judge.judge_like("f", CASE, "grad", np.zeros((2, 3)), "x", np.ones((2, 3)))
    with pytest.raises(AssertionError, match=re.escape("expected the shape of x, (2, 3)")):
        judge.judge_like("f", CASE, "grad", np.zeros(6), "x", np.ones((2, 3)))


def test_wrong_outputs_and_values_message():
    expected = {"dx": np.zeros(3), "db": np.ones(2)}
    outputs = {"dx": np.zeros(3), "db": np.array([1.0, 3.0])}
    wrong = judge.wrong_outputs(outputs, expected, judge.tolerance_for(np.float64))
    assert list(wrong) == ["db"]
    message = judge.values_message(wrong, ["dx", "db"], (), "the term b", "torch")
    assert message.startswith("db is wrong (compared with torch); dx is right. 1 of 2 entries")
    assert message.endswith("the term b")


# --- relation: what a wrong array is, relative to the expected one -------------------------

TOL = judge.Tolerance(1e-6, 1e-8)


def test_relation_names_a_sign_flip_a_scale_a_transpose_and_zeros():
    rng = np.random.default_rng(0)
    expected = rng.standard_normal((4, 4))
    dims = {"B": 4, "T": 5}
    assert "opposite sign" in judge.relation(-expected, expected, TOL)
    assert "divided by the batch size B = 4" in judge.relation(
        expected / 4, expected, TOL, "", dims
    )
    assert "divided by B·T = 20" in judge.relation(expected / 20, expected, TOL, "", dims)
    assert "multiplied by the number of steps T = 5" in judge.relation(
        5 * expected, expected, TOL, "", dims
    )
    assert judge.relation(expected / 7, expected, TOL) == "it is the expected value divided by 7"
    assert judge.relation(expected.T, expected, TOL) == "it is the transpose of the expected value"
    assert judge.relation(np.zeros((4, 4)), expected, TOL) == "it is all zeros"


def test_relation_names_the_gate_blocks_that_differ_or_are_swapped():
    rng = np.random.default_rng(1)
    H, dims = 3, {"H": 3, "D": 2}
    expected = rng.standard_normal((2, 4 * H))  # (D, 4H): gates i, f, g, o
    wrong = expected.copy()
    wrong[:, 2 * H : 3 * H] += 1.0
    assert "only the columns of g (candidate)" in judge.relation(
        wrong, expected, TOL, "D, 4H", dims
    )
    swapped = expected.copy()
    swapped[:, :H], swapped[:, H : 2 * H] = expected[:, H : 2 * H], expected[:, :H]
    words = judge.relation(swapped, expected, TOL, "D, 4H", dims)
    assert words == "its blocks of i (input gate) and f (forget gate) are swapped"


def test_relation_sees_a_gradient_that_reaches_only_the_last_step():
    rng = np.random.default_rng(2)
    expected = rng.standard_normal((2, 5, 3))  # (B, T, D)
    wrong = expected.copy()
    wrong[:, :-1] *= 0.5
    assert "only its last time step is right" in judge.relation(wrong, expected, TOL, "B, T, D")


def test_relation_says_nothing_when_no_simple_relation_holds():
    rng = np.random.default_rng(3)
    expected, other = rng.standard_normal((2, 3, 4))
    assert judge.relation(other, expected, TOL, "B, T, D") == ""
    assert judge.relation(expected, expected, TOL) == ""  # not wrong at all: no scale found


def test_values_message_adds_relations_only_without_a_known_mistake():
    mismatch = judge.Mismatch(1, 4, (0,), 1.0, 2.0)
    related = {"db": "it is the expected value divided by 2"}
    message = judge.values_message({"db": mismatch}, ["db"], (), "", "x", related)
    assert "db: it is the expected value divided by 2." in message
