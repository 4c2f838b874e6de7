"""Latency of every explorer, live in a kernel: `make bench`.

Runs each chapter notebook in a fresh kernel; its last cell (check_explorers)
moves every control 20 times to values between the grid points and records the
time from setting the value to having the new picture. Prints median and 95th
percentile per explorer against its budget (CONTRIBUTING.md: 50 ms numpy, 200 ms torch).
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]


def main(paths):
    notebooks = [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as out:
        os.environ["LRCOURSE_BENCH_DIR"] = out
        os.environ.setdefault("MPLBACKEND", "Agg")
        for nb_path in notebooks:
            t0 = time.perf_counter()
            os.environ["LRCOURSE_CHAPTER"] = nb_path.stem  # the kernel inherits it: check_explorers
            nb = nbformat.read(nb_path, as_version=4)
            client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                    resources={"metadata": {"path": str(nb_path.parent)}})
            try:
                client.execute()
                print(f"ran {nb_path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
            except CellExecutionError as err:  # e.g. an explorer over its budget
                print(f"FAILED {nb_path.name}: {str(err).strip().splitlines()[-1]}", flush=True)
        print(f"\n{'chapter.explorer':58} {'frames':>6} {'median':>9} {'p95':>9} {'budget':>8}")
        for path in sorted(Path(out).glob("*.json")):
            r = json.loads(path.read_text())
            flag = "" if r["median_ms"] <= r["budget_ms"] else "  OVER BUDGET"
            print(f"{path.stem:58} {r['frames']:>6} {r['median_ms']:>7.1f}ms {r['p95_ms']:>7.1f}ms "
                  f"{r['budget_ms']:>6}ms{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])
