"""Binder's environment.yml pins the same runtime packages as pyproject.toml."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_pins(lines):
    pins = {}
    for line in lines:
        m = re.fullmatch(r"\s*-?\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+).*", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_environment_yml_pins_every_runtime_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = parse_pins(project["dependencies"])
    got = parse_pins((ROOT / "environment.yml").read_text().splitlines())
    assert wanted, "pyproject.toml pins nothing?"
    missing = {k: v for k, v in wanted.items() if k not in got}
    differ = {k: (v, got[k]) for k, v in wanted.items() if k in got and got[k] != v}
    assert not missing, f"environment.yml lacks {missing}"
    assert not differ, f"pins differ (pyproject, environment.yml): {differ}"


def test_every_dependency_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["test"]
    loose = [d for d in deps if "==" not in d]
    assert not loose, f"unpinned: {loose}"


def test_torch_is_pinned_to_the_cpu_build_for_binder():
    env = (ROOT / "environment.yml").read_text()
    assert "torch==2.13.0" in env and "download.pytorch.org/whl/cpu" in env


def test_postbuild_installs_the_package():
    text = (ROOT / "postBuild").read_text()
    assert re.search(r"pip install .*-e \.", text)
