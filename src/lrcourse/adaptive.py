"""Adaptive optimizers: one η, scaled per coordinate by the gradients seen so far.

Adagrad, Adadelta and RMSProp, in the interface of ``lrcourse.optimizers``
(``init``/``update`` with explicit state, ``lr`` a float or a schedule); Adam
and AdamW live in ``lrcourse.adam`` and are re-exported here, so
``from lrcourse.adaptive import adam`` works. All operations are elementwise;
ε is where torch puts it (outside the square root, except in Adadelta).
Notation: θ = ``params``, g = ``grads``, η = ``lr``, t = ``step`` + 1 in the
formulas (the number of the update being made).

Example::

    >>> opt = adam(lr=1e-3)
    >>> state = opt.init(np.zeros(3))
"""

from typing import NamedTuple

import numpy as np

from lrcourse.adam import AdamState, adam, adamw, check_eps
from lrcourse.optimizers import (
    Optimizer,
    add_weight_decay,
    as_schedule,
    check_grads,
    check_weight_decay,
    heavy_ball,
    nesterov,
    sgd,
)
from lrcourse.validate import check_array, check_in_range


class AdagradState(NamedTuple):
    step: int
    sum_sq: np.ndarray  # G = Σ g², per coordinate


def adagrad(lr=1e-2, eps=1e-10, initial_accumulator_value=0.0, lr_decay=0.0, *, weight_decay=0.0):
    """Adagrad (Duchi, Hazan & Singer 2011), as torch ``Adagrad``::

        η_t = η / (1 + (t − 1) k)          k = lr_decay
        G ← G + g²                         G starts at initial_accumulator_value
        θ ← θ − η_t g / (√G + ε)

    Each coordinate's step shrinks as its squared gradients add up, so
    coordinates with large gradients get small steps; the steps only ever shrink.

    Reference: J. Duchi, E. Hazan, Y. Singer, "Adaptive subgradient methods for
    online learning and stochastic optimization", JMLR 12, 2011.

    Example: the first step is η in every coordinate, whatever the gradient's scale::

        >>> opt = adagrad(0.1)
        >>> params = np.array([1.0, -200.0])        # f = ½‖θ‖², g = θ
        >>> opt.update(params, opt.init(params), params)[0]
        array([-0.1,  0.1])
    """
    lr = as_schedule(lr)
    eps = check_eps(eps)
    init_acc = check_in_range(initial_accumulator_value, "initial_accumulator_value", 0, np.inf)
    lr_decay = check_in_range(lr_decay, "lr_decay", 0, np.inf)
    weight_decay = check_weight_decay(weight_decay)

    def init(params):
        params = check_array(params, "params")
        return AdagradState(step=0, sum_sq=np.full_like(params, init_acc))

    def update(grads, state, params=None):
        g = add_weight_decay(check_grads(grads, state.sum_sq.shape), params, weight_decay)
        # η_t = η / (1 + (t − 1) k)
        eta = lr(state.step) / (1 + state.step * lr_decay)
        # G ← G + g²
        sum_sq = state.sum_sq + g * g
        # θ ← θ − η_t g / (√G + ε)
        updates = -eta * (g / (np.sqrt(sum_sq) + eps))
        return updates, AdagradState(state.step + 1, sum_sq)

    return Optimizer(init, update, lr)


class AdadeltaState(NamedTuple):
    step: int
    square_avg: np.ndarray  # E[g²], running mean of squared gradients
    acc_delta: np.ndarray  # E[Δ²], running mean of squared steps


def adadelta(lr=1.0, rho=0.9, eps=1e-6, *, weight_decay=0.0):
    """Adadelta (Zeiler 2012), as torch ``Adadelta``::

        E[g²] ← ρ E[g²] + (1 − ρ) g²
        Δ     = √(E[Δ²] + ε) / √(E[g²] + ε) · g
        E[Δ²] ← ρ E[Δ²] + (1 − ρ) Δ²
        θ     ← θ − η Δ

    The ratio of the two running RMS values gives each coordinate a step with
    the units of θ. Zeiler's paper has no η (η = 1, torch's default); torch adds
    it as a multiplier. Note ε inside the square roots: it also sets the size of
    the very first steps (≈ √ε/|g|·g).

    Reference: M. D. Zeiler, "ADADELTA: an adaptive learning rate method",
    arXiv:1212.5701, 2012.

    Example: with E[Δ²] = 0 the first step is η √(ε / (1 − ρ)) ≈ 0.0032 η per coordinate::

        >>> opt = adadelta()
        >>> params = np.array([1.0, -200.0])
        >>> opt.update(params, opt.init(params), params)[0]
        array([-0.00316226,  0.00316228])
    """
    lr = as_schedule(lr)
    rho = check_in_range(rho, "rho", 0, 1, high_open=False)
    eps = check_eps(eps)
    weight_decay = check_weight_decay(weight_decay)

    def init(params):
        zeros = np.zeros_like(check_array(params, "params"))
        return AdadeltaState(step=0, square_avg=zeros, acc_delta=zeros.copy())

    def update(grads, state, params=None):
        g = add_weight_decay(check_grads(grads, state.square_avg.shape), params, weight_decay)
        # E[g²] ← ρ E[g²] + (1 − ρ) g²
        square_avg = rho * state.square_avg + (1 - rho) * g * g
        # Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g
        delta = np.sqrt(state.acc_delta + eps) / np.sqrt(square_avg + eps) * g
        # E[Δ²] ← ρ E[Δ²] + (1 − ρ) Δ²
        acc_delta = rho * state.acc_delta + (1 - rho) * delta * delta
        # θ ← θ − η Δ
        return -lr(state.step) * delta, AdadeltaState(state.step + 1, square_avg, acc_delta)

    return Optimizer(init, update, lr)


class RMSpropState(NamedTuple):
    step: int
    square_avg: np.ndarray  # s = E[g²]
    grad_avg: np.ndarray  # m = E[g] (used when centered)
    velocity: np.ndarray  # b, the momentum buffer (used when momentum > 0)


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, centered=False, *, weight_decay=0.0):
    """RMSProp (Hinton, lecture 6e, 2012), as torch ``RMSprop``::

        s ← α s + (1 − α) g²
        d = √s + ε                    centered: m ← α m + (1 − α) g,  d = √(s − m²) + ε
        θ ← θ − η g / d               with momentum γ: b ← γ b + g / d,  θ ← θ − η b

    Dividing by the running RMS of the gradient makes the step size roughly η
    in every coordinate, whatever the scale of its gradient. ``centered``
    divides by the running standard deviation instead (Graves 2013).

    References: G. Hinton, N. Srivastava, K. Swersky, "Neural networks for
    machine learning", lecture 6e, 2012. A. Graves, "Generating sequences with
    recurrent neural networks", arXiv:1308.0850, 2013.

    Example: with s = 0 the first step is η/√(1 − α) = 10 η per coordinate::

        >>> opt = rmsprop(0.01)
        >>> params = np.array([1.0, -200.0])
        >>> opt.update(params, opt.init(params), params)[0]
        array([-0.09999999,  0.1       ])
    """
    lr = as_schedule(lr)
    alpha = check_in_range(alpha, "alpha", 0, 1, high_open=False)
    eps = check_eps(eps)
    gamma = check_in_range(momentum, "momentum", 0, 1)
    weight_decay = check_weight_decay(weight_decay)

    def init(params):
        zeros = np.zeros_like(check_array(params, "params"))
        return RMSpropState(0, zeros, zeros.copy(), zeros.copy())

    def update(grads, state, params=None):
        g = add_weight_decay(check_grads(grads, state.square_avg.shape), params, weight_decay)
        # s ← α s + (1 − α) g²
        s = alpha * state.square_avg + (1 - alpha) * g * g
        m = state.grad_avg
        if centered:
            # m ← α m + (1 − α) g;  d = √(s − m²) + ε
            m = m + (1 - alpha) * (g - m)
            d = np.sqrt(s - m * m) + eps
        else:
            # d = √s + ε
            d = np.sqrt(s) + eps
        b = state.velocity
        if gamma > 0:
            # b ← γ b + g / d;  θ ← θ − η b
            b = gamma * b + g / d
            updates = -lr(state.step) * b
        else:
            # θ ← θ − η g / d
            updates = -lr(state.step) * (g / d)
        return updates, RMSpropState(state.step + 1, s, m, b)

    return Optimizer(init, update, lr)


# Every optimizer of the course by name, with torch's default hyperparameters
# (sgd, heavy ball and Nesterov need an η here: torch's SGD default, 1e-3, is no
# sensible value for the course's problems, so the reader chooses one).
OPTIMIZERS = {
    "sgd": sgd,
    "momentum": heavy_ball,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "adadelta": adadelta,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}

__all__ = ["OPTIMIZERS", "AdamState", "adadelta", "adagrad", "adam", "adamw", "check_eps", "rmsprop"]
