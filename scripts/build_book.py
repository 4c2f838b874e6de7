"""Build the book: `jupyter-book build . -W --keep-going`, executing chapters in parallel.

    python scripts/build_book.py [--jobs N] [extra jupyter-book build options]

Jupyter Book 1.x has no `--jobs` option, but the Sphinx it drives reads
documents in parallel, and MyST-NB executes each notebook when Sphinx reads it.
This script runs Jupyter Book's own `build` command with Sphinx's `jobs` set (the
number of CPU cores, at most 4), in a child process that it supervises:

* **Same output whatever the caller's environment.** The kernels get one thread,
  the inline matplotlib backend and the course seed (`LRCOURSE_SEED`, default 0),
  whatever `MPLBACKEND` or thread counts the caller had set; the build runs from
  the repository root wherever it was started.
* **The cache never holds results made under other settings.** Those settings
  are stamped in `_build/`; when they differ, the executed results
  (`_build/.jupyter_cache`, `_build/.doctrees`) are dropped first.
* **No race on the cache.** The jupyter-cache database is created here, before
  Sphinx's workers start (two workers creating it at once fail with
  `table settings already exists`).
* **A failure ends the build.** When a chapter's cell fails (or a kernel dies,
  or the cache errs), the build is stopped within `GRACE` seconds, every
  process it started is killed (kernels included), and the last lines name the
  chapter, the cell and the error. The exit status is non-zero.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
REPORTS = BUILD / "html" / "reports"
STAMP = BUILD / "execution-settings.json"
GRACE = 20  # seconds between the first sign of failure and killing what is left
SILENCE = 900  # seconds without output or a finished chapter: the build hangs (a cell times out at 120)

# Lines of the build's output that mean it has failed, whatever happens next.
FATAL = re.compile(r"Executing notebook failed|Exception occurred|SphinxParallelError|DeadKernelError"
                   r"|Kernel died|Unexpected error accessing jupyter cache|OperationalError")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Sphinx's warnings ("path:line: WARNING: ..." or "WARNING: ..."), each fatal under -W.
WARNING = re.compile(r"(^|: )(WARNING|ERROR|CRITICAL): ")


def kernel_environment(env):
    """The environment the build (and so every kernel) runs in: the caller's, minus what changes output."""
    sys.path.insert(0, str(ROOT / "src"))
    from lrcourse.seeding import VARIABLE, course_seed

    env = dict(env)
    try:
        seed = course_seed()  # reads os.environ: the caller's setting
    except ValueError as err:
        sys.exit(f"make book: {err}")
    env[VARIABLE] = str(seed)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # plt.show() draws in the page
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"  # one result on every machine; two chapters at once on two cores
    env["PYTHONHASHSEED"] = "0"
    env.pop("LRCOURSE_BENCH_DIR", None)  # the test suite's widget timings are not part of the site
    settings = {"LRCOURSE_SEED": seed, **{k: env[k] for k in ("MPLBACKEND", "OMP_NUM_THREADS",
                                                              "PYTHONHASHSEED")},
                "python": sys.version.split()[0]}
    return env, settings


def prepare(settings):
    """Drop executed results made under other settings; create the cache database once."""
    BUILD.mkdir(exist_ok=True)
    old = json.loads(STAMP.read_text()) if STAMP.exists() else None
    if old != settings:
        if old is not None:
            changed = sorted(k for k in settings if old.get(k) != settings[k])
            print(f"Execution settings changed ({', '.join(changed)}): executing every chapter again",
                  flush=True)
        for path in (CACHE, BUILD / ".doctrees", BUILD / "jupyter_execute"):
            shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(REPORTS, ignore_errors=True)  # reports of an earlier build's failures
    from jupyter_cache import get_cache

    cache = get_cache(str(CACHE))
    cache.get_cache_limit()  # creates the database and its tables, here, before any worker starts
    STAMP.write_text(json.dumps(settings, indent=1) + "\n")


class Supervisor:
    """Run the build in a child process, echo its output, and stop it all on failure."""

    def __init__(self, cmd, env):
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1,
                                     errors="replace")
        self.lines, self.failed_at, self.seen = [], None, {}
        self.last_output = time.monotonic()
        self.reader = threading.Thread(target=self._echo, daemon=True)
        self.reader.start()

    def _echo(self):
        for line in self.proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            self.lines.append(line.rstrip("\n"))
            self.last_output = time.monotonic()
            if self.failed_at is None and FATAL.search(line):
                self.failed_at = time.monotonic()

    def _track(self):
        """Remember every process the build started (kernels included) while the tree is intact."""
        import psutil

        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.Error:
            pass

    def wait(self):
        killed = False
        while self.proc.poll() is None:
            self._track()
            if self.failed_at is None and REPORTS.exists() and any(REPORTS.rglob("*.err.log")):
                self.failed_at = time.monotonic()
            if self.failed_at is not None and time.monotonic() - self.failed_at > GRACE:
                killed = True
                break
            if time.monotonic() - self.last_output > SILENCE:
                print(f"No output for {SILENCE} s: the build hangs; stopping it", flush=True)
                killed = True
                break
            time.sleep(0.5)
        self.stop()
        self.reader.join(timeout=5)
        code = self.proc.returncode
        return 1 if killed or (code == 0 and self.failed_at is not None) else code

    def stop(self):
        """Kill the build and every process it started that is still alive."""
        import psutil

        self._track()
        procs = [self.proc_handle(), *self.seen.values()]
        for p in procs:
            try:
                if p is not None and p.is_running():  # is_running also checks the start time
                    p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs([p for p in procs if p is not None], timeout=5)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def proc_handle(self):
        import psutil

        try:
            return psutil.Process(self.proc.pid)
        except psutil.Error:
            return None


def failed_cells():
    """One line per failed chapter: the chapter, the cell (number and first line) and the error."""
    out = []
    for report in sorted(REPORTS.rglob("*.err.log")) if REPORTS.exists() else []:
        text = ANSI.sub("", report.read_text(errors="replace"))
        chapter = report.relative_to(REPORTS).as_posix().removesuffix(".err.log")
        source = re.search(r"executing the following cell:\n-+\n(.*?)\n-+\n", text, re.DOTALL)
        where = "a cell"
        if source:
            where = describe_cell(chapter, source.group(1))
        errors = [line.strip() for line in text.splitlines()
                  if re.match(r"\s*\w*(Error|Exception|Exit)\b.*", line) and ":" in line]
        error = errors[-1] if errors else text.strip().splitlines()[-1]
        out.append(f"{chapter}.md, {where}: {error}")
    return out


def describe_cell(chapter, source):
    """'cell 12 (code cell 7, "first line")' for the cell of ``chapter`` whose source is ``source``."""
    first = next((line for line in source.splitlines() if line.strip()), "")[:70]
    try:
        import jupytext

        nb = jupytext.read(ROOT / f"{chapter}.md")
        code = 0
        for i, cell in enumerate(nb.cells, 1):
            code += cell.cell_type == "code"
            if cell.cell_type == "code" and cell.source.strip() == source.strip():
                return f'cell {i} (code cell {code}, "{first}")'
    except Exception as err:  # noqa: BLE001 (the summary must not fail where the build did)
        print(f"(could not read {chapter}.md to number the cell: {err})")
    return f'the cell starting "{first}"'


def reasons(lines):
    """The lines that say why a build without a failed cell failed: its warnings (-W makes each
    one fatal) and fatal errors, else its last lines."""
    plain = [ANSI.sub("", line) for line in lines]
    found = [line for line in plain if WARNING.search(line) or FATAL.search(line)]
    return found[-12:] or plain[-6:]


def summarize(code, supervisor):
    if code == 0:
        return
    print("\n" + "=" * 78, flush=True)
    cells = failed_cells()
    if cells:
        print("The book build FAILED in:", *(f"  {c}" for c in cells), sep="\n")
    else:
        print("The book build FAILED:", *(f"  {line}" for line in reasons(supervisor.lines)),
              sep="\n")
    print(f"(full traceback: {REPORTS}/ ; exit status {code})", flush=True)


def child(jobs, argv):
    """In the child process: Jupyter Book's `build`, with Sphinx's parallel jobs set."""
    import functools

    import jupyter_book.sphinx
    from jupyter_book.cli import main as jb

    # `build` imports build_sphinx from here when it runs: hand it one with jobs set.
    jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx,
                                                         jobs=jobs)
    jb.main(["build", ".", "-W", "--keep-going", *argv], standalone_mode=True)


def main(argv):
    if argv[:1] == ["--child"]:
        os.chdir(ROOT)
        return child(int(argv[1]), argv[2:])
    jobs = min(os.cpu_count() or 1, 4)
    if argv[:1] == ["--jobs"]:
        try:
            jobs = int(argv[1])
        except (IndexError, ValueError):
            sys.exit("--jobs needs a whole number, e.g. --jobs 2")
        if jobs < 1:
            sys.exit(f"--jobs must be at least 1, not {jobs}")
        argv = argv[2:]
    env, settings = kernel_environment(os.environ)
    prepare(settings)
    print(f"Building the book, {jobs} chapter(s) at a time, LRCOURSE_SEED={settings['LRCOURSE_SEED']}",
          flush=True)
    supervisor = Supervisor([sys.executable, "-u", __file__, "--child", str(jobs), *argv], env)
    try:
        code = supervisor.wait()
    except KeyboardInterrupt:
        supervisor.stop()
        code = 130
    summarize(code, supervisor)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
