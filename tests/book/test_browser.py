"""The built website in a real browser: navigation, equations, search, and no network.

Playwright drives Debian's Chromium (``/usr/bin/chromium``; Playwright never downloads a
browser here; the set-up shared with the JupyterLab test is in conftest.py) against
``_build/html`` served by Python's http.server on 127.0.0.1. Every request the browser makes is
recorded; one that is not for the local server (or ``data:`` / ``blob:``) is aborted and fails
the test, and so does any local file that is missing (404).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = pytest.mark.book

# The page that must be found by searching for SEARCH_WORD, and the page whose equations are
# checked first (every page with math is checked too).
SEARCH_WORD = "truncated"
SEARCH_PAGE = "chapters/04_bptt"
EQUATION_PAGE = "chapters/02_recurrent_neuron"
TIMEOUT_MS = 30_000

# True once MathJax 2 has typeset the page: its queue is idle and every math element of the
# page holds MathJax output.
MATHJAX_DONE = """() => {
    const hub = window.MathJax && window.MathJax.Hub;
    if (!hub || !hub.queue || hub.queue.pending || hub.queue.running) return false;
    // Sphinx's math elements (MathJax's own output also has elements of class "math").
    const math = document.querySelectorAll('span.math.notranslate, div.math.notranslate');
    return math.length > 0 && [...math].every(
        element => element.querySelector('.MathJax') !== null
            && element.querySelector('.MathJax_Preview:not(:empty)') === null);
}"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without logging every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site served on 127.0.0.1 on a free port, in a background thread."""
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def page_and_log(open_logged_page, site_url: str):
    """A new tab whose every request goes through a fresh RequestLog (see conftest.py)."""
    return open_logged_page(site_url)


def docname_of(url: str, site_url: str) -> str:
    """'http://127.0.0.1:8000/chapters/04_bptt.html#x' -> 'chapters/04_bptt'."""
    path = urlsplit(url).path.removeprefix(urlsplit(site_url).path).lstrip("/")
    return path.removesuffix(".html")


def wait_for_equations(page) -> None:
    page.wait_for_function(MATHJAX_DONE, timeout=TIMEOUT_MS)
    text = page.locator("article").inner_text()
    assert "$$" not in text, "raw $$ left on the page"
    assert not re.search(r"\\\(|\\\[", text), "raw \\( or \\[ left on the page"
    errors = page.locator(".MathJax .merror, .MathJax_Error, #MathJax_Font_Warning").count()
    assert errors == 0, "MathJax reported an error or could not load its fonts"


def test_landing_page_loads(page_and_log, site_url: str, page_titles: dict[str, str]) -> None:
    page, log = page_and_log
    page.goto(site_url + "/")
    page.wait_for_url(re.compile(r"/book/intro\.html"))
    assert page.title().startswith(page_titles["book/intro"])
    assert page.locator("h1").first.inner_text().startswith(page_titles["book/intro"])
    log.assert_stayed_local()


def test_every_toc_page_is_reached_from_the_landing_page(
    page_and_log, site_url: str, toc_pages: list[str], page_titles: dict[str, str]
) -> None:
    page, log = page_and_log
    page.goto(site_url + "/")
    page.wait_for_url(re.compile(r"/book/intro\.html"))

    sidebar = page.locator("nav.bd-docs-nav a.reference.internal")
    sidebar_pages = {
        docname_of(urljoin(page.url, href), site_url)
        for href in (sidebar.nth(i).get_attribute("href") for i in range(sidebar.count()))
    }
    missing = [docname for docname in toc_pages[1:] if docname not in sidebar_pages]
    assert not missing, f"the sidebar does not link to {missing}"

    visited = [(docname_of(page.url, site_url), page.title())]
    while page.locator("a.right-next").count():
        with page.expect_navigation():
            page.locator("a.right-next").first.click()
        visited.append((docname_of(page.url, site_url), page.title()))
        assert len(visited) <= len(toc_pages), f"'next' does not stop: {visited}"
    assert [docname for docname, _ in visited] == toc_pages
    for docname, title in visited:
        assert title.startswith(page_titles[docname]), f"{docname}: title {title!r}"
    log.assert_stayed_local()


def test_equations_are_typeset_by_mathjax(
    page_and_log, site_url: str, built_site: Path, toc_pages: list[str]
) -> None:
    page, log = page_and_log
    with_math = [
        docname
        for docname in toc_pages
        if 'class="math' in (built_site / f"{docname}.html").read_text(encoding="utf-8")
    ]
    assert EQUATION_PAGE in with_math, f"{EQUATION_PAGE} has no equation"
    for docname in [EQUATION_PAGE] + [d for d in with_math if d != EQUATION_PAGE]:
        page.goto(f"{site_url}/{docname}.html")
        wait_for_equations(page)
        font = page.evaluate("() => MathJax.OutputJax['HTML-CSS'].fontInUse")
        assert font == "STIX-Web", f"{docname}: MathJax uses {font!r}, not the copied web font"
    log.assert_stayed_local()


def test_search_finds_a_word_of_the_bptt_chapter(
    page_and_log, site_url: str, page_titles: dict[str, str]
) -> None:
    page, log = page_and_log
    page.goto(f"{site_url}/search.html?q={SEARCH_WORD}")
    # Sphinx's search shows results one by one, then retitles the list "Search Results".
    page.locator("#search-results h2", has_text="Search Results").wait_for(state="attached")
    results = page.locator("#search-results ul.search li")
    hrefs = [
        results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())
    ]
    assert any(SEARCH_PAGE in href for href in hrefs), f"{SEARCH_PAGE} not among {hrefs}"
    with page.expect_navigation():
        page.locator(f"#search-results a[href*='{SEARCH_PAGE}']").first.click()
    assert page.title().startswith(page_titles[SEARCH_PAGE])
    log.assert_stayed_local()


def test_request_log_catches_what_it_must(page_and_log, site_url: str) -> None:
    """The recorder itself: an external script, a missing file and a data: URL."""
    page, log = page_and_log
    page.goto(f"{site_url}/genindex.html")
    log.assert_stayed_local()
    page.set_content(
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<script src="https://cdn.example.org/library.js"></script>'
        f'<img src="{site_url}/_static/no-such-file.png">'
    )
    page.wait_for_load_state()
    assert log.left_the_machine == ["https://cdn.example.org/library.js"]
    assert log.not_found == [f"404 {site_url}/_static/no-such-file.png"]
    with pytest.raises(AssertionError, match="left the machine"):
        log.assert_stayed_local()
