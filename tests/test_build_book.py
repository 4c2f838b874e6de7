"""`scripts/build_book.py` on a scratch book: a failing cell ends the build fast and is named."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

FAILING = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# Failing

```{code-cell} ipython3
x = 1
```

```{code-cell} ipython3
assert x == 2, f"the scratch claim: x should be 2, measured {x}"
```
"""

SLOW = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# Slow

```{code-cell} ipython3
import os, time
open(os.environ["SCRATCH_PID_FILE"], "w").write(str(os.getpid()))
time.sleep(600)
```
"""


def scratch_book(tmp_path, chapters):
    """A copy of the book's build setup with only ``chapters`` ({name: text})."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    keep = {k: config[k] for k in ("title", "execute", "parse", "only_build_toc_files", "latex")}
    keep["exclude_patterns"] = ["_build", "scripts", "book/_ext", "**/.ipynb_checkpoints"]
    # The course's extension: it lets Sphinx read (and so execute) chapters in parallel.
    keep["sphinx"] = {"local_extensions": config["sphinx"]["local_extensions"]}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(keep))
    (tmp_path / "book").mkdir()
    shutil.copytree(ROOT / "book" / "_ext", tmp_path / "book" / "_ext")
    (tmp_path / "book" / "intro.md").write_text("# Scratch\n")
    for name, text in chapters.items():
        (tmp_path / "book" / f"{name}.md").write_text(text)
    toc = {"format": "jb-book", "root": "book/intro",
           "chapters": [{"file": f"book/{name}"} for name in chapters]}
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "build_book.py", tmp_path / "scripts")
    return tmp_path


@pytest.mark.slow
def test_a_failing_cell_ends_the_build_and_names_the_cell(tmp_path):
    book = scratch_book(tmp_path, {"failing": FAILING, "slow": SLOW})
    pid_file = tmp_path / "slow.pid"
    env = {**os.environ, "SCRATCH_PID_FILE": str(pid_file)}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, str(book / "scripts" / "build_book.py"), "--jobs", "2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
                          check=False)
    seconds = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    assert "doing serial read" not in out, "the scratch book must execute its chapters in parallel"
    tail = "\n".join(out.splitlines()[-8:])
    assert proc.returncode != 0, f"a failing cell must fail the build; it exited 0:\n{tail}"
    # The slow chapter alone would take 600 s; the build must stop soon after the failure.
    assert seconds < 120, f"the failed build took {seconds:.0f} s to exit (limit 120 s):\n{tail}"
    assert "book/failing.md, cell 3 (code cell 2" in tail, f"the last lines must name the cell:\n{tail}"
    assert "the scratch claim: x should be 2, measured 1" in tail, f"and the error:\n{tail}"
    # Nothing the build started is left running: the slow chapter's kernel is gone.
    assert pid_file.exists(), f"the slow chapter never started:\n{tail}"
    pid = int(pid_file.read_text())
    alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert not alive, f"the slow chapter's kernel (pid {pid}) still runs after the build exited"


WARNS = """\
# Warns

A link to a label that does not exist: {ref}`no-such-label-anywhere`.

A formula the MathML writer cannot read: $\\notacommand x$; and one it can: $\\eta_t$.
"""


@pytest.mark.slow
def test_a_warning_fails_the_build_and_is_quoted(tmp_path):
    book = scratch_book(tmp_path, {"warns": WARNS})
    proc = subprocess.run([sys.executable, str(book / "scripts" / "build_book.py"), "--jobs", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    out = proc.stdout + proc.stderr
    summary = out[out.rfind("The book build FAILED"):]
    assert proc.returncode != 0, f"-W makes a warning fatal; the build exited 0:\n{out[-600:]}"
    assert "no-such-label-anywhere" in summary and "WARNING" in summary, \
        f"the summary must quote the warning itself:\n{summary}"
    assert "notacommand" in summary, f"the summary must quote the formula not written as MathML:\n{summary}"
