"""Handwritten digits: the real MNIST images the course trains its image models on.

The images ship inside the package (``lrcourse/data/mnist_subset.npz``: 20,000
training and 2,000 test images, 28×28, uint8; provenance and licence in
``lrcourse/data/README.md``). Nothing is ever downloaded. The file's SHA-256 is
checked on first load, and the decoded arrays are cached for the session.

Example:
    >>> from lrcourse.digits import load_digits
    >>> x_train, y_train, x_test, y_test = load_digits(n_train=1000)
    >>> x_train.shape, y_train.dtype
    (torch.Size([1000, 784]), torch.int64)

Choosing η (or anything else) by the test score and then reporting that score
overstates it: the choice has seen the test set. Carve a validation split from
the training images, choose on it, and look at the test set once (cs231n):

    >>> x_tr, y_tr, x_val, y_val, x_te, y_te = load_digits(n_train=1000, n_val=500)
    >>> len(x_tr), len(x_val), len(x_te)
    (1000, 500, 2000)

Reference: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11), 1998.
"""

import functools
import hashlib
import importlib.resources
import io

import numpy as np
import torch

from lrcourse.validate import check_nonnegative_int, check_positive_int

FILE = "mnist_subset.npz"
SHA256 = "6d0a3e716342bc4d71d4bc403321250db8601741a21d5cec91cf048c97ab7532"
NUM_TRAIN, NUM_TEST = 20_000, 2_000
SIDE = 28  # images are SIDE × SIDE pixels


def load_digits(n_train=None, n_test=None, *, n_val=0, flatten=True, standardize=False,
                dtype=torch.float32):
    """Return ``(x_train, y_train, x_test, y_test)`` as fresh torch tensors.

    With ``n_val > 0``: ``(x_train, y_train, x_val, y_val, x_test, y_test)``, where
    the validation images are the *last* ``n_val`` of the 20,000 training images,
    so they never overlap the training images (the first ``n_train``).

    Args:
        n_train: how many training images (the first ones; default all 20,000,
            or all but the validation images).
        n_test: how many test images (the first ones; default all 2,000).
        n_val: how many validation images, carved from the end of the training
            images (default 0: no validation split).
        flatten: ``True`` gives images as rows of 784 pixels, shape (N, 784);
            ``False`` keeps them as (N, 28, 28).
        standardize: ``False`` scales pixels to [0, 1]. ``True`` then subtracts
            the mean pixel value of the chosen training images and divides by
            their standard deviation (one scalar each, like torchvision's
            ``Normalize((0.1307,), (0.3081,))``), for every split.
        dtype: a floating torch dtype for the images; labels are always int64.

    Raises:
        ValueError: a count that is not an integer in 1..available, or a
            non-floating ``dtype``.
        FileNotFoundError / RuntimeError: the shipped file is missing or corrupt.
    """
    n_val = check_nonnegative_int(n_val, "n_val")
    if n_val >= NUM_TRAIN:
        raise ValueError(f"Invalid n_val: {n_val} (only {NUM_TRAIN} training images ship, and"
                         " training needs some)")
    n_train = NUM_TRAIN - n_val if n_train is None else check_positive_int(n_train, "n_train")
    n_test = NUM_TEST if n_test is None else check_positive_int(n_test, "n_test")
    if n_train > NUM_TRAIN:
        raise ValueError(f"Invalid n_train: {n_train} (only {NUM_TRAIN} images ship)")
    if n_train + n_val > NUM_TRAIN:
        raise ValueError(f"Invalid n_train: {n_train} with n_val={n_val} (the two splits must not"
                         f" overlap: n_train + n_val <= {NUM_TRAIN})")
    if n_test > NUM_TEST:
        raise ValueError(f"Invalid n_test: {n_test} (only {NUM_TEST} images ship)")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"Invalid dtype: {dtype!r} (expected a floating torch dtype)")

    arrays = _arrays()
    rows = {"train": slice(0, n_train), "val": slice(NUM_TRAIN - n_val, NUM_TRAIN)}
    images = {name: torch.tensor(arrays["x_train"][r], dtype=dtype) / 255 for name, r in rows.items()}
    labels = {name: torch.tensor(arrays["y_train"][r], dtype=torch.int64) for name, r in rows.items()}
    images["test"] = torch.tensor(arrays["x_test"][:n_test], dtype=dtype) / 255
    labels["test"] = torch.tensor(arrays["y_test"][:n_test], dtype=torch.int64)
    if standardize:  # with the training images' statistics, for every split
        mean, std = images["train"].mean(), images["train"].std()
        images = {name: (x - mean) / std for name, x in images.items()}
    if flatten:
        images = {name: x.reshape(len(x), SIDE * SIDE) for name, x in images.items()}
    splits = ("train", "val", "test") if n_val else ("train", "test")
    return tuple(t for name in splits for t in (images[name], labels[name]))


@functools.lru_cache(maxsize=1)
def _arrays():
    """The four uint8 arrays of the shipped file, read once per session (read-only)."""
    return _decode(_read(importlib.resources.files("lrcourse") / "data" / FILE))


def _read(resource):
    try:
        return resource.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise FileNotFoundError(
            f"The digit images are missing: {resource} not found. They ship with the "
            "lrcourse package; reinstall it (pip install -e .) from a complete checkout."
        ) from None


def _decode(raw, sha256=SHA256):
    got = hashlib.sha256(raw).hexdigest()
    if got != sha256:
        raise RuntimeError(
            f"The digit images are corrupt: {FILE} has SHA-256 {got}, expected {sha256}. "
            "Restore the file from the repository (git checkout -- src/lrcourse/data)."
        )
    with np.load(io.BytesIO(raw)) as npz:
        arrays = {name: npz[name] for name in ("x_train", "y_train", "x_test", "y_test")}
    for arr in arrays.values():
        arr.flags.writeable = False  # the cache is shared: nobody may edit it in place
    return arrays
