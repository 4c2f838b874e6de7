"""The icon font the site serves holds only the icons the site shows.

The theme draws its icons (menu, search, theme switch, launch and download
buttons, admonitions) with Font Awesome's solid web font, 156 kB, fetched on the
first visit to every page for about twenty of its 1,400 glyphs. After the build
this finds every icon the site can show — each ``fa-*`` class in the pages and
the theme's scripts, mapped to its character by the theme's CSS, and each icon
character the CSS draws itself (admonitions, breadcrumbs) — and rewrites the
built copy of the font with those glyphs alone (fontTools; a few kB).

An icon class the CSS does not map is a build warning (an error under -W), so
an icon cannot silently turn into an empty box when the theme changes.
"""

import re
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

FONT = "fa-solid-900.woff2"
# ".fa-bars:before,.fa-navicon:before{content:"\f0c9"}" in the theme's Font Awesome CSS.
ICON_RULE = re.compile(r'((?:\.fa-[a-z0-9-]+:(?::?before|after),?)+)\{content:"\\([0-9a-f]{4,5})"\}')
ICON_CLASS = re.compile(r"\bfa-([a-z0-9]+(?:-[a-z0-9]+)*)\b")
# Font Awesome's class names that are not icons: styles, sizes, animations, layout.
NOT_ICONS = re.compile(r"^(solid|regular|brands|lg|xs|sm|xl|\d+x|\dxs|fw|ul|li|border|pull-\w+|spin.*"
                       r"|pulse|beat.*|bounce|fade|flip.*|shake|rotate.*|stack.*|inverse|sr-only.*|layers.*)$")
# An icon character written into the CSS itself: an escape (\f107) or the character (U+E000-U+F8FF).
CSS_CHAR = re.compile(r'content:\s*"\\([ef][0-9a-f]{3})"|"([\ue000-\uf8ff])"')


def icon_map(css_text):
    """{icon name: code point} from Font Awesome's CSS."""
    icons = {}
    for selectors, code in ICON_RULE.findall(css_text):
        for name in re.findall(r"\.fa-([a-z0-9-]+):", selectors):
            icons[name] = int(code, 16)
    return icons


def used_code_points(outdir):
    """The code points of every icon the built site can show, and the icon classes with none."""
    static = Path(outdir, "_static")
    css = {p: p.read_text(encoding="utf-8", errors="replace") for p in static.rglob("*.css")}
    icons = {}
    for text in css.values():
        icons.update(icon_map(text))
    points, unknown = set(), set()
    for text in css.values():  # characters the theme's own rules draw
        for rule in re.findall(r"[^{}]*\{[^{}]*\}", ICON_RULE.sub("", text)):
            points.update(int(e, 16) if e else ord(c) for e, c in CSS_CHAR.findall(rule))
    pages = [*Path(outdir).rglob("*.html"), *static.rglob("*.js")]
    for page in pages:
        for name in set(ICON_CLASS.findall(page.read_text(encoding="utf-8", errors="replace"))):
            if name in icons:
                points.add(icons[name])
            elif not NOT_ICONS.match(name) and page.suffix == ".html":
                unknown.add(name)
    return points, unknown


def _theme_static(relative):
    import pydata_sphinx_theme

    path = Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / relative
    return path if path.exists() else None


def subset_icons(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    fonts = list(Path(app.outdir, "_static").rglob(FONT))
    if not fonts:
        return
    from fontTools import subset

    points, unknown = used_code_points(app.outdir)
    if unknown:
        logger.warning("icon classes with no Font Awesome character in the theme's CSS: %s",
                       ", ".join(sorted(unknown)), type="course_icons")
    if len(points) < 5:  # the theme's CSS no longer maps icons the way this expects: keep the font
        logger.warning("found %d icons in the site; the icon font is left whole", len(points),
                       type="course_icons")
        return
    for path in fonts:
        # From the theme's own copy: the built one may be a subset made before an icon was added.
        original = _theme_static(path.relative_to(Path(app.outdir, "_static")))
        options = subset.Options()
        options.flavor = "woff2"
        options.name_IDs = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(original or path), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(points))
        subsetter.subset(font)
        subset.save_font(font, str(path), options)


def setup(app):
    app.connect("build-finished", subset_icons)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
