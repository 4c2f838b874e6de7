"""Every module of the package carries a docstring example, and the test run executes them all.

The examples themselves run as tests of their own: ``src/lrcourse`` is in pytest's
``testpaths`` with ``--doctest-modules`` (pyproject.toml), so ``make test`` fails
when an example's output drifts from the code.
"""

import doctest
import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "lrcourse"
MODULES = sorted(
    ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
    for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"
)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_an_example_that_runs(name):
    module = importlib.import_module(name)
    examples = [ex for test in doctest.DocTestFinder().find(module) for ex in test.examples
                if not ex.options.get(doctest.SKIP)]
    assert examples, f"{name} has no docstring example (>>> ...) that runs"


def test_the_test_run_collects_the_examples():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "src/lrcourse" in options["testpaths"]
    assert "--doctest-modules" in options["addopts"].split()
