"""What an explorer's controls set: a number on a log scale, a number on a linear scale, a choice.

Each parameter type carries its own behaviour, so :class:`~lrcourse.widgets.Explorer`
never asks which type it holds. Every one has

* ``grid``: the values the static twin precomputes a frame for (a number's
  ``default`` is one of them, so the site starts where the prose does);
* ``start``: where the controls start (and where ``reset`` returns);
* ``coerce(value)``: the value, checked (a ``ValueError`` naming it otherwise);
* ``text(value)``: the value as a control shows it (``fmt``);
* ``distance(a, b)``: how far apart two values are on the control's scale;
* ``sample(rng)``: a random value a reader could set, also between grid points;
* ``control(description, widgets)``: its ipywidgets control;
* ``twin_control(k, name, labels, index)``: its control in the static twin (HTML:
  a range input for a number, a select for a choice; ``twin.js`` drives both).

Example:
    >>> eta = LogParam(1e-3, 1.0, num=4, label="η")
    >>> [eta.text(v) for v in eta.grid]
    ['0.001', '0.01', '0.1', '1']
    >>> [round(v, 3) for v in LogParam(1e-3, 1.0, num=5, default=0.1, label="η").grid]
    [0.001, 0.006, 0.032, 0.1, 1.0]
    >>> Param(0.0, 0.9, num=4).grid
    [0.0, 0.3, 0.6, 0.9]
    >>> Choice(("sgd", "adam")).start
    'sgd'
"""

import html
import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from lrcourse.validate import check_in_range, check_positive_int

_STYLE = {"description_width": "initial"}


class Parameter(Protocol):
    """The interface every parameter type implements (see the module docstring)."""

    label: str

    @property
    def grid(self) -> list: ...
    @property
    def start(self): ...
    def coerce(self, value): ...
    def text(self, value) -> str: ...
    def distance(self, a, b) -> float: ...
    def sample(self, rng): ...
    def control(self, description, widgets): ...
    def twin_control(self, k, name, labels, index) -> str: ...


@dataclass(frozen=True)
class _Number:
    """What a log-scale and a linear-scale number share: a range, a grid, a slider.

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

    @property
    def start(self):
        grid = self.grid
        value = grid[len(grid) // 2] if self.default is None else float(self.default)
        return min(grid, key=lambda g: self.distance(g, value)) if self.snap else value

    def coerce(self, value):
        return check_in_range(value, self.label or "value", self.low, self.high, high_open=False)

    def text(self, value):
        return format(value, self.fmt) if self.fmt else str(value)

    @property
    def grid(self):
        """The even grid (``_even``), with the point nearest ``default`` moved onto it."""
        grid = self._even()
        if self.default is not None:
            i = min(range(len(grid)), key=lambda i: self.distance(grid[i], self.default))
            grid[i] = float(self.default)  # between its neighbours: the grid stays sorted
        return grid

    def sample(self, rng):
        if self.snap:
            return self.grid[int(rng.integers(self.num))]
        return self._between(rng)

    def control(self, description, widgets):
        if self.snap:  # a slider over the grid's labels; ``start`` is on the grid
            options = [(self.text(v), v) for v in self.grid]
            return widgets.SelectionSlider(options=options, value=self.start,
                                           description=description, continuous_update=True,
                                           style=_STYLE)
        return self._slider(description, widgets)

    def twin_control(self, k, name, labels, index):
        name = html.escape(name)
        return (f'<input type="range" min="0" max="{len(labels) - 1}" step="1" value="{index}" '
                f'data-k="{k}" data-name="{name}" aria-label="{name}" '
                f'aria-valuetext="{name} = {html.escape(labels[index])}" '
                f'data-lm-suppress-shortcuts="true" style="vertical-align:middle"> '
                f'<output style="font-family:monospace">{html.escape(labels[index])}</output>')

    def _check(self):
        check_positive_int(self.num, "num")
        if self.default is not None:
            self.coerce(self.default)

    def _lattice(self, lo, hi, at, steps=200):
        """A slider's (min, max, step) within [lo, hi], about ``steps`` steps, with ``at`` on it."""
        step = (hi - lo) / steps
        first = at - math.floor((at - lo) / step + 1e-9) * step
        return first, first + math.floor((hi - first) / step + 1e-9) * step, step


@dataclass(frozen=True)
class LogParam(_Number):
    """A positive number explored on a log scale (η, a decay rate, ...): a geometric grid."""

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and 0 < self.low < self.high):
            raise ValueError(f"Invalid range: low={self.low}, high={self.high} (need 0 < low < high)")
        self._check()

    def _even(self):
        return [float(v) for v in np.geomspace(self.low, self.high, self.num)]

    def distance(self, a, b):
        return abs(math.log(a) - math.log(b))

    def _between(self, rng):
        return float(np.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def _slider(self, description, widgets):
        lo, hi, step = self._lattice(math.log10(self.low), math.log10(self.high),
                                     math.log10(self.start))
        return widgets.FloatLogSlider(value=self.start, base=10, min=lo, max=hi,
                                      step=step, description=description,
                                      readout_format=self.fmt, continuous_update=True,
                                      style=_STYLE)


@dataclass(frozen=True)
class Param(_Number):
    """A real number explored on a linear scale (momentum γ, a fraction, ...): an even grid."""

    def __post_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Invalid range: low={self.low}, high={self.high} (need low < high)")
        self._check()

    def _even(self):
        # rounded, so that a grid through 0 holds 0 itself, not 1e-17 (+ 0.0 turns -0.0 into 0.0)
        return [float(v) + 0.0 for v in np.round(np.linspace(self.low, self.high, self.num), 12)]

    def distance(self, a, b):
        return abs(a - b)

    def _between(self, rng):
        return float(rng.uniform(self.low, self.high))

    def _slider(self, description, widgets):
        lo, hi, step = self._lattice(self.low, self.high, self.start)
        return widgets.FloatSlider(value=self.start, min=lo, max=hi,
                                   step=step, description=description,
                                   readout_format=self.fmt, continuous_update=True, style=_STYLE)


@dataclass(frozen=True)
class Choice:
    """One of a few named options (an optimizer, a schedule): toggle buttons."""

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

    def text(self, value):
        return format(value, self.fmt) if self.fmt else str(value)

    def distance(self, a, b):
        return 0.0 if a == b else 1.0

    def sample(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def control(self, description, widgets):
        return widgets.ToggleButtons(options=list(self.options), value=self.start,
                                     description=description, style=_STYLE)

    def twin_control(self, k, name, labels, index):
        options = "".join(f'<option value="{i}"{" selected" if i == index else ""}>'
                          f"{html.escape(text)}</option>" for i, text in enumerate(labels))
        return f'<select data-k="{k}" data-name="{html.escape(name)}">{options}</select>'
