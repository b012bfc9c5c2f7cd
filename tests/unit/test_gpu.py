"""CUDA code paths: CUDA-graph pretraining steps and the precisions on a real GPU. Skipped on
the CPU (CI has no GPU); run on a GPU machine with `pytest -m gpu tests/unit/test_gpu.py`
(bench/gpu_suite.sh does, before its benchmarks)."""

import numpy as np
import pytest
import torch

from deepclust import engine
from deepclust.methods.dec import DEC
from deepclust.pretrain import embed, pretrain_autoencoder

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("restore_precision"),
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

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
    optimizer = engine.make_optimizer("adam", model.parameters(), 1e-3, capturable=True)
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
