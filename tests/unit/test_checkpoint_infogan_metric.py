"""Checkpoints of InfoGAN (epoch ends) and metric-learning DC (round ends): a run stopped after k
epochs/rounds and resumed with the full length ends exactly where an uninterrupted run ends
(weights, labels, history), also when the checkpoint is from the very last epoch/round."""

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from deepclust import engine
from deepclust.methods.infogan import InfoGAN
from deepclust.methods.metric_learning import MetricLearningDC
from deepclust.pretrain import pretrain_autoencoder

X, Y = load_digits(return_X_y=True)
X, Y = (X[:300] / 16).astype(np.float32), Y[:300]
INFOGAN = dict(image_shape=(1, 8, 8), batch_size=50, device="cpu", random_state=0, hidden_dim=32, q_hidden_dim=16,
               filters=8, noise_dim=8, verbose=True)
METRIC = dict(batch_size=40, n_init=3, epochs_per_round=2, tol=0.0, device="cpu", random_state=0, verbose=True)


@pytest.fixture(scope="module")
def autoencoder():
    model, _ = pretrain_autoencoder(X, (64,), 8, epochs=10, batch_size=32, device="cpu", random_state=0,
                                    verbose=False)
    return model


def make(method, length, autoencoder):
    """InfoGAN with ``length`` epochs or MetricLearningDC with ``length`` rounds (2 epochs each)."""
    if method == "infogan":
        return InfoGAN(10, max_epochs=length, **INFOGAN), f"[InfoGAN] epoch {{}}/{length} "
    return (MetricLearningDC(10, autoencoder=autoencoder, rounds=length, **METRIC),
            f"[MetricLearningDC] epoch {{}}/{2 * length} ")


def assert_same_fit(resumed, straight):
    assert np.array_equal(resumed.labels_, straight.labels_) and resumed.labels_.dtype == straight.labels_.dtype
    assert json.dumps(resumed.history_) == json.dumps(straight.history_)   # NaN-aware (round 0's losses)
    a, b = resumed.autoencoder_.state_dict(), straight.autoencoder_.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    if isinstance(straight, MetricLearningDC):
        assert np.array_equal(resumed.cluster_centers_, straight.cluster_centers_)
        assert (resumed.n_rounds_, resumed.converged_) == (straight.n_rounds_, straight.converged_)


@pytest.mark.parametrize("method", ["infogan", "metric"])
def test_resumed_after_k_equals_an_uninterrupted_run(method, autoencoder, tmp_path, capfd):
    full, k = 4, 2
    straight, _ = make(method, full, autoencoder)
    assert straight.supports_checkpoint               # cluster_deep.py passes the checkpoint only then
    straight.fit(X, Y)
    path = tmp_path / "ck.pt"
    checkpoint = engine.Checkpoint(path, key="k", every=1)
    make(method, k, autoencoder)[0].fit(X, Y, checkpoint=checkpoint)      # "killed" after k epochs/rounds
    assert path.is_file() and torch.load(path, weights_only=True)["epoch"] == k - 1
    assert "resuming" not in capfd.readouterr().err

    resumed, progress = make(method, full, autoencoder)
    resumed.fit(X, Y, checkpoint=checkpoint)
    err = capfd.readouterr().err
    assert f"[checkpoint] resuming after epoch {k} from {path}" in err
    trained = full if method == "infogan" else 2 * full                   # epochs of the whole run
    skipped = k if method == "infogan" else 2 * k
    assert progress.format(1) not in err and progress.format(skipped) not in err, err   # not retrained
    assert all(progress.format(e) in err for e in range(skipped + 1, trained + 1)), err
    assert_same_fit(resumed, straight)
    assert len(resumed.history_) == (full if method == "infogan" else full + 1)


@pytest.mark.parametrize("method", ["infogan", "metric"])
def test_a_checkpoint_of_the_last_epoch_or_round_finishes_with_the_same_fit(method, autoencoder, tmp_path, capfd):
    full = 3
    path = tmp_path / "ck.pt"
    checkpoint = engine.Checkpoint(path, key="k", every=1)
    straight = make(method, full, autoencoder)[0].fit(X, Y, checkpoint=checkpoint)  # killed after fit, before remove
    assert path.is_file() and torch.load(path, weights_only=True)["epoch"] == full - 1
    capfd.readouterr()

    rerun, progress = make(method, full, autoencoder)
    rerun.fit(X, Y, checkpoint=checkpoint)
    err = capfd.readouterr().err
    assert f"[checkpoint] resuming after epoch {full}" in err
    assert "] epoch " not in err, err                                     # nothing left to train
    assert_same_fit(rerun, straight)
