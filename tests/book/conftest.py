"""Fixtures for the tests that read the built website or drive a browser.

The website is built by `make book` (which `make test` runs first) into ``_build/html``.
``BOOK_HTML_DIR`` points the tests at another build, e.g. one made with
``jupyter-book build <copy> --path-output ...``: the book's sources (``_toc.yml`` and the
pages) are then read from the folder two levels above it, ``<copy>`` for ``<copy>/_build/html``.
Without a built site the tests skip, except under CI (``CI=true``), where they fail.

The browser tests share one way of driving Chromium: Playwright launches Debian's Chromium
(``/usr/bin/chromium``, or the one named by the environment variable ``CHROMIUM``; Playwright
never downloads a browser here), and every request of a tab goes through a `RequestLog`, which
aborts the requests that would leave the machine and fails the test on them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]

# Another Chromium (a snap, a custom build) is named by the environment variable CHROMIUM.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's default wait for a page, a locator or a navigation.
BROWSER_TIMEOUT_MS = 30_000


def running_in_ci() -> bool:
    """Whether the tests run under CI, where a missing prerequisite is a failure."""
    return os.environ.get("CI", "").strip().lower() == "true"


def skip_or_fail(message: str) -> None:
    """Skip the test on a workstation; fail it under CI, where nothing may be missing."""
    if running_in_ci():
        pytest.fail(message)
    pytest.skip(message)


def toc_docnames(toc_path: Path) -> list[str]:
    """Return the documents of a jb-book ``_toc.yml`` in reading order (root first)."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    if toc.get("format") != "jb-book":
        raise ValueError(f"{toc_path} must have format jb-book, got {toc.get('format')!r}")
    docnames = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                docnames.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return [docname.removesuffix(".md").removesuffix(".ipynb") for docname in docnames]


def markdown_title(source: Path) -> str:
    """Return the text of the first level-1 heading of a MyST page, without inline markup."""
    in_front_matter = in_code = False
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines()):
        if number == 0 and line.strip() == "---":
            in_front_matter = True
            continue
        if in_front_matter:
            in_front_matter = line.strip() != "---"
            continue
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if not in_code and line.startswith("# "):
            return line[2:].replace("`", "").replace("*", "").strip()
    raise ValueError(f"{source} has no level-1 heading ('# Title')")


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The built website, ``_build/html`` (or ``$BOOK_HTML_DIR``)."""
    site = Path(os.environ.get("BOOK_HTML_DIR") or REPOSITORY_ROOT / "_build" / "html")
    if not (site / "index.html").is_file():
        skip_or_fail(f"no built website in {site}: run `make book` first")
    return site.resolve()


@pytest.fixture(scope="session")
def book_root(built_site: Path) -> Path:
    """The folder holding _config.yml, _toc.yml and the pages of the built site."""
    root = built_site.parents[1]
    if not (root / "_toc.yml").is_file():
        pytest.fail(f"{built_site} is not <book>/_build/html: no _toc.yml in {root}")
    return root


@pytest.fixture(scope="session")
def toc_pages(book_root: Path) -> list[str]:
    """Docnames of every page listed in _toc.yml, in reading order, e.g. 'chapters/04_bptt'."""
    return toc_docnames(book_root / "_toc.yml")


@pytest.fixture(scope="session")
def page_titles(book_root: Path, toc_pages: list[str]) -> dict[str, str]:
    """The title (first heading) of every page in _toc.yml, read from its source."""
    return {docname: markdown_title(book_root / f"{docname}.md") for docname in toc_pages}


class RequestLog:
    """Every URL the browser asked for, split into the allowed and the offending ones."""

    def __init__(self, base_url: str) -> None:
        self.host = urlsplit(base_url).netloc
        self.urls: list[str] = []
        self.left_the_machine: list[str] = []
        self.not_found: list[str] = []

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        # about:blank is the empty frame a script may create: it loads nothing.
        return (
            parts.scheme in ("data", "blob")
            or url == "about:blank"
            or (parts.scheme == "http" and parts.netloc == self.host)
        )

    def route(self, route) -> None:
        """Let local requests through; abort anything else (on_request records it)."""
        if self.is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    def on_request(self, request) -> None:
        self.urls.append(request.url)
        if not self.is_local(request.url):
            self.left_the_machine.append(request.url)

    def on_response(self, response) -> None:
        if response.status >= 400:
            self.not_found.append(f"{response.status} {response.url}")

    def assert_stayed_local(self) -> None:
        assert self.urls, "the browser made no request at all"
        assert not self.left_the_machine, "requests left the machine:\n" + "\n".join(
            self.left_the_machine
        )
        assert not self.not_found, "requests failed:\n" + "\n".join(self.not_found)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    """A headless Chromium with a fresh profile, shared by the tests of a module."""
    if not CHROMIUM.is_file():
        skip_or_fail(f"{CHROMIUM} not found: install it with `apt-get install chromium`")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path_factory.mktemp("chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            service_workers="block",
        )
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture
def open_logged_page(browser_context) -> Iterator[Callable[[str], tuple]]:
    """Open tabs whose every request goes through a fresh RequestLog; close them afterwards.

    ``open_logged_page(base_url)`` returns ``(page, log)``: requests for ``base_url``'s host
    (and ``data:`` / ``blob:``) go through, any other is aborted and recorded in ``log``.
    """
    pages = []

    def open_page(base_url: str) -> tuple:
        log = RequestLog(base_url)
        page = browser_context.new_page()
        page.route("**/*", log.route)
        page.on("request", log.on_request)
        page.on("response", log.on_response)
        pages.append(page)
        return page, log

    yield open_page
    for page in pages:
        page.close()
