"""The course's nbgrader set-up: the config, the source notebooks, and the committed release.

Solutions must pass their own tests and the untouched release must fail every one of them.
``nbgrader validate`` exits 0 either way, so nbgrader's Validator API is used instead.
"""

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

# Every assignment of the course: one folder each in solutions/.
ASSIGNMENTS = tuple(
    sorted(
        path.name
        for path in (Path(__file__).resolve().parents[2] / "solutions").iterdir()
        if path.is_dir()
    )
)


def load_course_config(repository):
    return PyFileConfigLoader("nbgrader_config.py", path=str(repository)).load_config()


def source(repository, assignment):
    return repository / "solutions" / assignment / f"{assignment}.ipynb"


def release(repository, assignment):
    return repository / "exercises" / assignment / f"{assignment}.ipynb"


def test_config_points_at_this_folder_without_absolute_paths(repository):
    config = load_course_config(repository)
    assert config.CourseDirectory.root == str(repository)
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "exercises"
    assert config.Execute.timeout > 0
    text = (repository / "nbgrader_config.py").read_text()
    assert str(repository) not in text and "/home/" not in text
    assert len(text.splitlines()) < 40  # a few settings, not a generated dump


def stream(text, name="stderr"):
    return NotebookNode(output_type="stream", name=name, text=text)


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        (
            "[W1125 20:38:12.345678901 NNPACK.cpp:64] Could not initialize NNPACK! Reason: "
            "Unsupported hardware.\n",
            True,
        ),
        ("[W NNPACK.cpp:53] Could not initialize NNPACK! Reason: Unsupported hardware.\n", True),
        ("/work/x.py:12: UserWarning: something harmless\n  warnings.warn(...)\n", True),
        ("<ipython-input-3>:2: RuntimeWarning: overflow encountered in exp\n", True),
        ("something went wrong\n", False),
        ("Traceback (most recent call last):\n", False),
    ],
)
def test_ignore_pattern_drops_only_warnings(repository, text, ignored):
    from nbgrader.preprocessors import IgnorePattern
    from nbgrader.utils import determine_grade

    config = load_course_config(repository)
    cell = nbformat.v4.new_code_cell("check()")
    cell.metadata = {
        "nbgrader": {
            "grade": True,
            "solution": False,
            "points": 2,
            "grade_id": "test_x",
            "locked": True,
            "schema_version": 3,
        }
    }
    cell.outputs = [stream(text), stream("fine\n", "stdout")]
    preprocessor = IgnorePattern(config=config)
    assert preprocessor.enabled
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook, _ = preprocessor.preprocess(notebook, {})
    score, _ = determine_grade(notebook.cells[0])
    assert score == (2 if ignored else 0)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebooks_are_clean_and_state_their_points(repository, assignment):
    notebook = nbformat.read(source(repository, assignment), as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    points, grade_ids = 0, []
    for cell in notebook.cells:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
        nbgrader = cell.metadata.get("nbgrader")
        if nbgrader is None:
            continue
        assert nbgrader["schema_version"] == 3
        grade_ids.append(nbgrader["grade_id"])
        if nbgrader["grade"]:
            points += nbgrader["points"]
            if cell.cell_type == "code":  # an autograded test: locked, not a solution
                assert nbgrader["locked"] and not nbgrader["solution"]
                assert nbgrader["grade_id"].startswith("test_")
            else:  # a written answer, graded by hand
                assert nbgrader["solution"] and not nbgrader["locked"]
    assert len(grade_ids) == len(set(grade_ids))
    stated = re.search(r"\*\*Total: (\d+) points\*\*", notebook.cells[0].source)
    assert stated is not None and int(stated.group(1)) == points


def test_assignments_page_states_the_same_points(repository):
    page = (repository / "book" / "assignments.md").read_text()
    assert page.startswith("(assignments)=")
    for assignment in ASSIGNMENTS:
        notebook = nbformat.read(source(repository, assignment), as_version=4)
        total = re.search(r"\*\*Total: (\d+) points\*\*", notebook.cells[0].source).group(1)
        link = f"<../exercises/{assignment}/{assignment}.ipynb>"
        assert link in page
        assert re.search(rf"{assignment}[\s\S]*?{total} points", page)


@pytest.fixture(scope="module")
def validator_config():
    config = Config()
    config.Execute.timeout = 300  # generous: validation is not the timeout test
    return config


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_pass_their_own_tests(
    repository, assignment, validator_config, nbgrader_environment
):
    from nbgrader.validator import Validator

    results = Validator(config=validator_config).validate(str(source(repository, assignment)))
    assert results == {}, results


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_fails_every_test(
    repository, assignment, validator_config, nbgrader_environment
):
    from nbgrader.validator import Validator

    validator = Validator(config=validator_config, invert=True)
    results = validator.validate(str(release(repository, assignment)))
    assert "passed" not in results, [cell["source"][:80] for cell in results["passed"]]
    assert "changed" not in results
