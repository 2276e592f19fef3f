"""Drawing the cases (fresh each run, fixed edge shapes) and running a student's function."""

import sys

import numpy as np
import pytest

from rnncore.grading import inputs
from rnncore.grading.student_run import run_student, watch_reference_calls


def test_cases_are_fresh_each_run_and_replayable_by_seed():
    first, second = inputs.rnn_step_cases("visible"), inputs.rnn_step_cases("visible")
    assert first[0].seed != second[0].seed
    assert not np.array_equal(first[0].arrays["x"], second[0].arrays["x"])
    replay = inputs.rnn_step_cases("visible", seed=first[0].seed)
    for name, array in first[0].arrays.items():
        np.testing.assert_array_equal(replay[0].arrays[name], array)


def test_hidden_sequence_cases_cover_the_edge_cases():
    cases = inputs.rnn_sequence_cases("hidden", seed=0)
    dims = [case.dims for case in cases]
    assert any(d["B"] == 1 for d in dims)
    assert any(d["T"] == 1 for d in dims)
    assert any(d["D"] != d["H"] for d in dims)
    states = [case.arrays["h0"] for case in cases]
    assert any(np.all(h0 == 0) for h0 in states) and any(np.any(h0 != 0) for h0 in states)
    assert {case.arrays["x"].dtype for case in cases} == {np.dtype("float64"), np.dtype("float32")}


def test_hidden_step_cases_cover_the_edge_cases():
    cases = inputs.rnn_step_cases("hidden", seed=0)
    assert any(case.dims["B"] == 1 for case in cases)
    assert any(case.dims["D"] != case.dims["H"] for case in cases)
    assert any(np.any(case.arrays["h_prev"] != 0) for case in cases)


def test_every_case_set_draws_the_shapes_it_announces():
    for case in inputs.rnn_sequence_cases("torch") + inputs.rnn_sequence_cases("gradient_check"):
        B, T, D, H = (case.dims[letter] for letter in "BTDH")
        assert case.arrays["x"].shape == (B, T, D)
        assert case.arrays["Wh"].shape == (H, H)
        assert case.extra["dout"].shape == (B, T, H)


def test_clip_cases_set_max_norm_against_the_true_norm():
    for case in inputs.clip_grad_norm_cases("visible"):
        grads, max_norm = case.arrays["grads"], case.arrays["max_norm"]
        norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        assert max_norm < norm
    for case in inputs.clip_grad_norm_cases("small_norm"):
        grads, max_norm = case.arrays["grads"], case.arrays["max_norm"]
        assert max_norm > np.sqrt(sum(np.sum(g**2) for g in grads.values()))


def test_numerical_gradient_cases_pass_eps_only_when_set():
    (centred,) = inputs.numerical_gradient_cases("centred")
    assert centred.arrays["eps"] == 1e-3
    for case in inputs.numerical_gradient_cases("visible"):
        assert "eps" not in case.arrays


@pytest.mark.parametrize(
    "draw",
    [
        inputs.rnn_step_cases,
        inputs.rnn_sequence_cases,
        inputs.numerical_gradient_cases,
        inputs.clip_grad_norm_cases,
    ],
)
def test_unknown_case_set(draw):
    with pytest.raises(ValueError, match="no case set 'nope'"):
        draw("nope")


def test_run_student_passes_copies_and_reports_modifications():
    x = np.ones(3)

    def student(x, y):
        x += 1
        return x.sum()

    run = run_student(student, {"x": x, "y": np.zeros(2)})
    assert run.result == 6.0
    assert run.modified == ("x",)
    np.testing.assert_array_equal(x, np.ones(3))  # the caller's array is untouched


def test_run_student_sees_modifications_inside_dicts_and_tuples():
    def student(grads, cache):
        grads["a"][0] = 5.0
        return None

    run = run_student(student, {"grads": {"a": np.zeros(2)}, "cache": (np.zeros(1),)})
    assert run.modified == ("grads",)


def test_run_student_records_the_exception():
    def student(x):
        raise ZeroDivisionError("no")

    run = run_student(student, {"x": np.zeros(1)})
    assert isinstance(run.error, ZeroDivisionError) and run.result is None


def test_run_student_passes_arguments_by_position():
    def renamed(first, second):  # the student renamed the parameters
        return first - second

    assert run_student(renamed, {"x": 3.0, "h_prev": 1.0}).result == 2.0


def test_reference_calls_are_seen_through_aliases_and_the_profiler_is_restored():
    import rnncore.numpy.gradcheck as gradcheck
    from rnncore.numpy import relative_error as alias

    previous = sys.getprofile()
    with watch_reference_calls([gradcheck]) as calls:
        alias(np.ones(2), np.ones(2))
        np.linalg.norm(np.ones(2))  # not a reference function
    assert calls == ["rnncore.numpy.gradcheck.relative_error"]
    assert sys.getprofile() is previous


def test_reference_calls_are_not_seen_outside_the_block():
    import rnncore.numpy.gradcheck as gradcheck

    with watch_reference_calls([gradcheck]) as calls:
        pass
    gradcheck.relative_error(np.ones(2), np.ones(2))
    assert calls == []


def test_methods_of_reference_classes_are_watched():
    import rnncore.numpy.optim as optim

    with watch_reference_calls([optim]) as calls:
        optim.SGD(0.1).step({"w": np.ones(2)}, {"w": np.ones(2)})
    assert "rnncore.numpy.optim.SGD.step" in calls


def test_a_case_describes_its_sizes_dtypes_and_seed():
    import numpy as np

    from rnncore.grading.inputs import Case

    with_arrays = Case("B = 1", {"x": np.zeros((1, 3))}, {"B": 1, "D": 3}, "values", 7, {})
    assert with_arrays.describe() == "case 'B = 1' (B=1, D=3, float64, seed 7)"
    # Plain Python values only: no empty dtype slot between the sizes and the seed.
    plain = Case("max_len = 6", {"max_len": 6}, {"max_len": 6}, "values", 5, {})
    assert plain.describe() == "case 'max_len = 6' (max_len=6, seed 5)"
