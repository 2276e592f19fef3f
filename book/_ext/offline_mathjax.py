"""Serve MathJax from the built website, so that equations render without a network.

Sphinx loads MathJax 3 from a CDN by default. This extension instead copies MathJax 2.7 from
an installed Python package, ``jupyter-server-mathjax`` (the copy Jupyter itself serves), into
``_build/html/_static/mathjax`` when the HTML builder starts, and points ``mathjax_path`` at
that copy. Nothing from MathJax is committed to the repository.

That package ships MathJax trimmed around one combined configuration file,
``TeX-AMS-MML_HTMLorMML-full.js``, which already holds the TeX input, the HTML-CSS output, the
AMS extensions and the menu. Besides it, only the files MathJax loads on demand are copied:

* the STIX-Web font metrics (``jax/output/HTML-CSS``) and the web fonts themselves
  (``fonts/HTML-CSS/STIX-Web/woff``): the package has no other font;
* the operator tables of the element jax (``jax/element/mml/optable``);
* the TeX extensions that macros such as ``\\boldsymbol`` or ``\\cancel`` load
  (``extensions/TeX``), and the few menu helpers (help dialog, font warnings, floats).

Left out: the SVG output and the localisations (the site is in English and the menu does not
offer either of them), and the accessibility explorer (about 4 MB; screen readers still get
MathML through AssistiveMML, which is in the combined file).

MyST turns ``$...$`` and ``$$...$$`` into math nodes, which Sphinx writes as ``\\(...\\)`` and
``\\[...\\]``; MathJax's ``tex2jax`` typesets those delimiters (and a bare ``$$...$$`` in an
output). MyST's own MathJax override only knows MathJax 3's settings, so it is switched off.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

# Where the copy lives, relative to the site's _static folder.
MATHJAX_FOLDER = "mathjax"
COMBINED_CONFIG = "TeX-AMS-MML_HTMLorMML-full"

# Files and folders of the package's static/ tree that the site needs, relative to it.
MATHJAX_FILES = (
    "MathJax.js",
    "LICENSE",
    f"config/{COMBINED_CONFIG}.js",
    "extensions/HelpDialog.js",
    "extensions/FontWarnings.js",
    "extensions/HTML-CSS/handle-floats.js",
)
MATHJAX_FOLDERS = (
    "jax/output/HTML-CSS",
    "jax/element/mml",
    "fonts/HTML-CSS/STIX-Web/woff",
    "extensions/TeX",
)

# Read by MathJax after the combined configuration, so these settings win.
MATHJAX2_CONFIG = {
    # Only TeX in, HTML-CSS out (the combined file lists more).
    "jax": ["input/TeX", "output/HTML-CSS"],
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"], ["$$", "$$"]],
        "processEscapes": False,
        "processEnvironments": True,
    },
    "TeX": {"equationNumbers": {"autoNumber": "none"}},
    # Without this list the combined file also loads the accessibility menu, left out above.
    "extensions": [
        "tex2jax.js",
        "MathEvents.js",
        "MathZoom.js",
        "MathMenu.js",
        "toMathML.js",
        "TeX/noErrors.js",
        "TeX/noUndefined.js",
        "TeX/AMSmath.js",
        "TeX/AMSsymbols.js",
        "AssistiveMML.js",
    ],
    # STIX-Web is the only font in the package: never look for TeX fonts or images.
    "HTML-CSS": {
        "availableFonts": [],
        "preferredFont": None,
        "webFont": "STIX-Web",
        "imageFont": None,
    },
    # The menu must not offer what is not copied (other renderers, other languages).
    "MathMenu": {"showRenderer": False, "showLocale": False, "showFontMenu": False},
    "menuSettings": {"locale": "en"},
    "messageStyle": "none",
    # The combined file also holds the native-MathML output, whose style sheet sends
    # \mathbb, \mathcal, ... to TeX web fonts that the package does not ship. Chromium applies
    # it to the hidden MathML kept for screen readers and requests those fonts (a 404):
    # that hidden copy needs no special font.
    "styles": {
        ".MJX_Assistive_MathML, .MJX_Assistive_MathML *": {"font-family": "serif !important"}
    },
}


def mathjax_source() -> Path:
    """Return the static/ folder of the installed jupyter-server-mathjax package."""
    source = Path(str(files("jupyter_server_mathjax") / "static"))
    if not (source / "MathJax.js").is_file():
        raise FileNotFoundError(
            f"MathJax.js not found in {source}: reinstall jupyter-server-mathjax"
        )
    return source


def configure_mathjax(app: Sphinx, config: Config) -> None:
    """Point Sphinx at the local copy and give MathJax 2 its configuration."""
    config.mathjax_path = f"{MATHJAX_FOLDER}/MathJax.js?config={COMBINED_CONFIG}"
    config.mathjax2_config = MATHJAX2_CONFIG
    config.mathjax3_config = None
    # MyST would otherwise write MathJax 3 settings and hide sections from MathJax 2.
    config.myst_update_mathjax = False


def copy_mathjax(app: Sphinx) -> None:
    """Copy the needed part of MathJax into the site's _static folder (HTML builders only)."""
    if app.builder.format != "html":
        return
    source = mathjax_source()
    destination = Path(app.outdir) / "_static" / MATHJAX_FOLDER
    for relative in MATHJAX_FILES:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, target)
    for relative in MATHJAX_FOLDERS:
        shutil.copytree(source / relative, destination / relative, dirs_exist_ok=True)
    size = sum(path.stat().st_size for path in destination.rglob("*") if path.is_file())
    logger.info(f"offline_mathjax: MathJax copied to {destination} ({size / 2**20:.1f} MiB)")


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", configure_mathjax)
    app.connect("builder-inited", copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
