"""The book's math as MathML, written at build time.

Browsers lay out MathML themselves (Chromium since 109, Firefox, Safari), so the
pages load no MathJax: that was 0.8 MB on the first visit to every page with
math, and a phone typeset it after the page had loaded. The TeX in the chapters
(``$...$``, ``$$...$$``, amsmath environments) is converted by latex2mathml when
Sphinx writes the page; the formulas are then ordinary page content: printed in
the PDF as they are, read by screen readers as math, searchable, no script.

Two gaps of latex2mathml are bridged here: it reads ``aligned`` as plain text
(its ``&`` become letters), so ``aligned`` is written as ``split``, which it does
lay out as a table; and a bare ``\\`` line break becomes a ``split``, as Sphinx's
MathJax renderer does. What it cannot read (an unknown command comes out as
literal text) is a build warning, an error under ``-W``, naming the formula.
The look (a math font, the alignment of the table's columns) is in course.css.

Search results list section titles as Sphinx indexed them, the TeX of a formula
as written (``\\eta\\lambda``); the index's titles get the formula's symbols
instead (``ηλ``).
"""

import json
import re
from pathlib import Path

from docutils import nodes
from latex2mathml import commands
from latex2mathml.converter import convert
from latex2mathml.symbols_parser import convert_symbol
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)

ALIGNED = re.compile(r"\\(begin|end)\{aligned\}")
# Sphinx's own renderer wraps a formula with a line break in split; the source may already hold one.
NESTED = re.compile(r"\\begin\{split\}\s*\\begin\{split\}(.*)\\end\{split\}\s*\\end\{split\}", re.DOTALL)
# What latex2mathml writes for TeX it did not understand (it drops an unknown \command{...}
# silently, so commands are also checked against those it knows, below).
UNREAD = re.compile(r"<m[io]>(\\[A-Za-z]+|&)</m[io]>|linebreak=\"newline\"")


def _known_commands():
    """Every command latex2mathml names in its tables (symbols are looked up one by one)."""
    known = set()

    def add(value):
        if isinstance(value, str):
            if value.startswith("\\"):
                known.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                add(key)
                add(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                add(item)

    for name in dir(commands):
        add(getattr(commands, name))
    return known


KNOWN = _known_commands()


class MathMLError(ValueError):
    """A formula latex2mathml cannot write as MathML."""


def to_mathml(tex, display=False):
    """The MathML for one TeX formula; raises MathMLError for TeX it cannot read."""
    tex = ALIGNED.sub(r"\\\1{split}", tex.strip())
    if "\\\\" in tex and not tex.startswith("\\begin"):
        tex = "\\begin{split}" + tex + "\\end{split}"
    tex = NESTED.sub(r"\\begin{split}\1\\end{split}", tex)
    unknown = sorted({c for c in re.findall(r"\\[A-Za-z]+", tex) if c not in KNOWN and convert_symbol(c) is None})
    if unknown:
        raise MathMLError(f"latex2mathml does not know {', '.join(unknown)}")
    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception as err:  # latex2mathml raises its own exceptions and plain ones
        raise MathMLError(f"{type(err).__name__}: {err}") from err
    unread = UNREAD.search(mathml)
    if unread:
        what = unread.group(1) or "a line break outside an alignment"
        raise MathMLError(f"latex2mathml did not read {what}")
    return mathml


def _mathml_or_warn(node, tex, display):
    try:
        return to_mathml(tex, display)
    except MathMLError as err:
        logger.warning("formula not written as MathML (%s): %s", err, tex.strip(),
                       location=node, type="course_math", subtype="mathml")
        return "<code>" + tex.replace("&", "&amp;").replace("<", "&lt;") + "</code>"


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_mathml_or_warn(node, node.astext(), display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node["nowrap"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, _("Link to this equation"))
        self.body.append("</span>")
    # Sphinx's convention: formulas separated by a blank line are displayed one under the other.
    parts = [node.astext()] if node["nowrap"] else [p for p in node.astext().split("\n\n") if p.strip()]
    for part in parts:
        self.body.append(_mathml_or_warn(node, part, display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def tex_to_text(text):
    """A title's TeX as plain symbols: ``\\eta/(1-\\gamma)`` becomes ``η/(1-γ)``."""
    text = re.sub(r"\\[td]?frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", text)
    text = re.sub(r"\\[,;:! ]", " ", text)

    def symbol(match):
        code = convert_symbol(match.group(0))
        return chr(int(code, 16)) if code else match.group(0)

    return re.sub(r"\\[A-Za-z]+", symbol, text).replace("{", "").replace("}", "")


def _plain_search_titles(app, exception):
    index = Path(app.outdir, "searchindex.js")
    if exception is not None or not index.exists():
        return
    head, tail = "Search.setIndex(", ")"
    text = index.read_text(encoding="utf-8")
    if not (text.startswith(head) and text.rstrip().endswith(tail)):
        return
    data = json.loads(text[len(head):text.rstrip().rindex(tail)])
    if "\\" not in json.dumps(data.get("alltitles", {})) + json.dumps(data.get("titles", [])):
        return
    data["alltitles"] = {tex_to_text(k): v for k, v in data.get("alltitles", {}).items()}
    data["titles"] = [tex_to_text(t) for t in data.get("titles", [])]
    index.write_text(head + json.dumps(data, separators=(",", ":")) + tail,
                     encoding="utf-8")


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    app.connect("build-finished", _plain_search_titles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
