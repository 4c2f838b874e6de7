"""lrcourse: the helper package of the learning-rate course.

Each module is one concept, readable top to bottom; the chapters import them.
"""

__version__ = "0.1.0"

from lrcourse import alt as _alt  # noqa: E402

_alt.install()  # in a kernel, every figure shown carries its alt text (lrcourse.alt)
