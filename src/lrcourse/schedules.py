"""Learning-rate schedules: pure functions ``step -> η`` (step t = 0, 1, 2, ...).

A schedule is passed as ``lr`` to any optimizer of this package; the optimizer
calls it with its own step count. Each closed form below is checked against
``torch.optim.lr_scheduler`` in the tests, and :func:`torch_scheduler` makes a
torch optimizer follow any of them. After optax's ``schedule`` module.

Example::

    >>> schedule = join_schedules([linear_warmup(0.1, 5), cosine_decay(0.1, 95)], [5])
    >>> [round(schedule(t), 4) for t in (0, 5, 100)]
    [0.0333, 0.1, 0.0]

:class:`ReduceOnPlateau` is the one schedule that is not a function of the
step alone: it also watches the loss.

References for decay in general: Y. Bengio, "Practical recommendations for
gradient-based training of deep architectures", arXiv:1206.5533 (2012);
I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning* (2016), §8.3.1.
"""

import math

from lrcourse.validate import check_in_range, check_lr, check_positive_int


def constant(lr, *, allow_negative=False):
    """η_t = η."""
    lr = check_lr(lr, allow_negative=allow_negative)

    def schedule(step):
        return lr

    schedule.allow_negative = allow_negative  # runners check every η a schedule gives against this
    return schedule


def step_decay(lr, step_size, gamma=0.1):
    """η_t = η · γ^⌊t / step_size⌋: multiply by γ every ``step_size`` steps (torch ``StepLR``)."""
    lr, step_size = check_lr(lr), check_positive_int(step_size, "step_size")
    gamma = check_in_range(gamma, "gamma", 0, 1, low_open=True, high_open=False)

    def schedule(step):
        return lr * gamma ** (step // step_size)

    return schedule


def exponential_decay(lr, gamma):
    """η_t = η · γ^t (torch ``ExponentialLR``)."""
    lr = check_lr(lr)
    gamma = check_in_range(gamma, "gamma", 0, 1, low_open=True, high_open=False)

    def schedule(step):
        return lr * gamma**step

    return schedule


def inverse_time_decay(lr, decay_rate, decay_steps=1):
    """η_t = η / (1 + k t / s), k = ``decay_rate``, s = ``decay_steps``: the "1/t" decay.

    The classic condition for SGD to converge, Σ η_t = ∞ and Σ η_t² < ∞, holds for
    η_t ∝ 1/t (Robbins & Monro 1951). Keras/optax ``inverse_time_decay``; torch has no
    such scheduler (``LambdaLR`` with this function does it, see :func:`torch_scheduler`).
    """
    lr = check_lr(lr)
    decay_rate = check_in_range(decay_rate, "decay_rate", 0, math.inf)
    decay_steps = check_positive_int(decay_steps, "decay_steps")

    def schedule(step):
        return lr / (1 + decay_rate * step / decay_steps)

    return schedule


def cosine_decay(lr, num_steps, min_lr=0.0):
    """η_t = η_min + ½ (η − η_min)(1 + cos(π t / T)) for t ≤ T = ``num_steps``, then η_min.

    SGDR (Loshchilov & Hutter, ICLR 2017) without restarts; torch
    ``CosineAnnealingLR(T_max=num_steps, eta_min=min_lr)`` (which, past T, rises again).
    """
    lr, num_steps = check_lr(lr), check_positive_int(num_steps, "num_steps")
    min_lr = check_in_range(min_lr, "min_lr", 0, lr, high_open=False)

    def schedule(step):
        t = min(step, num_steps)
        return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * t / num_steps))

    return schedule


def linear_warmup(lr, warmup_steps, start_factor=1 / 3):
    """η_t = η · (s + (1 − s) · min(t, W) / W): from s·η up to η in W steps, then η.

    W = ``warmup_steps``, s = ``start_factor`` (torch ``LinearLR``'s default 1/3).
    Warmup lets a large η be used safely early in training (Goyal et al. 2017,
    arXiv:1706.02677).
    """
    lr, warmup_steps = check_lr(lr), check_positive_int(warmup_steps, "warmup_steps")
    s = check_in_range(start_factor, "start_factor", 0, 1, high_open=False)

    def schedule(step):
        return lr * (s + (1 - s) * min(step, warmup_steps) / warmup_steps)

    return schedule


def one_cycle(max_lr, num_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
              anneal="cos"):
    """Smith's one-cycle policy, as torch ``OneCycleLR(three_phase=False)``.

    η rises from η_max/``div_factor`` to η_max over the first ``pct_start`` of
    ``num_steps``, then anneals to η_max/(div_factor · final_div_factor) at the
    last step (and stays there). With ``anneal='cos'``, a phase from a to b at
    fraction p of its length gives b + ½ (a − b)(1 + cos πp); ``'linear'`` gives
    a + (b − a) p. As torch, phase one ends at step pct_start·T − 1, phase two at T − 1.

    Reference: L. N. Smith & N. Topin, "Super-convergence", arXiv:1708.07120 (2017).
    """
    max_lr, num_steps = check_lr(max_lr, name="max_lr"), check_positive_int(num_steps, "num_steps")
    pct_start = check_in_range(pct_start, "pct_start", 0, 1, low_open=True)
    div_factor = check_in_range(div_factor, "div_factor", 0, math.inf, low_open=True)
    final_div_factor = check_in_range(final_div_factor, "final_div_factor", 0, math.inf,
                                      low_open=True)
    if anneal not in ("cos", "linear"):
        raise ValueError(f"Invalid anneal: {anneal!r} (expected 'cos' or 'linear')")
    peak = pct_start * num_steps - 1  # the step at which η = max_lr
    if peak <= 0:
        raise ValueError(f"Invalid pct_start: {pct_start} (pct_start * num_steps must exceed 1)")
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor

    def interpolate(a, b, p):
        if anneal == "cos":
            return b + 0.5 * (a - b) * (math.cos(math.pi * p) + 1)
        return a + (b - a) * p

    def schedule(step):
        if step <= peak:
            return interpolate(initial_lr, max_lr, step / peak)
        p = min((step - peak) / (num_steps - 1 - peak), 1.0)
        return interpolate(max_lr, min_lr, p)

    return schedule


def join_schedules(schedules, boundaries):
    """Chain schedules: schedule i runs from boundary i−1, restarted at its own step 0.

    η_t = schedules[i](t − b_{i−1}) for b_{i−1} ≤ t < b_i (b_{−1} = 0), as optax's
    ``join_schedules`` and torch's ``SequentialLR(milestones=boundaries)``.
    """
    schedules, boundaries = list(schedules), list(boundaries)
    if len(schedules) != len(boundaries) + 1 or not all(map(callable, schedules)):
        raise ValueError(
            f"Invalid schedules/boundaries: expected n callables and n−1 boundaries, "
            f"got {len(schedules)} schedules and boundaries={boundaries}"
        )
    for b in boundaries:
        check_positive_int(b, "boundary")
    if boundaries != sorted(boundaries):
        raise ValueError(f"Invalid boundaries: {boundaries} (expected increasing)")

    def schedule(step):
        start, i = 0, 0
        while i < len(boundaries) and step >= boundaries[i]:
            start, i = boundaries[i], i + 1
        return schedules[i](step - start)

    return schedule


class ReduceOnPlateau:
    """Divide η by 1/``factor`` when the loss has stopped improving (torch ``ReduceLROnPlateau``).

    Call ``plateau.step(loss)`` once per step (or epoch); ``plateau(step)`` returns
    the current η, so the object can be passed as ``lr`` to an optimizer. After
    each observation: if the loss beats the best so far by ``threshold``
    (relative: loss < best·(1 − threshold) in ``mode='min'``; ``threshold_mode='abs'``:
    loss < best − threshold), it becomes the best; otherwise a bad step is counted.
    After more than ``patience`` bad steps, η ← max(η·factor, ``min_lr``) and
    ``cooldown`` steps are ignored. ``mode='max'`` watches a metric to maximize.

    Example::

        >>> plateau = ReduceOnPlateau(0.1, patience=2)
        >>> [plateau.step(1.0) for _ in range(5)]
        [0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002]
    """

    def __init__(self, lr, *, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 mode="min", cooldown=0, min_lr=0.0, eps=1e-8):
        self.lr = check_lr(lr)
        self.factor = check_in_range(factor, "factor", 0, 1, low_open=True)
        self.patience = check_in_range(patience, "patience", 0, math.inf)
        self.threshold = check_in_range(threshold, "threshold", 0, math.inf)
        self.cooldown = check_in_range(cooldown, "cooldown", 0, math.inf)
        self.min_lr = check_in_range(min_lr, "min_lr", 0, math.inf)
        self.eps = check_in_range(eps, "eps", 0, math.inf)
        if mode not in ("min", "max"):
            raise ValueError(f"Invalid mode: {mode!r} (expected 'min' or 'max')")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"Invalid threshold_mode: {threshold_mode!r} (expected rel or abs)")
        self.mode, self.threshold_mode = mode, threshold_mode
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_steps = 0
        self.cooldown_counter = 0

    def is_better(self, loss):
        sign = 1 if self.mode == "min" else -1  # 'max' is 'min' on −loss
        if self.threshold_mode == "rel":
            return sign * loss < sign * self.best * (1 - sign * self.threshold)
        return sign * loss < sign * self.best - self.threshold

    def step(self, loss):
        """Observe one loss; return η for the next step."""
        loss = float(loss)
        if self.is_better(loss):
            self.best, self.num_bad_steps = loss, 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0  # bad steps in cooldown do not count
        if self.num_bad_steps > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_steps = self.cooldown, 0
        return self.lr

    def __call__(self, step):
        return self.lr

    def __repr__(self):
        return f"ReduceOnPlateau(lr={self.lr:g}, best={self.best:g}, bad={self.num_bad_steps})"


def torch_scheduler(optimizer, schedule):
    """A ``torch.optim.lr_scheduler.LambdaLR`` that makes a torch optimizer follow ``schedule``.

    Each param group's lr becomes base_lr · schedule(t)/base_lr = schedule(t), where
    t counts ``scheduler.step()`` calls, exactly as our optimizers count steps.

    Example::

        >>> import torch
        >>> w = torch.zeros(3, requires_grad=True)
        >>> opt = torch.optim.SGD([w], lr=0.1)
        >>> sched = torch_scheduler(opt, cosine_decay(0.1, 100))
        >>> # each step: loss.backward(); opt.step(); opt.zero_grad(); sched.step()
    """
    from torch.optim.lr_scheduler import LambdaLR  # torch is heavy: import it only here

    if not callable(schedule):
        raise TypeError(f"Invalid schedule: {schedule!r} (expected a callable step -> lr)")
    base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
    for base_lr in base_lrs:
        if base_lr == 0:
            raise ValueError(f"Invalid base learning rate: {base_lr} (must be non-zero)")
    lambdas = [lambda step, b=b: schedule(step) / b for b in base_lrs]
    return LambdaLR(optimizer, lambdas)
