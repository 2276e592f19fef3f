"""Print how long each chapter took to execute, from the book's jupyter-cache database.

`make book` runs this after the build::

    python book/_ext/report_execution_times.py _build/.jupyter_cache chapters/*.md

Each page is read the way the build reads it (MyST-NB's reader) and matched against the
cache by its code, as the build does. A chapter whose code did not change since an earlier
build was not run again: it shows the time of the run that filled the cache.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jupyter_cache import get_cache
from jupyter_cache.readers import get_reader

READERS = {
    ".md": {"name": "myst_nb_md", "type": "plugin"},
    ".ipynb": {"name": "nbformat", "type": "plugin"},
}


def execution_seconds(cache_path: Path, page: Path) -> float | None:
    """Seconds the cached run of ``page``'s current code took; None if there is none.

    Raises ValueError for a page without code cells: the build does not execute it.
    """
    notebook = get_reader(READERS[page.suffix])(str(page))
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        raise ValueError(f"{page} has no code cell")
    try:
        record = get_cache(cache_path).match_cache_notebook(notebook)
    except KeyError:
        return None
    return record.data.get("execution_seconds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="the jupyter-cache folder, _build/.jupyter_cache")
    parser.add_argument("pages", type=Path, nargs="+", help="the chapters (.md or .ipynb)")
    arguments = parser.parse_args(argv)
    if not (arguments.cache / "global.db").is_file():
        print(f"no jupyter-cache database in {arguments.cache}: nothing was executed")
        return 1
    print("Execution time of each chapter (from the jupyter-cache database):")
    total = 0.0
    for page in sorted(arguments.pages):
        if not page.is_file():
            continue  # an unmatched glob such as chapters/*.md in an empty folder
        try:
            seconds = execution_seconds(arguments.cache, page)
        except ValueError:
            continue
        if seconds is None:
            print(f"  {str(page):<48} not in the cache (not built, failed, or changed since)")
        else:
            print(f"  {str(page):<48} {seconds:6.1f} s")
            total += seconds
    print(f"  {'total':<48} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
