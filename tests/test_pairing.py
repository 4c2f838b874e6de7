"""Every chapter in book/ is paired with notebooks/<same name>.ipynb, and the pair agrees."""

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.md")
                  if "kernelspec" in p.read_text(encoding="utf-8"))


def cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def test_there_are_chapters():
    assert len(CHAPTERS) >= 1


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_pair_in_sync(md):
    twin = ROOT / "notebooks" / (md.stem + ".ipynb")
    assert twin.exists(), f"{twin.relative_to(ROOT)} is missing: run `make sync`"
    assert cells(jupytext.read(md)) == cells(jupytext.read(twin)), (
        f"{md.relative_to(ROOT)} and {twin.relative_to(ROOT)} differ: run `make sync`")


# Notebooks a learner copies and fills in: no chapter source (nbval still runs them).
TEMPLATES = {"your-model"}


def test_no_orphan_notebooks():
    stems = {p.stem for p in CHAPTERS} | TEMPLATES
    orphans = [p.name for p in (ROOT / "notebooks").glob("*.ipynb") if p.stem not in stems]
    assert not orphans, f"notebooks without a chapter source: {orphans}"


def test_pairing_is_configured():
    """jupytext --sync finds the pair by itself (pyproject.toml [tool.jupytext])."""
    from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

    path = find_jupytext_configuration_file(str(ROOT / "book"))
    config = load_jupytext_configuration_file(path)
    assert "notebooks///ipynb" in str(config.formats) and "book///md:myst" in str(config.formats)


def test_chapters_are_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    missing = [p.stem for p in CHAPTERS if f"book/{p.stem}" not in toc]
    assert not missing, f"chapters missing from _toc.yml: {missing}"
