"""check_explorers: the hidden last cell of a chapter, which drives every explorer it made.

This is test machinery, not course material: it reads two environment
variables, writes timing files and fails with ``AssertionError``.

* ``LRCOURSE_BENCH_DIR``: set by the test suite and ``make bench``; each
  explorer's timings go to ``<dir>/<chapter>.<name>.json``.
* ``LRCOURSE_CHAPTER``: set by the same runners for each notebook's kernel;
  it names the chapter when the call does not.
"""

import json
import os
from pathlib import Path

from lrcourse.widgets.explorer import Explorer

GROSS = 5  # a latency fails a check only at GROSS × its budget: a busy machine must not block a change
BENCH_DIR = "LRCOURSE_BENCH_DIR"
CHAPTER = "LRCOURSE_CHAPTER"


def check_explorers(namespace, chapter=None, *, moves=20):
    """Drive every explorer a chapter made and check that its picture changes.

    A chapter ends with a hidden cell calling this (``check_explorers(globals())``),
    so both the book build and the notebook tests exercise every control in a
    live kernel. With ``LRCOURSE_BENCH_DIR`` set, it also writes each
    explorer's timings to ``<dir>/<chapter>.<name>.json`` (``make bench`` and
    the test summary report them against the budget) and fails only on a gross
    violation: a median over ``GROSS`` times the budget. Returns the timings by name.

    ``chapter`` is the chapter's slug (its file name); needed only to name
    those files, it defaults to what :func:`chapter_name` finds.
    """
    out = os.environ.get(BENCH_DIR)
    if out:
        chapter = chapter_name(namespace, chapter)  # before the slow part: fail fast
    results = {}
    for name, explorer in namespace.items():
        if not isinstance(explorer, Explorer) or name.startswith("_"):
            continue
        r = explorer.benchmark(moves)
        if r["changed"] < 0.75:
            raise AssertionError(f"{name}: only {r['changed']:.0%} of moves changed the picture")
        if len(set(explorer.frames)) < 0.75 * len(explorer.frames):
            raise AssertionError(f"{name}: many precomputed frames are identical")
        results[name] = {**r, "budget_ms": explorer.budget_ms,
                         "page_bytes": len(explorer.static_html().encode())}
    if not results:
        raise AssertionError("no explorer found in this chapter")
    if out:
        # The budget is checked on the median of a whole run of moves; on a shared,
        # busy machine one run can be slowed by other processes, so an explorer over
        # budget gets up to two more runs, and the best median counts (as timeit does).
        for name, r in results.items():
            runs = [r["median_ms"]]
            while r["median_ms"] > GROSS * r["budget_ms"] and len(runs) < 3:
                again = namespace[name].benchmark(moves)
                runs.append(again["median_ms"])
                if again["median_ms"] < r["median_ms"]:
                    r.update(again)
            r["runs_median_ms"] = runs
        Path(out).mkdir(parents=True, exist_ok=True)
        for name, r in results.items():
            Path(out, f"{chapter}.{name}.json").write_text(json.dumps(r))
        slow = {n: r["runs_median_ms"] for n, r in results.items()
                if r["median_ms"] > GROSS * r["budget_ms"]}
        if slow:
            budgets = {n: results[n]["budget_ms"] for n in slow}
            raise AssertionError(f"over {GROSS}× the latency budget (medians of each run, ms): {slow};"
                                 f" budgets (ms): {budgets}")
    return results


def chapter_name(namespace, chapter=None):
    """The slug of the chapter whose kernel this is: ``chapter`` if given, else found.

    A kernel is not told which notebook it runs (nbclient, which the book
    build and nbval use, does not say), so this looks where a runner put it:

    1. ``LRCOURSE_CHAPTER``, set for each notebook by the runners that write
       timings (the test suite's nbval hook in ``tests/conftest.py``,
       ``scripts/bench_widgets.py``);
    2. ``__session__`` in the namespace: a Jupyter server (JupyterLab, Binder)
       sets it to the notebook's path; VS Code sets ``__vsc_ipynb_file__``.

    >>> chapter_name({"__session__": "notebooks/momentum.ipynb"})
    'momentum'
    """
    if chapter is not None:
        return chapter
    for found in (os.environ.get(CHAPTER), namespace.get("__session__"),
                  namespace.get("__vsc_ipynb_file__")):
        if found:
            return Path(found).stem
    raise ValueError(f"Invalid chapter: None, and this kernel was not told its notebook (neither "
                     f"{CHAPTER} nor a Jupyter server's __session__ is set); pass the slug: "
                     f'check_explorers(globals(), "<chapter>")')
