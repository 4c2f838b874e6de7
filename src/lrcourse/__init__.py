"""lrcourse: the helper package of the learning-rate course.

Each module is one concept, readable top to bottom; the chapters import them.
"""

__version__ = "0.1.0"
