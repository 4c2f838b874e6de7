"""The course's one seed: every random choice derives from ``LRCOURSE_SEED``.

Initial weights, mini-batch order, data draws, power-iteration starts: every
function in the package that draws at random takes ``seed=None``, which means
"the course seed", read here and nowhere else. Set it before starting Python
(or a notebook's kernel) to see whether a claim survives another draw::

    LRCOURSE_SEED=3 make book

A chapter that needs several independent draws uses ``course_seed() + k``.

Example:
    >>> import os
    >>> os.environ["LRCOURSE_SEED"] = "7"
    >>> course_seed(), resolve_seed(None), resolve_seed(2)
    (7, 7, 2)
    >>> del os.environ["LRCOURSE_SEED"]
    >>> course_seed()
    0
"""

import os

from lrcourse.validate import check_nonnegative_int

VARIABLE = "LRCOURSE_SEED"
DEFAULT = 0


def course_seed():
    """Return the integer in ``$LRCOURSE_SEED`` (default 0).

    Raises:
        ValueError: the variable is set to something other than an integer ≥ 0.
    """
    text = os.environ.get(VARIABLE, "").strip()
    if not text:
        return DEFAULT
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"Invalid {VARIABLE}: {text!r} (expected an integer >= 0, e.g. "
                         f"{VARIABLE}=3)") from None
    return check_nonnegative_int(value, VARIABLE)


def resolve_seed(seed):
    """Return ``seed`` checked, or the course seed when ``seed`` is ``None``."""
    return course_seed() if seed is None else check_nonnegative_int(seed, "seed")
