"""Determinism on the CPU: for every registered method (deep and baseline), pretraining, UMAP
features and t-SNE maps, the same seed gives bit-identical labels, embeddings, centres, history
and metrics, in one process (even after the global RNGs were disturbed) and across processes
(other hash seeds); another seed gives another run. Methods a seed does not apply to
(agglomerative, DBSCAN, HDBSCAN) are shown to take none and to be deterministic. How each one
seeds torch, numpy, UMAP and k-means: .notes/seeding.md.

The cases are parametrised over the registry (deepclust.methods.ALGORITHMS): a newly registered
method fails here until it has an entry in helpers.DEEP_CASES or BASELINE_CASES."""

import itertools
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from deepclust import engine, methods
from deepclust.metrics import evaluate
from deepclust.pretrain import pretrain_autoencoder

from .helpers import DEEP_CASES, DIGITS_SHAPE, EMBEDDING, HIDDEN

SRC = Path(__file__).resolve().parents[2] / "src"
SEED, OTHER_SEED = 0, 1

# baseline -> whether it takes a seed (the others are deterministic and ignore random_state)
BASELINE_CASES = {"kmeans": True, "gmm": True, "agglomerative": False, "dbscan": False, "hdbscan": False}
BASELINE_CLUSTERS = 8
# fitted attributes compared bit for bit when an estimator has them
ATTRIBUTES = ("cluster_centers_", "weights_", "means_", "covariances_", "inertia_", "lower_bound_", "n_iter_",
              "eps_", "core_sample_indices_", "probabilities_", "children_")


@pytest.fixture(scope="module")
def noise():
    """Structureless data, where k-means and GMM restarts end in different optima for different seeds."""
    return np.random.default_rng(0).random((300, 2)).astype(np.float32), None


_DISTURBANCES = itertools.count(12345)


def disturb_global_rngs():
    """Reseed every global RNG differently before each fit, so a result that depends on global
    state (rather than on its seed) differs between two fits of one seed."""
    n = next(_DISTURBANCES)
    torch.manual_seed(n)
    np.random.seed(n)
    random.seed(n)


def state_arrays(model) -> dict:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def fingerprint(estimator, labels, X, y) -> dict:
    """Everything a run leaves that should be bit-identical for one seed."""
    found = {"labels": np.asarray(labels)}
    for name in ATTRIBUTES:
        if hasattr(estimator, name):
            found[name] = np.asarray(getattr(estimator, name))
    embedding = None
    if hasattr(estimator, "autoencoder_"):
        embedding = found["embedding"] = estimator.transform(X)
        found["state"] = state_arrays(estimator.autoencoder_)
    if hasattr(estimator, "history_"):
        found["history"] = repr(estimator.history_)  # repr of a float is exact; nan == nan as text
    found["metrics"] = repr(evaluate(labels, y, X, embedding))
    return found


def equal(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(
            a, b, equal_nan=a.dtype.kind in "fc")
    return a == b


def differing(a: dict, b: dict) -> set:
    assert a.keys() == b.keys()
    return {k for k in a if not equal(a[k], b[k])}


def case(name: str):
    if name not in DEEP_CASES and name not in BASELINE_CASES:
        pytest.fail(f"{name!r} is registered in deepclust.methods but has no tiny-settings entry in "
                    f"helpers.py's DEEP_CASES or {Path(__file__).name}'s BASELINE_CASES: add one")
    return name in DEEP_CASES


@pytest.fixture(scope="module")
def run(deep_case, noise):
    """run(name, seed, repeat): fit ``name`` with ``seed`` (memoised per repeat) -> fingerprint."""
    fits = {}

    def fit(name, seed, repeat=0):
        key = (name, seed, repeat)
        if key not in fits:
            disturb_global_rngs()
            if case(name):
                estimator, X, y = deep_case(name, random_state=seed)
                labels = estimator.fit(X, y).labels_
            else:
                X, y = noise
                estimator = methods.get(name)(BASELINE_CLUSTERS, random_state=seed)
                labels = estimator.fit_predict(X)
            fits[key] = (estimator, fingerprint(estimator, labels, X, y))
        return fits[key]

    return fit


def test_every_registered_algorithm_has_a_case():
    cases = set(DEEP_CASES) | set(BASELINE_CASES)
    assert set(methods.ALGORITHMS) <= cases, f"no tiny settings for {sorted(set(methods.ALGORITHMS) - cases)}"
    assert set(DEEP_CASES) == set(methods.DEEP_METHODS) and set(BASELINE_CASES) == set(methods.BASELINES)


@pytest.mark.parametrize("name", sorted(methods.ALGORITHMS))
def test_same_seed_gives_a_bit_identical_run(name, run):
    _, first = run(name, SEED)
    _, second = run(name, SEED, repeat=1)
    assert not differing(first, second), f"{name}: same seed, different {sorted(differing(first, second))}"
    if case(name):
        assert {"labels", "embedding", "state", "history", "metrics"} <= first.keys()


@pytest.mark.parametrize("name", sorted(DEEP_CASES))
def test_deterministic_mode_changes_nothing_on_the_cpu(name, run, monkeypatch):
    """engine.set_deterministic (the `deterministic` key) is for GPUs: on the CPU every deep
    method runs under torch's deterministic algorithms, to the same bits."""
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    _, plain = run(name, SEED)
    engine.set_deterministic(True)
    try:
        _, deterministic = run(name, SEED, repeat="deterministic")
    finally:
        engine.set_deterministic(False)
    assert not differing(plain, deterministic), f"{name}: {sorted(differing(plain, deterministic))}"


@pytest.mark.parametrize("name", sorted(methods.ALGORITHMS))
def test_other_seed_gives_another_run_where_a_seed_applies(name, run):
    estimator, first = run(name, SEED)
    _, other = run(name, OTHER_SEED)
    changed = differing(first, other)
    if case(name):
        # the learned representation moves with the seed (init, batch order, noise, k-means starts)
        assert "embedding" in changed and "state" in changed, f"{name}: seed {OTHER_SEED} changed only {changed}"
    elif BASELINE_CASES[name]:
        assert estimator.get_params()["random_state"] == SEED
        assert changed & {"labels", "cluster_centers_", "means_"}, f"{name}: seed changed only {changed}"
    else:
        # deterministic on fixed features: the factory accepts random_state for a uniform interface
        # and drops it; the estimator has no seed and another one changes nothing
        assert "random_state" not in estimator.get_params()
        assert not changed, f"{name} takes no seed but changed {changed}"


def test_deep_random_state_none_means_seed_zero(deep_case):
    """DeepClusterer maps random_state=None to seed 0 (not to fresh entropy, unlike scikit-learn)."""
    fits = []
    for seed in (None, 0):
        estimator, X, _ = deep_case("dec", random_state=seed)
        fits.append(estimator.fit(X))
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)
    np.testing.assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)


PRETRAIN_CASES = {
    "mlp": dict(kind="mlp"),
    "denoising": dict(kind="mlp", input_dropout=0.2),  # dropout noise: torch's global RNG
    "vae": dict(kind="vae"),  # reparameterisation noise: torch's global RNG
    "cae": dict(kind="cae", image_shape=DIGITS_SHAPE, filters=(4, 8, 8)),
}


@pytest.mark.parametrize("variant", sorted(PRETRAIN_CASES))
def test_pretraining_same_seed_identical_other_seed_different(variant, blobs, digits):
    settings = PRETRAIN_CASES[variant]
    X = digits[0] if settings["kind"] == "cae" else blobs[0]

    def pretrain(seed):
        disturb_global_rngs()
        model, history = pretrain_autoencoder(X, hidden_dims=HIDDEN, embedding_dim=EMBEDDING, epochs=2,
                                              batch_size=50, device="cpu", random_state=seed, verbose=False,
                                              **settings)
        return {"state": state_arrays(model), "history": repr(history)}

    first, second, other = pretrain(SEED), pretrain(SEED), pretrain(OTHER_SEED)
    assert not differing(first, second)
    assert differing(first, other) == {"state", "history"}


@pytest.mark.filterwarnings("ignore:n_jobs value:UserWarning")  # umap-learn: a seed forces one thread
def test_umap_features_same_seed_identical_other_seed_different(blobs):
    from deepclust.features import umap_embed

    X = blobs[0]
    embed = lambda seed: umap_embed(X, n_components=2, n_neighbors=10, random_state=seed)  # noqa: E731
    first = embed(SEED)
    disturb_global_rngs()
    second, other = embed(SEED), embed(OTHER_SEED)
    assert first.dtype == np.float32 and first.shape == (len(X), 2)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("dims", [2, 10, 64, 784])
def test_umaps_small_data_distances_compiled_are_scikit_learns_bit_for_bit(dims):
    """umap-learn's exact distance matrix for fewer than 4,096 samples: the compiled loop gives what
    scikit-learn's pairwise_distances gives with umap's numba euclidean, to the last bit."""
    import umap.umap_ as umap_module
    from sklearn.metrics import pairwise_distances
    from umap import distances

    from deepclust.features import compiled_small_data_distances

    X = np.random.default_rng(dims).normal(size=(150, dims)).astype(np.float32)
    expected = pairwise_distances(X, metric=distances.euclidean)
    with compiled_small_data_distances():
        got = umap_module.pairwise_distances(X, metric=distances.euclidean)
        float64 = umap_module.pairwise_distances(X.astype(np.float64), metric=distances.euclidean)
    assert got.dtype == expected.dtype == np.float32
    assert np.array_equal(got, expected)
    assert np.array_equal(float64, pairwise_distances(X.astype(np.float64), metric=distances.euclidean))
    assert umap_module.pairwise_distances is pairwise_distances  # put back


@pytest.mark.filterwarnings("ignore:n_jobs value:UserWarning")
def test_umap_of_digits_is_the_same_with_compiled_distances(digits):
    import umap

    from deepclust.features import umap_embed

    X = digits[0]
    assert len(X) < 4096  # umap-learn's exact-distance path
    plain = umap.UMAP(n_components=2, n_neighbors=15, min_dist=0.1, random_state=SEED).fit_transform(X)
    assert np.array_equal(umap_embed(X, n_components=2, n_neighbors=15, min_dist=0.1, random_state=SEED), plain)


def test_tsne_map_same_seed_identical_and_small_sets(blobs):
    from deepclust.projections import tsne_embed

    X = blobs[0]
    first = tsne_embed(X, random_state=SEED)
    disturb_global_rngs()
    second = tsne_embed(X, random_state=SEED)
    assert first.dtype == np.float32 and first.shape == (len(X), 2)
    assert np.array_equal(first, second)
    # fewer samples than scikit-learn's perplexity 30 needs: the perplexity shrinks below n
    assert tsne_embed(X[:12], random_state=SEED).shape == (12, 2)


# The same tiny runs in a fresh interpreter: DEC after pretraining (global RNG, k-means, batch order)
# and JULE (dict/set-heavy agglomeration). The bytes of labels, centres and embeddings must match
# across processes with different hash seeds, and this process's.
CROSS_PROCESS = """
import sys
import numpy as np
import torch
from sklearn.datasets import load_digits, make_blobs
from deepclust.methods.dec import DEC
from deepclust.methods.jule import JULE
from deepclust.pretrain import pretrain_autoencoder

def run():
    torch.set_num_threads(1)
    X, _ = make_blobs(150, n_features=10, centers=3, cluster_std=1.0, random_state=0)
    X = ((X - X.min(0)) / (X.max(0) - X.min(0))).astype(np.float32)
    ae, _ = pretrain_autoencoder(X, (32, 32), 3, epochs=3, batch_size=32, device="cpu", random_state=5,
                                 verbose=False)
    dec = DEC(3, autoencoder=ae, update_interval=5, max_epochs=2, batch_size=32, n_init=3, tol=0.0,
              device="cpu", random_state=5).fit(X)
    D, _ = load_digits(return_X_y=True)
    D = (D[:300] / 16).astype(np.float32)
    jule = JULE(10, image_shape=(1, 8, 8), filters=4, feature_dim=8, epochs_per_period=1, batch_size=50,
                device="cpu", random_state=5).fit(D)
    parts = [dec.labels_.astype(np.int64), dec.cluster_centers_, dec.transform(X),
             jule.labels_.astype(np.int64), jule.transform(D)]
    return b"".join(np.ascontiguousarray(p).tobytes() for p in parts)

if __name__ == "__main__":
    sys.stdout.buffer.write(run())
"""


@pytest.mark.slow  # three fresh interpreters' imports: ~13 s on one core
def test_same_seed_identical_across_processes_and_hash_seeds():
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
               "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1"}
        done = subprocess.run([sys.executable, "-c", CROSS_PROCESS], env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        outputs.append(done.stdout)
    namespace = {"__name__": "in_process"}
    exec(CROSS_PROCESS, namespace)
    here = namespace["run"]()
    assert len(outputs[0]) > 0
    assert outputs[0] == outputs[1], "same seed, different bytes in two processes (hash seed or global state)"
    assert here == outputs[0], "same seed, different bytes in this process and a fresh one"
