"""scripts/claims.py: every failing assertion of a chapter, seed by seed, not only the first."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# Scratch

```{code-cell} ipython3
import os
seed = int(os.environ["LRCOURSE_SEED"])
assert seed != 1, f"the first claim fails on seed 1: measured {seed}"
assert seed % 2 == 0, f"the second claim fails on odd seeds: measured {seed}"
```

```{code-cell} ipython3
Explorer(skipped=True)
```

```{code-cell} ipython3
assert seed < 10, f"the third claim holds: measured {seed}"
```
"""


def test_claims_lists_every_failing_assertion_per_seed(tmp_path):
    chapter = tmp_path / "scratch.md"
    chapter.write_text(CHAPTER, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "claims.py"), str(chapter),
                           "--seeds", "0-2"], capture_output=True, text=True, timeout=120,
                          check=False)
    out = proc.stdout
    assert proc.returncode == 1, f"a failing claim must give exit status 1:\n{out}{proc.stderr}"
    assert "seed 0: 3 checks, 0 failed" in out, out
    # seed 1: both failing claims of the first cell, and the third cell still ran
    assert "seed 1: 3 checks, 2 failed" in out and "first claim fails on seed 1: measured 1" in out \
        and "second claim fails on odd seeds: measured 1" in out, out
    assert "seed 2: 3 checks, 0 failed" in out, out
    assert "Explorer" not in out, f"the explorer cell should be skipped:\n{out}"
