"""The book's build extensions (book/_ext): math as MathML, the icon font cut to the icons shown."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from course_icons import icon_map, used_code_points
from course_math import MathMLError, tex_to_text, to_mathml


def cells(mathml):
    """Each table row's cells as (columnalign, text) pairs."""
    return [re.findall(r'<mtd(?: columnalign="(\w+)")?\s*/?>', row)
            for row in re.findall(r"<mtr>(.*?)</mtr>", mathml)]


def test_inline_and_display():
    assert to_mathml(r"\eta_t").startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">')
    block = to_mathml(r"\theta_{t+1} = \theta_t - \eta\, g_t", display=True)
    assert 'display="block"' in block and "<msub>" in block and "&#x003B7;" in block  # η


def test_aligned_is_a_table_with_right_left_columns():
    # latex2mathml reads aligned's & as letters; the writer lays it out as split does
    tex = r"\begin{aligned} m_t &= \beta m_{t-1}, & v_t &= \beta v_{t-1},\\ \hat m_t &= m_t, & w &= w - \eta \end{aligned}"
    mathml = to_mathml(tex, display=True)
    assert "<mi>&</mi>" not in mathml
    assert cells(mathml) == [["right", "left", "right", "left"]] * 2, cells(mathml)


def test_split_around_aligned_and_bare_line_breaks():
    nested = to_mathml(r"\begin{split}\begin{aligned} a &= b \\ c &= d \end{aligned}\end{split}", True)
    assert cells(nested) == [["right", "left"]] * 2
    bare = to_mathml(r"a = b \\ c = d", display=True)  # Sphinx's renderer wraps this in split
    assert len(cells(bare)) == 2 and 'linebreak="newline"' not in bare


def test_text_is_escaped():
    assert "&#x0003C;" in to_mathml("a < b") and "<mi><</mi>" not in to_mathml("a < b")


@pytest.mark.parametrize("tex, named", [(r"\notacommand x", r"\notacommand"),
                                        (r"x \mathfrakk{g}", r"\mathfrakk")])
def test_unreadable_tex_is_an_error_that_names_it(tex, named):
    with pytest.raises(MathMLError, match=re.escape(named)):
        to_mathml(tex)


def test_search_titles_show_symbols_not_tex():
    assert tex_to_text(r"A wider stable range: \eta\lambda < 2(1+\gamma)") == \
        "A wider stable range: ηλ < 2(1+γ)"
    assert tex_to_text(r"\tfrac{1}{L}\,\eta") == "1/L η"
    assert tex_to_text(r"\notacommand") == r"\notacommand"  # left for a reader to see, not dropped


CSS = ('.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}.fa-sun:before{content:"\\f185"}'
       '.fa-moon:before{content:"\\f186"}.fa-unused:before{content:"\\f000"}'
       ':root{--pst-icon-info-circle:"\uf05a"}.onthispage:after{content:"\\f107";font-weight:900}')


def test_icon_map_reads_font_awesome_rules():
    assert icon_map(CSS) == {"bars": 0xF0C9, "navicon": 0xF0C9, "sun": 0xF185, "moon": 0xF186,
                             "unused": 0xF000}


def test_used_code_points_are_the_icons_shown(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "theme.css").write_text(CSS, encoding="utf-8")
    (tmp_path / "_static" / "switch.js").write_text('el.className = "fa-solid fa-moon";')
    (tmp_path / "page.html").write_text('<i class="fa-solid fa-bars fa-lg"></i>'
                                        '<i class="fa-solid fa-no-such-icon"></i>')
    points, unknown = used_code_points(tmp_path)
    # bars (page), moon (script), the info circle and the chevron drawn by the CSS; not sun or unused
    assert points == {0xF0C9, 0xF186, 0xF05A, 0xF107}, sorted(map(hex, points))
    assert unknown == {"no-such-icon"}
