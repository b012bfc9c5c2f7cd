"""Every registered deep method, and a method written here with no checkpoint code of its own,
resumes to the uninterrupted result: stopped by a real SIGTERM mid-epoch (saved at that epoch's
end, Preempted) or killed right after a periodic save, a run resumed with the same settings ends
with the same fitted attributes (labels, centres, weights with batch-norm statistics, history,
counters), its final checkpoint holds the same state, and it trains only the optimiser steps left.
A checkpoint of the last epoch finishes without training; saving changes nothing. Parametrised
over the registry (deepclust.methods.DEEP_METHODS); JULE's periods and their boundaries are pinned
below. The checkpoint file's own behaviour: test_checkpoint.py."""

import contextlib
import json
import math
import os
import signal
import types

import numpy as np
import pytest
import torch

from deepclust import engine, methods
from deepclust.losses import reconstruction_loss, squared_distances
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer

from .helpers import N_CLUSTERS


class DeepKMeans(DeepClusterer):
    """A method of one's own, in a few lines of maths and no checkpoint code: the encoder and k
    centres trained together by SGD on reconstruction (of dropout-corrupted rows: torch's global
    random stream) plus each row's squared distance to its nearest centre."""

    _parameter_constraints = {**parameters.DEEP_CLUSTERER, "max_epochs": [parameters.at_least(0)],
                              "lr": [parameters.POSITIVE]}

    def __init__(self, n_clusters=3, *, autoencoder=None, max_epochs=4, lr=0.01, batch_size=32, n_init=2,
                 pretrain_epochs=2, hidden_dims=(8,), embedding_dim=2, device="cpu", random_state=None,
                 verbose=False):
        self.n_clusters = n_clusters
        self.autoencoder = autoencoder
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.n_init = n_init
        self.pretrain_epochs = pretrain_epochs
        self.hidden_dims = hidden_dims
        self.embedding_dim = embedding_dim
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _fit(self, data, y, model, loop, seed):
        s = loop.start(lambda: {"centers": self._kmeans_init(engine.full_pass(model.encoder, data),
                                                             seed).cluster_centers_})
        centers = s.centers = torch.nn.Parameter(torch.as_tensor(s.centers, device=data.device))
        optimizer = engine.make_optimizer("sgd", [*model.parameters(), centers], self.lr)
        loop.keep(model=model, optimizer=optimizer)

        def loss(x):
            z = model.encoder(torch.nn.functional.dropout(x, 0.1))
            return reconstruction_loss(model.decoder(z), x) + squared_distances(z, centers).min(1).values.mean()

        nearest = lambda x: squared_distances(model.encoder(x), centers).argmin(1)  # noqa: E731
        for epoch in loop.epochs(self.max_epochs):
            total = sum(loop.step(optimizer, lambda: loss(data[idx])) * len(idx)
                        for idx in loop.batches(len(data), self.batch_size))
            loop.epoch_done(total.item() / len(data))
            self._monitor({"epoch": epoch + 1, "loss": total.item() / len(data)},
                          engine.full_pass(nearest, data).cpu().numpy(), y)
        self.cluster_centers_ = centers.detach().cpu().numpy()
        self.labels_ = engine.full_pass(nearest, data).cpu().numpy()


METHODS = [*sorted(methods.DEEP_METHODS), "deep_kmeans"]
# longer than the tiny settings: enough epochs (rounds, periods) to stop part-way
LONGER = {
    "dec": dict(max_epochs=4), "idec": dict(max_epochs=4), "dcec": dict(max_epochs=3),
    "dcn": dict(max_epochs=4),
    "vade": dict(max_epochs=4, decay_every=2),  # the learning rate changes across a resume
    "metric_learning": dict(rounds=3, epochs_per_round=2),  # a checkpoint's epoch is a round
    "infogan": dict(max_epochs=3),
    "jule": dict(epochs_per_period=2, unrolling_rate=0.4),  # 4 periods of 2 epochs: 69 -> 41 -> 24 -> 14 -> 10
    "deep_kmeans": dict(max_epochs=4),
}


@pytest.fixture(scope="module")
def make(deep_case, blobs, pretrained):
    """make(name) -> (estimator, X, y): the method with LONGER settings, unfitted."""
    def build(name):
        if name == "deep_kmeans":
            return DeepKMeans(N_CLUSTERS, autoencoder=pretrained[0], random_state=0, **LONGER[name]), *blobs
        return deep_case(name, **LONGER[name])

    return build


@contextlib.contextmanager
def counted_steps(sigterm_at: int | None = None):
    """Counts the optimiser steps taken inside (engine.optimizer_step: every method's), and sends
    this process a real SIGTERM right after step number ``sigterm_at``."""
    steps, original = types.SimpleNamespace(n=0), engine.optimizer_step

    def step(*args, **kwargs):
        original(*args, **kwargs)
        steps.n += 1
        if steps.n == sigterm_at:
            os.kill(os.getpid(), signal.SIGTERM)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "optimizer_step", step)
        yield steps


@pytest.fixture(scope="module")
def straight(make):
    """name -> (the uninterrupted fit, its optimiser steps), fitted once."""
    fits = {}

    def get(name):
        if name not in fits:
            estimator, X, y = make(name)
            with counted_steps() as steps:
                estimator.fit(X, y)
            fits[name] = estimator, steps.n
        return fits[name]

    return get


@pytest.fixture
def no_stray_sigterm():
    """A SIGTERM outside the checkpoint's handler would kill pytest: record it instead."""
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    yield received
    signal.signal(signal.SIGTERM, previous)


def same(a, b) -> bool:
    """Equal to the bit: tensors, arrays, and dicts and lists of them (NaN equals NaN)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, (np.ndarray, np.generic)):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


def fitted(estimator) -> dict:
    """Every fitted attribute, networks as their state (batch-norm statistics included)."""
    return {name: value.state_dict() if isinstance(value, torch.nn.Module) else value
            for name, value in vars(estimator).items() if name.endswith("_") and not name.startswith("_")}


def assert_same_fit(resumed, straight):
    a, b = fitted(resumed), fitted(straight)
    assert a.keys() == b.keys()
    assert json.dumps(a["history_"]) == json.dumps(b["history_"])  # NaN-aware: some first losses are NaN
    different = sorted(name for name in a if not same(a[name], b[name]))
    assert not different, f"resumed differs in {different}"


def saved(path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def resume(make, name, path, capfd, every=1):
    """The retry: the same settings and checkpoint file -> (fit, optimiser steps, stderr)."""
    capfd.readouterr()
    estimator, X, y = make(name)
    with counted_steps() as steps:
        estimator.fit(X, y, checkpoint=engine.Checkpoint(path, key="k", every=every))
    return estimator, steps.n, capfd.readouterr().err


class KilledAfterSave(engine.Checkpoint):
    """A periodic checkpoint whose job is SIGKILLed right after its ``kill_after``-th save."""

    class Killed(Exception):
        pass

    def __init__(self, *args, kill_after: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.kill_after, self.saves = kill_after, 0

    def save(self, epoch, state):
        super().save(epoch, state)
        self.saves += 1
        if self.saves == self.kill_after:
            raise self.Killed


def killed_then_resumed(make, straight, name, tmp_path, capfd, every=1, kill_after=2):
    """Killed after a periodic save, then retried: the retry's fit is the uninterrupted one and
    it takes only the steps left. Returns the number of epochs the save held."""
    path = tmp_path / "ck.pt"
    estimator, X, y = make(name)
    with counted_steps() as before, pytest.raises(KilledAfterSave.Killed):
        estimator.fit(X, y, checkpoint=KilledAfterSave(path, key="k", every=every, kill_after=kill_after))
    epochs = saved(path)["epoch"] + 1
    assert epochs == every * kill_after
    resumed, steps, err = resume(make, name, path, capfd, every)
    assert f"[checkpoint] resuming after epoch {epochs} from {path}" in err
    assert_same_fit(resumed, straight(name)[0])
    assert before.n + steps == straight(name)[1]  # nothing trained twice, nothing skipped
    return epochs


@pytest.mark.parametrize("name", METHODS)
def test_killed_after_a_periodic_save_resumes_to_the_uninterrupted_result(name, make, straight, tmp_path, capfd):
    killed_then_resumed(make, straight, name, tmp_path, capfd)


@pytest.mark.parametrize("name", METHODS)
def test_sigterm_mid_epoch_saves_at_its_end_and_the_retry_resumes_to_the_uninterrupted_result(
        name, make, straight, tmp_path, capfd, no_stray_sigterm):
    path, (_, total) = tmp_path / "ck.pt", straight(name)
    estimator, X, y = make(name)
    with counted_steps(sigterm_at=total // 2) as before, pytest.raises(engine.Preempted, match="stopped after epoch"):
        estimator.fit(X, y, checkpoint=engine.Checkpoint(path, key="k", every=1000))  # only SIGTERM saves
    assert path.is_file() and not no_stray_sigterm
    assert total // 2 <= before.n < total  # the epoch it arrived in was finished, the rest was not
    resumed, steps, err = resume(make, name, path, capfd, every=1000)
    assert f"resuming after epoch {saved(path)['epoch'] + 1} " in err
    assert_same_fit(resumed, straight(name)[0])
    assert before.n + steps == total
    assert not no_stray_sigterm


@pytest.mark.parametrize("name", METHODS)
def test_saving_changes_nothing_and_a_checkpoint_of_the_last_epoch_finishes_without_training(
        name, make, straight, tmp_path, capfd):
    path = tmp_path / "ck.pt"
    estimator, X, y = make(name)
    estimator.fit(X, y, checkpoint=engine.Checkpoint(path, key="k", every=1))  # killed after fit, before remove()
    assert_same_fit(estimator, straight(name)[0])
    last = saved(path)
    rerun, steps, err = resume(make, name, path, capfd)
    assert f"resuming after epoch {last['epoch'] + 1} " in err
    assert steps == 0
    assert_same_fit(rerun, estimator)

    # a resumed run's last save holds what the uninterrupted run's does
    killed_then_resumed(make, straight, name, tmp_path / "killed", capfd)
    assert same(saved(tmp_path / "killed" / "ck.pt"), last)


def test_dcn_saves_its_online_k_means_counts(make, straight, tmp_path):
    """The counts live outside the optimiser: each epoch adds one per row to its centre's."""
    path = tmp_path / "ck.pt"
    estimator, X, y = make("dcn")
    estimator.fit(X, y, checkpoint=engine.Checkpoint(path, key="k", every=1))
    counts = saved(path)["values"]["counts"]
    assert counts.sum() == N_CLUSTERS * estimator.initial_count + estimator.max_epochs * len(X)


# ---- JULE: periods of epochs, merges between them --------------------------------------------

EPOCHS_PER_PERIOD, STEPS_PER_EPOCH = LONGER["jule"]["epochs_per_period"], 6  # 300 digits, batches of 50


def test_the_jule_run_has_several_periods(straight):
    run, steps = straight("jule")
    assert run.n_periods_ == 4 and run.history_[-1]["epoch"] == 4 * EPOCHS_PER_PERIOD
    assert steps == 4 * EPOCHS_PER_PERIOD * STEPS_PER_EPOCH


# stopped after epoch: 1 mid-period 1; 3 mid-period 2; 4 period 2 trained, its merges pending;
# 8 the last period trained, its merges and the final clustering pending
@pytest.mark.parametrize("stop_after", [1, 3, 4, 8])
def test_jule_stopped_by_sigterm_mid_epoch_at_each_kind_of_point_resumes_to_the_uninterrupted_result(
        make, straight, tmp_path, capfd, no_stray_sigterm, stop_after):
    path = tmp_path / "ck.pt"
    estimator, X, y = make("jule")
    with counted_steps(sigterm_at=(stop_after - 1) * STEPS_PER_EPOCH + 3), \
            pytest.raises(engine.Preempted, match=f"stopped after epoch {stop_after},"):
        estimator.fit(X, y, checkpoint=engine.Checkpoint(path, key="k", every=1000))
    state = saved(path)
    assert state["epoch"] + 1 == stop_after
    assert state["values"]["period"] == (stop_after - 1) // EPOCHS_PER_PERIOD + 1
    assert state["values"]["period_epochs"] == (stop_after - 1) % EPOCHS_PER_PERIOD + 1
    resumed, _, err = resume(make, "jule", path, capfd, every=1000)
    assert f"resuming after epoch {stop_after} " in err
    assert_same_fit(resumed, straight("jule")[0])
    assert not no_stray_sigterm


@pytest.mark.parametrize("every, kill_after", [(1, 5), (3, 1), (1, 8)])
def test_jule_killed_after_a_periodic_save_at_each_kind_of_point_resumes_to_the_uninterrupted_result(
        make, straight, tmp_path, capfd, every, kill_after):
    killed_then_resumed(make, straight, "jule", tmp_path, capfd, every, kill_after)


def test_jule_without_training_epochs_saves_nothing(deep_case, tmp_path):
    estimator, X, _ = deep_case("jule", epochs_per_period=0)
    run = estimator.fit(X, checkpoint=engine.Checkpoint(tmp_path / "ck.pt", key="k", every=1))
    np.testing.assert_array_equal(run.labels_, deep_case("jule", epochs_per_period=0)[0].fit(X).labels_)
    assert not (tmp_path / "ck.pt").exists()
