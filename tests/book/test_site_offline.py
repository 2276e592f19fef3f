"""The built website loads nothing from outside itself, and every page of _toc.yml is built.

A reader opens the site from a laptop without network, or from a server that blocks
third-party hosts: every script, stylesheet, font, icon and image a page *loads* must come
from the site. Hyperlinks (``<a href="https://...">``, e.g. the launch buttons) are fine: they
load nothing until clicked. MathJax in particular is copied into ``_static/mathjax`` at build
time (book/_ext/offline_mathjax.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

# <link rel=...> values that make the browser fetch or connect to the href.
LOADING_LINK_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "preconnect",
    "dns-prefetch",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "mask-icon",
    "manifest",
}
# Attributes whose URL the browser fetches when the page loads, by tag.
LOADING_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
}
CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE)
CSS_IMPORT_STRING = re.compile(r"""@import\s+(['"])(.*?)\1""", re.IGNORECASE)
MATHJAX_SCRIPT = re.compile(r"(^|/)MathJax\.js(\?|$)")


def is_external(url: str) -> bool:
    """Whether loading ``url`` would leave the site (an absolute or protocol-relative URL)."""
    return url.strip().lower().startswith(("http:", "https:", "//"))


def css_urls(css: str) -> list[str]:
    """Every URL a stylesheet loads: ``url(...)`` and ``@import "..."``."""
    return [match[1] for match in CSS_URL.findall(css)] + [
        match[1] for match in CSS_IMPORT_STRING.findall(css)
    ]


class LoadedResources(HTMLParser):
    """Collect ``(where, url)`` for every resource an HTML page makes the browser load."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []
        self.script_sources: list[str] = []
        self.has_math = False
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "math" in values.get("class", "").split():
            self.has_math = True
        if tag == "link" and LOADING_LINK_RELS & set(values.get("rel", "").lower().split()):
            self.resources.append((f"<link rel={values['rel']!r}>", values.get("href", "")))
        for attribute in LOADING_ATTRIBUTES.get(tag, ()):
            if attribute in values:
                for url in values[attribute].split(","):  # srcset: "a.png 1x, b.png 2x"
                    self.resources.append((f"<{tag} {attribute}>", url.strip().split(" ")[0]))
        if tag == "script" and "src" in values:
            self.script_sources.append(values["src"])
        if "style" in values:
            self.resources += [(f"<{tag} style>", url) for url in css_urls(values["style"])]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.resources += [("<style>", url) for url in css_urls(data)]


def parse_page(html: str) -> LoadedResources:
    parser = LoadedResources()
    parser.feed(html)
    parser.close()
    return parser


def external_resources(html: str) -> list[tuple[str, str]]:
    """The resources of a page that would be loaded from outside the site."""
    return [(where, url) for where, url in parse_page(html).resources if is_external(url)]


def mathjax_problems(page: Path, html: str, site: Path) -> list[str]:
    """What keeps MathJax from running offline on ``page`` (nothing if it has no math)."""
    parsed = parse_page(html)
    if not parsed.has_math:
        return []
    scripts = [src for src in parsed.script_sources if MATHJAX_SCRIPT.search(urlsplit(src).path)]
    if len(scripts) != 1:
        return [f"expected one MathJax script, found {scripts}"]
    source = urlsplit(scripts[0])
    if is_external(scripts[0]):
        return [f"MathJax is loaded from {scripts[0]}, not from the site"]
    mathjax = (page.parent / source.path).resolve()
    needed = [mathjax]
    needed += [
        mathjax.parent / "config" / f"{name}.js"
        for key, name in (item.split("=", 1) for item in source.query.split("&") if "=" in item)
        if key == "config"
        for name in name.split(",")
    ]
    problems = [f"{path} is missing" for path in needed if not path.is_file()]
    if not mathjax.is_relative_to(site.resolve()):
        problems.append(f"MathJax script {scripts[0]} points outside the site")
    return problems


def missing_pages(site: Path, docnames: list[str]) -> list[str]:
    """The documents of the table of contents that have no HTML page in the site."""
    return [docname for docname in docnames if not (site / f"{docname}.html").is_file()]


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of the site (the theme's template fragments in _static excluded)."""
    return sorted(path for path in site.rglob("*.html") if "_static" not in path.parts)


# --- the checks on pages built to fail them ---------------------------------------------------

BAD_PAGE = """<html><head>
<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">
<link rel="preload" as="font" href="HTTPS://example.org/font.woff2">
<link rel="icon" href="http://example.org/favicon.ico">
<style>@import url("https://example.org/theme.css"); body { background: url(local.png) }</style>
</head><body>
<img src="https://example.org/plot.png">
<img srcset="local.png 1x, https://example.org/plot@2x.png 2x">
<div style="background-image: url('https://example.org/bg.png')"></div>
<span class="math notranslate nohighlight">\\(x\\)</span>
</body></html>"""

GOOD_PAGE = """<html><head>
<script src="../_static/doctools.js?v=1"></script>
<script>var s = "https://example.org/not-loaded.js";</script>
<link rel="stylesheet" href="../_static/theme.css">
<link rel="next" title="Next" href="https://example.org/next.html">
<style>body { background: url(data:image/png;base64,AAAA) }</style>
</head><body>
<a href="https://mybinder.org/v2/gh/rnn-course/rnn-course/main">Binder</a>
<img src="../_images/plot.png">
</body></html>"""


@pytest.mark.parametrize(
    ("url", "external"),
    [
        ("https://cdn.example.org/a.js", True),
        ("http://example.org/a.css", True),
        ("//fonts.googleapis.com/css", True),
        ("  HTTPS://EXAMPLE.ORG/x  ", True),
        ("../_static/mathjax/MathJax.js?config=TeX", False),
        ("_static/a.css", False),
        ("/_static/a.css", False),
        ("data:image/png;base64,AAAA", False),
        ("#anchor", False),
    ],
)
def test_is_external(url: str, external: bool) -> None:
    assert is_external(url) is external


def test_external_resources_finds_every_kind_on_a_bad_page() -> None:
    found = external_resources(BAD_PAGE)
    assert [url for _, url in found] == [
        "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
        "//fonts.googleapis.com/css?family=Lato",
        "HTTPS://example.org/font.woff2",
        "http://example.org/favicon.ico",
        "https://example.org/theme.css",
        "https://example.org/plot.png",
        "https://example.org/plot@2x.png",
        "https://example.org/bg.png",
    ]


def test_external_resources_accepts_hyperlinks_and_local_files() -> None:
    assert external_resources(GOOD_PAGE) == []


def test_css_urls_reads_imports_and_urls() -> None:
    css = '@import "https://a.org/x.css"; @import url(b.css); p { src: url("../f.woff2") }'
    assert sorted(css_urls(css)) == ["../f.woff2", "b.css", "https://a.org/x.css"]


def test_mathjax_problems_on_pages_built_to_fail(tmp_path: Path) -> None:
    site = tmp_path / "html"
    (site / "_static" / "mathjax" / "config").mkdir(parents=True)
    page = site / "chapters" / "page.html"
    page.parent.mkdir()
    math = '<span class="math">\\(x\\)</span>'
    local = '<script src="../_static/mathjax/MathJax.js?config=TeX-Full"></script>'

    assert mathjax_problems(page, "<p>no equations</p>", site) == []
    assert "expected one MathJax script" in mathjax_problems(page, math, site)[0]
    cdn = '<script src="https://cdn.example.org/mathjax/2.7/MathJax.js"></script>'
    assert "not from the site" in mathjax_problems(page, math + cdn, site)[0]
    problems = mathjax_problems(page, math + local, site)
    assert [problem.rsplit("/", 1)[-1] for problem in problems] == [
        "MathJax.js is missing",
        "TeX-Full.js is missing",
    ]
    (site / "_static" / "mathjax" / "MathJax.js").write_text("")
    (site / "_static" / "mathjax" / "config" / "TeX-Full.js").write_text("")
    assert mathjax_problems(page, math + local, site) == []


def test_missing_pages_names_a_page_that_was_not_built(tmp_path: Path) -> None:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_sequences.html").write_text("<html></html>")
    wanted = ["chapters/01_sequences", "chapters/99_missing"]
    assert missing_pages(tmp_path, wanted) == ["chapters/99_missing"]


# --- the checks on the built site -------------------------------------------------------------


@pytest.mark.book
def test_no_page_loads_anything_from_outside_the_site(built_site: Path) -> None:
    pages = site_pages(built_site)
    assert pages, f"no HTML page in {built_site}"
    offending = [
        f"{page.relative_to(built_site)}: {where} {url}"
        for page in pages
        for where, url in external_resources(page.read_text(encoding="utf-8"))
    ]
    assert not offending, "pages load resources from outside the site:\n" + "\n".join(offending)


@pytest.mark.book
def test_no_stylesheet_loads_anything_from_outside_the_site(built_site: Path) -> None:
    stylesheets = sorted(built_site.rglob("*.css"))
    assert stylesheets, f"no stylesheet in {built_site}"
    offending = [
        f"{css.relative_to(built_site)}: {url}"
        for css in stylesheets
        for url in css_urls(css.read_text(encoding="utf-8", errors="replace"))
        if is_external(url)
    ]
    assert not offending, "stylesheets load from outside the site:\n" + "\n".join(offending)


@pytest.mark.book
def test_mathjax_is_served_from_the_site(built_site: Path) -> None:
    pages_with_math = []
    problems = []
    for page in site_pages(built_site):
        html = page.read_text(encoding="utf-8")
        if parse_page(html).has_math:
            pages_with_math.append(page)
        problems += [
            f"{page.relative_to(built_site)}: {p}" for p in mathjax_problems(page, html, built_site)
        ]
    assert pages_with_math, "no page has an equation: the notation page should"
    assert not problems, "\n".join(problems)
    fonts = built_site / "_static" / "mathjax" / "fonts" / "HTML-CSS" / "STIX-Web" / "woff"
    assert any(fonts.glob("*.woff")), f"no MathJax web font in {fonts}"


@pytest.mark.book
def test_every_page_of_the_toc_is_built(built_site: Path, toc_pages: list[str]) -> None:
    assert "book/intro" in toc_pages
    assert missing_pages(built_site, toc_pages) == []


@pytest.mark.book
def test_notebook_pages_have_launch_and_download_buttons(
    built_site: Path, book_root: Path, toc_pages: list[str]
) -> None:
    config = yaml.safe_load((book_root / "_config.yml").read_text(encoding="utf-8"))
    repository = urlsplit(config["repository"]["url"]).path.strip("/")  # owner/name
    branch = config["repository"]["branch"]
    chapters = [docname for docname in toc_pages if docname.startswith("chapters/")]
    assert chapters, "the toc lists no chapter"
    for docname in chapters:
        html = (built_site / f"{docname}.html").read_text(encoding="utf-8")
        binder = f"https://mybinder.org/v2/gh/{repository}/{branch}?urlpath="
        colab = f"https://colab.research.google.com/github/{repository}/blob/{branch}/{docname}"
        assert binder in html, f"{docname}: no Binder button for {repository}@{branch}"
        assert colab in html, f"{docname}: no Colab button for {repository}@{branch}"
        assert "btn-download-source-button" in html, f"{docname}: no download button"
