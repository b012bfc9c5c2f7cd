"""Checkpoints across devices: a run saves the random streams of its own device only, a state
from another kind of device is refused with the reason, and a workflow job's checkpoint is keyed
by the kind of device it trains on, so a retry that got another kind starts afresh. CUDA faked."""

import types

import pytest
import torch

from deepclust import engine, jobs


def test_a_cpu_run_saves_no_cuda_streams_where_cuda_is_present(monkeypatch):
    """Saving every GPU's stream (get_rng_state_all) breaks a resume that sees fewer GPUs."""
    def every_gpu():
        raise AssertionError("the streams of every visible GPU were saved")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", every_gpu)
    state = engine.rng_state(torch.Generator().manual_seed(0))
    assert state["device"] == "cpu" and "cuda" not in state
    engine.set_rng_state(torch.Generator(), state)


def test_a_gpu_run_saves_and_restores_its_own_devices_stream(monkeypatch):
    saved, restored = torch.tensor([1, 2], dtype=torch.uint8), []
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device: saved if device == torch.device("cuda:1") else None)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, device: restored.append((state, device)))
    generator = types.SimpleNamespace(device=torch.device("cuda:1"), get_state=lambda: "its state",
                                      set_state=lambda state: restored.append(state))
    state = engine.rng_state(generator)
    assert state["device"] == "cuda" and state["cuda"] is saved
    engine.set_rng_state(generator, state)
    assert restored == ["its state", (saved, torch.device("cuda:1"))]


def test_a_state_from_another_kind_of_device_is_refused_with_the_reason():
    """A CPU generator's state (5,056 bytes) fed to a CUDA generator (16) fails inside torch
    with no word of why; the state says where it was saved."""
    def cuda_set_state(state):
        raise RuntimeError("RNG state is wrong size")

    on_gpu = types.SimpleNamespace(device=torch.device("cuda:0"), set_state=cuda_set_state)
    with pytest.raises(ValueError, match="from a run on cpu, this run trains on cuda: resume it on the same kind"):
        engine.set_rng_state(on_gpu, engine.rng_state(torch.Generator()))


def test_a_jobs_checkpoint_key_holds_the_kind_of_device():
    """With `device: auto` a retry may get a GPU where the first try had none: another key, so
    the CPU checkpoint is set aside and the run starts afresh. Another GPU index is the same kind."""
    job = types.SimpleNamespace(params={"device": "auto", "precision": "tf32",
                                        "checkpoint": "results/checkpoints/runs/d/m/seed0/checkpoint.pt"})
    key = {device: jobs.checkpoint(job, device).key for device in ("cpu", "cuda:0", "cuda:1")}
    assert key["cpu"] != key["cuda:0"] == key["cuda:1"]
