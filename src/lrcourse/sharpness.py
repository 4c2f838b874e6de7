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

import torch

from lrcourse.seeding import resolve_seed
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

    Power iteration: v ← Hv / ‖Hv‖, with the Rayleigh quotient λ = vᵀHv,
    stopping when λ changes by less than ``tol`` (relative) or after ``iters``
    products. It converges to the eigenvalue of largest magnitude; if that is
    negative (a saddle), a second run on H + |λ|I finds the largest one.

    Returns ``(lam, vector)``: a float, and a list of tensors shaped like the
    model's parameters (unit norm overall).
    """
    iters = check_positive_int(iters, "iters")
    tol = check_in_range(tol, "tol", 0.0, 1.0, low_open=True)
    seed = resolve_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)

    def matvec(v):
        return _hvp(grads, params, v)

    generator = torch.Generator().manual_seed(int(seed))
    start = [torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) for p in params]
    lam, vector = _power_iteration(matvec, start, iters, tol)
    if lam < 0:  # the largest |λ| is negative; shift it to find the largest λ
        shift = -lam
        shifted, vector = _power_iteration(
            lambda v: [hv + shift * vi for hv, vi in zip(matvec(v), v)], vector, iters, tol)
        lam = shifted - shift
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
    v = _normalize(v)
    lam = math.nan
    for _ in range(iters):
        hv = matvec(v)
        new_lam = sum((a * b).sum() for a, b in zip(v, hv)).item()  # Rayleigh quotient vᵀHv
        v = _normalize(hv)
        if abs(new_lam - lam) <= tol * abs(new_lam):
            return new_lam, v
        lam = new_lam
    return lam, v


def _normalize(v):
    norm = torch.sqrt(sum((t * t).sum() for t in v))
    return [t / norm for t in v]
