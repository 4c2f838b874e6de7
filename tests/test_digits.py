"""lrcourse.digits: the shipped MNIST subset, checked, cached, never downloaded."""

import hashlib
import importlib.resources
from pathlib import Path

import pytest
import torch

from lrcourse import digits
from lrcourse.digits import load_digits


def test_shapes_dtypes_and_range():
    x_train, y_train, x_test, y_test = load_digits()
    assert x_train.shape == (20000, 784) and x_test.shape == (2000, 784)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert x_train.min() == 0 and 0.99 < x_train.max() <= 1
    assert set(y_train.tolist()) == set(range(10)) == set(y_test.tolist())


def test_counts_flatten_dtype_and_standardize():
    x_train, y_train, x_test, y_test = load_digits(100, 30, flatten=False, dtype=torch.float64)
    assert x_train.shape == (100, 28, 28) and x_test.shape == (30, 28, 28)
    assert x_train.dtype == torch.float64 and len(y_train) == 100 and len(y_test) == 30
    # the first n images: slicing the full set gives the same pixels
    assert torch.allclose(load_digits()[0][:100].double(), x_train.reshape(100, -1), atol=1e-6)
    x_std = load_digits(1000, standardize=True)[0]
    assert abs(x_std.mean().item()) < 1e-5 and abs(x_std.std().item() - 1) < 1e-5


def test_shipped_file_matches_its_checksum():
    raw = (importlib.resources.files("lrcourse") / "data" / digits.FILE).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == digits.SHA256


def test_arrays_are_cached_and_results_are_fresh():
    first = load_digits(10)[0]
    first += 1  # a reader's in-place edit must not reach the cache
    hits = digits._arrays.cache_info().hits
    again = load_digits(10)[0]
    assert digits._arrays.cache_info().hits == hits + 1
    assert again.max() <= 1


def test_corrupt_or_missing_file_gives_a_clear_error():
    with pytest.raises(RuntimeError, match="corrupt"):
        digits._decode(b"not the digits")
    with pytest.raises(FileNotFoundError, match="missing"):
        digits._read(Path("/nonexistent/mnist_subset.npz"))


@pytest.mark.parametrize("kwargs, shown", [
    ({"n_train": 0}, "n_train: 0"), ({"n_train": -5}, "n_train: -5"),
    ({"n_train": 2.5}, "n_train: 2.5"), ({"n_train": 20001}, "n_train: 20001"),
    ({"n_test": 0}, "n_test: 0"), ({"n_test": 2001}, "n_test: 2001"),
    ({"dtype": torch.int64}, "dtype: torch.int64"), ({"dtype": "float32"}, "dtype: 'float32'"),
    ({"n_val": -1}, "n_val: -1"), ({"n_val": 20000}, "n_val: 20000"),
    ({"n_train": 19000, "n_val": 2000}, "n_train: 19000 with n_val=2000"),
])
def test_bad_arguments_raise_value_error(kwargs, shown):
    with pytest.raises(ValueError, match=shown):
        load_digits(**kwargs)


def test_validation_split_is_carved_from_the_end_of_the_training_images():
    x_tr, _, x_val, y_val, x_te, _ = load_digits(n_train=500, n_val=300, n_test=100)
    assert (len(x_tr), len(x_val), len(x_te)) == (500, 300, 100)
    everything = load_digits()
    assert torch.equal(x_val, everything[0][-300:]) and torch.equal(y_val, everything[1][-300:])
    assert torch.equal(x_tr, everything[0][:500]) and torch.equal(x_te, everything[2][:100])
    # by default, training takes every image the validation split leaves
    assert len(load_digits(n_val=2000)[0]) == 18000
    # standardized with the training images' statistics, for every split
    x_tr_s, _, x_val_s, _, _, _ = load_digits(n_train=500, n_val=300, standardize=True)
    mean, std = x_tr.mean(), x_tr.std()
    assert torch.allclose(x_val_s, (x_val - mean) / std, atol=1e-5)
    assert abs(x_tr_s.mean().item()) < 1e-5
