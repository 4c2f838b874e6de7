"""Checks at the boundary: every value a reader can pass is validated here.

Each check raises ``ValueError`` naming the bad value, in one message shape
(after ``torch.optim``): ``Invalid learning rate: -0.1``.

Example:
    >>> check_positive_int(64, "batch_size")
    64
    >>> check_positive_int(0, "batch_size")
    Traceback (most recent call last):
    ...
    ValueError: Invalid batch_size: 0 (expected an integer >= 1)
"""

import math
from numbers import Integral, Real

import numpy as np


def check_lr(lr, *, allow_negative=False, name="learning rate"):
    """Return ``lr`` as a float if it is a usable learning rate η.

    η must be a finite real number, and positive unless ``allow_negative`` is
    set: a negative η climbs the loss, which one chapter shows on purpose.
    Zero is refused: nothing would move.
    """
    if isinstance(lr, bool) or not isinstance(lr, Real):
        raise ValueError(f"Invalid {name}: {lr!r} (expected a real number)")
    lr = float(lr)
    if not math.isfinite(lr):
        raise ValueError(f"Invalid {name}: {lr}")
    if lr == 0 or (lr < 0 and not allow_negative):
        hint = "" if allow_negative else (
            " (a negative η climbs the loss; to do that on purpose, pass allow_negative=True to"
            " gd or sgd, or give an optimizer the schedule constant(lr, allow_negative=True))")
        raise ValueError(f"Invalid {name}: {lr}{hint if lr < 0 else ''}")
    return lr


def check_scheduled_lr(lr, step, *, allow_negative=False):
    """Return η = ``lr`` as a float if it is usable at step ``step`` of a schedule.

    The rule of :func:`check_lr`, with one difference: a schedule may reach 0
    (a cosine decay ends there, a warmup may start there), which only means
    that this step moves nothing. A 0-d array or tensor counts as its number.
    """
    if hasattr(lr, "item") and getattr(lr, "ndim", None) == 0:
        lr = lr.item()
    if isinstance(lr, bool) or not isinstance(lr, Real) or not math.isfinite(lr) or (
            lr < 0 and not allow_negative):
        need = "a finite η" if allow_negative else "a finite η >= 0"
        raise ValueError(f"Invalid learning rate: {lr!r} from schedule({step}) "
                         f"(the schedule must give {need} at every step)")
    return float(lr)


def check_positive(value, name, *, allow_inf=False):
    """Return ``value`` as a float if it is a real number > 0 (finite unless ``allow_inf``).

    For a positive quantity with no negative option: a loss threshold, a
    factor, or η where torch uses it (torch refuses η < 0). The message says
    what the argument expects, not what a negative η would do (``check_lr``).
    """
    ok = not isinstance(value, bool) and isinstance(value, Real) and value > 0 and (
        math.isfinite(value) or (allow_inf and value == math.inf))
    if not ok:
        expected = "a number > 0, inf allowed" if allow_inf else "a finite number > 0"
        raise ValueError(f"Invalid {name}: {value!r} (expected {expected})")
    return float(value)


def check_positive_int(value, name):
    """Return ``value`` if it is an integer ≥ 1 (a number of steps, epochs, ...)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
    return int(value)


def check_nonnegative_int(value, name):
    """Return ``value`` if it is an integer ≥ 0 (a seed, a number of steps to skip, ...)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 0)")
    return int(value)


def check_in_range(value, name, low, high, *, low_open=False, high_open=True):
    """Return ``value`` as a float if it lies in the interval from ``low`` to ``high``.

    The default interval is [low, high); ``low_open``/``high_open`` choose the ends.
    """
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"Invalid {name}: {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"Invalid {name}: {value} (expected a value in {lo}{low}, {high}{hi})")
    return value


def check_array(x, name, *, ndim=None, shape=None, nonempty=True):
    """Return ``x`` as a finite float64 array with the expected rank or shape."""
    arr = np.asarray(x, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"Invalid {name}: expected a {ndim}-d array, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"Invalid {name}: expected shape {tuple(shape)}, got {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"Invalid {name}: empty array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Invalid {name}: contains NaN or infinity")
    return arr
