"""lrcourse: the helper package of the learning-rate course.

Each module is one concept, readable top to bottom; the chapters import them.
``lrcourse.find_lr`` (in ``lrcourse.finder``) is the course's tool for your own model (loaded on first use,
so that importing a numpy-only module does not load torch).
"""

from lrcourse import alt as _alt

__version__ = "0.1.0"
__all__ = ["find_lr"]

_alt.install()  # in a kernel, every figure shown carries its alt text (lrcourse.alt)


def __getattr__(name):
    if name == "find_lr":
        from lrcourse.finder import find_lr

        globals()["find_lr"] = find_lr  # over the submodule the import just bound to the name
        return find_lr
    raise AttributeError(f"module 'lrcourse' has no attribute {name!r}")
