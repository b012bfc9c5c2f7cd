"""The checkpoint file and the training loop that writes it (engine.Checkpoint, engine.TrainingLoop),
on pretraining: a run stopped after some epochs and resumed ends exactly where an uninterrupted
run ends; a real SIGTERM saves and exits non-zero and the retry resumes; a file of other
settings, of another format or that cannot be read is set aside, never resumed nor deleted; the
signal handler is the process's own again after the loop, however it ends; the random streams
saved are the training device's only, a state from another kind of device is refused with the
reason, and a workflow job's key holds the kind of device. CUDA is faked. Every method's resume:
test_checkpoint_methods.py."""

import signal
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from deepclust import engine, jobs
from deepclust.pretrain import pretrain_autoencoder

PRETRAIN = dict(hidden_dims=(32,), embedding_dim=4, batch_size=64, input_dropout=0.1, device="cpu",
                random_state=3, verbose=False)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_pretraining_resumed_after_5_epochs_equals_10_straight(digits, tmp_path):
    X = digits[0]
    straight, straight_history = pretrain_autoencoder(X, epochs=10, **PRETRAIN)
    checkpoint = engine.Checkpoint(tmp_path / "ck.pt", key="same settings", every=1)
    pretrain_autoencoder(X, epochs=5, checkpoint=checkpoint, **PRETRAIN)     # "killed" after epoch 5
    resumed, resumed_history = pretrain_autoencoder(X, epochs=10, checkpoint=checkpoint, **PRETRAIN)
    assert_same_weights(weights(straight), weights(resumed))
    assert resumed_history == straight_history


def test_a_checkpoint_of_other_settings_is_set_aside_not_resumed(digits, tmp_path, capsys):
    X, path = digits[0], tmp_path / "ck.pt"
    pretrain_autoencoder(X, epochs=3, checkpoint=engine.Checkpoint(path, key="lr 0.1", every=1), **PRETRAIN)
    interrupted = path.read_bytes()
    fresh, history = pretrain_autoencoder(X, epochs=4, checkpoint=engine.Checkpoint(path, key="lr 0.01", every=1),
                                          **PRETRAIN)
    straight, straight_history = pretrain_autoencoder(X, epochs=4, **PRETRAIN)
    assert history == straight_history and len(history) == 4
    assert_same_weights(weights(fresh), weights(straight))
    [aside] = tmp_path.glob("ck.pt.other-settings-*")  # kept, not deleted: the other run can still resume
    assert aside.read_bytes() == interrupted
    assert f"[checkpoint] {path} is from other settings, code or kind of device: set aside as {aside.name}" in \
        capsys.readouterr().err


def test_a_checkpoint_of_another_format_is_set_aside_not_misread(digits, tmp_path, capsys):
    """A file written by an older training loop, with the same key, is not read as this one's."""
    X, path = digits[0], tmp_path / "ck.pt"
    pretrain_autoencoder(X, epochs=3, checkpoint=engine.Checkpoint(path, key="k", every=1), **PRETRAIN)
    old = torch.load(path, weights_only=True)
    old["format"] = engine.FORMAT - 1
    torch.save(old, path)
    fresh, history = pretrain_autoencoder(X, epochs=4, checkpoint=engine.Checkpoint(path, key="k", every=1),
                                          **PRETRAIN)
    straight, straight_history = pretrain_autoencoder(X, epochs=4, **PRETRAIN)
    assert history == straight_history
    assert_same_weights(weights(fresh), weights(straight))
    [aside] = tmp_path.glob("ck.pt.other-settings-*")
    assert "resuming" not in capsys.readouterr().err


def test_an_unreadable_checkpoint_is_set_aside_and_training_starts_afresh(digits, tmp_path, capsys):
    X, path = digits[0], tmp_path / "ck.pt"
    pretrain_autoencoder(X, epochs=3, checkpoint=engine.Checkpoint(path, key="k", every=1), **PRETRAIN)
    path.write_bytes(path.read_bytes()[:1000])  # truncated: a disk filled up, a copy cut short
    fresh, history = pretrain_autoencoder(X, epochs=4, checkpoint=engine.Checkpoint(path, key="k", every=1),
                                          **PRETRAIN)
    straight, straight_history = pretrain_autoencoder(X, epochs=4, **PRETRAIN)
    assert history == straight_history
    assert_same_weights(weights(fresh), weights(straight))
    [aside] = tmp_path.glob("ck.pt.unreadable-*")
    assert len(aside.read_bytes()) == 1000
    err = capsys.readouterr().err
    assert f"[checkpoint] {path} cannot be read (" in err and f"set aside as {aside.name}, starting afresh" in err


CHILD = """
import sys
import numpy as np
from sklearn.datasets import load_digits
from deepclust import engine
from deepclust.pretrain import pretrain_autoencoder
X = (load_digits().data / 16).astype(np.float32)
checkpoint = engine.Checkpoint(sys.argv[1], key="k", every=1000)   # only SIGTERM saves
model, history = pretrain_autoencoder(X, hidden_dims=(64,), embedding_dim=8, epochs=20, batch_size=32,
                                      device="cpu", random_state=0, verbose=True, checkpoint=checkpoint)
np.save(sys.argv[2], np.array([h["loss"] for h in history]))
"""


def test_sigterm_saves_exits_nonzero_and_the_retry_resumes(tmp_path):
    path, losses = tmp_path / "ck.pt", tmp_path / "losses.npy"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(losses)], stderr=subprocess.PIPE, text=True)
    for line in child.stderr:            # progress lines: "[pretrain] epoch 6/20 ..."
        if "epoch 6/20" in line:
            child.send_signal(signal.SIGTERM)
            break
    rest = child.stderr.read()
    assert child.wait(120) != 0, rest
    assert "Preempted" in rest and "checkpoint saved" in rest, rest
    assert path.is_file() and not losses.exists()
    stopped_after = torch.load(path, weights_only=True)["epoch"] + 1
    assert 6 <= stopped_after < 20

    retry = subprocess.run([sys.executable, "-c", CHILD, str(path), str(losses)], capture_output=True, text=True,
                           timeout=300)
    assert retry.returncode == 0, retry.stderr[-3000:]
    assert f"resuming after epoch {stopped_after}" in retry.stderr
    resumed = np.load(losses)

    straight = tmp_path / "straight.npy"
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "other.pt"), str(straight)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert np.array_equal(resumed, np.load(straight))


@pytest.mark.parametrize("ending", ["finished", "break", "error"])
def test_the_sigterm_handler_is_the_processs_own_again_after_the_loop(tmp_path, ending):
    """While the loop runs, SIGTERM asks for a save; after it, however it ended, SIGTERM is the
    process's own business again (a stray handler would swallow a later job's SIGTERM)."""
    def own(signum, frame):
        pass

    previous = signal.signal(signal.SIGTERM, own)
    try:
        loop = engine.TrainingLoop("test", torch.Generator(), engine.Checkpoint(tmp_path / "ck.pt", key="k"))

        def run():
            for epoch in loop.epochs(3):
                assert signal.getsignal(signal.SIGTERM) != own
                if epoch == 1 and ending == "break":
                    break
                if epoch == 1 and ending == "error":
                    raise engine.DivergenceError("a loss became NaN")

        if ending == "error":
            with pytest.raises(engine.DivergenceError):
                run()
        else:
            run()
        assert signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---- devices ----------------------------------------------------------------------------------

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
