"""lrcourse.seeding: one setting, LRCOURSE_SEED, behind every random choice."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from lrcourse.models import mlp
from lrcourse.problems import make_regression
from lrcourse.seeding import course_seed, resolve_seed
from lrcourse.train import minibatches

ROOT = Path(__file__).resolve().parents[1]


def test_default_and_setting(monkeypatch):
    monkeypatch.delenv("LRCOURSE_SEED", raising=False)
    assert course_seed() == 0
    monkeypatch.setenv("LRCOURSE_SEED", " 12 ")
    assert course_seed() == 12 and resolve_seed(None) == 12 and resolve_seed(3) == 3


@pytest.mark.parametrize("bad", ["abc", "1.5", "-1", "0x10"])
def test_a_bad_value_is_named(monkeypatch, bad):
    monkeypatch.setenv("LRCOURSE_SEED", bad)
    with pytest.raises(ValueError, match=f"Invalid LRCOURSE_SEED: '?{bad}'?"):
        course_seed()
    with pytest.raises(ValueError, match="LRCOURSE_SEED"):
        mlp()  # the package's functions say so too


def test_every_random_choice_follows_the_setting(monkeypatch):
    def draws():
        return (mlp()[1].weight.detach().clone(), make_regression(n=20)[1],
                next(iter(minibatches(100, 10))))

    monkeypatch.setenv("LRCOURSE_SEED", "5")
    first, again = draws(), draws()
    monkeypatch.setenv("LRCOURSE_SEED", "6")
    other = draws()
    for a, b, c in zip(first, again, other, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b)), "the same seed must give the same draw"
        assert not np.array_equal(np.asarray(a), np.asarray(c)), "another seed, another draw"
    # an explicit seed still wins over the setting
    assert torch.equal(mlp(seed=5)[1].weight, first[0])


def test_no_chapter_types_a_seed():
    """Every random choice in a chapter derives from LRCOURSE_SEED, never from a literal."""
    literal = r"(seed\s*=\s*\d|manual_seed\(\s*\d|default_rng\(\s*\d|random\.seed\(\s*\d)"
    import re

    offenders = [f"{p.name}:{i}: {line.strip()}"
                 for p in sorted((ROOT / "book").glob("*.md"))
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(literal, line)]
    assert not offenders, "literal seeds in chapters:\n" + "\n".join(offenders)


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "scripts" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_kernels_do_not_inherit_what_changes_the_output(monkeypatch):
    build = load_build_script()
    monkeypatch.setenv("LRCOURSE_SEED", "3")
    caller = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "8", "MKL_NUM_THREADS": "8",
              "LRCOURSE_BENCH_DIR": "/tmp/x", "HOME": "/root"}
    env, settings = build.kernel_environment(caller)
    assert env["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["LRCOURSE_SEED"] == "3" and settings["LRCOURSE_SEED"] == 3
    assert "LRCOURSE_BENCH_DIR" not in env and env["HOME"] == "/root"
