"""Fixtures for the tests that read the built website.

The website is built by `make book` (which `make test` runs first) into ``_build/html``.
``BOOK_HTML_DIR`` points the tests at another build, e.g. one made with
``jupyter-book build <copy> --path-output ...``: the book's sources (``_toc.yml`` and the
pages) are then read from the folder two levels above it, ``<copy>`` for ``<copy>/_build/html``.
Without a built site the tests skip, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


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
