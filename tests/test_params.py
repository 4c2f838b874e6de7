"""The explorers' parameter types: grids that hold the prose's values, controls that start there."""

import math

import ipywidgets as widgets
import pytest

from lrcourse.widgets import Choice, LogParam, Param


@pytest.mark.parametrize("param", [
    LogParam(0.01, 1.2, num=7, default=0.1), LogParam(1e-4, 10.0, num=13, default=0.03),
    Param(-0.5, 0.5, num=8, default=0.0), Param(0.0, 0.99, num=12, default=0.9),
])
def test_the_default_is_a_grid_point_and_the_grid_stays_sorted(param):
    grid = param.grid
    assert param.default in grid and len(grid) == param.num
    assert grid == sorted(grid) and len(set(grid)) == len(grid)
    assert grid[0] == pytest.approx(param.low) or param.default == grid[0]
    assert param.start == param.default


@pytest.mark.parametrize("param", [
    LogParam(0.01, 1.2, num=7, default=0.1), LogParam(1e-3, 3.0, num=9, default=0.3),
    Param(-0.5, 0.5, num=8, default=0.0), Param(0.0, 0.99, num=12, default=0.9),
])
def test_the_live_slider_can_show_the_default_exactly(param):
    slider = param.control("x", widgets)
    scale = math.log10 if isinstance(param, LogParam) else (lambda v: v)
    steps = (scale(param.default) - slider.min) / slider.step
    assert abs(steps - round(steps)) < 1e-6, f"the default is {steps} steps from the slider's min"
    assert slider.value == pytest.approx(param.default, rel=1e-12, abs=1e-12)
    assert scale(param.low) - 1e-12 <= slider.min and slider.max <= scale(param.high) + 1e-12


def test_a_default_outside_the_range_is_refused():
    with pytest.raises(ValueError, match="Invalid η: 2.0"):
        LogParam(0.01, 1.0, default=2.0, label="η")


def test_twin_controls_say_their_values():
    eta = LogParam(0.01, 1.0, num=5, default=0.1, label="η")
    html = eta.twin_control(0, "η", [eta.text(v) for v in eta.grid], 2)
    assert 'type="range"' in html and 'aria-valuetext="η = 0.1"' in html and 'aria-label="η"' in html
    choice = Choice(("SGD", "Adam"), label="optimizer")
    html = choice.twin_control(1, "optimizer", ["SGD", "Adam"], 1)
    assert html.startswith("<select") and '<option value="1" selected>Adam</option>' in html
