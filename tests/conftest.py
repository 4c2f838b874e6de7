"""Fixtures shared by the test suite: the built book (built once, even under xdist)."""

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import find_chromium  # scripts/browser.py (pythonpath in pyproject.toml)

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"


BENCH = BUILD / "widget-bench"


STARTED = time.time()  # the summary reports only what this run measured, not older files


# The book is built under the caller's LRCOURSE_SEED (default 0); the notebooks (nbval)
# run under the next seed, so each test run checks every hidden assertion under two seeds.
BOOK_SEED = int(os.environ.get("LRCOURSE_SEED", "0") or 0)
NBVAL_SEED = BOOK_SEED + 1


def pytest_configure(config):
    # Figures in this process draw off-screen. Not through MPLBACKEND: the environment
    # is inherited by notebook kernels, where plt.show() would then draw nothing.
    import matplotlib

    matplotlib.use("Agg")
    os.environ["LRCOURSE_SEED"] = str(NBVAL_SEED)  # this process, and the nbval kernels
    # Small models, two notebooks at once on two cores: one thread each is fastest.
    # Notebook kernels and the book build inherit these.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # Notebook kernels (nbval) inherit this: each chapter's last cell then checks its
    # explorers' latency budgets and writes their timings here (see check_explorers).
    BENCH.mkdir(parents=True, exist_ok=True)
    os.environ["LRCOURSE_BENCH_DIR"] = str(BENCH)
    config.pluginmanager.register(ChapterForKernels(), "lrcourse-chapter-for-kernels")


def pytest_terminal_summary(terminalreporter):
    """Print the widget latencies measured in the notebook kernels, and the build time."""
    def fresh(path):
        return path.exists() and path.stat().st_mtime >= STARTED

    rows = sorted(p for p in BENCH.glob("*.json") if fresh(p)) if BENCH.exists() else []
    if rows:
        tr = terminalreporter
        tr.section("explorers, live in a kernel (make bench for more)")
        tr.write_line(f"{'chapter.explorer':58} {'frames':>6} {'median':>8} {'p95':>8} {'budget':>7}"
                      f" {'page KB':>8}")
        for path in rows:
            r = json.loads(path.read_text())
            flag = "  over budget" if r["median_ms"] > r["budget_ms"] else ""
            tr.write_line(f"{path.stem:58} {r['frames']:>6} {r['median_ms']:>6.1f}ms "
                          f"{r['p95_ms']:>6.1f}ms {r['budget_ms']:>5}ms {r['page_bytes'] / 1e3:>8.0f}"
                          f"{flag}")
    lab = BUILD / "lab-latency.txt"
    if fresh(lab):
        median, worst, moves = lab.read_text().split()
        terminalreporter.write_line(f"JupyterLab end to end (key press → new figure): median {median} ms,"
                                    f" max {worst} ms over {moves} moves")
    seconds = BUILD / "book-build.seconds"
    if fresh(seconds):
        terminalreporter.write_line(f"book build (cold under make test): {seconds.read_text().strip()} s"
                                    f" (budget {BUILD_BUDGET_S} s)")
        for chapter, secs in chapter_seconds():
            flag = "  over budget" if secs > CHAPTER_BUDGET_S else ""
            terminalreporter.write_line(f"  executing {chapter}: {secs:.1f} s"
                                        f" (budget {CHAPTER_BUDGET_S} s){flag}")


BUILD_BUDGET_S, CHAPTER_BUDGET_S = 120, 25  # CONTRIBUTING.md, 2-core machine: reported, not enforced


def chapter_seconds():
    """Each chapter's execution time in the book build, from the jupyter-cache records."""
    try:
        from jupyter_cache import get_cache

        records = get_cache(str(BUILD / ".jupyter_cache")).list_cache_records()
        return sorted((Path(r.uri).stem, r.data.get("execution_seconds") or 0) for r in records)
    except Exception:  # noqa: BLE001 (no cache, the build failed: nothing to report)
        return []


class ChapterForKernels:
    """Tell each notebook's kernel which chapter it runs (check_explorers names its timing files).

    nbval starts a notebook's kernel while setting up its first cell, after this hook, and
    the kernel inherits this process's environment; other tests must not see the variable.
    A plugin, not a hook of this file: this file's hooks reach only the items under tests/.
    """

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if item.path.suffix == ".ipynb":
            os.environ["LRCOURSE_CHAPTER"] = item.path.stem
        else:
            os.environ.pop("LRCOURSE_CHAPTER", None)


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tiny models run fastest on one thread, and do not fight the other test worker."""
    torch = sys.modules.get("torch")  # only where a test module imported it
    if torch is not None:
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def built_book():
    """Build the book as `make book` does, warnings as errors (once, shared by xdist workers).

    The test command removes _build first, so this is a cold build; its log is
    kept in _build/book-build.log and its wall time in _build/book-build.seconds.
    """
    BUILD.mkdir(exist_ok=True)
    ok, log = BUILD / "book-build.ok", BUILD / "book-build.log"
    with open(BUILD / "book-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits for the first one's build
        if not ok.exists() and not (BUILD / "book-build.failed").exists():
            t0 = time.perf_counter()
            env = {k: v for k, v in os.environ.items() if k != "LRCOURSE_BENCH_DIR"}
            env["LRCOURSE_SEED"] = str(BOOK_SEED)
            proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py")],
                                  capture_output=True, text=True, cwd=ROOT, env=env, check=False)
            log.write_text(proc.stdout + proc.stderr)
            (BUILD / "book-build.seconds").write_text(f"{time.perf_counter() - t0:.1f}\n")
            (ok if proc.returncode == 0 else BUILD / "book-build.failed").touch()
    if not ok.exists():
        tail = "\n".join(log.read_text().splitlines()[-60:])
        pytest.fail(f"jupyter-book build -W failed (full log: {log}):\n{tail}", pytrace=False)
    return HTML


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no Chromium: the browser tests must run in CI")
        pytest.skip("no Chromium on this machine (install it, or set LRCOURSE_CHROMIUM)")
    return path
