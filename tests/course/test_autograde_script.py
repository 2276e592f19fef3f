"""The instructors' batch script, rnncore.grading.autograde, without running nbgrader.

The end-to-end run with the real nbgrader is in test_pipeline.py; here nbgrader's commands are
recorded instead of run, to test what the script decides on its own.
"""

import shutil

import nbformat
import pytest

from rnncore.grading import autograde


def write_notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ('{"cells": [', "is not valid JSON"),
        (
            '{"cells": "no", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
            "is not a valid notebook",
        ),
        ("[1, 2]", "is not a valid notebook"),
    ],
)
def test_notebook_problem_names_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "a.ipynb"
    path.write_text(text)
    assert autograde.notebook_problem(path).startswith(problem)


def test_a_valid_notebook_has_no_problem(tmp_path):
    write_notebook(tmp_path / "a.ipynb")
    assert autograde.notebook_problem(tmp_path / "a.ipynb") is None


def test_find_submissions(tmp_path):
    write_notebook(tmp_path / "submitted" / "zoe" / "a01_rnn_forward" / "a01_rnn_forward.ipynb")
    write_notebook(tmp_path / "submitted" / "al" / "a02_bptt" / "a02_bptt.ipynb")
    (tmp_path / "submitted" / "al" / "a02_bptt" / "notes.txt").write_text("not a notebook")
    found = autograde.find_submissions(tmp_path)
    assert [(s.student, s.assignment) for s in found] == [
        ("al", "a02_bptt"),
        ("zoe", "a01_rnn_forward"),
    ]


@pytest.fixture
def course(tmp_path, repository, monkeypatch):
    shutil.copy(repository / "nbgrader_config.py", tmp_path)
    (tmp_path / "solutions" / "a01_rnn_forward").mkdir(parents=True)
    calls = []
    monkeypatch.setattr(autograde, "_nbgrader", lambda arguments, root: calls.append(arguments))
    monkeypatch.setattr(autograde, "_missing_from_gradebook", lambda db_url, names: [])
    monkeypatch.setattr(autograde, "_score", lambda db_url, submission: "10 / 17")
    return tmp_path, calls


def test_the_batch_runs_autograde_feedback_and_export(course, capsys):
    root, calls = course
    notebook = root / "submitted" / "al" / "a01_rnn_forward" / "a01_rnn_forward.ipynb"
    write_notebook(notebook)
    status = autograde.main(["--root", str(root), "--timeout", "5", "--feedback"])
    assert calls == [
        ["autograde", "*", "--force", "--Execute.timeout=5"],
        ["generate_feedback", "*", "--force"],
        ["export", "--to=grades.csv"],
    ]
    # nbgrader was not run, so nothing was autograded: the script says so
    assert status == 1
    assert "a01_rnn_forward.ipynb: NOT GRADED: nbgrader failed on it" in capsys.readouterr().out


def test_corrupt_and_unknown_submissions_are_named(course, capsys):
    root, calls = course
    corrupt = root / "submitted" / "al" / "a01_rnn_forward" / "a01_rnn_forward.ipynb"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_text("{")
    write_notebook(root / "submitted" / "al" / "a09_unknown" / "a09_unknown.ipynb")
    assert autograde.main(["--root", str(root)]) == 1
    errors = capsys.readouterr().err
    assert (
        "CORRUPT SUBMISSION submitted/al/a01_rnn_forward/a01_rnn_forward.ipynb: "
        "the file is not valid JSON"
    ) in errors
    assert "there is no solutions/a09_unknown" in errors
    assert ["autograde", "*", "--force"] in calls  # the rest of the batch is still graded


def test_missing_assignments_are_generated_outside_exercises(course, monkeypatch):
    root, calls = course
    monkeypatch.setattr(autograde, "_missing_from_gradebook", lambda db_url, names: sorted(names))
    write_notebook(root / "submitted" / "al" / "a01_rnn_forward" / "a01_rnn_forward.ipynb")
    autograde.main(["--root", str(root)])
    generate = calls[0]
    assert generate[:3] == ["generate_assignment", "a01_rnn_forward", "--force"]
    assert generate[3].startswith("--CourseDirectory.release_directory=")
    assert "exercises" not in generate[3]


def test_no_submissions_and_no_config(tmp_path, course, capsys):
    root, calls = course
    assert autograde.main(["--root", str(root)]) == 0
    assert "No submissions" in capsys.readouterr().out
    assert calls == []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert autograde.main(["--root", str(elsewhere)]) == 2
