"""The book's own build helpers in book/_ext: the offline MathJax copy and the timing report.

These run without a built site: they check the helpers on small inputs made here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType, SimpleNamespace

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

EXTENSIONS = Path(__file__).resolve().parents[2] / "book" / "_ext"


def load(name: str) -> ModuleType:
    """Import book/_ext/<name>.py (not a package: Sphinx finds it through sys.path)."""
    spec = importlib.util.spec_from_file_location(f"book_ext_{name}", EXTENSIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def offline_mathjax() -> ModuleType:
    return load("offline_mathjax")


@pytest.fixture(scope="module")
def report() -> ModuleType:
    return load("report_execution_times")


def test_the_installed_package_has_every_file_the_copy_needs(offline_mathjax) -> None:
    source = offline_mathjax.mathjax_source()
    missing = [name for name in offline_mathjax.MATHJAX_FILES if not (source / name).is_file()]
    missing += [name for name in offline_mathjax.MATHJAX_FOLDERS if not (source / name).is_dir()]
    assert not missing, f"jupyter-server-mathjax changed its layout: {missing} not in {source}"


def test_copy_mathjax_copies_the_subset_for_html_only(offline_mathjax, tmp_path: Path) -> None:
    html = SimpleNamespace(builder=SimpleNamespace(format="html"), outdir=tmp_path / "html")
    offline_mathjax.copy_mathjax(html)
    copied = html.outdir / "_static" / "mathjax"
    assert (copied / "MathJax.js").is_file()
    assert (copied / "config" / f"{offline_mathjax.COMBINED_CONFIG}.js").is_file()
    assert any((copied / "fonts" / "HTML-CSS" / "STIX-Web" / "woff").glob("*.woff"))
    assert not (copied / "jax" / "output" / "SVG").exists(), "the SVG output is not needed"
    assert not (copied / "localization").exists(), "the localisations are not needed"
    size = sum(path.stat().st_size for path in copied.rglob("*") if path.is_file())
    assert size < 4 * 2**20, f"the MathJax copy grew to {size / 2**20:.1f} MiB"

    latex = SimpleNamespace(builder=SimpleNamespace(format="latex"), outdir=tmp_path / "latex")
    offline_mathjax.copy_mathjax(latex)
    assert not latex.outdir.exists()


def test_configure_mathjax_points_at_the_copy(offline_mathjax) -> None:
    config = SimpleNamespace(mathjax3_config={"options": {}}, myst_update_mathjax=True)
    offline_mathjax.configure_mathjax(None, config)
    assert config.mathjax_path.startswith(f"{offline_mathjax.MATHJAX_FOLDER}/MathJax.js?config=")
    assert config.mathjax3_config is None and config.myst_update_mathjax is False
    assert config.mathjax2_config["HTML-CSS"]["webFont"] == "STIX-Web"


def notebook_with_code(source: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_markdown_cell("# A page"), nbformat.v4.new_code_cell(source)]
    return notebook


def test_execution_seconds_reads_the_cached_run_of_the_current_code(report, tmp_path: Path) -> None:
    cache_path = tmp_path / ".jupyter_cache"
    page = tmp_path / "chapter.ipynb"
    nbformat.write(notebook_with_code("x = 1"), page)
    cache = get_cache(cache_path)
    bundle = CacheBundleIn(
        nbformat.read(page, as_version=4), str(page), data={"execution_seconds": 2.5}
    )
    cache.cache_notebook_bundle(bundle, check_validity=False)

    assert report.execution_seconds(cache_path, page) == 2.5
    nbformat.write(notebook_with_code("x = 2"), page)  # changed code: the cached run is stale
    assert report.execution_seconds(cache_path, page) is None


def test_execution_seconds_refuses_a_page_without_code(report, tmp_path: Path) -> None:
    page = tmp_path / "prose.md"
    page.write_text("# Only prose\n\nNo code cell here.\n")
    with pytest.raises(ValueError, match="no code cell"):
        report.execution_seconds(tmp_path / ".jupyter_cache", page)


def test_report_prints_each_page_and_the_total(report, tmp_path: Path, capsys) -> None:
    cache_path = tmp_path / ".jupyter_cache"
    page = tmp_path / "chapter.ipynb"
    nbformat.write(notebook_with_code("y = 3"), page)
    bundle = CacheBundleIn(
        nbformat.read(page, as_version=4), str(page), data={"execution_seconds": 4.0}
    )
    get_cache(cache_path).cache_notebook_bundle(bundle, check_validity=False)
    never_run = tmp_path / "other.ipynb"
    nbformat.write(notebook_with_code("z = 4"), never_run)

    assert report.main([str(cache_path), str(page), str(never_run)]) == 0
    printed = capsys.readouterr().out
    assert "chapter.ipynb" in printed and "4.0 s" in printed
    assert "other.ipynb" in printed and "not in the cache" in printed
    assert report.main([str(tmp_path / "no-cache"), str(page)]) == 1
