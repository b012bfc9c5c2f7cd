import numpy as np
import pytest
import torch

from deepclust import engine
from deepclust.nn.autoencoder import MLPAutoencoder
from deepclust.nn.networks import build
from deepclust.pretrain import embed, pretrain_autoencoder


def test_minibatches_partition_all_indices():
    generator = torch.Generator().manual_seed(0)
    batches = engine.minibatches(10, 4, generator)
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert torch.cat(engine.minibatches(10, 4, generator, shuffle=False)).tolist() == list(range(10))


def test_minibatches_are_seeded():
    a = torch.cat(engine.minibatches(50, 8, torch.Generator().manual_seed(3)))
    b = torch.cat(engine.minibatches(50, 8, torch.Generator().manual_seed(3)))
    c = torch.cat(engine.minibatches(50, 8, torch.Generator().manual_seed(4)))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("loss", [float("nan"), float("inf"), float("-inf")])
def test_progress_raises_divergence_error_naming_the_epoch(loss):
    progress = engine.Progress("test", 10, verbose=False)
    progress.epoch_done(0, 0.5)
    progress.check(1, 0.25)
    with pytest.raises(engine.DivergenceError, match=r"test: loss became .* at epoch 7; last finite loss was 0.25"):
        progress.check(7, loss)


def test_progress_logs_every_nth_epoch(capsys):
    progress = engine.Progress("demo", 4, verbose=True, every=2)
    for epoch in range(4):
        progress.epoch_done(epoch, 1.0 / (epoch + 1), acc=0.5, nmi=None)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[demo] epoch 2/4 loss=0.50000 acc=0.5000")
    assert lines[1].startswith("[demo] epoch 4/4 loss=0.25000")


def test_resolve_device():
    assert engine.resolve_device("cpu") == torch.device("cpu")
    assert engine.resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            engine.resolve_device("cuda")


def test_a_cuda_device_becomes_the_current_one(monkeypatch):
    """torch makes new streams (a CUDA graph's capture stream among them) on the current device:
    a job on cuda:1 must make it current, or its graph is captured on cuda:0. CUDA faked."""
    made_current = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: made_current.append(torch.device(device)))
    assert engine.resolve_device("cuda:1") == torch.device("cuda:1")
    assert engine.resolve_device("auto") == engine.resolve_device("cuda") == torch.device("cuda:0")
    assert made_current == [torch.device("cuda:1"), torch.device("cuda:0"), torch.device("cuda:0")]
    assert engine.resolve_device("cpu") == torch.device("cpu") and len(made_current) == 3


def test_full_pass_equals_direct_computation_without_graph():
    layer = torch.nn.Linear(3, 2)
    X = torch.randn(25, 3)
    out = engine.full_pass(layer, X, batch_size=7)
    assert out.shape == (25, 2)
    assert not out.requires_grad
    torch.testing.assert_close(out, layer(X).detach())


def test_as_tensor_is_float32():
    t = engine.as_tensor(np.arange(6, dtype=np.float64).reshape(2, 3)[:, ::2], torch.device("cpu"))
    assert t.dtype == torch.float32
    assert t.tolist() == [[0.0, 2.0], [3.0, 5.0]]


def test_autoencoder_architecture_and_config():
    model = MLPAutoencoder(7, (5, 4), 2)
    linears = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(7, 5), (5, 4), (4, 2)]
    decoder = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in decoder] == [(2, 4), (4, 5), (5, 7)]
    # linear embedding and linear output: no ReLU at the end of either half
    assert isinstance(model.encoder[-1], torch.nn.Linear)
    assert isinstance(model.decoder[-1], torch.nn.Linear)
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.encoder) == 2
    assert model.config == {"kind": "mlp", "input_dim": 7, "hidden_dims": [5, 4], "embedding_dim": 2, "output": "linear"}
    assert model(torch.zeros(3, 7)).shape == (3, 7)


def test_build_from_config():
    model = build({"kind": "mlp", "input_dim": 4, "hidden_dims": [3], "embedding_dim": 2})
    assert isinstance(model, MLPAutoencoder)
    assert model.config["hidden_dims"] == [3]
    with pytest.raises(ValueError, match="unknown network kind 'conv'.*mlp"):
        build({"kind": "conv"})


def test_pretrain_reduces_loss_and_is_deterministic(blobs):
    X, _ = blobs
    kwargs = dict(hidden_dims=(16,), embedding_dim=2, epochs=8, batch_size=50, device="cpu", verbose=False)
    model, history = pretrain_autoencoder(X, random_state=5, **kwargs)
    again, _ = pretrain_autoencoder(X, random_state=5, **kwargs)
    assert [row["epoch"] for row in history] == list(range(1, 9))
    assert history[-1]["loss"] < history[0]["loss"]
    assert not model.training
    z = embed(model, X)
    assert z.shape == (len(X), 2) and z.dtype == np.float32
    np.testing.assert_array_equal(z, embed(again, X))


def test_pretrain_on_nan_input_raises_divergence_error(blobs):
    X = blobs[0].copy()
    X[3, 2] = np.nan
    with pytest.raises(engine.DivergenceError, match="pretrain: loss became nan at epoch 0"):
        pretrain_autoencoder(X, (8,), 2, epochs=2, device="cpu", verbose=False)


def test_denoising_pretraining_is_seeded_and_differs_from_plain(blobs):
    X, _ = blobs
    kwargs = dict(hidden_dims=(16,), embedding_dim=2, epochs=3, batch_size=50, device="cpu", verbose=False,
                  random_state=0)
    noisy, history = pretrain_autoencoder(X, input_dropout=0.2, **kwargs)
    again, _ = pretrain_autoencoder(X, input_dropout=0.2, **kwargs)
    plain, plain_history = pretrain_autoencoder(X, **kwargs)
    assert len(history) == 3 and all(np.isfinite(row["loss"]) for row in history)
    np.testing.assert_array_equal(embed(noisy, X), embed(again, X))
    assert history[0]["loss"] != plain_history[0]["loss"]
    assert not np.array_equal(embed(noisy, X), embed(plain, X))


def test_sgd_pretraining_takes_momentum_sgd_steps_on_the_mean_squared_error(blobs):
    """Full-batch epochs, so each epoch is one step: two steps of plain torch SGD with momentum
    from the same initial weights (lr 0 leaves them untouched) must give the same network."""
    X, _ = blobs
    kwargs = dict(hidden_dims=(16,), embedding_dim=2, epochs=2, batch_size=len(X), device="cpu", verbose=False,
                  random_state=4, optimizer="sgd", momentum=0.5)
    reference, _ = pretrain_autoencoder(X, lr=0.0, **kwargs)
    trained, _ = pretrain_autoencoder(X, lr=0.3, **kwargs)
    data = torch.as_tensor(X, dtype=torch.float32)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.3, momentum=0.5)
    for _ in range(2):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(reference(data), data).backward()
        optimizer.step()
    for expected, got in zip(reference.parameters(), trained.parameters()):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_pretraining_names_an_unknown_optimizer(blobs):
    with pytest.raises(ValueError, match="optimizer must be 'adam' or 'sgd', got 'rmsprop'"):
        pretrain_autoencoder(blobs[0], (8,), 2, epochs=1, device="cpu", verbose=False, optimizer="rmsprop")
