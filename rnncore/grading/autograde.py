"""Grade every submission of the course in one go: ``python -m rnncore.grading.autograde``.

This is what ``make grade`` runs, from the course root (the folder of ``nbgrader_config.py``).

1. Find the submissions, ``submitted/<student>/<assignment>/<notebook>.ipynb``.
2. Check that each notebook can be read (valid JSON, valid notebook format). A corrupt file is
   reported with its path and what is wrong with it; the rest of the batch is graded, and
   nbgrader records the corrupt submission with 0 points until it is replaced.
3. Make sure the gradebook knows every assignment (it does after ``make release``; on a fresh
   checkout this runs ``nbgrader generate_assignment`` into a temporary folder, so that the
   committed ``exercises/`` is not touched).
4. Run ``nbgrader autograde "*" --force``: every assignment of every student, with the test
   cells restored from the gradebook and a per-cell timeout (``c.Execute.timeout`` in the
   config, or ``--timeout`` here).
5. Optionally (``--feedback``) write the feedback pages, ``nbgrader generate_feedback``.
6. Export the gradebook to CSV, ``nbgrader export --to grades.csv``, and print a summary.

nbgrader runs from the same environment as this script: its ``bin`` folder is put first on
PATH, and JUPYTER_PATH defaults to its ``share/jupyter`` (where the course's kernel lives).
The exit status is 0 when every submission was graded, 1 otherwise (the CSV is still written).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

__all__ = ["Submission", "find_submissions", "notebook_problem", "main"]


class Submission(NamedTuple):
    """One submitted notebook."""

    student: str
    assignment: str
    path: Path


def find_submissions(root: Path) -> list[Submission]:
    """Every ``submitted/<student>/<assignment>/*.ipynb`` under ``root``, sorted."""
    found = []
    for path in sorted((root / "submitted").glob("*/*/*.ipynb")):
        assignment_folder = path.parent
        found.append(Submission(assignment_folder.parent.name, assignment_folder.name, path))
    return found


def notebook_problem(path: Path) -> str | None:
    """What makes ``path`` unreadable as a notebook, or None if nbgrader can read it."""
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return f"cannot be read ({error})"
    if not text.strip():
        return "is empty"
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"is not valid JSON ({error})"
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several unrelated types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"is not a valid notebook ({type(error).__name__}: {first_line})"
    return None


def _environment() -> dict:
    """PATH with this Python's bin folder first, JUPYTER_PATH to its kernels."""
    env = dict(os.environ)
    bin_folder = str(Path(sys.executable).parent)
    env["PATH"] = bin_folder + os.pathsep + env.get("PATH", "")
    env.setdefault("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    return env


def _nbgrader(arguments: list[str], root: Path) -> int:
    command = [str(Path(sys.executable).parent / "nbgrader"), *arguments]
    print("$ nbgrader " + " ".join(arguments), flush=True)
    return subprocess.run(command, cwd=root, env=_environment(), check=False).returncode


def _course_directory(root: Path):
    """nbgrader's CourseDirectory configured from ``root/nbgrader_config.py``."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(root)
    return coursedir


def _missing_from_gradebook(db_url: str, assignments: set[str]) -> list[str]:
    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(db_url) as gradebook:
        for assignment in sorted(assignments):
            try:
                if not gradebook.find_assignment(assignment).notebooks:
                    missing.append(assignment)
            except MissingEntry:
                missing.append(assignment)
    return missing


def _score(db_url: str, submission: Submission) -> str:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        try:
            graded = gradebook.find_submission(submission.assignment, submission.student)
        except MissingEntry:
            return "not in the gradebook"
        manual = " (+ written answers to grade)" if graded.needs_manual_grade else ""
        return f"{graded.score:g} / {graded.max_score:g}{manual}"


def main(argv: list[str] | None = None) -> int:
    """Run the batch; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m rnncore.grading.autograde",
        description="Autograde every submission in submitted/ and export the grades to CSV.",
    )
    parser.add_argument("--root", default=".", help="course root (with nbgrader_config.py)")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: the config's)")
    parser.add_argument("--feedback", action="store_true", help="also write feedback/ pages")
    parser.add_argument("--csv", default="grades.csv", help="where to export the grades")
    options = parser.parse_args(argv)
    root = Path(options.root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        print(f"error: {root} has no nbgrader_config.py; run from the course root", file=sys.stderr)
        return 2

    submissions = find_submissions(root)
    if not submissions:
        print(f"No submissions in {root / 'submitted'} (expected <student>/<assignment>/*.ipynb).")
        return 0
    sources = {path.name for path in (root / "solutions").iterdir() if path.is_dir()}
    problems = {}
    for submission in submissions:
        problem = notebook_problem(submission.path)
        if problem is None and submission.assignment not in sources:
            problem = f"belongs to no assignment: there is no solutions/{submission.assignment}"
        if problem is not None:
            problems[submission] = problem
            relative = submission.path.relative_to(root)
            print(f"CORRUPT SUBMISSION {relative}: the file {problem}.", file=sys.stderr)

    coursedir = _course_directory(root)
    assignments = {s.assignment for s in submissions if s.assignment in sources}
    missing = _missing_from_gradebook(coursedir.db_url, assignments)
    if missing:
        with tempfile.TemporaryDirectory() as release:
            for assignment in missing:
                _nbgrader(
                    [
                        "generate_assignment",
                        assignment,
                        "--force",
                        f"--CourseDirectory.release_directory={release}",
                    ],
                    root,
                )

    timeout = [f"--Execute.timeout={options.timeout}"] if options.timeout else []
    started = time.time()
    _nbgrader(["autograde", "*", "--force", *timeout], root)
    elapsed = time.time() - started
    if options.feedback:
        _nbgrader(["generate_feedback", "*", "--force"], root)
    _nbgrader(["export", f"--to={options.csv}"], root)

    failed = []
    print(f"\nAutograded {len(submissions)} notebooks in {elapsed:.0f} s:")
    for submission in submissions:
        folder = coursedir.format_path(
            coursedir.autograded_directory, submission.student, submission.assignment
        )
        graded = Path(folder) / submission.path.name
        relative = submission.path.relative_to(root)
        if submission in problems:
            status = f"NOT GRADED: the file {problems[submission]}"
            failed.append(submission)
        elif not graded.is_file() or graded.stat().st_mtime < started:
            status = "NOT GRADED: nbgrader failed on it (see its log above)"
            failed.append(submission)
        else:
            status = _score(coursedir.db_url, submission)
        print(f"  {relative}: {status}")
    print(f"Grades exported to {options.csv}.")
    if failed:
        print(f"{len(failed)} submission(s) could not be graded (listed above).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
