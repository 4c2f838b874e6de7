"""lrcourse.train: learns, is deterministic, reports divergence, validates every input."""

import functools
import math
import re

import numpy as np
import pytest
import torch

from lrcourse.digits import load_digits
from lrcourse.models import mlp
from lrcourse.train import (
    _show_progress,
    available_devices,
    check_device,
    evaluate,
    minibatches,
    train,
)


@pytest.fixture(scope="module")
def data():
    return load_digits(n_train=2000, n_test=500)


def test_a_good_lr_learns(data):
    history = train(mlp(), data, lr=0.1, num_epochs=2)
    assert history.test_acc[0] < 0.2 and history.test_acc[-1] > 0.6  # chance is 0.1
    assert history.diverged_at is None and not history.diverged
    steps = 2 * math.ceil(2000 / 64)
    assert len(history.losses) == len(history.lrs) == steps and set(history.lrs) == {0.1}
    assert history.eval_step == [0, steps // 2, steps]  # init, after each epoch
    assert len(history.train_acc) == len(history.test_acc) == len(history.test_loss) == 3
    assert history.seconds > 0


def test_same_seed_same_numbers(data):
    a = train(mlp(seed=1), data, lr=0.1, momentum=0.9, seed=5)
    b = train(mlp(seed=1), data, lr=0.1, momentum=0.9, seed=5)
    c = train(mlp(seed=1), data, lr=0.1, momentum=0.9, seed=6)  # other batch order
    assert a.losses == b.losses and a.test_acc == b.test_acc and a.train_acc == b.train_acc
    assert a.losses != c.losses


def test_divergence_stops_at_a_step_without_raising(data):
    history = train(mlp(), data, lr=1000.0, num_epochs=3)
    step = history.diverged_at
    assert step is not None and history.diverged
    assert len(history.losses) == step + 1  # nothing after the blow-up
    assert not math.isfinite(history.losses[-1]) or history.losses[-1] > 1e6
    assert all(loss <= 1e6 for loss in history.losses[:-1])
    assert history.eval_step[-1] == step  # the final evaluation is of the model as it stopped
    print(f"\nη = 1000 diverged at step {step}: losses {history.losses}")
    lower = train(mlp(), data, lr=30.0, max_loss=4.0)  # a stricter max_loss stops earlier
    assert lower.diverged and lower.losses[-1] > 4.0


def test_schedule_sets_lr_each_step(data):
    history = train(mlp(), data, lr=lambda step: 0.2 / (1 + step), num_epochs=1)
    assert history.lrs == pytest.approx([0.2 / (1 + t) for t in range(len(history.lrs))])
    zero_at_end = train(mlp(), data, lr=lambda step: max(0.0, 0.1 - 0.01 * step))
    assert zero_at_end.lrs[-1] == 0.0


def test_other_optimizers_and_factories_and_numpy_data(data):
    x, y, xt, yt = (t.numpy() for t in data)
    # each learns: far above chance (0.1), whatever the seed
    acc = train(mlp(), (x, y, xt, yt), optimizer="adam", lr=1e-3).test_acc[-1]
    assert acc > 0.4, f"Adam on numpy arrays should learn: test accuracy {acc:.3f}"
    factory = functools.partial(torch.optim.SGD, momentum=0.5, nesterov=True)
    acc = train(mlp(), data, optimizer=factory, lr=0.1).test_acc[-1]
    assert acc > 0.4, f"an optimizer factory should learn: test accuracy {acc:.3f}"
    only_train = train(mlp(), data[:2], lr=0.1, eval_every=10)
    assert only_train.test_acc == [] and only_train.eval_step[:3] == [0, 10, 20]


def test_evaluate(data):
    model = mlp()
    loss, acc = evaluate(model, data[2], data[3])
    assert 0 <= acc <= 1 and abs(loss - math.log(10)) < 0.5  # an untrained net: ≈ log 10
    assert model.training  # its mode is restored
    assert evaluate(model, data[2], data[3], batch_size=7) == pytest.approx((loss, acc))
    with pytest.raises(ValueError, match=r"Invalid evaluation images: shape \(500, 50\) \(the "
                       r"model cannot take it: its first layer takes 784 features per example"):
        evaluate(model, data[2][:, :50], data[3])
    with pytest.raises(ValueError, match="batch_size: 0"):
        evaluate(model, data[2], data[3], batch_size=0)


def test_cuda_without_cuda_says_so(data):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match=r"Invalid device: 'cuda' \(not available on this "
                                         r"machine, which has \['cpu'"):
        train(mlp(), data, lr=0.1, device="cuda")


@pytest.mark.parametrize("device", ["mps", "xla", "cuda:7", "nonsense", torch.device("cuda:7")])
def test_a_device_this_machine_lacks_is_named_with_those_it_has(device):
    name = str(device)
    if name in available_devices() or (name == "mps" and "mps:0" in available_devices()):
        pytest.skip(f"this machine has {name}")
    shown = "not a device name" if name == "nonsense" else "not available on this machine"
    with pytest.raises(ValueError, match=rf"Invalid device: '{name}' \({shown}.*'cpu'"):
        check_device(device)
    with pytest.raises(ValueError, match=rf"Invalid device: '{name}'"):
        train(mlp(), GOOD, lr=0.1, device=device)


def test_available_devices_all_pass_check_device():
    devices = available_devices()
    assert devices[0] == "cpu"
    assert [str(check_device(d)) for d in devices] == devices
    assert check_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_learns_like_the_cpu(data):
    cpu = train(mlp(), data, lr=0.1, num_epochs=1)
    gpu = train(mlp(), data, lr=0.1, num_epochs=1, device="cuda")
    assert gpu.test_acc[-1] > 0.6
    assert np.allclose(gpu.losses, cpu.losses, rtol=1e-3, atol=1e-4)  # same init, same batches


def test_grad_norms_are_recorded_per_step(data):
    model = mlp(seed=4)
    history = train(model, data, lr=0.1, seed=2)
    assert len(history.grad_norms) == len(history.losses) and all(g > 0 for g in history.grad_norms)
    # the first step's norm, by hand: the same init, the first mini-batch of the same order
    fresh = mlp(seed=4)
    idx = next(minibatches(len(data[0]), 64, seed=2))
    torch.nn.functional.cross_entropy(fresh(data[0][idx]), data[1][idx]).backward()
    by_hand = torch.cat([p.grad.ravel() for p in fresh.parameters()]).norm().item()
    assert history.grad_norms[0] == pytest.approx(by_hand, rel=1e-5)
    blown = train(mlp(), data, lr=1000.0)
    assert len(blown.grad_norms) == len(blown.losses) and math.isnan(blown.grad_norms[-1])
    assert all(math.isfinite(g) for g in blown.grad_norms[:-1])


def test_on_step_sees_each_step_before_its_update(data):
    steps, first_layer, w_seen = [], [], []

    def watch(s):
        steps.append(s)
        first_layer.append(s.model[1].weight.grad.norm().item())  # a per-layer norm
        w_seen.append(s.model[1].weight.detach().clone())

    model = mlp(seed=1)
    w0 = model[1].weight.detach().clone()
    history = train(model, data, lr=lambda t: 0.1 / (1 + t), seed=3, on_step=watch)
    assert [s.step for s in steps] == list(range(len(history.losses)))
    assert [s.lr for s in steps] == history.lrs and [s.loss for s in steps] == history.losses
    assert [s.grad_norm for s in steps] == history.grad_norms
    assert all(f <= g for f, g in zip(first_layer, history.grad_norms))  # a part of the whole
    assert torch.equal(w_seen[0], w0)  # step 0 sees the initial weights w_0 ...
    assert not torch.equal(w_seen[1], w0)  # ... step 1 those after one update
    assert all(s.model is model and isinstance(s.optimizer, torch.optim.SGD) for s in steps)
    same = train(mlp(seed=1), data, lr=lambda t: 0.1 / (1 + t), seed=3)
    assert same.losses == history.losses  # watching changes nothing


def test_on_step_is_not_called_at_the_step_that_diverged(data):
    calls = []
    history = train(mlp(), data, lr=1000.0, on_step=calls.append)
    assert history.diverged and len(calls) == history.diverged_at


def test_describe_says_how_the_run_ended(data):
    blown = train(mlp(), data, lr=1000.0)
    assert blown.describe() == f"diverged at step {blown.diverged_at} (η = 1e+03)"
    good = train(mlp(), data, lr=0.1)
    assert good.describe() == (
        f"{len(good.losses)} steps at η = 0.1: last mini-batch loss {good.losses[-1]:.3g}, "
        f"test loss {good.test_loss[-1]:.3g}, test accuracy {good.test_acc[-1]:.1%}")
    no_test = train(mlp(), data[:2], lr=lambda t: 0.2 / (1 + t))
    assert no_test.describe().startswith(f"{len(no_test.losses)} steps at η = 0.2 … ")
    assert "test" not in no_test.describe()


def test_max_loss_may_be_infinite(data):
    history = train(mlp(), data, lr=0.1, max_loss=math.inf)
    assert history.diverged_at is None


def test_progress_is_quiet_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert _show_progress(None) is False
    assert _show_progress(True) is True
    monkeypatch.delenv("CI")
    assert _show_progress(False) is False


GOOD = load_digits(n_train=64, n_test=10)


@pytest.mark.parametrize("kwargs, shown", [
    ({"lr": 0}, "learning rate: 0"), ({"lr": -0.1}, "learning rate: -0.1"),
    ({"lr": math.nan}, "learning rate: nan"), ({"lr": math.inf}, "learning rate: inf"),
    ({"lr": "0.1"}, "learning rate: '0.1'"), ({"lr": None}, "learning rate: None"),
    ({"lr": lambda t: -0.1}, "-0.1 from schedule(0)"),
    ({"lr": 0.1, "num_epochs": 0}, "num_epochs: 0"), ({"lr": 0.1, "num_epochs": -1}, "-1"),
    ({"lr": 0.1, "num_epochs": 1.5}, "num_epochs: 1.5"),
    ({"lr": 0.1, "batch_size": 0}, "batch_size: 0"), ({"lr": 0.1, "eval_every": 0}, "eval_every"),
    ({"lr": 0.1, "momentum": 1.0}, "momentum: 1.0"), ({"lr": 0.1, "momentum": -0.5}, "-0.5"),
    ({"lr": 0.1, "optimizer": "lbfgs"}, "'lbfgs'"),
    ({"lr": 0.1, "optimizer": "adam", "momentum": 0.9}, "momentum: 0.9"),
    ({"lr": 0.1, "max_loss": -1}, "max_loss: -1 (expected a number > 0, inf allowed)"),
    ({"lr": 0.1, "max_loss": math.nan}, "max_loss: nan"), ({"lr": 0.1, "max_loss": "1"}, "'1'"),
    ({"lr": -0.1}, "learning rate: -0.1 (expected a finite number > 0)"),
    ({"lr": lambda t: math.nan}, "nan from schedule(0)"),
    ({"lr": lambda t: 0.1 if t < 5 else -0.1, "batch_size": 8},
     "-0.1 from schedule(5) (the schedule"),
    ({"lr": 0.1, "device": "gpu"}, "'gpu'"),
    ({"lr": 0.1, "seed": "zero"}, "seed: 'zero'"), ({"lr": 0.1, "seed": -1}, "seed: -1"),
    ({"lr": 0.1, "on_step": "print"}, "Invalid on_step: 'print' (expected a function of a Step)"),
    ({"lr": 0.1, "clip_grad_norm": 0}, "Invalid clip_grad_norm: 0 (expected a finite number > 0)"),
    ({"lr": 0.1, "clip_grad_norm": -1.0}, "Invalid clip_grad_norm: -1.0"),
    ({"lr": 0.1, "clip_grad_norm": math.nan}, "Invalid clip_grad_norm: nan"),
    ({"lr": 0.1, "clip_grad_norm": math.inf}, "Invalid clip_grad_norm: inf"),
    ({"lr": 0.1, "clip_grad_norm": "1"}, "Invalid clip_grad_norm: '1'"),
    ({"lr": 0.1, "log_updates": "yes"}, "Invalid log_updates: 'yes' (expected True or False)"),
    ({"lr": 0.1, "log_updates": 1}, "Invalid log_updates: 1 (expected True or False)"),
])
def test_bad_arguments_raise_value_error(kwargs, shown):
    with pytest.raises(ValueError, match=re.escape(shown)) as info:
        train(mlp(), GOOD, **kwargs)
    # train runs torch optimizers: no message offers allow_negative or speaks of a climbing η
    assert "allow_negative" not in str(info.value) and "climbs" not in str(info.value)


x, y, xt, yt = GOOD


@pytest.mark.parametrize("bad, shown", [
    ((x[:0], y[:0], xt, yt), "empty"),
    ((x[:, :100], y, xt, yt), (r"Invalid train images: shape \(64, 100\) \(the model cannot "
                              r"take it: its first layer takes 784 features per example; torch "
                              r"says: mat1 and mat2")),
    ((x, y[:10], xt, yt), "labels must be integers of shape"),
    ((x, y.float(), xt, yt), "labels must be integers"),
    ((x, y + 10, xt, yt), "labels span"),
    (((x * 255).to(torch.uint8), y, xt, yt), "uint8"),
    ((x * np.nan, y, xt, yt), "NaN"),
    ((x, y, xt), "length 3"), (x, "Tensor"),
    ((x, y, xt.reshape(10, 28, 28)[:, :10], yt), r"Invalid test images: shape \(10, 10, 28\)"),
])
def test_bad_data_raises_value_error(bad, shown):
    with pytest.raises(ValueError, match=shown):
        train(mlp(), bad, lr=0.1)
