"""A graded exercise done the student's way: JupyterLab in a real browser.

The venv's ``jupyter lab`` (the lock's JupyterLab, with the venv's kernel) serves a copy of
``exercises/a01_rnn_forward`` on 127.0.0.1, on a free port, behind a token. Chromium opens the
notebook (the browser set-up and the request log are shared with test_browser.py, in
conftest.py); the test types a function into the student's solution cell, runs every cell from
the Run menu and reads what the checks printed under the test cells: nothing for a correct
function, the named mistake for one that squashes with sigmoid instead of tanh.

Nothing leaves the machine: the browser's requests go through the request log (one that is not
for the server fails the test), JupyterLab's news and update check are off and its extension
manager read-only (no PyPI listing), and every folder Jupyter writes to (settings, workspaces,
runtime files, IPython's) lies in the test's temporary folder, never in the user's home.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "a01_rnn_forward"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
# The nbgrader ids (grade_id) of the cells the test works with: the solution cell of the first
# graded function, its test cells, the ones that check shapes and values, and the first test
# cell of the next function, which the student has not written yet.
SOLUTION_CELL = "rnn_step_forward"
TEST_CELL_PREFIX = "test_rnn_step_forward_"
SHAPES_TEST_CELL = "test_rnn_step_forward_shapes"
VALUES_TEST_CELL = "test_rnn_step_forward_values"
NEXT_FUNCTION_TEST_CELL = "test_rnn_forward_shapes"

CORRECT_FUNCTION = '''def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of a vanilla RNN: h_next = tanh(x @ Wx + h_prev @ Wh + b)."""
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)  # (B, H)
    cache = (x, h_prev, Wx, Wh, h_next)
    return h_next, cache'''
SIGMOID_FUNCTION = CORRECT_FUNCTION.replace(
    "np.tanh(x @ Wx + h_prev @ Wh + b)", "1 / (1 + np.exp(-(x @ Wx + h_prev @ Wh + b)))"
)
# What the checks print (rnncore/grading/mistakes.py and judge.py).
SIGMOID_MESSAGE = (
    "Known mistake: sigmoid instead of tanh. h_next matches sigmoid(x @ Wx + h_prev @ Wh + b)."
)
NOT_WRITTEN_MESSAGE = "rnn_forward: it is not written yet"

SERVER_START_S = 120
# Opening the notebook with a cold kernel, and running every cell, on a busy 2-core machine.
NOTEBOOK_TIMEOUT_MS = 120_000
STOP_S = 20

# Everything under a cell: what it printed, displayed, or raised (a traceback).
OUTPUT = ".jp-OutputArea-output"


class JupyterLab(NamedTuple):
    """A running JupyterLab: its address, its token, the files it serves and its log."""

    url: str
    token: str
    root: Path
    log: Path


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def processes_with_environment(entry: str) -> list[int]:
    """Ids of this user's processes whose environment holds ``entry`` ("NAME=value"; Linux)."""
    wanted = os.fsencode(entry)
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            environment = (process / "environ").read_bytes()
        except OSError:  # ended meanwhile, or another user's
            continue
        if wanted in environment.split(b"\0"):
            found.append(int(process.name))
    return found


def wait_until_serving(url: str, token: str, server: subprocess.Popen, log: Path) -> None:
    """Poll the server's status API until it answers; fail if it exits or takes too long."""
    # No proxy: an http_proxy of the environment must not carry a request for 127.0.0.1.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"{url}/api/status", headers={"Authorization": f"token {token}"}
    )
    deadline = time.monotonic() + SERVER_START_S
    while True:
        if server.poll() is not None:
            pytest.fail(f"jupyter lab exited with {server.returncode}:\n{log.read_text()}")
        try:
            with opener.open(request, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"jupyter lab did not answer in {SERVER_START_S} s:\n{log.read_text()}")
        time.sleep(0.5)


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[JupyterLab]:
    """The venv's JupyterLab serving a copy of the assignment, stopped even if the test fails."""
    root = tmp_path / "work"
    shutil.copytree(REPOSITORY_ROOT / "exercises" / ASSIGNMENT, root / ASSIGNMENT)
    home = tmp_path / "home"
    settings = home / "lab-settings"
    # The student may answer JupyterLab's question about news in the browser; answer it here
    # (never fetch) so that nothing asks, and nothing could fetch.
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    venv_bin = Path(sys.executable).parent
    env = {key: value for key, value in os.environ.items() if key != "JUPYTER_CONFIG_PATH"}
    env.update(
        # As the Makefile does: the venv's programs first, and its kernel ahead of any other.
        # The kernel spec stays findable: it lives in JUPYTER_PATH, not in JUPYTER_DATA_DIR.
        PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
        JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        IPYTHONDIR=str(home / "ipython"),
    )
    token = secrets.token_hex(16)
    port = free_port()
    command = [
        str(venv_bin / "jupyter"),
        "lab",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # a container's root: Jupyter refuses to start without this
        command.append("--ServerApp.allow_root=True")
    log = tmp_path / "jupyterlab.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(url, token, server, log)
        yield JupyterLab(url, token, root, log)
    finally:
        # The kernels inherit the server's environment, which names this test's runtime folder:
        # that finds them, although they run in sessions of their own.
        marker = f"JUPYTER_RUNTIME_DIR={env['JUPYTER_RUNTIME_DIR']}"
        was_running = server.poll() is None
        before_stop = processes_with_environment(marker)
        # The server and whatever it started in its process group; the kernels stop with the
        # server (at its shutdown, or when their parent is gone).
        if was_running:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        deadline = time.monotonic() + STOP_S
        while (left := processes_with_environment(marker)) and time.monotonic() < deadline:
            time.sleep(0.5)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"processes {left} outlived jupyter lab; killed them"
        if was_running and Path("/proc/self/environ").is_file():
            assert server.pid in before_stop, "the search of /proc missed jupyter lab itself"


def notebook_cells(path: Path) -> list[str]:
    """The nbgrader grade_id of every cell of a notebook ('' for a cell without one)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell["metadata"].get("nbgrader", {}).get("grade_id", "") for cell in notebook["cells"]]


def type_into_cell(page, cell, source: str) -> None:
    """Replace a code cell's text the way a student does: click, select all, type."""
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    # insert_text types the text as one input: no auto-indent, no auto-closed brackets.
    page.keyboard.insert_text(source)
    lines = editor.locator(".cm-line").all_text_contents()
    assert "\n".join(lines) == source, f"the editor holds {lines}"


def run_all_cells(page, expect, watched) -> None:
    """Run > Run All Cells from the menu bar; wait until ``watched`` ran and nothing is queued.

    ``watched`` is a cell that runs whatever the student wrote (the first test cell): once it
    shows a new execution count and no cell waits with ``[*]``, the run is over, ended by the
    last cell or by the first error.
    """
    prompt = watched.locator(".jp-InputPrompt")
    before = prompt.text_content().strip()
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
    page.locator(".lm-Menu .lm-Menu-item").filter(has=label).click()
    ran_again = re.compile(rf"^(?!{re.escape(before)}$)\[\d+\]:$")
    expect(prompt).to_have_text(ran_again, timeout=NOTEBOOK_TIMEOUT_MS)
    queued = page.locator(".jp-Notebook .jp-InputPrompt", has_text="[*]")
    expect(queued).to_have_count(0, timeout=NOTEBOOK_TIMEOUT_MS)
    idle = page.locator(".jp-NotebookPanel-toolbar [data-status='idle']")
    expect(idle).to_have_count(1, timeout=NOTEBOOK_TIMEOUT_MS)


# The browser first: without Chromium the test skips before JupyterLab starts.
def test_student_writes_rnn_step_forward_in_jupyterlab(
    open_logged_page, jupyterlab: JupyterLab
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    grade_ids = notebook_cells(jupyterlab.root / NOTEBOOK)
    kernel_spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    kernel_name = json.loads(kernel_spec.read_text())["display_name"]

    page, log = open_logged_page(jupyterlab.url)
    page.goto(f"{jupyterlab.url}/lab/tree/{NOTEBOOK}?token={jupyterlab.token}")
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(grade_ids), timeout=NOTEBOOK_TIMEOUT_MS)

    def cell(grade_id: str):
        return cells.nth(grade_ids.index(grade_id))

    def printed(grade_id: str) -> str:
        """Every output under a cell (a traceback included), whitespace collapsed."""
        return " ".join(" ".join(cell(grade_id).locator(OUTPUT).all_text_contents()).split())

    test_cells = [grade_id for grade_id in grade_ids if grade_id.startswith(TEST_CELL_PREFIX)]
    assert test_cells[0] == SHAPES_TEST_CELL and VALUES_TEST_CELL in test_cells
    expect(cell(SOLUTION_CELL)).to_contain_text("raise NotImplementedError()")
    # The venv's kernel, started and idle.
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName")).to_have_text(kernel_name)
    idle = page.locator(".jp-NotebookPanel-toolbar [data-status='idle']")
    expect(idle).to_have_count(1, timeout=NOTEBOOK_TIMEOUT_MS)

    # A correct function: every test cell of it runs and prints nothing, and Run All goes on
    # to the next function, whose check says it is not written yet.
    type_into_cell(page, cell(SOLUTION_CELL), CORRECT_FUNCTION)
    run_all_cells(page, expect, cell(SHAPES_TEST_CELL))
    for grade_id in test_cells:
        prompt = cell(grade_id).locator(".jp-InputPrompt").text_content().strip()
        assert re.fullmatch(r"\[\d+\]:", prompt), f"{grade_id} did not run: prompt {prompt!r}"
        assert printed(grade_id) == "", f"{grade_id} printed: {printed(grade_id)}"
    assert NOT_WRITTEN_MESSAGE in printed(NEXT_FUNCTION_TEST_CELL), (
        f"{NEXT_FUNCTION_TEST_CELL} printed: {printed(NEXT_FUNCTION_TEST_CELL)}"
    )

    # Sigmoid instead of tanh: the shapes are right, and the values check names the mistake
    # under its cell.
    type_into_cell(page, cell(SOLUTION_CELL), SIGMOID_FUNCTION)
    run_all_cells(page, expect, cell(SHAPES_TEST_CELL))
    assert printed(SHAPES_TEST_CELL) == "", (
        f"{SHAPES_TEST_CELL} printed: {printed(SHAPES_TEST_CELL)}"
    )
    message = printed(VALUES_TEST_CELL)
    assert "AssertionError: rnn_step_forward: h_next is wrong" in message, message
    assert SIGMOID_MESSAGE in message, message

    log.assert_stayed_local()
    server_log = jupyterlab.log.read_text()
    assert "not recognized" not in server_log, "a --LabApp/--ServerApp option is unknown"
