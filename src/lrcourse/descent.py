"""The runner: apply an optimizer to a problem for a number of steps and record everything.

Divergence is a result, not a crash: when the loss becomes non-finite or
exceeds ``max_loss`` the run stops there, and the trace says at which step.

Example::

    >>> from lrcourse.problems import quadratic_1d
    >>> trace = gd(quadratic_1d(1.0), lr=2.5, x0=[1.0], num_steps=100)
    >>> trace.diverged_at        # |1 − ηλ| = 1.5 > 1: the iterates grow 1.5× per step
    35
"""

import math
from dataclasses import dataclass

import numpy as np

from lrcourse.optimizers import Optimizer, apply_updates, sgd
from lrcourse.seeding import resolve_seed
from lrcourse.validate import (
    check_array,
    check_in_range,
    check_positive,
    check_positive_int,
    check_scheduled_lr,
)


@dataclass
class Trace:
    """What a run did. With k steps taken (k = num_steps unless it diverged):

    - ``params``: (k + 1, dim), the iterates θ_0 … θ_k;
    - ``losses``: (k + 1,), f(θ_0) … f(θ_k) (the full loss, also for SGD);
    - ``lrs``: (k,), the η used by step t (θ_t → θ_{t+1});
    - ``grad_norms``: (k,), ‖g_t‖, the norm of the gradient step t used;
    - ``diverged_at``: the index of the first iterate whose loss was non-finite
      or above ``max_loss`` (it is the last one kept), else None;
    - ``min_loss``: f* of the problem when it is known, else None.
    """

    params: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    grad_norms: np.ndarray
    diverged_at: int | None = None
    min_loss: float | None = None

    @property
    def diverged(self):
        return self.diverged_at is not None

    @property
    def num_steps(self):
        return len(self.lrs)

    @property
    def final_loss(self):
        return float(self.losses[-1])

    @property
    def gaps(self):
        """f(θ_t) − f*, with f* = ``min_loss`` (0 when unknown)."""
        return self.losses - (self.min_loss or 0.0)

    def converged(self, tol=1e-6):
        """True if the loss gap f(θ_t) − f* fell to ``tol`` or below at some step."""
        return iterations_to_tolerance(self, tol) is not None


def iterations_to_tolerance(trace, tol, *, min_loss=None):
    """The first step t with f(θ_t) − f* ≤ ``tol`` (None if never).

    f* is ``min_loss`` if given, else ``trace.min_loss``, else 0.
    """
    tol = check_in_range(tol, "tol", 0, np.inf)
    f_star = min_loss if min_loss is not None else (trace.min_loss or 0.0)
    hits = np.flatnonzero(trace.losses - f_star <= tol)
    return int(hits[0]) if hits.size else None


def _oracle(problem):
    """``(x, batch) -> (loss, grads)``: the full loss at x and the gradient on the batch.

    ``problem`` has ``.loss``/``.grad``, or is itself a function ``x -> (loss, grads)``.
    """
    if hasattr(problem, "loss") and hasattr(problem, "grad"):
        def oracle(x, batch):
            g = problem.grad(x) if batch is None else problem.grad(x, batch=batch)
            return problem.loss(x), g
        return oracle
    if callable(problem):
        return lambda x, batch: problem(x)
    raise ValueError(
        f"Invalid problem: {problem!r} (expected .loss and .grad, or a function x -> (loss, grads))"
    )


def _batches(problem, batch_fn, batch_size, seed):
    """A function ``step -> row indices`` (or None: full batch)."""
    rng = np.random.default_rng(resolve_seed(seed))
    if batch_fn is not None and batch_size is not None:
        raise ValueError("Invalid batch options: give batch_fn or batch_size, not both")
    if batch_fn is not None:
        if not callable(batch_fn):
            raise TypeError(f"Invalid batch_fn: {batch_fn!r} (expected (step, rng) -> rows)")
        if not (hasattr(problem, "grad") and hasattr(problem, "n")):
            raise ValueError(f"Invalid batch_fn: {batch_fn!r} (the problem has no data rows)")
        return lambda step: batch_fn(step, rng)
    if batch_size is not None:
        n = getattr(problem, "n", None)
        if n is None:
            raise ValueError(f"Invalid batch_size: {batch_size!r} (the problem has no data rows)")
        batch_size = check_positive_int(batch_size, "batch_size")
        if batch_size > n:
            raise ValueError(f"Invalid batch_size: {batch_size} (the data has only n={n} rows)")
        return lambda step: rng.choice(n, size=batch_size, replace=False)
    return lambda step: None


def run(problem, optimizer, x0, num_steps, *, max_loss=1e12, batch_fn=None, batch_size=None,
        seed=None, on_loss=None):
    """Run ``optimizer`` on ``problem`` from ``x0`` for ``num_steps`` steps: a :class:`Trace`.

    ``problem`` has ``loss(x)`` and ``grad(x)`` (see ``lrcourse.problems``), or is a
    function ``x -> (loss, grads)``. For SGD on a data problem, give either
    ``batch_size`` (rows drawn at random without replacement each step, from
    ``seed``; default: the course seed, see ``lrcourse.seeding``) or ``batch_fn(step, rng) -> row indices``. ``on_loss(loss)`` is called
    with each loss before the step is taken: pass ``plateau.step`` of a
    :class:`~lrcourse.schedules.ReduceOnPlateau` used as the optimizer's ``lr``.

    The run stops at the first iterate whose loss is non-finite or above
    ``max_loss``; ``trace.diverged_at`` is its index. No overflow warnings are
    printed: they are what divergence looks like, and the trace reports it.

    η is checked at every step, as a constant η is when the optimizer is built:
    a schedule that gives NaN, infinity or (unless it is
    ``constant(η, allow_negative=True)``) a negative η stops the run with a
    ``ValueError`` naming the step. It may give 0: that step moves nothing.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"Invalid optimizer: {optimizer!r} (expected an Optimizer, e.g. sgd(0.1))")
    dim = getattr(problem, "dim", None)
    x = check_array(x0, "x0", ndim=1, shape=None if dim is None else (dim,))
    num_steps = check_positive_int(num_steps, "num_steps")
    max_loss = check_positive(max_loss, "max_loss", allow_inf=True)
    allow_negative = _allows_negative(optimizer.lr)
    oracle = _oracle(problem)
    batch_at = _batches(problem, batch_fn, batch_size, seed)

    params = np.empty((num_steps + 1, x.size))
    losses = np.empty(num_steps + 1)
    lrs, grad_norms = np.empty(num_steps), np.empty(num_steps)
    state, diverged_at = optimizer.init(x), None
    with np.errstate(all="ignore"):  # overflow is how divergence looks: we report it instead
        for t in range(num_steps + 1):
            loss, g = oracle(x, batch_at(t) if t < num_steps else None)
            g = np.asarray(g, dtype=np.float64)
            params[t], losses[t] = x, loss
            if not (math.isfinite(loss) and loss <= max_loss and np.isfinite(x).all()):
                diverged_at = t
                break
            if t == num_steps:
                break
            if on_loss is not None:
                on_loss(loss)
            lrs[t] = check_scheduled_lr(optimizer.lr(state.step), state.step,
                                        allow_negative=allow_negative)
            grad_norms[t] = math.sqrt(g.ravel() @ g.ravel())
            updates, state = optimizer.update(g, state, x)
            x = apply_updates(x, updates)
    k = num_steps if diverged_at is None else diverged_at  # steps taken
    return Trace(params[: k + 1], losses[: k + 1], lrs[:k], grad_norms[:k], diverged_at,
                 getattr(problem, "min_loss", None))


def _allows_negative(schedule):
    """Whether ``schedule`` may give η < 0: only one built with ``allow_negative=True`` may.

    ``constant(η, allow_negative=True)`` (which ``sgd(η, allow_negative=True)``
    builds) marks its schedule so; every other schedule must give η ≥ 0.
    """
    return getattr(schedule, "allow_negative", False) is True


def gd(problem, lr, x0, num_steps, *, allow_negative=False, **kwargs):
    """Plain gradient descent θ ← θ − η ∇f(θ): ``run(problem, sgd(lr), x0, num_steps)``.

    A negative η (gradient ascent) needs ``allow_negative=True``; other keyword
    arguments (``max_loss``, ``batch_size``, ...) go to :func:`run`.
    """
    return run(problem, sgd(lr, allow_negative=allow_negative), x0, num_steps, **kwargs)
