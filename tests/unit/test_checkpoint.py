"""Checkpoints: a run stopped after some epochs and resumed ends exactly where an uninterrupted
run ends (weights, labels, history), and SIGTERM saves and exits non-zero."""

import json
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from deepclust import engine
from deepclust.methods.dec import DEC
from deepclust.methods.idec import IDEC
from deepclust.pretrain import pretrain_autoencoder

X = (load_digits().data / 16).astype(np.float32)[:600]
PRETRAIN = dict(hidden_dims=(32,), embedding_dim=4, batch_size=128, input_dropout=0.1, device="cpu",
                random_state=3, verbose=False)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_pretraining_resumed_after_5_epochs_equals_10_straight(tmp_path):
    straight, straight_history = pretrain_autoencoder(X, epochs=10, **PRETRAIN)
    checkpoint = engine.Checkpoint(tmp_path / "ck.pt", key="same settings", every=1)
    pretrain_autoencoder(X, epochs=5, checkpoint=checkpoint, **PRETRAIN)     # "killed" after epoch 5
    resumed, resumed_history = pretrain_autoencoder(X, epochs=10, checkpoint=checkpoint, **PRETRAIN)
    assert_same_weights(weights(straight), weights(resumed))
    assert resumed_history == straight_history


def test_a_checkpoint_of_other_settings_is_set_aside_not_resumed(tmp_path, capsys):
    path = tmp_path / "ck.pt"
    pretrain_autoencoder(X, epochs=3, checkpoint=engine.Checkpoint(path, key="lr 0.1", every=1), **PRETRAIN)
    interrupted = path.read_bytes()
    fresh, history = pretrain_autoencoder(X, epochs=4, checkpoint=engine.Checkpoint(path, key="lr 0.01", every=1),
                                          **PRETRAIN)
    straight, straight_history = pretrain_autoencoder(X, epochs=4, **PRETRAIN)
    assert history == straight_history and len(history) == 4
    assert_same_weights(weights(fresh), weights(straight))
    [aside] = tmp_path.glob("ck.pt.other-settings-*")  # kept, not deleted: the other run can still resume
    assert aside.read_bytes() == interrupted
    assert f"[checkpoint] {path} is from other settings, code or kind of device: set aside as {aside.name}" in capsys.readouterr().err


def test_an_unreadable_checkpoint_is_set_aside_and_training_starts_afresh(tmp_path, capsys):
    path = tmp_path / "ck.pt"
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


@pytest.mark.parametrize("method", [DEC, IDEC])
def test_clustering_resumed_mid_run_equals_an_uninterrupted_run(tmp_path, method):
    autoencoder, _ = pretrain_autoencoder(X, epochs=3, **PRETRAIN)
    settings = dict(autoencoder=autoencoder, batch_size=64, update_interval=7, tol=0.0, n_init=2, device="cpu",
                    random_state=1, lr=0.05)
    straight = method(10, max_epochs=8, **settings).fit(X)
    checkpoint = engine.Checkpoint(tmp_path / "ck.pt", key="k", every=1)
    method(10, max_epochs=3, **settings).fit(X, checkpoint=checkpoint)
    resumed = method(10, max_epochs=8, **settings).fit(X, checkpoint=checkpoint)
    assert np.array_equal(resumed.labels_, straight.labels_)
    assert np.array_equal(resumed.cluster_centers_, straight.cluster_centers_)
    assert resumed.n_iter_ == straight.n_iter_
    assert json.dumps(resumed.history_) == json.dumps(straight.history_)   # NaN-aware: the first loss is NaN
    assert_same_weights(weights(resumed.autoencoder_), weights(straight.autoencoder_))


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
