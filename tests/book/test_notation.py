"""Every symbol that a chapter's equations use is defined on the notation page.

The page's section "Every symbol" holds a table whose first column lists symbols in maths
mode. A *symbol* here is a single Latin letter, a Greek letter, or a calligraphic or
blackboard letter; words inside maths (``W_{embed}``, ``\\text{...}``) are names, not symbols,
and code (fenced blocks and inline code) is not maths.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTATION = ROOT / "book" / "notation.md"
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))

# Code (code cells, ```python blocks) is not maths; directives ({exercise}, figures) are prose.
FENCED = re.compile(r"```(?:\{code-cell\}[^\n]*|[a-z0-9_+-]*)\n.*?```", re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
# Text inside maths, one level of nested braces allowed.
WORDS = re.compile(r"\\(?:text|operatorname|mathrm|textrm|mbox|label|tag)\{(?:[^{}]|\{[^{}]*\})*\}")
ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[a-z*]+\}")
TOKEN = re.compile(r"\\(mathcal|mathbb)\{([A-Za-z])\}|\\([A-Za-z]+)|([A-Za-z]+)")
GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma "
    "Phi Psi Omega".split()
)


def maths_of(markdown: str) -> list[str]:
    """The bodies of the inline ($...$) and display ($$...$$) maths outside code."""
    prose = INLINE_CODE.sub("", FENCED.sub("", markdown))
    return [m.group(1) or m.group(2) for m in MATH.finditer(prose)]


def symbols_of(maths: str) -> set[str]:
    """Single letters, Greek letters and \\mathcal/\\mathbb letters of one maths body."""
    body = ENVIRONMENT.sub("", WORDS.sub("", maths))
    found = set()
    for token in TOKEN.finditer(body):
        font, letter, command, word = token.groups()
        if font:
            found.add(f"\\{font}{{{letter}}}")
        elif command:
            if command in GREEK:
                found.add(f"\\{command}")
        elif len(word) == 1:
            found.add(word)
    return found


def defined_symbols() -> set[str]:
    """The symbols in the first column of the notation page's table "Every symbol"."""
    text = NOTATION.read_text(encoding="utf-8")
    section = text.split("## Every symbol", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| $")]
    assert rows, "the notation page has no table of symbols under '## Every symbol'"
    return set().union(*(symbols_of(m) for row in rows for m in maths_of(row.split("|")[1])))


def test_the_scanner_finds_letters_and_skips_names_and_code():
    text = r"""
    $h_t = \tanh(x_t W_{embed} + \alpha \mathcal{B})$ and $\text{nats } q$
    $$\begin{aligned} Z &= 1 \end{aligned}$$ `$not maths$`
    ```python
    y = "$also not$"
    ```
    ```{exercise}
    Show that $\\rho$ ...
    ```
    """
    found = set().union(*(symbols_of(m) for m in maths_of(text)))
    assert found == {"h", "t", "x", "W", "\\alpha", "\\mathcal{B}", "q", "Z", "\\rho"}


def test_an_undefined_symbol_is_reported():
    """The check itself can fail: a letter absent from the table is found."""
    assert "\\xi" not in defined_symbols()
    assert "\\xi" in symbols_of(r"h_t = \xi_t")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_symbol_of_the_chapter_is_on_the_notation_page(chapter):
    used = set().union(set(), *(symbols_of(m) for m in maths_of(chapter.read_text("utf-8"))))
    missing = sorted(used - defined_symbols())
    assert not missing, (
        f"{chapter.name} uses {', '.join(missing)} in its equations, which the notation page "
        "(book/notation.md, section 'Every symbol') does not define: add a row there, or use "
        "a symbol it defines"
    )
