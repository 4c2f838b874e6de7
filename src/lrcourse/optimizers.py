"""Optimizers in numpy, as small transforms with explicit state (after optax).

An optimizer is a pair of pure functions, plus its learning rate::

    state = opt.init(params)                            # what the method remembers
    updates, state = opt.update(grads, state, params)   # one step: θ ← θ + updates
    params = apply_updates(params, updates)

``lr`` (η) is a float or a schedule, a function ``step -> η`` (see
``lrcourse.schedules``); the step count t = 0, 1, 2, ... lives in the state,
and ``opt.lr(step)`` says which η step t uses.

Notation (the book's glossary): θ = ``params``, g = ``grads``, η = ``lr``,
γ = ``momentum``, t = ``step``, λ = ``weight_decay``. Every rule is checked
against ``torch.optim`` to 1e-10 in the tests, including torch's conventions
where they differ from the papers. Adaptive methods live in
``lrcourse.adaptive``.

Example::

    >>> opt = momentum(lr=0.1, momentum=0.9)
    >>> params = np.array([1.0, -2.0])
    >>> state = opt.init(params)
    >>> updates, state = opt.update(2 * params, state, params)   # f = ‖θ‖²
    >>> params = apply_updates(params, updates)
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lrcourse.schedules import constant
from lrcourse.validate import check_array, check_in_range


class Optimizer(NamedTuple):
    """``init(params) -> state``; ``update(grads, state, params) -> (updates, state)``;
    ``lr(step) -> η``, the learning rate the step ``step`` uses."""

    init: Callable
    update: Callable
    lr: Callable


def apply_updates(params, updates):
    """θ ← θ + updates (updates already carry the minus sign and η)."""
    return np.asarray(params, dtype=np.float64) + updates


def as_schedule(lr, *, allow_negative=False):
    """Return ``lr`` if it is a schedule (callable ``step -> η``), else ``constant(lr)``.

    A float η is validated: finite, non-zero, and positive unless ``allow_negative``.
    """
    return lr if callable(lr) else constant(lr, allow_negative=allow_negative)


def check_grads(grads, shape):
    """Return ``grads`` as a float array of the given shape (no silent broadcasting)."""
    grads = np.asarray(grads, dtype=np.float64)
    if grads.shape != shape:
        raise ValueError(f"Invalid grads: expected shape {shape}, got {grads.shape}")
    return grads


def add_weight_decay(grads, params, weight_decay):
    """g ← g + λθ: L2 regularization folded into the gradient, as torch's ``weight_decay``."""
    if weight_decay == 0:
        return grads
    if params is None:
        raise ValueError("Invalid params: None (weight_decay needs the current params)")
    return grads + weight_decay * np.asarray(params, dtype=np.float64)


def check_weight_decay(weight_decay):
    return check_in_range(weight_decay, "weight_decay", 0, np.inf)


class SGDState(NamedTuple):
    step: int  # t, the number of updates done so far
    shape: tuple  # the shape of params


def sgd(lr, *, weight_decay=0.0, allow_negative=False):
    """Gradient descent: θ ← θ − η g (Robbins & Monro 1951; Cauchy 1847).

    With the full gradient this is gradient descent; with a minibatch gradient,
    stochastic gradient descent (SGD): the rule is the same, only g changes.

    ``allow_negative=True`` accepts η < 0, which climbs the loss
    (gradient ascent, torch's ``SGD(..., maximize=True)`` with lr = |η|);
    torch itself refuses a negative lr.

    Example (f = ½‖θ‖², so g = θ)::

        >>> opt = sgd(0.1)
        >>> params = np.array([1.0, -200.0])
        >>> updates, state = opt.update(params, opt.init(params), params)
        >>> updates                               # −η g: the step scales with the gradient
        array([-0.1, 20. ])
    """
    lr = as_schedule(lr, allow_negative=allow_negative)
    weight_decay = check_weight_decay(weight_decay)

    def init(params):
        params = check_array(params, "params")
        return SGDState(step=0, shape=params.shape)

    def update(grads, state, params=None):
        eta = lr(state.step)
        # g ← g + λθ
        g = add_weight_decay(check_grads(grads, state.shape), params, weight_decay)
        # θ ← θ − η g
        return -eta * g, SGDState(state.step + 1, state.shape)

    return Optimizer(init, update, lr)


class MomentumState(NamedTuple):
    step: int  # t
    velocity: np.ndarray  # v, torch's "momentum buffer"


def momentum(lr, momentum=0.9, *, dampening=0.0, nesterov=False, weight_decay=0.0):
    """Heavy-ball momentum in torch's convention (Polyak 1964)::

        v ← γ v + (1 − τ) g        (the first step: v ← g)
        θ ← θ − η v

    with γ = ``momentum`` and τ = ``dampening``; with ``nesterov=True`` the
    step uses g + γ v instead of v (torch's ``nesterov=True``): Nesterov's
    method (1983) in the rewriting of Bengio et al. 2013, which tracks the
    look-ahead point of Sutskever et al. 2013 (whose form takes the gradient
    at θ + γu) so that only gradients at the stored weights are needed.

    Note on the convention. Sutskever et al. (2013) and most textbooks write
    v ← γ v − η g, θ ← θ + v: there the velocity carries η, here it does not.
    For a constant η the two produce the same iterates (their v is −η times
    ours). They differ when η changes: in torch's form a new η rescales the
    whole accumulated velocity at once; in the textbook form old steps keep
    the η they were taken with. On a quadratic heavy ball is stable for
    0 < ηλ < 2(1 + γ) (Goh, "Why Momentum Really Works", Distill 2017) and
    its long-run step is η/(1 − γ).

    Example::

        >>> opt = momentum(lr=0.01, momentum=0.9)

    References: B. T. Polyak, "Some methods of speeding up the convergence of
    iteration methods", 1964. Y. Nesterov, "A method of solving a convex
    programming problem with convergence rate O(1/k²)", 1983. I. Sutskever et
    al., "On the importance of initialization and momentum in deep learning",
    ICML 2013. Y. Bengio, N. Boulanger-Lewandowski, R. Pascanu, "Advances in
    optimizing recurrent networks", ICASSP 2013.
    """
    lr = as_schedule(lr)
    gamma = check_in_range(momentum, "momentum", 0, 1)
    tau = check_in_range(dampening, "dampening", 0, 1, high_open=False)
    weight_decay = check_weight_decay(weight_decay)
    if nesterov and (gamma == 0 or tau != 0):
        raise ValueError(
            f"Invalid nesterov momentum: needs momentum > 0 and dampening = 0, "
            f"got momentum={gamma}, dampening={tau}"
        )

    def init(params):
        return MomentumState(step=0, velocity=np.zeros_like(check_array(params, "params")))

    def update(grads, state, params=None):
        eta, v = lr(state.step), state.velocity
        # g ← g + λθ
        g = add_weight_decay(check_grads(grads, v.shape), params, weight_decay)
        # v ← γ v + (1 − τ) g,  and v ← g on the first step (torch)
        v = g.copy() if state.step == 0 else gamma * v + (1 - tau) * g
        # Nesterov: d = g + γ v;  heavy ball: d = v
        d = g + gamma * v if nesterov else v
        # θ ← θ − η d
        return -eta * d, MomentumState(state.step + 1, v)

    return Optimizer(init, update, lr)


heavy_ball = momentum  # the same method under its other name


def nesterov(lr, momentum=0.9, *, weight_decay=0.0):
    """Nesterov momentum as torch's ``SGD(nesterov=True)``: v ← γ v + g, θ ← θ − η (g + γ v).

    See :func:`momentum` for the convention (Nesterov 1983; Bengio et al. 2013).

    Example: the first step is η (1 + γ) g, since v = g then::

        >>> opt = nesterov(0.1, 0.9)
        >>> params = np.array([1.0, -200.0])
        >>> opt.update(params, opt.init(params), params)[0]
        array([-0.19, 38.  ])
    """
    return heavy_ball(lr, momentum, nesterov=True, weight_decay=weight_decay)
