"""Build the book: `jupyter-book build . -W --keep-going`, reading (and so executing) chapters in parallel.

Jupyter Book 1.x has no `--jobs` option, but the Sphinx it drives can read
documents in parallel, and MyST-NB executes each notebook when Sphinx reads it.
This script runs Jupyter Book's own `build` command with Sphinx's `jobs` set, so
the chapters execute N at a time (default: the number of CPU cores, at most 4).

    python scripts/build_book.py [--jobs N] [extra jupyter-book build options]
"""

import functools
import os
import sys

import jupyter_book.sphinx
from jupyter_book.cli import main as jb


def main(argv):
    jobs = min(os.cpu_count() or 1, 4)
    if argv[:1] == ["--jobs"]:
        try:
            jobs = int(argv[1])
        except (IndexError, ValueError):
            sys.exit("--jobs needs a whole number, e.g. --jobs 2")
        if jobs < 1:
            sys.exit(f"--jobs must be at least 1, not {jobs}")
        argv = argv[2:]
    # `build` imports build_sphinx from here when it runs: hand it one with jobs set.
    jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx,
                                                         jobs=jobs)
    print(f"Building the book, {jobs} chapter(s) at a time", flush=True)
    jb.main(["build", ".", "-W", "--keep-going", *argv], standalone_mode=True)


if __name__ == "__main__":
    main(sys.argv[1:])
