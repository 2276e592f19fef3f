"""Shared set-up of the course pipeline tests: paths and the environment nbgrader runs in.

nbgrader starts kernels and helper programs from PATH, so it runs here as the Makefile runs it:
with the venv's ``bin`` first on PATH and JUPYTER_PATH pointing at the venv's kernels.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _environment() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # .venv/share/jupyter
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def _run(command, cwd, check=True) -> subprocess.CompletedProcess:
    """Run ``command`` in the nbgrader environment; on failure, show its output."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited with {result.returncode}\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


@pytest.fixture(scope="session")
def repository() -> Path:
    return REPOSITORY


@pytest.fixture(scope="session")
def run_command():
    """``run_command(["nbgrader", ...], cwd)``: nbgrader and python resolve to the venv's."""

    def run(command, cwd, check=True):
        program = command[0]
        if program in ("nbgrader", "python"):
            command = [BIN / program, *command[1:]]
        return _run(command, cwd, check)

    return run


@pytest.fixture(scope="session")
def nbgrader_environment():
    """Set PATH and JUPYTER_PATH in this process too, for nbgrader's Python API."""
    saved = {key: os.environ.get(key) for key in ("PATH", "JUPYTER_PATH")}
    os.environ.update({key: _environment()[key] for key in saved})
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
