"""The numpy optimizers against torch.optim: same iterates to 1e-10 over 100+ steps."""

import inspect
import re

import numpy as np
import pytest
import torch

from lrcourse import schedules
from lrcourse.adaptive import OPTIMIZERS, adadelta, adagrad, adam, adamw, rmsprop
from lrcourse.optimizers import Optimizer, apply_updates, momentum, nesterov, sgd
from lrcourse.problems import Quadratic, quadratic_1d
from lrcourse.schedules import torch_scheduler

NUM_STEPS = 120


def random_quadratic(dim=5, seed=0):
    """A random positive-definite quadratic ½xᵀAx − bᵀx, eigenvalues in [0.5, 5]."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = Q @ np.diag(rng.uniform(0.5, 5.0, dim)) @ Q.T
    return Quadratic(0.5 * (A + A.T), rng.standard_normal(dim))


def numpy_iterates(opt, problem, x0, num_steps=NUM_STEPS):
    x, state, out = x0.copy(), opt.init(x0), []
    for _ in range(num_steps):
        updates, state = opt.update(problem.grad(x), state, x)
        x = apply_updates(x, updates)
        out.append(x)
    return np.array(out)


def torch_iterates(make_opt, problem, x0, num_steps=NUM_STEPS, schedule=None):
    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    scheduler = torch_scheduler(opt, schedule) if schedule is not None else None
    out = []
    for _ in range(num_steps):
        p.grad = torch.from_numpy(problem.grad(p.detach().numpy()))
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


T = torch.optim
CASES = {
    # name: (our optimizer, torch constructor)
    "sgd": (lambda: sgd(0.05), lambda p: T.SGD(p, lr=0.05)),
    "sgd-wd": (lambda: sgd(0.05, weight_decay=0.1), lambda p: T.SGD(p, lr=0.05, weight_decay=0.1)),
    "momentum-0.9": (lambda: momentum(0.05, 0.9), lambda p: T.SGD(p, lr=0.05, momentum=0.9)),
    "momentum-0.5-dampening": (
        lambda: momentum(0.05, 0.5, dampening=0.3),
        lambda p: T.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
    ),
    "momentum-0.99": (lambda: momentum(0.02, 0.99), lambda p: T.SGD(p, lr=0.02, momentum=0.99)),
    "momentum-wd": (
        lambda: momentum(0.05, 0.9, weight_decay=0.01),
        lambda p: T.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01),
    ),
    "nesterov": (
        lambda: nesterov(0.05, 0.9),
        lambda p: T.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    "momentum-nesterov=True": (
        lambda: momentum(0.03, 0.7, nesterov=True),
        lambda p: T.SGD(p, lr=0.03, momentum=0.7, nesterov=True),
    ),
    "adagrad": (lambda: adagrad(), lambda p: T.Adagrad(p)),
    "adagrad-lr": (lambda: adagrad(0.5), lambda p: T.Adagrad(p, lr=0.5)),
    "adagrad-lr_decay": (
        lambda: adagrad(0.5, lr_decay=0.05, initial_accumulator_value=0.1, eps=1e-6),
        lambda p: T.Adagrad(p, lr=0.5, lr_decay=0.05, initial_accumulator_value=0.1, eps=1e-6),
    ),
    "adadelta": (lambda: adadelta(), lambda p: T.Adadelta(p)),
    "adadelta-rho": (
        lambda: adadelta(0.5, rho=0.5, eps=1e-4, weight_decay=0.01),
        lambda p: T.Adadelta(p, lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.01),
    ),
    "rmsprop": (lambda: rmsprop(), lambda p: T.RMSprop(p)),
    "rmsprop-alpha": (lambda: rmsprop(0.01, alpha=0.9), lambda p: T.RMSprop(p, lr=0.01, alpha=0.9)),
    "rmsprop-centered": (
        lambda: rmsprop(0.01, centered=True),
        lambda p: T.RMSprop(p, lr=0.01, centered=True),
    ),
    "rmsprop-momentum": (
        lambda: rmsprop(0.005, momentum=0.9),
        lambda p: T.RMSprop(p, lr=0.005, momentum=0.9),
    ),
    "rmsprop-centered-momentum": (
        lambda: rmsprop(0.005, alpha=0.95, eps=1e-6, momentum=0.8, centered=True, weight_decay=0.1),
        lambda p: T.RMSprop(p, lr=0.005, alpha=0.95, eps=1e-6, momentum=0.8, centered=True,
                            weight_decay=0.1),
    ),
    "adam": (lambda: adam(), lambda p: T.Adam(p)),
    "adam-lr-betas": (
        lambda: adam(0.1, beta1=0.8, beta2=0.99),
        lambda p: T.Adam(p, lr=0.1, betas=(0.8, 0.99)),
    ),
    "adam-beta1=0-eps-wd": (
        lambda: adam(0.05, beta1=0.0, eps=1e-4, weight_decay=0.1),
        lambda p: T.Adam(p, lr=0.05, betas=(0.0, 0.999), eps=1e-4, weight_decay=0.1),
    ),
    "adamw": (lambda: adamw(), lambda p: T.AdamW(p)),
    "adamw-lr-betas-wd": (
        lambda: adamw(0.1, beta1=0.8, beta2=0.99, weight_decay=0.1),
        lambda p: T.AdamW(p, lr=0.1, betas=(0.8, 0.99), weight_decay=0.1),
    ),
    "adamw-wd=0": (
        lambda: adamw(0.03, weight_decay=0.0), lambda p: T.AdamW(p, lr=0.03, weight_decay=0.0),
    ),
    "adamw-large-wd": (
        lambda: adamw(0.01, beta2=0.9, weight_decay=2.0),
        lambda p: T.AdamW(p, lr=0.01, betas=(0.9, 0.9), weight_decay=2.0),
    ),
    "adamw-beta1=0-eps": (
        lambda: adamw(0.3, beta1=0.0, eps=1e-3, weight_decay=0.5),
        lambda p: T.AdamW(p, lr=0.3, betas=(0.0, 0.999), eps=1e-3, weight_decay=0.5),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    ours, theirs = CASES[name]
    problem = random_quadratic(seed=len(name))
    x0 = 3 * np.random.default_rng(len(name) + 1).standard_normal(problem.dim)
    expected = torch_iterates(theirs, problem, x0)
    got = numpy_iterates(ours(), problem, x0)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


SCHEDULED = {
    # name: (our optimizer taking a schedule, torch constructor, schedule)
    "sgd-cosine": (sgd, lambda p: T.SGD(p, lr=0.05), schedules.cosine_decay(0.05, 80, 1e-3)),
    "momentum-step": (
        lambda s: momentum(s, 0.9), lambda p: T.SGD(p, lr=0.05, momentum=0.9),
        schedules.step_decay(0.05, 30, 0.5),
    ),
    "adagrad-exponential-lr_decay": (
        lambda s: adagrad(s, lr_decay=0.01), lambda p: T.Adagrad(p, lr=0.5, lr_decay=0.01),
        schedules.exponential_decay(0.5, 0.98),
    ),
    "adam-one_cycle": (adam, lambda p: T.Adam(p, lr=0.1), schedules.one_cycle(0.1, NUM_STEPS)),
    "rmsprop-warmup": (
        lambda s: rmsprop(s, momentum=0.5), lambda p: T.RMSprop(p, lr=0.01, momentum=0.5),
        schedules.linear_warmup(0.01, 20, start_factor=0.1),
    ),
    "adadelta-inverse_time": (
        adadelta, lambda p: T.Adadelta(p), schedules.inverse_time_decay(1.0, 0.1),
    ),
    # the decay −ηλθ follows the schedule too: torch multiplies by the group's current lr
    "adamw-cosine": (
        lambda s: adamw(s, weight_decay=0.2), lambda p: T.AdamW(p, lr=0.1, weight_decay=0.2),
        schedules.cosine_decay(0.1, 80, 1e-3),
    ),
    "adamw-warmup": (
        lambda s: adamw(s, beta1=0.5, weight_decay=0.05),
        lambda p: T.AdamW(p, lr=0.05, betas=(0.5, 0.999), weight_decay=0.05),
        schedules.linear_warmup(0.05, 20, start_factor=0.1),
    ),
}


@pytest.mark.parametrize("name", SCHEDULED)
def test_schedule_matches_torch_scheduler(name):
    ours, theirs, schedule = SCHEDULED[name]
    problem = random_quadratic(seed=7)
    x0 = np.random.default_rng(8).standard_normal(problem.dim)
    opt = ours(schedule)
    assert [opt.lr(t) for t in range(5)] == [schedule(t) for t in range(5)]
    expected = torch_iterates(theirs, problem, x0, schedule=schedule)
    np.testing.assert_allclose(numpy_iterates(opt, problem, x0), expected, rtol=1e-10, atol=1e-12)


def test_negative_lr_is_torch_maximize():
    """η < 0 climbs the loss: torch refuses lr < 0 and spells it maximize=True."""
    problem = random_quadratic(seed=3)
    x0 = np.random.default_rng(4).standard_normal(problem.dim)
    expected = torch_iterates(lambda p: T.SGD(p, lr=0.05, maximize=True), problem, x0)
    ours = numpy_iterates(sgd(-0.05, allow_negative=True), problem, x0)
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
    assert problem.loss(ours[-1]) > problem.loss(x0)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        T.SGD([torch.zeros(1, requires_grad=True)], lr=-0.05)


def test_textbook_momentum_equals_torch_convention_for_constant_lr():
    """v ← γv − ηg, θ ← θ + v (Sutskever) gives torch's iterates for a constant η only."""
    problem, x0, gamma = random_quadratic(seed=5), np.ones(5), 0.9

    def textbook(lrs):
        x, v, out = x0.copy(), np.zeros(5), []
        for eta in lrs:
            v = gamma * v - eta * problem.grad(x)
            x = x + v
            out.append(x)
        return np.array(out)

    lrs = np.full(100, 0.05)
    ours = numpy_iterates(momentum(0.05, gamma), problem, x0, 100)
    np.testing.assert_allclose(textbook(lrs), ours, rtol=1e-10, atol=1e-12)
    schedule = schedules.step_decay(0.05, 50, 0.1)
    ours = numpy_iterates(momentum(schedule, gamma), problem, x0, 100)
    assert not np.allclose(textbook([schedule(t) for t in range(100)]), ours)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9])
def test_heavy_ball_stable_iff_lr_below_2_1_plus_gamma_over_L(gamma):
    """On f = ½λx², heavy ball converges iff ηλ < 2(1 + γ) (Goh 2017)."""
    lam = 4.0
    edge = 2 * (1 + gamma) / lam
    for factor, converges in [(0.9, True), (1.1, False)]:
        x = numpy_iterates(momentum(factor * edge, gamma), quadratic_1d(lam), np.ones(1), 600)
        assert (abs(x[-1, 0]) < 1e-3) == converges, (factor, x[-1])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_update_is_pure(name):
    """update returns a new state and leaves its inputs alone."""
    opt = OPTIMIZERS[name](0.1)
    assert isinstance(opt, Optimizer)
    params, grads = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    state = opt.init(params)
    before = [np.copy(s) for s in state]
    updates, new_state = opt.update(grads, state, params)
    assert updates.shape == params.shape and new_state.step == 1
    for a, b in zip(state, before, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(params, [1.0, -2.0])
    np.testing.assert_array_equal(grads, [0.5, 0.25])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_wrong_grads_shape_is_refused(name):
    opt = OPTIMIZERS[name](0.1)
    state = opt.init(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        opt.update(np.zeros(2), state, np.zeros(3))


@pytest.mark.parametrize("make", [lambda: sgd(0.1, weight_decay=0.1), lambda: adamw(0.1)])
def test_weight_decay_needs_params(make):
    opt = make()
    with pytest.raises(ValueError, match="weight_decay"):
        opt.update(np.ones(2), opt.init(np.ones(2)))


def test_adamw_without_decay_is_adam_and_with_decay_is_not_adam_l2():
    """λ = 0: AdamW is Adam. λ > 0: decoupled decay (AdamW) and L2 in the gradient (Adam) differ."""
    problem = random_quadratic(seed=11)
    x0 = 3 * np.random.default_rng(12).standard_normal(problem.dim)
    np.testing.assert_array_equal(numpy_iterates(adamw(0.05, weight_decay=0.0), problem, x0),
                                  numpy_iterates(adam(0.05), problem, x0))
    decoupled = numpy_iterates(adamw(0.05, weight_decay=0.5), problem, x0)
    coupled = numpy_iterates(adam(0.05, weight_decay=0.5), problem, x0)
    assert np.abs(decoupled - coupled).max() > 1e-2


def test_adamw_decays_by_one_minus_lr_weight_decay_per_step():
    """With g = 0 only the decay acts: θ_t = (1 − ηλ)ᵗ θ_0, whatever β and ε."""
    opt, x = adamw(0.1, weight_decay=0.3), np.array([2.0, -1.0])
    state = opt.init(x)
    for _ in range(50):
        updates, state = opt.update(np.zeros(2), state, x)
        x = apply_updates(x, updates)
    np.testing.assert_allclose(x, (1 - 0.03) ** 50 * np.array([2.0, -1.0]), rtol=1e-12)


@pytest.mark.parametrize("call, shown", [
    (lambda: adamw(-1e-3), "Invalid learning rate: -0.001"),
    (lambda: adamw(0.0), "Invalid learning rate: 0.0"),
    (lambda: adamw(beta1=1.0), "Invalid beta1: 1.0"),
    (lambda: adamw(beta2=-0.1), "Invalid beta2: -0.1"),
    (lambda: adamw(eps=-1e-8), "Invalid eps: -1e-08"),
    (lambda: adamw(weight_decay=-0.01), "Invalid weight_decay: -0.01"),
    (lambda: adamw(weight_decay=float("nan")), "Invalid weight_decay: nan"),
    (lambda: adamw(weight_decay="0.01"), "Invalid weight_decay: '0.01'"),
])
def test_adamw_bad_arguments_name_the_value(call, shown):
    with pytest.raises(ValueError, match=re.escape(shown)):
        call()


@pytest.mark.parametrize(
    "ours, theirs, names",
    [
        (adagrad, T.Adagrad, {"lr": "lr", "eps": "eps", "lr_decay": "lr_decay",
                              "initial_accumulator_value": "initial_accumulator_value"}),
        (adadelta, T.Adadelta, {"lr": "lr", "rho": "rho", "eps": "eps"}),
        (rmsprop, T.RMSprop, {"lr": "lr", "alpha": "alpha", "eps": "eps", "momentum": "momentum",
                              "centered": "centered"}),
        (adam, T.Adam, {"lr": "lr", "eps": "eps", "weight_decay": "weight_decay"}),
        (adamw, T.AdamW, {"lr": "lr", "eps": "eps", "weight_decay": "weight_decay"}),
        (momentum, T.SGD, {"dampening": "dampening", "nesterov": "nesterov"}),
    ],
)
def test_defaults_are_torchs(ours, theirs, names):
    """Our defaults are read against torch's signatures, not typed from memory."""
    mine = inspect.signature(ours).parameters
    torchs = inspect.signature(theirs).parameters
    for name, torch_name in names.items():
        assert mine[name].default == torchs[torch_name].default, name
    if ours in (adam, adamw):
        assert (mine["beta1"].default, mine["beta2"].default) == torchs["betas"].default
