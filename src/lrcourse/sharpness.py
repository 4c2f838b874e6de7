"""Sharpness: the top eigenvalue λ_max of the loss Hessian, and the step size it allows.

Near a point w, the loss is approximately quadratic,

    L(w + d) ≈ L(w) + gᵀd + ½ dᵀ H d,     H = ∇²L(w).

Gradient descent on this quadratic moves each eigen-direction of H
independently: along an eigenvector with eigenvalue λ, the distance to the
minimum is multiplied by (1 − ηλ) at every step. It shrinks when |1 − ηλ| < 1,
i.e. 0 < η < 2/λ, and grows without bound when η > 2/λ. The first direction to
blow up is the top eigenvector, so full-batch GD is stable only for

    η < 2 / λ_max            (``stability_threshold``),

and the quadratic model's best single step along the sharpest direction is
η = 1/λ_max (LeCun et al. 1998, §5). H has as many rows as the model has
parameters, so it is never formed: power iteration needs only Hessian-vector
products Hv, which double backpropagation gives at the cost of about two
gradients: Hv = ∇_w (∇_w L · v).

Example:
    >>> import torch.nn.functional as F
    >>> from lrcourse.digits import load_digits
    >>> from lrcourse.models import mlp
    >>> x, y, _, _ = load_digits(n_train=1000)
    >>> lam, _ = top_eigenvalue(mlp(), F.cross_entropy, x, y)
    >>> stability_threshold(lam) > 0      # full-batch GD diverges above this η
    True

References: Y. LeCun, L. Bottou, G. Orr, K.-R. Müller, "Efficient BackProp",
in Neural Networks: Tricks of the Trade, 1998, §5 (η_opt = 1/λ_max,
divergence beyond 2/λ_max) and its section on estimating the Hessian's
principal eigenvalue by power iteration; Y. LeCun, P. Simard, B. Pearlmutter,
"Automatic Learning Rate Maximization by On-Line Estimation of the Hessian's
Eigenvectors", NIPS 5, 1993;
B. Pearlmutter, "Fast Exact Multiplication by the Hessian", Neural Computation
6(1), 1994 (Hv); J. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar,
"Gradient Descent on Neural Networks Typically Occurs at the Edge of
Stability", ICLR 2021 (during full-batch GD λ_max rises to ≈ 2/η and hovers there).
"""

import math
import warnings

import torch

from lrcourse.seeding import resolve_seed
from lrcourse.torchloop import check_inputs
from lrcourse.validate import check_in_range, check_positive_int


def hvp(loss_fn, params, v):
    """The Hessian-vector product H v of ``loss_fn()`` with respect to ``params``.

    ``loss_fn`` takes no arguments and returns a scalar loss built from
    ``params`` (a list of tensors with ``requires_grad``); ``v`` is a list of
    tensors of the same shapes. Returns a list shaped like ``params``.
    """
    params = list(params)
    grads = torch.autograd.grad(loss_fn(), params, create_graph=True)
    return _hvp(grads, params, v)


def top_eigenvalue(model, loss_fn, x, y, *, iters=100, tol=1e-6, seed=None):
    """λ_max of the full-batch Hessian of ``loss_fn(model(x), y)``, and its eigenvector.

    Power iteration on Hessian-vector products (see :func:`largest_eigenvalue`
    for the method, ``iters`` and ``tol``); ``seed`` draws the start vectors
    (default: the course seed). Returns ``(lam, vector)``: a float, and a list
    of tensors shaped like the model's parameters (unit norm overall). Warns
    (``RuntimeWarning``) when ``iters`` products were not enough for ``tol``.
    """
    iters = check_positive_int(iters, "iters")
    tol = check_in_range(tol, "tol", 0.0, 1.0, low_open=True)
    seed = resolve_seed(seed)
    x = check_inputs(model, x, "x")
    if torch.is_tensor(y) and y.ndim > 0 and len(y) != len(x):
        raise ValueError(f"Invalid y: shape {tuple(y.shape)} (x has {len(x)} examples, "
                         f"shape {tuple(x.shape)})")
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)
    return largest_eigenvalue(lambda v: _hvp(grads, params, v), params, iters=iters, tol=tol,
                              seed=seed)


def largest_eigenvalue(matvec, like, *, iters=100, tol=1e-6, seed=None):
    """λ_max of a symmetric operator H known only through ``matvec(v) = Hv``, and its eigenvector.

    Vectors are lists of tensors shaped like ``like`` (a model's parameters, say).
    Power iteration, v ← Hv / ‖Hv‖ with the Rayleigh quotient λ = vᵀHv,
    converges to the eigenvalue of largest magnitude. When that one is negative
    (a saddle), or when two of opposite signs compete (±ρ: v never settles), a
    second run on H + ρI, where ρ is the largest ‖Hv‖ seen, finds λ_max: the
    shift makes every eigenvalue λ + ρ ≥ 0 (about), so the largest one is also
    the largest in magnitude. The second run starts from a fresh random vector,
    not from the first run's: there the top eigenvector's share has died out
    (it shrank by λ_max/|λ_min| per step) while the next one's may not have, and
    the second run would stall on that next eigenvalue.

    A run stops after ``iters`` products, or once λ has settled (it changed by
    less than ``tol``, relative) *and* v is close to an eigenvector: the
    residual ‖Hv − λv‖ ≤ √tol · ‖Hv‖. A settled λ alone proves nothing (λ
    creeps when v mixes two close eigenvectors, and stands still when +ρ and −ρ
    compete); a small residual does: an eigenvalue lies within the residual of
    λ, and within ‖Hv − λv‖² / gap ≤ tol·‖Hv‖² / gap when the others are at
    least ``gap`` away, i.e. within about tol·λ when λ_max is well separated.
    (After the shift ‖Hv‖ ≈ λ_max + ρ: a saddle's λ_max is accurate relative to
    the width of the spectrum.) Every Rayleigh quotient is ≤ λ_max, so of the
    two runs the larger λ is kept. A ``RuntimeWarning`` says when the run that
    gave λ did not meet the tolerance: λ is then only a lower bound.

    Returns ``(lam, vector)``: a float, and a list of tensors shaped like
    ``like`` (unit norm overall).
    """
    iters = check_positive_int(iters, "iters")
    tol = check_in_range(tol, "tol", 0.0, 1.0, low_open=True)
    generator = torch.Generator().manual_seed(resolve_seed(seed))

    def random_vector():
        return [torch.randn(t.shape, generator=generator, dtype=t.dtype).to(t.device)
                for t in like]

    lam, vector, converged, rho = _power_iteration(matvec, random_vector(), iters, tol)
    if lam < 0 or not converged:  # λ_max is not the largest |λ|, or v did not settle
        def shifted(v):
            return [hv + rho * vi for hv, vi in zip(matvec(v), v)]

        lam2, vector2, converged2, _ = _power_iteration(shifted, random_vector(), iters, tol)
        if lam2 - rho >= lam:
            lam, vector = lam2 - rho, vector2
        converged = converged2
    if not converged:
        warnings.warn(f"power iteration: {iters} products Hv did not reach tol={tol:g} "
                      f"(residual ‖Hv − λv‖ above √tol·‖Hv‖); λ = {lam:.6g} is a lower "
                      "bound on λ_max: raise iters", RuntimeWarning, stacklevel=2)
    return lam, vector


def stability_threshold(lam):
    """The largest stable step of gradient descent on a quadratic with top curvature λ: 2/λ."""
    lam = check_in_range(lam, "lam", 0.0, math.inf, low_open=True)
    return 2 / lam


def _hvp(grads, params, v):
    """H v = ∇(g · v), reusing the gradient graph ``grads`` (built with create_graph=True)."""
    dot = sum((g * vi).sum() for g, vi in zip(grads, v))
    return list(torch.autograd.grad(dot, params, retain_graph=True))


def _power_iteration(matvec, v, iters, tol):
    """Power iteration from ``v``: ``(λ, v, converged, ρ)``, ρ = the largest ‖Hv‖ seen."""
    v, lam, rho = _normalize(v), math.nan, 0.0
    for _ in range(iters):
        hv = matvec(v)
        new_lam = _dot(v, hv)                                          # Rayleigh quotient vᵀHv
        norm = math.sqrt(_dot(hv, hv))
        r = [a - new_lam * b for a, b in zip(hv, v)]
        residual = math.sqrt(_dot(r, r))                               # ‖Hv − λv‖
        rho = max(rho, norm)
        settled = abs(new_lam - lam) <= tol * abs(new_lam)
        if residual <= math.sqrt(tol) * norm and (settled or residual == 0):
            return new_lam, v, True, rho
        lam, last_v = new_lam, v
        v = [t / norm for t in hv]
    return lam, last_v, False, rho


def _dot(a, b):
    return sum((s * t).sum() for s, t in zip(a, b)).item()


def _normalize(v):
    norm = torch.sqrt(sum((t * t).sum() for t in v))
    return [t / norm for t in v]
