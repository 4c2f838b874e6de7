"""Adam and AdamW: momentum divided by the RMS of the gradient, and two ways to add weight decay.

Both in the interface of ``lrcourse.optimizers`` (``init``/``update`` with
explicit state, ``lr`` a float or a schedule), both checked against
``torch.optim`` to 1e-10. They differ only in where the weight decay λ goes:

- ``adam(weight_decay=λ)`` adds λθ to the gradient (L2 regularization, torch's
  ``Adam``): the decay then passes through m and is divided by √v̂ like the
  rest of the gradient;
- ``adamw(weight_decay=λ)`` shrinks θ by the factor 1 − ηλ before the Adam
  step (decoupled weight decay, torch's ``AdamW``; Loshchilov & Hutter 2019):
  the decay never enters m or v.

For plain SGD the two are the same rule up to a rescaling of λ; for Adam they
are not (the chapter on the learning rate and weight decay shows both).
Notation: θ = ``params``, g = ``grads``, η = ``lr``, λ = ``weight_decay``,
t = ``step`` + 1 in the formulas (the number of the update being made).
``lrcourse.adaptive`` re-exports both.

Example: AdamW's first step is Adam's first step plus the shrinkage −ηλθ::

    >>> params = np.array([1.0, -200.0])                 # f = ½‖θ‖², g = θ
    >>> opt = adamw(0.1, weight_decay=0.5)
    >>> opt.update(params, opt.init(params), params)[0]  # −η·sign(g) − ηλθ
    array([-0.15, 10.1 ])
"""

from typing import NamedTuple

import numpy as np

from lrcourse.optimizers import (
    Optimizer,
    add_weight_decay,
    as_schedule,
    check_grads,
    check_weight_decay,
)
from lrcourse.validate import check_array, check_in_range


def check_eps(eps):
    return check_in_range(eps, "eps", 0, np.inf)


class AdamState(NamedTuple):
    step: int
    m: np.ndarray  # first moment, running mean of g
    v: np.ndarray  # second moment, running mean of g²


def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, weight_decay=0.0):
    """Adam (Kingma & Ba 2015), as torch ``Adam(betas=(beta1, beta2))``::

        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)       (bias correction)
        θ ← θ − η m̂ / (√v̂ + ε)

    Momentum on the gradient (m) divided by the RMS of the gradient (v): each
    coordinate moves by about η per step, whatever its gradient's scale.
    ``weight_decay`` is torch's L2 term added to g (Adam), not AdamW's
    (see :func:`adamw`).

    Reference: D. P. Kingma, J. Ba, "Adam: a method for stochastic
    optimization", ICLR 2015.

    Example: thanks to bias correction the first step is η per coordinate::

        >>> opt = adam(0.1)
        >>> params = np.array([1.0, -200.0])
        >>> opt.update(params, opt.init(params), params)[0]
        array([-0.1,  0.1])
    """
    lr = as_schedule(lr)
    beta1 = check_in_range(beta1, "beta1", 0, 1)
    beta2 = check_in_range(beta2, "beta2", 0, 1)
    eps = check_eps(eps)
    weight_decay = check_weight_decay(weight_decay)

    def init(params):
        zeros = np.zeros_like(check_array(params, "params"))
        return AdamState(step=0, m=zeros, v=zeros.copy())

    def update(grads, state, params=None):
        g = add_weight_decay(check_grads(grads, state.m.shape), params, weight_decay)
        t = state.step + 1
        # m ← β₁ m + (1 − β₁) g
        m = state.m + (1 - beta1) * (g - state.m)
        # v ← β₂ v + (1 − β₂) g²
        v = beta2 * state.v + (1 - beta2) * g * g
        # m̂ = m / (1 − β₁ᵗ),  √v̂ = √v / √(1 − β₂ᵗ)
        step_size = lr(state.step) / (1 - beta1**t)
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        # θ ← θ − η m̂ / (√v̂ + ε)
        return -step_size * (m / denom), AdamState(t, m, v)

    return Optimizer(init, update, lr)


def adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, weight_decay=1e-2):
    """AdamW (Loshchilov & Hutter 2019), as torch ``AdamW(betas=(beta1, beta2))``::

        θ ← θ − η λ θ                                 (decoupled weight decay)
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
        θ ← θ − η m̂ / (√v̂ + ε)

    Adam on the loss's gradient g alone, plus a shrinkage of every weight by
    the same factor 1 − ηλ per step. In :func:`adam` the term λθ is added to g
    instead, so it is divided by √v̂: weights with large gradients are then
    barely decayed. Here every weight decays at the same relative rate ηλ.

    Note on the convention: the paper writes the step as
    θ ← θ − η_t (α m̂/(√v̂ + ε) + λθ), with α the step size and η_t a schedule
    multiplier, so its decay does not scale with α. torch (and this function)
    multiply the decay by the learning rate η itself, schedule included: the
    shrinkage per step is ηλ, and changing η changes it. torch's default is
    λ = 0.01 (Adam's is 0); ``amsgrad`` is not offered (nor by :func:`adam`).

    Reference: I. Loshchilov, F. Hutter, "Decoupled weight decay
    regularization", ICLR 2019.

    Example: with g = 0 only the decay acts, θ ← (1 − ηλ) θ::

        >>> opt = adamw(0.1, weight_decay=0.5)
        >>> params = np.array([1.0, -200.0])
        >>> opt.update(np.zeros(2), opt.init(params), params)[0]
        array([-0.05, 10.  ])
    """
    lr = as_schedule(lr)
    beta1 = check_in_range(beta1, "beta1", 0, 1)
    beta2 = check_in_range(beta2, "beta2", 0, 1)
    eps = check_eps(eps)
    weight_decay = check_weight_decay(weight_decay)

    def init(params):
        zeros = np.zeros_like(check_array(params, "params"))
        return AdamState(step=0, m=zeros, v=zeros.copy())

    def update(grads, state, params=None):
        g = check_grads(grads, state.m.shape)
        eta, t = lr(state.step), state.step + 1
        # θ ← θ − η λ θ          (a term of the update, not of g: it never enters m or v)
        decay = -eta * weight_decay * _params(params) if weight_decay else 0.0
        # m ← β₁ m + (1 − β₁) g
        m = state.m + (1 - beta1) * (g - state.m)
        # v ← β₂ v + (1 − β₂) g²
        v = beta2 * state.v + (1 - beta2) * g * g
        # m̂ = m / (1 − β₁ᵗ),  √v̂ = √v / √(1 − β₂ᵗ)
        step_size = eta / (1 - beta1**t)
        denom = np.sqrt(v) / np.sqrt(1 - beta2**t) + eps
        # θ ← θ − η m̂ / (√v̂ + ε)
        return decay - step_size * (m / denom), AdamState(t, m, v)

    return Optimizer(init, update, lr)


def _params(params):
    """The current θ, which decoupled weight decay needs (as ``add_weight_decay`` does)."""
    if params is None:
        raise ValueError("Invalid params: None (weight_decay needs the current params)")
    return np.asarray(params, dtype=np.float64)
