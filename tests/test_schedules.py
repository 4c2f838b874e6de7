"""Schedules against torch.optim.lr_scheduler and against their closed forms."""

import inspect
import math
import re

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as S

from lrcourse.schedules import (
    ReduceOnPlateau,
    constant,
    cosine_decay,
    exponential_decay,
    inverse_time_decay,
    join_schedules,
    linear_warmup,
    one_cycle,
    step_decay,
    torch_scheduler,
)

LR = 0.1


def torch_lrs(make_scheduler, num_steps, lr=LR, momentum=0.0):
    """The lr a torch SGD uses at steps 0 … num_steps−1 under a scheduler."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(num_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


def values(schedule, num_steps):
    return np.array([schedule(t) for t in range(num_steps)])


CASES = {
    # name: (our schedule, torch scheduler, number of steps compared)
    "StepLR": (step_decay(LR, 7, 0.5), lambda o: S.StepLR(o, step_size=7, gamma=0.5), 50),
    "StepLR-default-gamma": (step_decay(LR, 10), lambda o: S.StepLR(o, step_size=10), 45),
    "ExponentialLR": (exponential_decay(LR, 0.95), lambda o: S.ExponentialLR(o, gamma=0.95), 80),
    "CosineAnnealingLR": (
        cosine_decay(LR, 60, min_lr=1e-3),
        lambda o: S.CosineAnnealingLR(o, T_max=60, eta_min=1e-3),
        61,
    ),
    "CosineAnnealingLR-to-0": (
        cosine_decay(LR, 40), lambda o: S.CosineAnnealingLR(o, T_max=40), 41,
    ),
    "LinearLR": (
        linear_warmup(LR, 10, start_factor=0.25),
        lambda o: S.LinearLR(o, start_factor=0.25, total_iters=10),
        30,
    ),
    "LinearLR-default": (linear_warmup(LR, 5), lambda o: S.LinearLR(o, total_iters=5), 20),
    "OneCycleLR-cos": (
        one_cycle(LR, 100),
        lambda o: S.OneCycleLR(o, max_lr=LR, total_steps=100, three_phase=False),
        100,
    ),
    "OneCycleLR-linear": (
        one_cycle(0.5, 57, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
                  anneal="linear"),
        lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=57, pct_start=0.25, div_factor=10.0,
                               final_div_factor=100.0, anneal_strategy="linear"),
        57,
    ),
    "SequentialLR-warmup-cosine": (
        join_schedules([linear_warmup(LR, 5, 0.1), cosine_decay(LR, 45)], [5]),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                     S.CosineAnnealingLR(o, T_max=45)], milestones=[5]),
        50,
    ),
    "SequentialLR-three": (
        join_schedules([constant(LR), exponential_decay(LR, 0.9), step_decay(LR, 4, 0.5)],
                       [10, 20]),
        lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=1.0, total_iters=1),
                                     S.ExponentialLR(o, gamma=0.9),
                                     S.StepLR(o, step_size=4, gamma=0.5)], milestones=[10, 20]),
        40,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch_scheduler(name):
    schedule, make_scheduler, num_steps = CASES[name]
    momentum = 0.9 if name.startswith("OneCycle") else 0.0  # OneCycleLR cycles momentum too
    np.testing.assert_allclose(values(schedule, num_steps),
                               torch_lrs(make_scheduler, num_steps, momentum=momentum),
                               rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("name", CASES)
def test_adapter_drives_torch_to_the_same_lrs(name):
    schedule, _, num_steps = CASES[name]
    lrs = torch_lrs(lambda o: torch_scheduler(o, schedule), num_steps, lr=0.37)
    np.testing.assert_allclose(lrs, values(schedule, num_steps), rtol=1e-13, atol=1e-16)


def test_closed_forms():
    assert constant(0.3)(1000) == 0.3
    assert step_decay(1.0, 10, 0.5)(25) == 0.25
    assert step_decay(1.0, 10, 0.5)(9) == 1.0
    assert exponential_decay(2.0, 0.5)(3) == 0.25
    assert inverse_time_decay(1.0, 0.5, decay_steps=2)(4) == pytest.approx(1 / (1 + 0.5 * 4 / 2))
    assert inverse_time_decay(1.0, 1.0)(99) == pytest.approx(0.01)  # the 1/t decay
    cos = cosine_decay(1.0, 100, min_lr=0.2)
    assert cos(0) == 1.0 and cos(50) == pytest.approx(0.6) and cos(100) == pytest.approx(0.2)
    assert cos(500) == pytest.approx(0.2)  # stays at min_lr after num_steps (torch would rise)
    warm = linear_warmup(1.0, 4, start_factor=0.0)
    assert [warm(t) for t in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    cyc = one_cycle(1.0, 100, pct_start=0.3, div_factor=25, final_div_factor=1e4)
    assert cyc(0) == pytest.approx(1 / 25)
    assert cyc(29) == pytest.approx(1.0)  # the peak at pct_start·T − 1
    assert cyc(99) == pytest.approx(1 / 25 / 1e4)
    assert cyc(1000) == pytest.approx(1 / 25 / 1e4)
    joined = join_schedules([constant(1.0), exponential_decay(0.5, 0.5)], [3])
    assert [joined(t) for t in range(6)] == [1.0, 1.0, 1.0, 0.5, 0.25, 0.125]


def test_cosine_is_the_closed_form_everywhere():
    lr, min_lr, T = 0.3, 0.01, 37
    schedule = cosine_decay(lr, T, min_lr)
    t = np.arange(T + 1)
    closed_form = min_lr + 0.5 * (lr - min_lr) * (1 + np.cos(np.pi * t / T))
    np.testing.assert_allclose(values(schedule, T + 1), closed_form, rtol=1e-14)


PLATEAU_CASES = [
    {},
    {"patience": 2, "factor": 0.5},
    {"patience": 3, "factor": 0.5, "cooldown": 2, "threshold": 0.01},
    {"patience": 1, "factor": 0.3, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 1e-3},
    {"patience": 2, "factor": 0.5, "mode": "max"},
    {"patience": 0, "factor": 0.7, "mode": "max", "threshold_mode": "abs", "threshold": 0.02,
     "cooldown": 1},
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=str)
def test_reduce_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(len(kwargs))
    # a loss that falls, then stalls and wiggles: plateaus of every length
    losses = np.concatenate([np.geomspace(1.0, 0.1, 20), 0.1 + 0.02 * rng.standard_normal(100)])
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    theirs = S.ReduceLROnPlateau(opt, **kwargs)
    ours = ReduceOnPlateau(LR, **kwargs)
    expected, got = [], []
    for loss in losses:
        opt.step()
        theirs.step(loss)
        expected.append(opt.param_groups[0]["lr"])
        got.append(ours.step(loss))
        assert ours(123) == got[-1]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert len(set(got)) > 1  # the case really reduced η


def test_reduce_on_plateau_docstring_example():
    plateau = ReduceOnPlateau(0.1, patience=2)
    assert [plateau.step(1.0) for _ in range(5)] == [0.1, 0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda v: step_decay(0.1, v), 0),
        (lambda v: step_decay(0.1, 5, gamma=v), 1.5),
        (lambda v: exponential_decay(0.1, v), 0.0),
        (lambda v: inverse_time_decay(0.1, v), -1.0),
        (lambda v: cosine_decay(0.1, v), -3),
        (lambda v: cosine_decay(0.1, 10, min_lr=v), 0.2),
        (lambda v: linear_warmup(0.1, v), 0),
        (lambda v: linear_warmup(0.1, 5, start_factor=v), 1.5),
        (lambda v: one_cycle(0.1, v), 0),
        (lambda v: one_cycle(0.1, 10, pct_start=v), 0.05),
        (lambda v: one_cycle(0.1, 100, anneal=v), "cosine"),
        (lambda v: join_schedules([constant(0.1), constant(0.2)], [v]), -5),
        (lambda v: join_schedules([constant(0.1), constant(0.2), constant(0.3)], v), [20, 10]),
        (lambda v: ReduceOnPlateau(0.1, factor=v), 1.0),
        (lambda v: ReduceOnPlateau(0.1, mode=v), "minimum"),
    ],
)
def test_bad_arguments_name_the_value(make, bad):
    with pytest.raises(ValueError, match=re.escape(str(bad))):
        make(bad)


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, math.inf])
@pytest.mark.parametrize("make", [constant, lambda lr: step_decay(lr, 3),
                                  lambda lr: cosine_decay(lr, 5), lambda lr: one_cycle(lr, 50),
                                  ReduceOnPlateau])
def test_bad_lr_is_refused(make, lr):
    with pytest.raises(ValueError, match=str(lr)):
        make(lr)


def test_adapter_refuses_zero_base_lr():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.0)
    with pytest.raises(ValueError, match="0.0"):
        torch_scheduler(opt, constant(0.1))


@pytest.mark.parametrize(
    "ours, theirs, names",
    [
        (step_decay, S.StepLR, {"gamma": "gamma"}),
        (linear_warmup, S.LinearLR, {"start_factor": "start_factor"}),
        (one_cycle, S.OneCycleLR, {"pct_start": "pct_start", "div_factor": "div_factor",
                                   "final_div_factor": "final_div_factor",
                                   "anneal": "anneal_strategy"}),
        (ReduceOnPlateau, S.ReduceLROnPlateau, {
            "factor": "factor", "patience": "patience", "threshold": "threshold",
            "threshold_mode": "threshold_mode", "mode": "mode", "cooldown": "cooldown",
            "min_lr": "min_lr", "eps": "eps"}),
    ],
)
def test_defaults_are_torchs(ours, theirs, names):
    mine = inspect.signature(ours).parameters
    torchs = inspect.signature(theirs).parameters
    for name, torch_name in names.items():
        assert mine[name].default == torchs[torch_name].default, name
