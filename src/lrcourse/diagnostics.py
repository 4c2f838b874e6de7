"""What to watch while a network trains: how far each step moves the weights, and which units died.

Two cheap signals about η that ``train`` writes into its ``History``:

* the **update-to-weight ratio** of each parameter tensor at each step
  (``train(..., log_updates=True)`` → ``History.update_ratios``),

      r_t = ‖w_{t+1} − w_t‖ / ‖w_t‖,

  the step the optimizer *actually applied* (momentum, Adam's scaling, weight
  decay and clipping included), measured around ``optimizer.step()``, relative
  to the size of the weights before it. For plain SGD w_{t+1} − w_t = −η g_t,
  so r_t = η ‖g_t‖ / ‖w_t‖. The cs231n notes suggest a ratio of about 1e-3 for
  the weights: far below, η is probably too low; far above, too high.
* the **dead-unit fraction** at each evaluation (``History.dead_fraction``,
  always logged: it rides on the forward pass that measures the training
  accuracy): the share of ReLU units whose output is 0 on every training image.
  Such a unit gets no gradient from this data and does not come back.

The ratio is kept per *named parameter* (``"1.weight"``, ``"1.bias"``, … as
``model.named_parameters()`` names them), not per layer: a layer's weights and
its biases have very different sizes, and the heuristic is about the weights.

Example: one SGD step moves a weight vector of norm 5 by η‖g‖ = 0.1 · 0.5.

    >>> import torch
    >>> layer = torch.nn.Linear(2, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[3.0, 4.0]]))   # ‖w‖ = 5
    >>> layer.weight.grad = torch.tensor([[0.3, 0.4]])         # ‖g‖ = 0.5
    >>> ratios = UpdateRatios(layer)
    >>> ratios.before()
    >>> torch.optim.SGD(layer.parameters(), lr=0.1).step()
    >>> {name: round(r, 6) for name, r in ratios.after().items()}   # 0.1 · 0.5 / 5
    {'weight': 0.01}

Reference: A. Karpathy et al., CS231n notes, "Neural Networks Part 3: Learning
and Evaluation" (ratio of weights:updates), 2016.
"""

import torch
from torch import nn


class UpdateRatios:
    """Measures ‖w_{t+1} − w_t‖ / ‖w_t‖ of each named parameter around one optimizer step.

    Call :meth:`before` just before ``optimizer.step()`` (it copies the
    weights) and :meth:`after` just after it: the difference is the update
    that was really applied, rounding included (norms are summed in float64);
    ‖w_t‖ = 0 gives ``inf`` (or ``nan`` if nothing moved).
    """

    def __init__(self, model):
        self.named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self._before = None

    @property
    def names(self):
        return [name for name, _ in self.named]

    @torch.no_grad()
    def before(self):
        self._before = [p.detach().clone() for _, p in self.named]

    @torch.no_grad()
    def after(self):
        """Return ``{name: ratio}`` for the step since :meth:`before`."""
        if self._before is None:
            raise RuntimeError("UpdateRatios.after() called without before()")
        norm = torch.linalg.vector_norm
        ratios = torch.stack([norm(p.detach() - w, dtype=torch.float64) / norm(w, dtype=torch.float64)
                              for (_, p), w in zip(self.named, self._before)])
        self._before = None
        return dict(zip(self.names, ratios.tolist()))


class DeadUnits:
    """Counts the ReLU units that output 0 on every example seen while it is active.

    Used as a context manager around forward passes (``with DeadUnits(model) as
    dead: model(x)``); afterwards ``dead.fraction`` is the share of dead units
    over every ``nn.ReLU`` module of the model (a unit is one output feature of
    a linear layer, one channel of a convolution, at any position), and
    ``dead.num_units`` how many units it watched (0 when the model has no
    ``nn.ReLU`` module; ``fraction`` is then ``nan``). Each call of a module
    counts as its own layer, so a ReLU module used twice is counted twice.

    >>> net = nn.Sequential(nn.Linear(1, 2), nn.ReLU())
    >>> with torch.no_grad():
    ...     _ = net[0].weight.copy_(torch.tensor([[1.0], [-1.0]])), net[0].bias.zero_()
    >>> with DeadUnits(net) as dead, torch.no_grad():
    ...     _ = net(torch.tensor([[1.0], [2.0]]))     # unit 2 computes -x < 0 on both
    >>> dead.fraction, dead.num_units
    (0.5, 2)
    """

    def __init__(self, model):
        self.model = model
        self._alive = {}  # (module name, call within a forward pass) → bool tensor, one per unit
        self._hooks = []

    def __enter__(self):
        relus = [(name, m) for name, m in self.model.named_modules() if isinstance(m, nn.ReLU)]
        self._calls = 0
        self._hooks.append(self.model.register_forward_pre_hook(self._new_pass))
        self._hooks += [m.register_forward_hook(self._hook(name)) for name, m in relus]
        return self

    def __exit__(self, *exc):
        for hook in self._hooks:
            hook.remove()
        self._hooks = []

    def _new_pass(self, module, inputs):
        self._calls = 0

    def _hook(self, name):
        def record(module, inputs, output):
            self._calls += 1
            # (N, units) or (N, channels, ...): a unit is alive if it is > 0 anywhere
            alive = (output.detach() > 0).transpose(0, 1).reshape(output.shape[1], -1).any(dim=1)
            key = (name, self._calls)
            self._alive[key] = alive if key not in self._alive else self._alive[key] | alive
        return record

    @property
    def num_units(self):
        return sum(len(alive) for alive in self._alive.values())

    @property
    def fraction(self):
        if not self._alive:
            return float("nan")
        dead = sum(int((~alive).sum()) for alive in self._alive.values())
        return dead / self.num_units
