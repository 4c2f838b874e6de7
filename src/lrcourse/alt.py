"""Alt text for every figure a chapter shows: what it shows, in words, carried inside its PNG.

A reader who cannot see a figure hears its alt text. A chapter's figure is a
matplotlib figure shown in a notebook cell; the site's page is built from the
saved notebook, where the image is just a PNG. So the words travel inside the
PNG (an ``iTXt`` chunk, keyword ``Description``), and the book's build
(``book/_ext/course_site.py``) puts them in the page's ``alt`` attribute.

* ``set_alt(fig, text)``: say what a figure shows, where it is made;
* without it, ``describe(fig)`` writes one from the figure itself: its title, and for
  each panel its title, what is plotted against what, and the legend's entries;
* ``install()`` (done on ``import lrcourse`` in IPython) makes every PNG of a
  figure that a kernel displays carry that text, and the size of its smallest text
  in pixels (``min_text_px``, keyword ``lrcourse:min-text-px``): on a phone the
  site shows a figure no smaller than keeps that text legible (course_site.py).

Example:
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [1, 0], label="η = 0.1"); _ = ax.legend()
    >>> _ = ax.set(xlabel="step", ylabel="loss", title="Training loss")
    >>> describe(fig)
    'Figure. Panel “Training loss”: loss against step; curves: η = 0.1.'
    >>> set_alt(fig, "The loss falls from 1 to 0 in one step.")
    >>> describe(fig)
    'The loss falls from 1 to 0 in one step.'
    >>> png = add_description(b"\\x89PNG\\r\\n\\x1a\\n" + _chunk(b"IHDR", bytes(13)), "η")
    >>> read_description(png)
    'η'
    >>> plt.close(fig)
"""

import base64
import struct
import sys
import zlib

KEYWORD = b"Description"
MIN_TEXT_KEYWORD = b"lrcourse:min-text-px"
_ATTR = "_lrcourse_alt"
_PNG = b"\x89PNG\r\n\x1a\n"


def set_alt(fig, text):
    """Give ``fig`` the alt text ``text`` (a sentence or two saying what it shows)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"Invalid alt text: {text!r} (expected a non-empty string)")
    setattr(fig, _ATTR, text.strip())


def describe(fig):
    """The alt text of ``fig``: the one ``set_alt`` gave, else one written from the figure."""
    given = getattr(fig, _ATTR, None)
    if given:
        return given
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    panels = [_describe_axes(ax) for ax in fig.axes if ax.get_visible() and ax.has_data()]
    panels = [p for p in panels if p]
    head = f"Figure: {title}." if title else "Figure."
    if len(panels) == 1:
        return f"{head} Panel {panels[0]}."
    return " ".join([head] + [f"Panel {i} of {len(panels)} {p}." for i, p in
                              enumerate(panels, 1)])


def min_text_px(fig, dpi=None):
    """The font size, in pixels of a PNG drawn at ``dpi`` (default the figure's), of the
    smallest visible text of ``fig`` (drawn: tick labels get their text when it is); None if
    it shows no text.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(dpi=72); _ = ax.set_title("t", fontsize=14)
    >>> ax.tick_params(labelsize=8); fig.canvas.draw()
    >>> min_text_px(fig), min_text_px(fig, dpi=144)
    (8.0, 16.0)
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.figure is fig]
    return min(sizes) * (dpi or fig.dpi) / 72 if sizes else None


def _describe_axes(ax):
    words = []
    if ax.get_title():
        words.append(f"“{ax.get_title()}”")
    x, y = ax.get_xlabel(), ax.get_ylabel()
    if x or y:
        words.append(f"{y or 'values'} against {x or 'position'}")
    if ax.images:
        words.append("an image")
    labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
    labels = [lab for lab in labels if lab and not lab.startswith("_")]
    if labels:
        words.append("curves: " + ", ".join(labels[:8]) + (", …" if len(labels) > 8 else ""))
    if not words:
        return ""
    return words[0] + (": " + "; ".join(words[1:]) if len(words) > 1 else "")


# -- the PNG side ---------------------------------------------------------------------


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def add_description(png, text, keyword=KEYWORD):
    """``png`` (bytes) with an iTXt chunk ``keyword`` (``Description``) holding ``text`` (UTF-8)
    after IHDR."""
    if not png.startswith(_PNG):
        raise ValueError("Invalid PNG: missing signature")
    end_of_ihdr = len(_PNG) + 8 + struct.unpack(">I", png[8:12])[0] + 4
    itxt = _chunk(b"iTXt", keyword + b"\0\0\0\0\0" + text.encode("utf-8"))
    return png[:end_of_ihdr] + itxt + png[end_of_ihdr:]


def png_width(png):
    """The width in pixels of the PNG ``png`` (bytes), from its header."""
    if not png.startswith(_PNG):
        raise ValueError("Invalid PNG: missing signature")
    return struct.unpack(">I", png[16:20])[0]


def read_min_text_px(png):
    """The ``min_text_px`` a kernel wrote into ``png`` (bytes), or None."""
    text = read_description(png, MIN_TEXT_KEYWORD)
    return float(text) if text else None


def read_description(png, keyword=KEYWORD):
    """The text of the first iTXt chunk ``keyword`` (``Description``) of ``png`` (bytes), or None."""
    i = len(_PNG)
    while i + 8 <= len(png):
        (size,), kind = struct.unpack(">I", png[i:i + 4]), png[i + 4:i + 8]
        data = png[i + 8:i + 8 + size]
        if kind == b"iTXt" and data.startswith(keyword + b"\0"):
            rest = data[len(keyword) + 3:]  # keyword\0, compression flag and method
            rest = rest[rest.index(b"\0") + 1:]  # language tag
            return rest[rest.index(b"\0") + 1:].decode("utf-8")  # translated keyword, text
        if kind == b"IEND":
            break
        i += 12 + size
    return None


# -- the kernel side ------------------------------------------------------------------


def _with_alt(show_png):
    """Wrap IPython's PNG formatter of figures so that each PNG carries ``describe(fig)``."""
    def png(fig, *args, **kwargs):
        out = show_png(fig, *args, **kwargs)
        if out is None:
            return out
        raw = base64.b64decode(out) if isinstance(out, str) else out
        raw = add_description(raw, describe(fig))
        smallest = min_text_px(fig)  # IPython's print_figure draws at the figure's dpi
        if smallest:
            raw = add_description(raw, f"{smallest:.2f}", MIN_TEXT_KEYWORD)
        return base64.b64encode(raw).decode("ascii") if isinstance(out, str) else raw

    png.lrcourse_alt = True
    return png


def _ensure(shell):
    if "matplotlib.figure" not in sys.modules:
        return
    import matplotlib
    from matplotlib.figure import Figure

    # pyplot loads its backend at the first figure, and the inline backend then registers
    # its PNG formatter (over this one): load it now, so that it registers first.
    if "inline" in str(matplotlib.rcParams._get("backend")):
        import matplotlib_inline.backend_inline  # noqa: F401

    formatter = shell.display_formatter.formatters["image/png"]
    try:
        current = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if not getattr(current, "lrcourse_alt", False):
        formatter.for_type(Figure, _with_alt(current))


def install():
    """In an IPython kernel, make every displayed figure's PNG carry its alt text.

    Checked before each cell runs and after it (before the inline backend shows the
    figures a cell left open), because the inline backend registers its own PNG
    formatter when pyplot is first imported. Does nothing outside IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "_lrcourse_alt_installed", False):
        return
    shell._lrcourse_alt_installed = True
    shell.events.register("pre_run_cell", lambda *args: _ensure(shell))
    shell.events.register("post_execute", lambda: _ensure(shell))
    _ensure(shell)
