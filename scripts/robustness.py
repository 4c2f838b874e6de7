"""Does every claim survive another seed and another thread count? `make robustness`.

Executes every chapter (book/*.md with code) in a fresh kernel once per run: seeds
0–4 with one thread, and seed 0 with two threads (OMP_NUM_THREADS=2 changes the
order of floating-point sums, as another CPU would). Each chapter's hidden
assertions check its claims, so a run passes when every cell does. Prints a table
chapter × run (seconds, or FAIL), then each failure's first error with its numbers.

    python scripts/robustness.py [--seeds 0-4] [--jobs 2] [chapter-name ...]

Exit status 1 when any run failed.
"""

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def chapters(names):
    found = sorted(p for p in (ROOT / "book").glob("*.md") if "\nkernelspec:" in p.read_text())
    if not names:
        return found
    by_name = {p.stem: p for p in found}
    missing = [n for n in names if n.removesuffix(".md").split("/")[-1] not in by_name]
    if missing:
        sys.exit(f"no chapter with code named {missing}; choose from {sorted(by_name)}")
    return [by_name[n.removesuffix(".md").split("/")[-1]] for n in names]


def run_one(path, seed, threads):
    """Execute one chapter in a fresh kernel: in this process, with the run's environment set."""
    os.environ.update({"LRCOURSE_SEED": str(seed), "PYTHONHASHSEED": "0",
                       "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                       **{v: str(threads) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                    "MKL_NUM_THREADS")}})
    os.environ.pop("LRCOURSE_BENCH_DIR", None)
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(path)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    try:
        client.execute()
        result = {"ok": True, "seconds": time.perf_counter() - t0}
    except CellExecutionError as err:
        cell = next((i for i, c in enumerate(nb.cells, 1) if c.get("outputs") and any(
            o.get("output_type") == "error" for o in c.outputs)), None)
        result = {"ok": False, "seconds": time.perf_counter() - t0, "cell": cell,
                  "error": f"{err.ename}: {err.evalue}"}
    except Exception as err:  # noqa: BLE001 (a dead kernel, a timeout: reported, not raised)
        result = {"ok": False, "seconds": time.perf_counter() - t0, "cell": None,
                  "error": f"{type(err).__name__}: {err}"}
    print(json.dumps(result))


def parse_seeds(text):
    if "-" in text:
        lo, hi = (int(t) for t in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(t) for t in text.split(",")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0-4", help="seeds run with one thread (default 0-4)")
    ap.add_argument("--jobs", type=int, default=2, help="chapters executed at once (default 2)")
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("chapters", nargs="*")
    args = ap.parse_args()
    if args.one:
        return run_one(Path(args.one[0]), int(args.one[1]), int(args.one[2]))
    paths = chapters(args.chapters)
    seeds = parse_seeds(args.seeds)
    runs = [(s, 1) for s in seeds] + [(seeds[0], 2)]
    labels = [f"seed {s}" + (f" ×{t}thr" if t > 1 else "") for s, t in runs]
    jobs = [(p, s, t) for p in paths for s, t in runs]
    print(f"Executing {len(paths)} chapters × {len(runs)} runs = {len(jobs)} kernels, "
          f"{args.jobs} at a time", flush=True)

    def execute(job):
        path, seed, threads = job
        proc = subprocess.run([sys.executable, __file__, "--one", str(path), str(seed), str(threads)],
                              capture_output=True, text=True, cwd=ROOT, check=False)
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            return {"ok": False, "seconds": 0, "cell": None,
                    "error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}

    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(execute, job): job for job in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            path, seed, threads = job = futures[future]
            results[job] = r = future.result()
            status = f"{r['seconds']:.0f} s" if r["ok"] else "FAIL"
            print(f"[{done}/{len(jobs)}] {path.stem}, seed {seed}, {threads} thread(s): {status}",
                  flush=True)

    width = max(len(p.stem) for p in paths)
    print(f"\n{'chapter':{width}} " + " ".join(f"{label:>12}" for label in labels))
    for path in paths:
        cells = [results[(path, s, t)] for s, t in runs]
        print(f"{path.stem:{width}} " + " ".join(
            f"{('pass ' + format(r['seconds'], '.0f') + ' s') if r['ok'] else 'FAIL':>12}"
            for r in cells))
    failures = [(job, r) for job, r in results.items() if not r["ok"]]
    for (path, seed, threads), r in sorted(failures, key=lambda item: str(item[0])):
        print(f"\nFAIL {path.name}, seed {seed}, {threads} thread(s), cell {r['cell']}:\n  {r['error']}")
    total = sum(r["seconds"] for r in results.values())
    print(f"\n{len(results) - len(failures)}/{len(results)} runs passed "
          f"({total:.0f} s of execution)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
