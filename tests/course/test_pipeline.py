"""The whole grading round in a temporary course, with the real nbgrader commands.

One module-scoped fixture builds the course (the repository's nbgrader_config.py and
solutions/), releases it with ``nbgrader generate_assignment`` (with a gradebook), writes the
submissions below into submitted/<student>/<assignment>/, and runs the instructors' batch
script once: ``python -m rnncore.grading.autograde --feedback`` (nbgrader autograde,
generate_feedback and export). The tests then read the gradebook, the feedback pages and the
CSV. Expected scores are computed from the points of the source notebooks' test cells.
"""

import csv
import html
import importlib.util
import re
import resource
import shutil
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
# Every assignment of the course: one folder each in solutions/.
ASSIGNMENTS = tuple(
    sorted(path.name for path in (HERE.parents[1] / "solutions").iterdir() if path.is_dir())
)

# Per-cell timeout for this course: short, so that the looping submission costs little; the
# cells that import torch or the course package keep a long one (slow on a loaded machine).
TEST_CONFIG = """
c.Execute.timeout = {short}


def _timeout(cell):
    slow = "torch" in cell.source or "import" in cell.source
    return 600 if slow else {short}


c.Execute.timeout_func = _timeout
"""
SHORT_TIMEOUT = 6

# --- the submissions ----------------------------------------------------------------------
# Each wrong submission replaces the solution cells it names; every other solution cell gets
# the instructors' solution. "fails" lists the test cells its bug must cost, "message" what
# its feedback must show.

SIGMOID_STEP = """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = 1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))
    return h_next, (x, h_prev, Wx, Wh, h_next)
"""

# A wrong GRU step reaches gru_forward and both backward checks (their forward is judged
# first); the shape and no-mutation cells judge no values, so they keep their points.
GRU_STEP_FAILS = [
    "test_gru_step_forward_values",
    "test_gru_step_forward_edge_cases",
    "test_gru_forward_values",
    "test_gru_forward_edge_cases",
    "test_gru_step_backward_values",
    "test_gru_step_backward_edge_cases",
    "test_gru_backward_values",
    "test_gru_backward_edge_cases",
    "test_gru_backward_gradient_check",
]

WRONG = {
    ("carol", "a01_rnn_forward"): {
        "cells": {"rnn_step_forward": SIGMOID_STEP},
        # rnn_forward uses the student's own step, so the bug reaches it too.
        "fails": [
            "test_rnn_step_forward_values",
            "test_rnn_step_forward_edge_cases",
            "test_rnn_forward_values",
            "test_rnn_forward_edge_cases",
            "test_rnn_forward_matches_torch",
        ],
        "message": "Known mistake: sigmoid instead of tanh",
    },
    ("dave", "a01_rnn_forward"): {
        "cells": {
            "rnn_forward": """
def rnn_forward(x, h0, Wx, Wh, b):
    B, T, D = x.shape
    h = np.zeros((B, T, Wh.shape[0]))
    h_prev = h0
    for t in range(T):
        h_prev = np.tanh(x[:, t] @ Wx + h_prev @ Wh)
        h[:, t] = h_prev
    return h, None
"""
        },
        "fails": [
            "test_rnn_forward_values",
            "test_rnn_forward_edge_cases",
            "test_rnn_forward_matches_torch",
        ],
        "message": "Known mistake: bias missing",
    },
    ("erin", "a01_rnn_forward"): {
        "cells": {
            "rnn_step_forward": """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_prev[:] = np.tanh(x @ Wx + h_prev @ Wh + b)  # update the state in place
    return h_prev, (x, h_prev, Wx, Wh)
"""
        },
        "fails": ["test_rnn_step_forward_no_mutation", "test_rnn_forward_no_mutation"],
        "message": "it modifies its argument h_prev in place",
    },
    ("frank", "a01_rnn_forward"): {
        "cells": {
            "rnn_forward": """
from rnncore.numpy.rnn import rnn_forward as course_rnn_forward

def rnn_forward(x, h0, Wx, Wh, b):
    return course_rnn_forward(x, h0, Wx, Wh, b)
"""
        },
        "fails": [
            "test_rnn_forward_shapes",
            "test_rnn_forward_values",
            "test_rnn_forward_edge_cases",
            "test_rnn_forward_no_mutation",
            "test_rnn_forward_matches_torch",
        ],
        "message": "it calls the course's reference (rnncore.numpy.rnn.rnn_forward)",
    },
    ("ivan", "a02_bptt"): {
        "cells": {
            "rnn_step_backward": """
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
"""
        },
        "fails": [
            "test_rnn_step_backward_values",
            "test_rnn_step_backward_edge_cases",
            "test_rnn_backward_values",
            "test_rnn_backward_edge_cases",
            "test_rnn_backward_gradient_check",
            "test_rnn_backward_matches_torch",
        ],
        "message": "Known mistake: tanh derivative written as 1 - h",
    },
    ("judy", "a02_bptt"): {
        "cells": {
            "rnn_backward": """
def rnn_backward(dh, cache):
    B, T, H = dh.shape
    dx = np.zeros((B, T, cache[0][0].shape[1]))
    dWx, db = 0, 0
    dh_prev = np.zeros((B, H))
    for t in reversed(range(T)):
        dx[:, t], dh_prev, dWx_t, dWh, db_t = rnn_step_backward(dh[:, t] + dh_prev, cache[t])
        dWx = dWx + dWx_t
        db = db + db_t
    return dx, dh_prev, dWx, dWh, db
"""
        },
        "fails": [
            "test_rnn_backward_values",
            "test_rnn_backward_edge_cases",
            "test_rnn_backward_gradient_check",
            "test_rnn_backward_matches_torch",
        ],
        "message": "Known mistake: dWh not accumulated over time",
    },
    ("ken", "a02_bptt"): {
        "cells": {
            "numerical_gradient": """
def numerical_gradient(f, x, dout, eps=1e-6):
    grad = np.zeros_like(x)
    base = np.sum(f(x) * dout)
    for index in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[index] += eps
        grad[index] = (np.sum(f(shifted) * dout) - base) / eps
    return grad
"""
        },
        "fails": ["test_numerical_gradient_centred"],
        "message": "Known mistake: one-sided difference",
    },
    ("lena", "a02_bptt"): {
        "cells": {
            "clip_grad_norm": """
def clip_grad_norm(grads, max_norm):
    clipped = {}
    for name, g in grads.items():
        norm = np.sqrt(np.sum(g**2))
        clipped[name] = g * (max_norm / norm) if norm > max_norm else g.copy()
    total_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return clipped, total_norm
"""
        },
        "fails": ["test_clip_grad_norm_clips", "test_clip_grad_norm_edge_cases"],
        "message": "Known mistake: each array clipped on its own",
    },
    ("nina", "a02_bptt"): {
        "cells": {
            "rnn_step_backward": """
def rnn_step_backward(dh_next, cache):
    x, h_prev, Wx, Wh, h_next = cache
    da = dh_next * (1 - h_next**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da  # db not summed over the batch
"""
        },
        # A wrong shape fails every cell that runs it, the hidden ones' visible line included.
        "fails": [
            "test_rnn_step_backward_shapes",
            "test_rnn_step_backward_values",
            "test_rnn_step_backward_edge_cases",
            "test_rnn_step_backward_no_mutation",
            "test_rnn_backward_shapes",
            "test_rnn_backward_values",
            "test_rnn_backward_edge_cases",
            "test_rnn_backward_gradient_check",
            "test_rnn_backward_matches_torch",
            "test_rnn_backward_no_mutation",
        ],
        "message": "db has shape (3, 4), expected (H,) = (4,). Sum over the batch",
    },
    ("peggy", "a03_lstm"): {
        "cells": {
            "set_forget_bias": """
def set_forget_bias(module, value=1.0):
    H = module.hidden_size
    with torch.no_grad():
        module.bias_ih_l0[H : 2 * H] = value
        module.bias_hh_l0[H : 2 * H] = value  # counts twice: PyTorch adds the two biases
    return module
"""
        },
        "fails": ["test_set_forget_bias_values", "test_set_forget_bias_edge_cases"],
        "message": "Known mistake: forget bias set on both biases",
    },
    ("quinn", "a03_lstm"): {
        "cells": {
            "lstm_forward": """
def lstm_forward(x, h0, Wx, Wh, b):
    B, T, D = x.shape
    h = np.zeros((B, T, h0.shape[1]))
    cache = []
    h_prev = h0
    for t in range(T):
        c_prev = np.zeros_like(h0)  # the cell state is reset at every step
        h_prev, c_next, step_cache = lstm_step_forward(x[:, t], h_prev, c_prev, Wx, Wh, b)
        h[:, t] = h_prev
        cache.append(step_cache)
    return h, cache
"""
        },
        # lstm_backward's check judges the forward that makes its cache first.
        "fails": [
            "test_lstm_forward_values",
            "test_lstm_forward_edge_cases",
            "test_lstm_forward_matches_torch",
            "test_lstm_backward_values",
            "test_lstm_backward_edge_cases",
            "test_lstm_backward_gradient_check",
        ],
        "message": "Known mistake: cell state not carried over time",
    },
    ("rosa", "a03_lstm"): {
        "cells": {
            "lstm_step_forward": """
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H])
    o, g = sigmoid(a[:, 2 * H : 3 * H]), np.tanh(a[:, 3 * H :])  # read as i, f, o, g
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    return h_next, c_next, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c_next)
"""
        },
        # The wrong step reaches lstm_forward and both backward checks (through the cache).
        "fails": [
            "test_lstm_step_forward_values",
            "test_lstm_step_forward_edge_cases",
            "test_lstm_forward_values",
            "test_lstm_forward_edge_cases",
            "test_lstm_forward_matches_torch",
            "test_lstm_step_backward_values",
            "test_lstm_step_backward_edge_cases",
            "test_lstm_backward_values",
            "test_lstm_backward_edge_cases",
            "test_lstm_backward_gradient_check",
        ],
        "message": "Known mistake: gates g and o swapped",
    },
    ("sam", "a04_gru"): {
        "cells": {
            "gru_step_forward": """
def gru_step_forward(x, h_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + b
    r = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])
    z = sigmoid(a[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H])
    candidate = np.tanh(a[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :])
    h_next = z * h_prev + (1 - z) * candidate  # PyTorch's direction of z
    return h_next, (x, h_prev, Wx, Wh, r, z, candidate)
"""
        },
        # The wrong step reaches gru_forward and both backward checks (through the cache).
        "fails": GRU_STEP_FAILS,
        "message": "Known mistake: update-gate sign reversed",
    },
    ("tara", "a04_gru"): {
        "cells": {
            "gru_step_forward": """
def gru_step_forward(x, h_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx + b
    r = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])
    z = sigmoid(a[:, H : 2 * H] + h_prev @ Wh[:, H : 2 * H])
    candidate = np.tanh(a[:, 2 * H :] + r * (h_prev @ Wh[:, 2 * H :]))  # reset after
    h_next = (1 - z) * h_prev + z * candidate
    return h_next, (x, h_prev, Wx, Wh, r, z, candidate)
"""
        },
        "fails": GRU_STEP_FAILS,
        "message": "Known mistake: reset gate applied after the product",
    },
    ("uma", "a04_gru"): {
        "cells": {
            "gru_params_to_torch": """
def gru_params_to_torch(Wx, Wh, b, b_hn, module):
    H = Wh.shape[0]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.as_tensor(Wx.T))
        module.weight_hh_l0.copy_(torch.as_tensor(Wh.T))
        module.bias_ih_l0.copy_(torch.as_tensor(b))
        module.bias_ih_l0[2 * H :] += torch.as_tensor(b_hn)  # one bias for n, as for r and z
        module.bias_hh_l0.zero_()
    return module
"""
        },
        "fails": [
            "test_gru_params_to_torch_values",
            "test_gru_params_to_torch_edge_cases",
            "test_gru_params_to_torch_matches_torch",
        ],
        "message": "Known mistake: b_hn folded into bias_ih",
    },
    ("victor", "a04_gru"): {
        "cells": {
            "flip_update_gate": """
def flip_update_gate(Wx, Wh, b):
    H = Wh.shape[0]
    Wx, Wh = Wx.copy(), Wh.copy()
    Wx[:, H : 2 * H] *= -1
    Wh[:, H : 2 * H] *= -1
    return Wx, Wh, b.copy()  # the bias is part of the pre-activation too
"""
        },
        "fails": [
            "test_flip_update_gate_values",
            "test_flip_update_gate_edge_cases",
            "test_flip_update_gate_matches_torch",
        ],
        "message": "Known mistake: bias not flipped",
    },
}

# A bug that needs the edited test: the test cell was replaced by `pass`.
EDITED = ("heidi", "a01_rnn_forward")
# Loops forever whenever clipping is needed: stopped by the per-cell timeout.
LOOPING = ("mike", "a02_bptt")
LOOPING_CODE = """
def clip_grad_norm(grads, max_norm):
    total_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    scale, norm = 1.0, total_norm
    while norm > max_norm:
        scale *= 0.9  # the norm is never updated
    return {name: g * scale for name, g in grads.items()}, total_norm
"""
LOOPING_FAILS = [
    "test_clip_grad_norm_clips",
    "test_clip_grad_norm_edge_cases",
    "test_clip_grad_norm_no_mutation",
]
# Writes harmless warnings to stderr, as PyTorch and NumPy do: still full marks.
WARNING = ("olivia", "a01_rnn_forward")
WARNING_CODE = """
import sys
import warnings

def rnn_step_forward(x, h_prev, Wx, Wh, b):
    print("[W1125 20:38:12.345678901 NNPACK.cpp:64] Could not initialize NNPACK! "
          "Reason: Unsupported hardware.", file=sys.stderr)
    warnings.warn("a harmless warning")
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, (x, h_prev, Wx, Wh, h_next)
"""
CORRUPT = ("mallory", "a01_rnn_forward")


def _wrong_submissions_of_later_assignments() -> dict:
    """The WRONG entries of wrong_submissions/aNN_*.py, one module per later assignment."""
    wrong = {}
    for path in sorted((HERE / "wrong_submissions").glob("a*.py")):
        spec = importlib.util.spec_from_file_location(f"wrong_submissions_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        clash = set(module.WRONG) & set(wrong)
        assert not clash, f"{path.name} reuses the students {sorted(clash)}"
        wrong.update(module.WRONG)
    return wrong


WRONG.update(_wrong_submissions_of_later_assignments())
SOLUTION, UNTOUCHED = "ada", "bob"


def solution_code(source_cell) -> str:
    """The instructors' solution without the nbgrader markers, as a student would write it."""
    lines = [line for line in source_cell.source.splitlines() if "### " not in line]
    return "\n".join(lines)


def submission(release, source, replacements=(), edit_tests=()) -> nbformat.NotebookNode:
    """The released notebook with every solution cell filled in, and some replaced."""
    notebook = nbformat.from_dict(release)
    sources = {cell.id: cell for cell in source.cells}
    replacements = dict(replacements)
    for cell in notebook.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        grade_id = nbgrader.get("grade_id")
        if nbgrader.get("solution") and cell.cell_type == "code":
            code = replacements.get(grade_id, solution_code(sources[cell.id]))
            cell.source = code.strip("\n")
        if grade_id in edit_tests:
            cell.source = "pass"
    return notebook


def cell_points(source) -> dict:
    """``{grade_id: points}`` of the autograded test cells."""
    return {
        cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader["points"]
        for cell in source.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    }


def expected_scores(source, failing=()) -> dict:
    return {
        name: (0.0 if name in failing else float(points))
        for name, points in cell_points(source).items()
    }


@pytest.fixture(scope="module")
def course(tmp_path_factory, repository, run_command):
    root = tmp_path_factory.mktemp("course")
    shutil.copy(repository / "nbgrader_config.py", root)
    shutil.copytree(repository / "solutions", root / "solutions")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(TEST_CONFIG.format(short=SHORT_TIMEOUT))
    run_command(["nbgrader", "generate_assignment", "*", "--force"], root)

    sources, releases = {}, {}
    for assignment in ASSIGNMENTS:
        name = f"{assignment}.ipynb"
        sources[assignment] = nbformat.read(root / "solutions" / assignment / name, 4)
        releases[assignment] = nbformat.read(root / "exercises" / assignment / name, 4)

    def put(student, assignment, notebook):
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{assignment}.ipynb")

    for assignment in ASSIGNMENTS:
        put(SOLUTION, assignment, submission(releases[assignment], sources[assignment]))
        put(UNTOUCHED, assignment, releases[assignment])
    for (student, assignment), spec in WRONG.items():
        put(
            student,
            assignment,
            submission(releases[assignment], sources[assignment], spec["cells"]),
        )
    student, assignment = EDITED
    put(
        student,
        assignment,
        submission(
            releases[assignment],
            sources[assignment],
            {"rnn_step_forward": SIGMOID_STEP},
            edit_tests=("test_rnn_step_forward_values", "test_rnn_forward_values"),
        ),
    )
    student, assignment = LOOPING
    put(
        student,
        assignment,
        submission(releases[assignment], sources[assignment], {"clip_grad_norm": LOOPING_CODE}),
    )
    student, assignment = WARNING
    put(
        student,
        assignment,
        submission(releases[assignment], sources[assignment], {"rnn_step_forward": WARNING_CODE}),
    )
    student, assignment = CORRUPT
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text('{"cells": [{"cell_type": "code", "sour')

    notebooks = sorted((root / "submitted").glob("*/*/*.ipynb"))
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_command(
        ["python", "-m", "rnncore.grading.autograde", "--feedback"], root, check=False
    )
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(
        f"\nautograde + feedback + export of {len(notebooks)} notebooks: {elapsed:.1f} s wall "
        f"({elapsed / len(notebooks):.1f} s per submission), {cpu:.1f} s CPU "
        f"({cpu / len(notebooks):.1f} s per submission)"
    )
    return {"root": root, "result": result, "sources": sources, "count": len(notebooks)}


def auto_scores(course, student, assignment) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course['root'] / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {
            grade.name: grade.auto_score
            for grade in notebook.grades
            if grade.cell.cell_type == "code"
        }


def feedback_text(course, student, assignment) -> str:
    page = course["root"] / "feedback" / student / assignment / f"{assignment}.html"
    text = re.sub(r"<[^>]+>", "", page.read_text())
    return html.unescape(text)


def test_release_matches_the_committed_exercises(course, repository):
    # The course released from the repository's solutions/ is byte for byte exercises/.
    for assignment in ASSIGNMENTS:
        name = f"{assignment}/{assignment}.ipynb"
        released = (course["root"] / "exercises" / name).read_bytes()
        assert released == (repository / "exercises" / name).read_bytes(), (
            f"exercises/{name} is out of date: run `make release`"
        )
    committed = sorted(
        p.relative_to(repository / "exercises")
        for p in (repository / "exercises").rglob("*")
        if p.is_file()
    )
    assert [str(p) for p in committed] == [f"{a}/{a}.ipynb" for a in ASSIGNMENTS]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_gets_every_autograded_point(course, assignment):
    source = course["sources"][assignment]
    assert auto_scores(course, SOLUTION, assignment) == expected_scores(source)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_untouched_release_gets_zero(course, assignment):
    source = course["sources"][assignment]
    assert auto_scores(course, UNTOUCHED, assignment) == expected_scores(
        source, cell_points(source)
    )


@pytest.mark.parametrize("key", sorted(WRONG), ids=lambda key: f"{key[0]}-{key[1]}")
def test_a_wrong_submission_loses_exactly_the_cells_of_its_bug(course, key):
    student, assignment = key
    source = course["sources"][assignment]
    failing = WRONG[key]["fails"]
    assert set(failing) <= set(cell_points(source))
    assert auto_scores(course, student, assignment) == expected_scores(source, failing)


@pytest.mark.parametrize("key", sorted(WRONG), ids=lambda key: f"{key[0]}-{key[1]}")
def test_the_feedback_shows_the_intended_message(course, key):
    student, assignment = key
    assert WRONG[key]["message"] in feedback_text(course, student, assignment)


def test_an_edited_test_cell_is_graded_with_the_original(course):
    student, assignment = EDITED
    source = course["sources"][assignment]
    failing = WRONG[("carol", assignment)]["fails"]
    assert auto_scores(course, student, assignment) == expected_scores(source, failing)
    graded = nbformat.read(
        course["root"] / "autograded" / student / assignment / f"{assignment}.ipynb", 4
    )
    sources = {cell.id: cell.source for cell in source.cells}
    restored = [cell for cell in graded.cells if cell.id == "test_rnn_step_forward_values"]
    assert restored[0].source == sources["test_rnn_step_forward_values"]
    assert "Known mistake: sigmoid instead of tanh" in feedback_text(course, student, assignment)


def test_a_looping_submission_is_stopped_by_the_timeout(course):
    student, assignment = LOOPING
    source = course["sources"][assignment]
    assert auto_scores(course, student, assignment) == expected_scores(source, LOOPING_FAILS)
    graded = nbformat.read(
        course["root"] / "autograded" / student / assignment / f"{assignment}.ipynb", 4
    )
    for cell in graded.cells:
        if cell.get("id") in LOOPING_FAILS:
            errors = [out for out in cell.outputs if out.output_type == "error"]
            assert errors and errors[0].ename in ("KeyboardInterrupt", "CellTimeoutError")


def test_harmless_warnings_on_stderr_cost_nothing(course):
    student, assignment = WARNING
    source = course["sources"][assignment]
    assert auto_scores(course, student, assignment) == expected_scores(source)


def test_a_corrupt_notebook_is_named_and_the_batch_goes_on(course):
    student, assignment = CORRUPT
    result = course["result"]
    path = f"submitted/{student}/{assignment}/{assignment}.ipynb"
    assert f"CORRUPT SUBMISSION {path}: the file is not valid JSON" in result.stderr
    assert result.returncode == 1  # the batch reports that not everything was graded
    assert f"{path}: NOT GRADED" in result.stdout
    # every other submission was graded
    graded = sorted((course["root"] / "autograded").glob("*/*/*.ipynb"))
    assert len(graded) == course["count"] - 1


def test_the_csv_matches_the_gradebook(course):
    from nbgrader.api import Gradebook

    with open(course["root"] / "grades.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    students = {SOLUTION, UNTOUCHED, EDITED[0], LOOPING[0], WARNING[0], CORRUPT[0]}
    students |= {student for student, _ in WRONG}
    assert {row["student_id"] for row in rows} == students
    assert len(rows) == len(students) * len(ASSIGNMENTS)
    with Gradebook(f"sqlite:///{course['root'] / 'gradebook.db'}") as gradebook:
        for row in rows:
            assignment = gradebook.find_assignment(row["assignment"])
            assert float(row["max_score"]) == assignment.max_score
            try:
                submission = gradebook.find_submission(row["assignment"], row["student_id"])
            except Exception:  # no submission for this assignment: 0 points
                assert float(row["score"]) == 0.0
                continue
            assert float(row["score"]) == pytest.approx(submission.score)
            assert float(row["raw_score"]) == pytest.approx(submission.score)
    solution_row = next(
        r for r in rows if r["student_id"] == SOLUTION and r["assignment"] == "a01_rnn_forward"
    )
    assert float(solution_row["score"]) == sum(
        cell_points(course["sources"]["a01_rnn_forward"]).values()
    )
