"""deepclust.optimizers against torch.optim's fused SGD and Adam: the same parameters, bit for
bit, step after step, through learning-rate changes, parameters without gradients and a
state_dict round trip; and no import of torch's compiler."""

import subprocess
import sys

import pytest
import torch

from deepclust import optimizers

SETTINGS = {
    "sgd": (lambda ps, **kw: optimizers.SGD(ps, **kw), lambda ps, **kw: torch.optim.SGD(ps, fused=True, **kw),
            {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}),
    "sgd-no-momentum": (lambda ps, **kw: optimizers.SGD(ps, **kw),
                        lambda ps, **kw: torch.optim.SGD(ps, fused=True, **kw), {"lr": 0.05}),
    "adam": (lambda ps, **kw: optimizers.Adam(ps, **kw), lambda ps, **kw: torch.optim.Adam(ps, fused=True, **kw),
             {"lr": 1e-2, "betas": (0.5, 0.99), "weight_decay": 1e-4}),
}


def model_pair(seed=0):
    torch.manual_seed(seed)
    ours = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.Linear(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.Linear(3, 2))
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def train(model, optimizer, steps, seed, frozen_last=False):
    generator = torch.Generator().manual_seed(seed)
    for step in range(steps):
        x = torch.randn(16, 6, generator=generator)
        optimizer.zero_grad(set_to_none=True)
        hidden = model[2](model[1](model[0](x)))
        # the last layer gets no gradient at odd steps while frozen_last: torch leaves it alone
        out = hidden.mean() if frozen_last and step % 2 == 1 else model[3](hidden).pow(2).mean()
        out.backward()
        optimizer.step()


@pytest.mark.parametrize("name", SETTINGS)
def test_updates_equal_torchs_fused_optimizers_bit_for_bit(name):
    ours_of, theirs_of, settings = SETTINGS[name]
    ours, theirs = model_pair()
    ours_opt, theirs_opt = ours_of(ours.parameters(), **settings), theirs_of(theirs.parameters(), **settings)
    train(ours, ours_opt, 7, seed=1, frozen_last=True)
    train(theirs, theirs_opt, 7, seed=1, frozen_last=True)
    for group in (*ours_opt.param_groups, *theirs_opt.param_groups):  # as VaDE's and JULE's schedules do
        group["lr"] *= 0.5
    train(ours, ours_opt, 5, seed=2)
    train(theirs, theirs_opt, 5, seed=2)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", SETTINGS)
def test_a_state_dict_round_trip_resumes_to_the_uninterrupted_result(name, tmp_path):
    ours_of, _, settings = SETTINGS[name]
    straight, resumed = model_pair()
    optimizer = ours_of(straight.parameters(), **settings)
    train(straight, optimizer, 10, seed=3)

    first = ours_of(resumed.parameters(), **settings)
    train(resumed, first, 4, seed=3)
    torch.save({"model": resumed.state_dict(), "optimizer": first.state_dict()}, tmp_path / "state.pt")
    saved = torch.load(tmp_path / "state.pt", weights_only=True)
    _, fresh = model_pair(seed=9)
    fresh.load_state_dict(saved["model"])
    second = ours_of(fresh.parameters(), **settings)
    second.load_state_dict(saved["optimizer"])
    generator_state = torch.Generator().manual_seed(3)
    for _ in range(4):  # the batches the first part drew
        torch.randn(16, 6, generator=generator_state)
    for _ in range(6):
        x = torch.randn(16, 6, generator=generator_state)
        second.zero_grad(set_to_none=True)
        fresh(x).pow(2).mean().backward()
        second.step()
    for a, b in zip(straight.parameters(), fresh.parameters()):
        assert torch.equal(a, b)


def test_parameters_on_two_dtypes_are_refused():
    with pytest.raises(ValueError, match="one device with one dtype"):
        optimizers.Adam([torch.zeros(2, requires_grad=True), torch.zeros(2, dtype=torch.float64, requires_grad=True)])


def test_training_imports_no_compiler():
    """torch.optim imports torch._dynamo (~1.2 s) when built and at its first step; a training
    job built on make_optimizer must not."""
    code = ("import sys, torch; from deepclust import engine\n"
            "m = torch.nn.Linear(4, 2)\n"
            "for name in ('adam', 'sgd'):\n"
            "    o = engine.make_optimizer(name, m.parameters(), 0.1)\n"
            "    o.zero_grad(); m(torch.ones(3, 4)).sum().backward(); o.step(); o.load_state_dict(o.state_dict())\n"
            "print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
