"""Every figure a kernel shows carries its alt text inside its PNG (lrcourse.alt)."""

import base64

import nbformat
import pytest
from nbclient import NotebookClient

from lrcourse.alt import (
    add_description,
    describe,
    min_text_px,
    png_width,
    read_description,
    read_min_text_px,
    set_alt,
)


def run_cells(*sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(
        env={"MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    return [read_description(base64.b64decode(o["data"]["image/png"]))
            for cell in nb.cells for o in cell.outputs if "image/png" in o.get("data", {})]


def test_figures_shown_in_a_kernel_carry_their_alt_text():
    alts = run_cells(
        "import lrcourse.alt; lrcourse.alt.install()\nimport matplotlib.pyplot as plt",
        "fig, ax = plt.subplots(); ax.plot([1, 2], label='η = 0.1'); ax.legend()\n"
        "ax.set(xlabel='step', ylabel='loss'); plt.show()",
        "fig, ax = plt.subplots(); ax.plot([1, 2])\n"
        "lrcourse.alt.set_alt(fig, 'A line rising from 1 to 2.'); plt.show()",
        "fig, ax = plt.subplots(); ax.set_title('left open, shown after the cell'); ax.plot([0, 1])",
    )
    assert alts == ["Figure. Panel loss against step: curves: η = 0.1.",
                    "A line rising from 1 to 2.",
                    "Figure. Panel “left open, shown after the cell”."], alts


def test_describe_names_the_title_and_every_panel():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    fig.suptitle("Two runs")
    a.plot([0, 1]); a.set(title="loss", xlabel="step", ylabel="f − f*")
    b.imshow([[0, 1], [1, 0]]); b.set(title="filters")
    assert describe(fig) == ("Figure: Two runs. Panel 1 of 2 “loss”: f − f* against step. "
                             "Panel 2 of 2 “filters”: an image.")
    plt.close(fig)


def test_bad_input_is_refused():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    with pytest.raises(ValueError, match="Invalid alt text: ''"):
        set_alt(fig, "")
    plt.close(fig)
    with pytest.raises(ValueError, match="Invalid PNG"):
        add_description(b"GIF89a", "x")


def test_figures_shown_in_a_kernel_carry_their_smallest_text_size():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in (
        "import lrcourse.alt; lrcourse.alt.install()\nimport matplotlib.pyplot as plt",
        ("fig, ax = plt.subplots(figsize=(4, 3), dpi=72); ax.plot([1, 2])\n"
        "ax.set_title('big', fontsize=14); ax.tick_params(labelsize=7); plt.show()"))])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(
        env={"MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    png = base64.b64decode(next(o["data"]["image/png"] for o in nb.cells[1].outputs
                                if "image/png" in o.get("data", {})))
    assert read_min_text_px(png) == pytest.approx(7.0), "7 pt tick labels at 72 dpi are 7 px"
    assert 200 < png_width(png) <= 4 * 72, f"a 4-inch figure at 72 dpi: {png_width(png)} px wide"


def test_min_text_px_sees_every_visible_text_and_no_hidden_one():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(dpi=100)
    ax.plot([0, 1], label="curve")
    ax.legend(fontsize=6)
    ax.text(0.5, 0.5, "hidden", fontsize=3, visible=False)
    fig.canvas.draw()
    assert min_text_px(fig) == pytest.approx(6 * 100 / 72)
    plt.close(fig)
    empty = plt.figure()
    assert min_text_px(empty) is None
    plt.close(empty)
