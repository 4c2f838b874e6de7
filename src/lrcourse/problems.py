"""Test problems whose constants are known, so every claim about η can be checked.

Each problem has ``loss(x)`` and ``grad(x)`` for parameters ``x`` (a 1-D float
array of length ``dim``) and, where it exists, the constants the theory needs:

- ``L``: the smoothness constant, the largest eigenvalue of the Hessian
  (gradient descent converges on a quadratic iff 0 < η < 2/L);
- ``mu``: the strong-convexity constant, the smallest eigenvalue;
- ``kappa = L / mu``: the condition number;
- ``minimizer`` and ``min_loss``.

``loss`` also accepts a stack of points with shape ``(..., dim)``, which is how
the contour plots evaluate a whole grid at once.

Example::

    >>> p = quadratic_2d(eigenvalues=(1, 10))
    >>> p.L, p.mu, p.kappa
    (10.0, 1.0, 10.0)
"""

import numpy as np

from lrcourse.seeding import resolve_seed
from lrcourse.validate import check_array, check_in_range, check_positive_int


def _check_point(x, dim, name="x"):
    """Return ``x`` as a float array whose last axis has length ``dim``.

    Cheap on purpose: no finiteness test, so an iterate that overflowed gets a
    loss of inf (and the runner reports divergence) instead of an error.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0 or x.shape[-1] != dim:
        raise ValueError(f"Invalid {name}: expected shape (..., {dim}), got {x.shape}")
    return x


def _rows(X, y, batch):
    """The rows of (X, y) in ``batch`` (an array of row indices), or all rows if it is None."""
    if batch is None:
        return X, y
    batch = np.asarray(batch)
    if batch.ndim != 1 or batch.size == 0 or batch.dtype.kind not in "iu":
        raise ValueError(f"Invalid batch: expected a non-empty 1-d array of row indices: {batch!r}")
    if batch.min() < -len(y) or batch.max() >= len(y):
        raise ValueError(f"Invalid batch: row indices out of range for n={len(y)}: {batch!r}")
    return X[batch], y[batch]


class Quadratic:
    """f(x) = ½ xᵀA x − bᵀx, with A symmetric positive semi-definite.

    ∇f(x) = A x − b and the Hessian is A everywhere, so L = λ_max(A),
    mu = λ_min(A) and the minimizer solves A x = b. Gradient descent
    x ← x − η(Ax − b) multiplies the error along eigenvector i by (1 − η λ_i):
    it converges iff 0 < η < 2/L (Nesterov 2004, *Introductory Lectures on
    Convex Optimization*, §2.1; LeCun et al. 1998, *Efficient BackProp*).

    Example::

        >>> p = Quadratic([[2.0, 0.0], [0.0, 8.0]], b=[2.0, 8.0])
        >>> p.minimizer, p.L
        (array([1., 1.]), 8.0)
    """

    def __init__(self, A, b=None):
        A = check_array(A, "A", ndim=2)
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"Invalid A: expected a square matrix, got shape {A.shape}")
        if not np.allclose(A, A.T, rtol=1e-12, atol=1e-12):
            raise ValueError(f"Invalid A: not symmetric:\n{A}")
        self.dim = A.shape[0]
        b = np.zeros(self.dim) if b is None else check_array(b, "b", shape=(self.dim,))
        self.A, self.b = A, b
        self.eigenvalues, self.eigenvectors = np.linalg.eigh(A)  # ascending; columns
        if self.eigenvalues[0] < -1e-12 * max(1.0, abs(self.eigenvalues[-1])):
            eig = self.eigenvalues
            raise ValueError(f"Invalid A: not positive semi-definite, eigenvalues {eig}")
        self.L = float(self.eigenvalues[-1])
        self.mu = float(max(self.eigenvalues[0], 0.0))
        self.kappa = self.L / self.mu if self.mu > 0 else float("inf")
        x_star = np.linalg.lstsq(A, b, rcond=None)[0]
        self.minimizer = x_star if np.allclose(A @ x_star, b) else None  # None: unbounded below
        self.min_loss = None if self.minimizer is None else float(self.loss(x_star))

    def loss(self, x):
        x = _check_point(x, self.dim)
        if x.ndim == 1:
            return 0.5 * x @ (self.A @ x) - x @ self.b
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.A, x) - x @ self.b  # a grid of points

    def grad(self, x):
        return self.A @ _check_point(x, self.dim) - self.b

    def hessian(self, x=None):
        """The Hessian A (the same at every x)."""
        return self.A

    def __repr__(self):
        return f"Quadratic(dim={self.dim}, L={self.L:g}, mu={self.mu:g})"


def quadratic_1d(curvature):
    """f(x) = ½ λ x² with λ = ``curvature`` > 0: GD gives x_{k+1} = (1 − ηλ) x_k."""
    lam = check_in_range(curvature, "curvature", 0, np.inf, low_open=True)
    return Quadratic([[lam]])


def quadratic_2d(eigenvalues=(1, 10), angle=0.0):
    """f(x) = ½ xᵀA x with A = R diag(λ₁, λ₂) Rᵀ, R the rotation by ``angle`` (radians)."""
    lams = check_array(eigenvalues, "eigenvalues", shape=(2,))
    if np.any(lams <= 0):
        raise ValueError(f"Invalid eigenvalues: {tuple(lams.tolist())} (expected both > 0)")
    angle = check_in_range(angle, "angle", -np.inf, np.inf)
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    A = R @ np.diag(lams) @ R.T
    return Quadratic(0.5 * (A + A.T))


def valley(kappa=50):
    """An ill-conditioned 2-D valley: f(x) = ½(x₁²/κ + x₂²), so L = 1, mu = 1/κ.

    Along x₂ the walls are steep (curvature 1, stable for η < 2); along x₁ the
    floor is nearly flat (curvature 1/κ): with η = 1, GD needs about κ steps
    there. The picture of why momentum helps (Goh, "Why Momentum Really Works",
    Distill 2017).
    """
    kappa = check_in_range(kappa, "kappa", 1, np.inf)
    return quadratic_2d(eigenvalues=(1.0 / kappa, 1.0))


class Rosenbrock:
    """f(x, y) = (a − x)² + b (y − x²)², minimum 0 at (a, a²) (Rosenbrock 1960).

    A curved, narrow valley. It is not L-smooth on the whole plane (its Hessian
    grows without bound), so ``L`` is None; ``hessian(x)`` gives the local
    curvature, and ``L_at_minimizer`` the largest eigenvalue at the minimum
    (≈ 1001.6 for a=1, b=100).
    """

    dim = 2
    L = mu = kappa = None
    min_loss = 0.0

    def __init__(self, a=1.0, b=100.0):
        self.a = check_in_range(a, "a", -np.inf, np.inf)
        self.b = check_in_range(b, "b", 0, np.inf, low_open=True)
        self.minimizer = np.array([self.a, self.a**2])
        self.L_at_minimizer = float(np.linalg.eigvalsh(self.hessian(self.minimizer))[-1])

    def loss(self, x):
        x = _check_point(x, 2)
        u, v = x[..., 0], x[..., 1]
        return (self.a - u) ** 2 + self.b * (v - u**2) ** 2

    def grad(self, x):
        u, v = _check_point(x, 2)
        return np.array([-2 * (self.a - u) - 4 * self.b * u * (v - u**2), 2 * self.b * (v - u**2)])

    def hessian(self, x):
        u, v = _check_point(x, 2)
        off = -4 * self.b * u
        return np.array([[2 - 4 * self.b * (v - 3 * u**2), off], [off, 2 * self.b]])

    def __repr__(self):
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class LinearRegression:
    """Least squares: f(w) = ½‖Xw − y‖²/n, the mean over the n rows of X.

    ∇f(w) = Xᵀ(Xw − y)/n; on a minibatch B of rows, Xᵦᵀ(Xᵦw − yᵦ)/|B| (the
    stochastic gradient SGD uses). The Hessian is XᵀX/n, so
    L = λ_max(XᵀX/n) and mu = λ_min(XᵀX/n).

    Example::

        >>> X, y = make_regression(n=100, d=3)
        >>> p = LinearRegression(X, y)
        >>> g = p.grad(np.zeros(3), batch=[0, 1, 2, 3])  # a minibatch gradient
    """

    def __init__(self, X, y):
        self.X = check_array(X, "X", ndim=2)
        self.n, self.dim = self.X.shape
        self.y = check_array(y, "y", shape=(self.n,))
        self.eigenvalues = np.linalg.eigvalsh(self.hessian())
        self.L = float(self.eigenvalues[-1])
        self.mu = float(max(self.eigenvalues[0], 0.0))
        self.kappa = self.L / self.mu if self.mu > 1e-12 * self.L else float("inf")
        self.minimizer = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
        self.min_loss = float(self.loss(self.minimizer))

    def loss(self, w):
        residual = _check_point(w, self.dim, "w") @ self.X.T - self.y  # (..., n)
        return 0.5 * np.mean(residual**2, axis=-1)

    def grad(self, w, batch=None):
        w = _check_point(w, self.dim, "w")
        X, y = _rows(self.X, self.y, batch)  # (B, d), (B,)
        return X.T @ (X @ w - y) / len(y)

    def hessian(self, w=None):
        """XᵀX/n (the same at every w)."""
        return self.X.T @ self.X / self.n

    def __repr__(self):
        return f"LinearRegression(n={self.n}, dim={self.dim}, L={self.L:g}, mu={self.mu:g})"


def make_regression(n=200, d=5, noise=0.1, seed=None):
    """Data for :class:`LinearRegression`: X ~ N(0, 1), y = X w_true + noise·N(0, 1).

    Returns ``(X, y)`` with shapes (n, d) and (n,); the same ``seed`` gives the same data (None: the course seed).
    """
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    noise = check_in_range(noise, "noise", 0, np.inf)
    rng = np.random.default_rng(resolve_seed(seed))
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    return X, X @ w_true + noise * rng.standard_normal(n)


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # = 1/(1 + e^{−z}), without overflow


class LogisticRegression:
    """Binary logistic regression: f(w) = mean over rows of log(1 + e^{z}) − y z, z = x·w.

    Labels y are 0 or 1 (add a column of ones to X for a bias). With σ the
    sigmoid, ∇f(w) = Xᵀ(σ(Xw) − y)/n and the Hessian is XᵀDX/n with
    D = diag(σ(1 − σ)) ≤ ¼, so L ≤ λ_max(XᵀX)/(4n): ``L`` is that bound.
    f is convex but not strongly convex, and on separable data it has no
    minimizer (w grows forever), so ``mu`` and ``minimizer`` are None.
    """

    mu = kappa = minimizer = min_loss = None

    def __init__(self, X, y):
        self.X = check_array(X, "X", ndim=2)
        self.n, self.dim = self.X.shape
        self.y = check_array(y, "y", shape=(self.n,))
        bad = np.setdiff1d(self.y, [0.0, 1.0])
        if bad.size:
            raise ValueError(f"Invalid y: labels must be 0 or 1, got {bad[:5]}")
        self.L = float(np.linalg.eigvalsh(self.X.T @ self.X)[-1] / (4 * self.n))

    def loss(self, w):
        z = _check_point(w, self.dim, "w") @ self.X.T  # (..., n)
        return np.mean(np.logaddexp(0.0, z) - self.y * z, axis=-1)

    def grad(self, w, batch=None):
        w = _check_point(w, self.dim, "w")
        X, y = _rows(self.X, self.y, batch)  # (B, d), (B,)
        return X.T @ (_sigmoid(X @ w) - y) / len(y)

    def hessian(self, w):
        s = _sigmoid(self.X @ _check_point(w, self.dim, "w"))
        return (self.X.T * (s * (1 - s))) @ self.X / self.n

    def __repr__(self):
        return f"LogisticRegression(n={self.n}, dim={self.dim}, L<={self.L:g})"


def make_classification(n=200, d=2, distance=2.0, seed=None):
    """Two Gaussian classes (identity covariance) whose means are ``distance`` apart.

    Returns ``(X, y)``: X of shape (n, d), y of 0/1 labels, half of each class.
    With a moderate distance the classes overlap, so the logistic loss has a minimizer.
    """
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    distance = check_in_range(distance, "distance", 0, np.inf)
    rng = np.random.default_rng(resolve_seed(seed))
    y = (np.arange(n) % 2).astype(np.float64)
    direction = rng.standard_normal(d)
    direction /= np.linalg.norm(direction)
    X = rng.standard_normal((n, d)) + np.outer(y - 0.5, distance * direction)
    return X, y
