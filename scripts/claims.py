"""Which of a chapter's claims fail, and on which seeds? Every failing assertion, not the first.

`make robustness` tells whether each chapter passes under a few seeds; it stops a run at
its first failing assertion. Before a claim lands, this shows all of them over many
draws: it runs a chapter's code cells once per seed in this process (matplotlib drawing
off-screen), with each ``assert claim, message`` turned into a check that records the
message and goes on. Cells whose source contains one of ``--skip`` are left out (the
explorers, by default: slow, and their checks are the widget tests'), so a later cell
that needs them may report an error: that is noise, not a claim.

    python scripts/claims.py book/momentum.md --seeds 0-20 [--skip "Explorer(,explorer("]

Prints, per seed, how many checks ran and each failing one's message (with its numbers),
then any cell that raised (usually one that needs a skipped cell: not a claim). Exit
status 1 when any check failed.
"""

import argparse
import ast
import contextlib
import io
import os
import sys
from pathlib import Path


class _RecordAsserts(ast.NodeTransformer):
    """``assert test, msg`` → ``_record(lambda: test, lambda: msg, lineno)``."""

    def visit_Assert(self, node):
        def thunk(expr):
            return ast.Lambda(ast.arguments([], [], None, [], [], None, []), expr)

        call = ast.Call(ast.Name("_record", ast.Load()),
                        [thunk(node.test), thunk(node.msg or ast.Constant("")),
                         ast.Constant(node.lineno)], [])
        return ast.copy_location(ast.Expr(call), node)


def compiled_cells(path, skip):
    import jupytext

    cells = []
    for i, cell in enumerate(jupytext.read(path).cells):
        if cell.cell_type != "code" or any(s in cell.source for s in skip):
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        tree = ast.fix_missing_locations(_RecordAsserts().visit(ast.parse(source)))
        cells.append((i, compile(tree, f"{path.name}, cell {i}", "exec")))
    return cells


def run_seed(cells, seed):
    """Execute the cells under ``seed``; return (checks run, failed checks, cells that raised)."""
    import matplotlib.pyplot as plt

    os.environ["LRCOURSE_SEED"] = str(seed)
    for name in [m for m in sys.modules if m == "lrcourse" or m.startswith("lrcourse.")]:
        del sys.modules[name]  # the seed is read when the package is imported
    failures, errors, count = [], [], [0]

    def _record(test, message, line):
        count[0] += 1
        try:
            if test():
                return
            failures.append(f"line {line}: {message()}")
        except Exception as err:  # noqa: BLE001 - a check that raises is a failure to report
            failures.append(f"line {line}: the check raised {type(err).__name__}: {err}")

    namespace = {"_record": _record, "__name__": "__main__"}
    for i, code in cells:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(code, namespace)  # noqa: S102 - the chapter's own code
        except Exception as err:  # noqa: BLE001 - report, go on with the next cell
            errors.append(f"cell {i} raised {type(err).__name__}: {str(err)[:200]}")
        plt.close("all")
    return count[0], failures, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapter", type=Path, help="book/<slug>.md")
    ap.add_argument("--seeds", default="0-20", help="a range a-b (inclusive), default 0-20")
    ap.add_argument("--skip", default="Explorer(,explorer(",
                    help="comma-separated strings: cells containing one are not run")
    args = ap.parse_args()
    first, _, last = args.seeds.partition("-")
    seeds = range(int(first), int(last or first) + 1)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    path = args.chapter.resolve()
    cells = compiled_cells(path, [s for s in args.skip.split(",") if s])
    os.chdir(path.parent)
    failed = 0
    for seed in seeds:
        count, failures, errors = run_seed(cells, seed)
        failed += bool(failures)
        print(f"seed {seed}: {count} checks, {len(failures)} failed", flush=True)
        for failure in failures:
            print(f"    {failure[:400]}", flush=True)
        for error in errors:  # usually a cell that needs a skipped one
            print(f"    (not a claim) {error}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
