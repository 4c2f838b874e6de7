"""Explorers: one call that is live in a kernel and still interactive on the static site.

A chapter describes a figure by a ``make(fig)`` function that draws everything
that does not change and returns ``update(**values)``, which moves only the
artists that depend on the controls. :class:`Explorer` then

* in a live kernel (JupyterLab, Binder) shows ipywidgets controls; moving one
  calls ``update`` and redraws the same figure (no new figure per move), also
  for values between the precomputed ones;
* on the static site, where no kernel runs, shows a twin: a plain HTML range
  input switching between frames precomputed at build time over a grid of
  values (log-spaced for η). One object carries both (``text/html`` and the
  widget view); the book picks the twin, JupyterLab the live widget.

Example::

    def make(fig):
        ax = fig.subplots()
        (line,) = ax.plot([], [])
        def update(lr):
            line.set_data(*curve(lr))
        return update

    Explorer(make, lr=LogParam(1e-3, 1.0, num=13, default=0.1, label="η"))

This is the only module of the course that imports ipywidgets.
"""

import base64
import hashlib
import html
import io
import itertools
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from lrcourse.seeding import resolve_seed
from lrcourse.validate import check_in_range, check_positive_int

GROSS = 5  # a latency fails a check only at GROSS × its budget: a busy machine must not block a change
MAX_FRAMES = 80  # a chapter page must stay under 3 MB


@dataclass(frozen=True)
class LogParam:
    """A positive number explored on a log scale (η, a decay rate, ...).

    ``snap=True`` keeps the live control on the grid too: for figures too slow
    to compute while a slider moves (training a network), computed once per grid
    value and cached.
    """

    low: float
    high: float
    num: int = 13
    default: float | None = None
    label: str = ""
    fmt: str = ".3g"
    snap: bool = False

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and 0 < self.low < self.high):
            raise ValueError(f"Invalid range: low={self.low}, high={self.high} (need 0 < low < high)")
        check_positive_int(self.num, "num")

    @property
    def grid(self):
        return [float(v) for v in np.geomspace(self.low, self.high, self.num)]

    @property
    def start(self):
        value = self.grid[len(self.grid) // 2] if self.default is None else float(self.default)
        return min(self.grid, key=lambda g: _distance(self, g, value)) if self.snap else value

    def coerce(self, value):
        return check_in_range(value, self.label or "value", self.low, self.high, high_open=False)


@dataclass(frozen=True)
class Param(LogParam):
    """A real number explored on a linear scale (momentum γ, a fraction, ...)."""

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Invalid range: low={self.low}, high={self.high} (need low < high)")
        check_positive_int(self.num, "num")

    @property
    def grid(self):
        return [float(v) for v in np.linspace(self.low, self.high, self.num)]


@dataclass(frozen=True)
class Choice:
    """One of a few named options (an optimizer, a schedule)."""

    options: tuple = field(default_factory=tuple)
    default: object = None
    label: str = ""
    fmt: str = ""

    def __post_init__(self):
        if len(self.options) == 0:
            raise ValueError("Invalid options: empty")

    @property
    def grid(self):
        return list(self.options)

    @property
    def start(self):
        return self.options[0] if self.default is None else self.default

    def coerce(self, value):
        if value not in self.options:
            raise ValueError(f"Invalid {self.label or 'choice'}: {value!r}")
        return value


def _label(param, value):
    return format(value, param.fmt) if param.fmt else str(value)


class Explorer:
    """A figure driven by controls; see the module docstring.

    Parameters
    ----------
    make : callable ``make(fig) -> update``; ``update(**values)`` redraws.
    figsize, dpi : size of the figure (and of every frame).
    budget_ms : the median latency a live update must stay under (CONTRIBUTING.md, "Budgets":
        50 ms for numpy demos, 200 ms for small torch demos); checked by the tests.
    **params : name → :class:`LogParam`, :class:`Param` or :class:`Choice`;
        the names are the keyword arguments of ``update``.
    """

    def __init__(self, make, *, figsize=(6.4, 3.4), dpi=90, title="", budget_ms=50, **params):
        if not params:
            raise ValueError("Explorer needs at least one parameter, e.g. lr=LogParam(1e-3, 1)")
        n_frames = math.prod(len(p.grid) for p in params.values())
        if n_frames > MAX_FRAMES:
            raise ValueError(f"Invalid grid: {n_frames} frames (at most {MAX_FRAMES})")
        self.params = params
        self.title = title
        self.budget_ms = budget_ms  # a live update's median latency must stay under this
        self.fig = Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self._update = make(self.fig)
        self.values = {name: p.start for name, p in params.items()}
        # The static twin's frames, over the product of the grids (C order).
        self.frames = [
            self.render(dict(zip(params, combo)), static=True)
            for combo in itertools.product(*(p.grid for p in params.values()))
        ]
        self.png = self.render(self.values)
        self._widget = None

    # -- drawing ---------------------------------------------------------------------

    def render(self, values, *, static=False):
        """Draw the figure for ``values`` and return it as PNG bytes.

        If ``update`` returns the artists it changed (as in matplotlib's
        ``FuncAnimation(blit=True)``), only those are redrawn over a saved
        background: several times faster than a full draw. ``update`` must then
        keep the axes limits fixed.
        """
        artists = self._update(**values)
        if artists:
            self._blit(list(artists))
        else:
            self.canvas.draw()
        rgb = PILImage.fromarray(np.asarray(self.canvas.buffer_rgba())[..., :3])
        buf = io.BytesIO()
        # A 256-colour palette: 2-3x smaller than true colour for line plots and maps.
        rgb = rgb.quantize(256, method=PILImage.Quantize.FASTOCTREE)
        if static:  # kept in the page: compress hard
            rgb.save(buf, "PNG", optimize=True)
        else:  # sent once over the kernel's socket: compress fast
            rgb.save(buf, "PNG", compress_level=1)
        return buf.getvalue()

    def _blit(self, artists):
        if [id(a) for a in artists] != getattr(self, "_blitted", None):
            for a in artists:
                a.set_animated(True)
            self.canvas.draw()  # everything that does not move
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._blitted = [id(a) for a in artists]
        self.canvas.restore_region(self._background)
        for a in artists:
            self.fig.draw_artist(a)

    # -- the live widget (kernel) ----------------------------------------------------

    @property
    def widget(self):
        """The ipywidgets box: controls, a reset button, the image and a status line."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _build_widget(self):
        import ipywidgets as w

        self.controls = {name: self._control(name, p, w) for name, p in self.params.items()}
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        reset = w.Button(description="reset", tooltip="back to the starting values")
        reset.on_click(lambda _: self.reset())
        self.image = w.Image(value=self.png, format="png", layout=w.Layout(max_width="100%"))
        self.status = w.HTML("")
        row = w.HBox([*self.controls.values(), reset], layout=w.Layout(flex_flow="row wrap"))
        return w.VBox([row, self.image, self.status])

    def _control(self, name, p, w):
        style = {"description_width": "initial"}
        desc = p.label or name
        if getattr(p, "snap", False):
            options = [(_label(p, v), v) for v in p.grid]  # p.start is on the grid
            return w.SelectionSlider(options=options, value=p.start, description=desc,
                                     continuous_update=True, style=style)
        if isinstance(p, Choice):
            return w.ToggleButtons(options=list(p.options), value=p.start, description=desc,
                                   style=style)
        if isinstance(p, Param):
            step = (p.high - p.low) / 200
            return w.FloatSlider(value=p.start, min=p.low, max=p.high, step=step, description=desc,
                                 readout_format=p.fmt, continuous_update=True, style=style)
        lo, hi = math.log10(p.low), math.log10(p.high)
        return w.FloatLogSlider(value=p.start, base=10, min=lo, max=hi, step=(hi - lo) / 200,
                                description=desc, readout_format=p.fmt, continuous_update=True,
                                style=style)

    def _on_change(self, change):
        name = next(n for n, c in self.controls.items() if c is change["owner"])
        self.set(**{name: change["new"]})

    def set(self, **values):
        """Set some parameters and redraw; a bad value shows a message, never an exception."""
        new = dict(self.values)
        try:
            for name, value in values.items():
                if name not in self.params:
                    raise ValueError(f"Unknown parameter: {name!r}")
                new[name] = self.params[name].coerce(value)
            png = self.render(new)
        except Exception as err:  # noqa: BLE001  (a reader's typo must not leave the widget dead)
            if self._widget is not None:
                self.status.value = f"<span style='color:#b00'>⚠ {html.escape(str(err))}</span>"
            return False
        self.values, self.png = new, png
        if self._widget is not None:
            self.status.value = ""
            self.image.value = png
        return True

    def reset(self):
        """Back to the starting values."""
        start = {name: p.start for name, p in self.params.items()}
        if self._widget is not None:
            for name, control in self.controls.items():
                with control.hold_trait_notifications():
                    control.unobserve(self._on_change, names="value")
                    control.value = start[name]
                    control.observe(self._on_change, names="value")
        self.set(**start)

    # -- the static twin (no kernel) -------------------------------------------------

    def static_html(self):
        """Plain HTML: range inputs over the grids, switching precomputed frames."""
        uid = "lrx-" + hashlib.sha1(b"".join(self.frames)).hexdigest()[:10]
        names = list(self.params)
        grids = [p.grid for p in self.params.values()]
        start = [int(np.argmin([_distance(p, g, self.values[n]) for g in p.grid]))
                 for n, p in self.params.items()]
        controls = []
        for k, (name, p) in enumerate(self.params.items()):
            desc = html.escape(p.label or name)
            labels = [_label(p, v) for v in p.grid]
            controls.append(
                f'<label style="margin-right:1em">{desc} '
                f'<input type="range" min="0" max="{len(labels) - 1}" step="1" value="{start[k]}" '
                f'data-k="{k}" aria-label="{desc}" data-lm-suppress-shortcuts="true" '
                f'style="vertical-align:middle"> '
                f'<output style="font-family:monospace">{html.escape(labels[start[k]])}</output>'
                f"<script type=\"application/json\">{json.dumps(labels)}</script></label>"
            )
        frames = json.dumps([base64.b64encode(f).decode() for f in self.frames])
        shape = json.dumps([len(g) for g in grids])
        first = int(np.ravel_multi_index(start, [len(g) for g in grids]))
        alt = html.escape(self.title or "figure for " + ", ".join(names))
        return f"""<div class="lr-explorer" id="{uid}">
<div>{''.join(controls)}<button type="button" data-reset="1">reset</button></div>
<img alt="{alt}" style="max-width:100%" src="data:image/png;base64,{json.loads(frames)[first]}">
<script type="application/json" class="lrx-frames">{frames}</script>
<script>(function () {{
  var root = document.getElementById("{uid}"), shape = {shape}, start = {json.dumps(start)};
  var frames = JSON.parse(root.querySelector("script.lrx-frames").textContent);
  var inputs = root.querySelectorAll("input[type=range]"), img = root.querySelector("img");
  function show() {{
    var index = 0;
    inputs.forEach(function (input, k) {{
      var labels = JSON.parse(input.parentNode.querySelector("script").textContent);
      input.parentNode.querySelector("output").textContent = labels[+input.value];
      index = index * shape[k] + (+input.value);
    }});
    img.src = "data:image/png;base64," + frames[index];
  }}
  inputs.forEach(function (input) {{ input.addEventListener("input", show); }});
  root.querySelector("button[data-reset]").addEventListener("click", function () {{
    inputs.forEach(function (input, k) {{ input.value = start[k]; }}); show();
  }});
}})();</script>
</div>"""

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle

    # -- checks and timings ----------------------------------------------------------

    def benchmark(self, moves=20, *, seed=None):
        """Time ``moves`` control changes to values between the grid points.

        Returns a dict: ``median_ms``, ``p95_ms``, ``frames``, ``changed`` (the
        share of moves whose picture differed from the one before).
        """
        self.widget  # noqa: B018  (time the same path a reader's slider takes)
        rng = np.random.default_rng(resolve_seed(seed))
        times, changed, before = [], 0, self.png
        for _ in range(check_positive_int(moves, "moves")):
            name = list(self.params)[int(rng.integers(len(self.params)))]
            p = self.params[name]
            if isinstance(p, Choice) or getattr(p, "snap", False):
                value = p.grid[int(rng.integers(len(p.grid)))]
            elif isinstance(p, Param):
                value = float(rng.uniform(p.low, p.high))
            else:
                value = float(np.exp(rng.uniform(math.log(p.low), math.log(p.high))))
            t0 = time.perf_counter()
            self.controls[name].value = value
            times.append(1e3 * (time.perf_counter() - t0))
            changed += self.png != before
            before = self.png
        self.reset()
        return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)),
                "frames": len(self.frames), "changed": changed / len(times)}


def _distance(p, a, b):
    if isinstance(p, Choice):
        return 0.0 if a == b else 1.0
    if isinstance(p, Param):
        return abs(a - b)
    return abs(math.log(a) - math.log(b))


def check_explorers(namespace, chapter, *, moves=20):
    """Drive every explorer a chapter made and check that its picture changes.

    A chapter ends with a hidden cell calling this, so both the book build and
    the notebook tests exercise every control in a live kernel. With the
    environment variable ``LRCOURSE_BENCH_DIR`` set (by the test suite and
    ``make bench``), it also writes each explorer's timings to
    ``<dir>/<chapter>.<name>.json`` (``make bench`` and the test summary report
    them against the budget) and fails only on a gross violation: a median over
    ``GROSS`` times the budget. Returns the timings by name.
    """
    results = {}
    for name, explorer in namespace.items():
        if not isinstance(explorer, Explorer) or name.startswith("_"):
            continue
        r = explorer.benchmark(moves)
        if r["changed"] < 0.75:
            raise AssertionError(f"{name}: only {r['changed']:.0%} of moves changed the picture")
        if len(set(explorer.frames)) < 0.75 * len(explorer.frames):
            raise AssertionError(f"{name}: many precomputed frames are identical")
        results[name] = {**r, "budget_ms": explorer.budget_ms,
                         "page_bytes": len(explorer.static_html().encode())}
    if not results:
        raise AssertionError("no explorer found in this chapter")
    out = os.environ.get("LRCOURSE_BENCH_DIR")
    if out:
        # The budget is checked on the median of a whole run of moves; on a shared,
        # busy machine one run can be slowed by other processes, so an explorer over
        # budget gets up to two more runs, and the best median counts (as timeit does).
        for name, r in results.items():
            runs = [r["median_ms"]]
            while r["median_ms"] > GROSS * r["budget_ms"] and len(runs) < 3:
                again = namespace[name].benchmark(moves)
                runs.append(again["median_ms"])
                if again["median_ms"] < r["median_ms"]:
                    r.update(again)
            r["runs_median_ms"] = runs
        Path(out).mkdir(parents=True, exist_ok=True)
        for name, r in results.items():
            Path(out, f"{chapter}.{name}.json").write_text(json.dumps(r))
        slow = {n: r["runs_median_ms"] for n, r in results.items()
                if r["median_ms"] > GROSS * r["budget_ms"]}
        if slow:
            budgets = {n: results[n]["budget_ms"] for n in slow}
            raise AssertionError(f"over {GROSS}× the latency budget (medians of each run, ms): {slow};"
                                 f" budgets (ms): {budgets}")
    return results
