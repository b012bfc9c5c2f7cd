"""Training precision (engine.set_precision) and the step runner (engine.TrainStep) on the CPU.

bf16 autocast must reach the forward pass of every training loop (every registered deep
method and pretraining) while full passes (targets, embeddings, labels) stay float32; tf32 and
fp32 switch CUDA's TF32 flags and the CPU's denormal flushing, and full passes turn TF32 off; bf16 is
refused on a GPU that only emulates it; deterministic mode sets torch's flags before CUDA starts;
TrainStep is bit-for-bit the straightforward loop, its CUDA-graph flag changes nothing off CUDA, and
a graph is captured on the step's own device. The graph itself is checked on a GPU by
tests/unit/test_gpu.py."""

import contextlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from deepclust import engine
from deepclust.metrics import cluster_accuracy
from deepclust.pretrain import embed, pretrain_autoencoder

from .helpers import DEEP_CASES, N_CLUSTERS

pytestmark = pytest.mark.usefixtures("restore_precision")


@pytest.mark.parametrize("precision, tf32, autocast", [("fp32", False, None), ("tf32", True, None),
                                                       ("bf16", True, torch.bfloat16)])
def test_set_precision_switches_tf32_and_autocast(precision, tf32, autocast):
    engine.set_precision(precision)
    assert torch.backends.cuda.matmul.allow_tf32 is tf32
    assert torch.backends.cudnn.allow_tf32 is tf32
    layer, x = torch.nn.Linear(4, 3), torch.randn(5, 4)
    with engine.autocast(x.device):
        out = layer(x)
    assert out.dtype == (autocast or torch.float32)
    tiny = (torch.tensor([1e-39]) * 1.0).item()  # a denormal float32
    assert (tiny == 0.0) is (precision != "fp32")


def test_the_job_scripts_order_flushes_denormals_on_every_worker_thread():
    """The CPU flag is per thread and torch's workers copy it when they start: set_threads then
    set_precision, before any tensor work (the job scripts' order), must reach all of them. A
    fresh process, since this one's workers exist already."""
    probe = textwrap.dedent("""
        import torch
        from deepclust import engine
        engine.set_threads(2)
        engine.set_precision("tf32")
        x = torch.full((1_000_000,), 1e-39)  # large enough to be split between the threads
        print(int((x * 1.0 != 0).sum()))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "0"


def test_set_precision_names_the_valid_choices():
    with pytest.raises(ValueError, match="precision must be one of fp32, tf32, bf16; got 'fp16'"):
        engine.set_precision("fp16")


def test_full_passes_run_without_tf32_whatever_the_precision():
    """Clusters are read off full passes: TF32 is off inside them under every setting, and the
    training's setting is back after."""
    engine.set_precision("tf32")
    inside = []
    engine.full_pass(lambda x: inside.append((torch.backends.cuda.matmul.allow_tf32,
                                              torch.backends.cudnn.allow_tf32)) or x, torch.zeros(3, 2), batch_size=2)
    assert inside == [(False, False)] * 2
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32


def v100(monkeypatch):
    """CUDA faked as a V100: bfloat16 only by emulation, which is_bf16_supported counts by default."""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla V100-SXM2-16GB")


def test_bf16_needs_a_gpu_with_native_bfloat16(monkeypatch):
    v100(monkeypatch)
    cuda, cpu = torch.device("cuda", 0), torch.device("cpu")
    assert not engine.native_bf16(cuda) and engine.native_bf16(cpu)
    with pytest.raises(ValueError, match="precision 'bf16': Tesla V100-SXM2-16GB has no native bfloat16 .* "
                                         "use 'tf32' or 'fp32'"):
        engine.set_precision("bf16", cuda)
    engine.set_precision("tf32", cuda)
    engine.set_precision("bf16", cpu)


def test_deterministic_sets_torchs_flags_and_the_cublas_workspace(monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    try:
        engine.set_deterministic(True)
        assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    finally:
        engine.set_deterministic(False)
    assert not torch.are_deterministic_algorithms_enabled() and not torch.backends.cudnn.deterministic


def test_deterministic_must_come_before_cuda_starts(monkeypatch):
    """cuBLAS reads its workspace setting when it starts: too late once CUDA runs."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.raises(RuntimeError, match="must come before CUDA starts"):
        engine.set_deterministic(True)
    assert not torch.are_deterministic_algorithms_enabled()


def straightforward_epochs(model, X, batch_size, epochs, seed):
    """The plain loop TrainStep must equal: permutation, gather, forward, backward, step."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = engine.make_optimizer("adam", model.parameters(), 1e-3)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(X), generator=generator).split(batch_size):
            loss = torch.nn.functional.mse_loss(model(X[idx]), X[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    return losses


@pytest.mark.parametrize("cuda_graphs", [False, True])
def test_train_epoch_equals_the_straightforward_loop(blobs, cuda_graphs):
    X = torch.as_tensor(blobs[0])
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
    model = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(), torch.nn.Linear(8, 10))
    model.load_state_dict(reference.state_dict())
    expected = straightforward_epochs(reference, X, 32, 3, seed=7)

    generator = torch.Generator().manual_seed(7)
    optimizer = engine.make_optimizer("adam", model.parameters(), 1e-3)
    step = engine.TrainStep(lambda idx: torch.nn.functional.mse_loss(model(X[idx]), X[idx]), optimizer, 32,
                            cuda_graphs=cuda_graphs)
    got = [engine.train_epoch(step, len(X), 32, generator) for _ in range(3)]
    assert step.graph is None  # never captured off CUDA
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # summed on the device vs in Python
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.equal(a, b)


def test_a_graph_is_captured_on_a_stream_of_the_steps_device(blobs, monkeypatch):
    """torch.cuda.graph's own capture stream is made on the current device, which need not be
    the step's: TrainStep hands it a stream of the batch's device. CUDA's graph API is faked;
    the captured step runs on the CPU."""
    streams = []

    class Stream:
        def __init__(self, device=None):
            self.device = torch.device(device)

    @contextlib.contextmanager
    def graph(cuda_graph, pool=None, stream=None, **kwargs):
        streams.append(stream)
        yield

    monkeypatch.setattr(torch.cuda, "Stream", Stream)
    monkeypatch.setattr(torch.cuda, "graph", graph)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", object)
    X, model = torch.as_tensor(blobs[0]), torch.nn.Linear(10, 10)
    step = engine.TrainStep(lambda idx: torch.nn.functional.mse_loss(model(X[idx]), X[idx]),
                            engine.make_optimizer("adam", model.parameters(), 1e-3), 32, cuda_graphs=True)
    idx = torch.arange(32)
    step._capture(idx)
    assert len(streams) == 1 and streams[0] is not None and streams[0].device == idx.device


def test_cuda_graphs_flag_changes_nothing_on_the_cpu(blobs):
    kwargs = dict(hidden_dims=(16,), embedding_dim=2, epochs=3, batch_size=32, device="cpu", verbose=False,
                  random_state=3)
    plain, plain_history = pretrain_autoencoder(blobs[0], **kwargs)
    graphed, graphed_history = pretrain_autoencoder(blobs[0], cuda_graphs=True, **kwargs)
    assert graphed_history == plain_history
    np.testing.assert_array_equal(embed(graphed, blobs[0]), embed(plain, blobs[0]))


@pytest.fixture
def dtypes_seen():
    """Output dtypes of every Linear / Conv forward, split by whether autograd was recording
    (a training step) or not (full passes run under inference mode)."""
    seen = {"training": set(), "full_pass": set()}

    def hook(module, args, output):
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            seen["training" if torch.is_grad_enabled() else "full_pass"].add(output.dtype)

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    yield seen
    handle.remove()


def test_bf16_pretraining_autocasts_steps_and_tracks_fp32(blobs, dtypes_seen):
    X, y = blobs
    kwargs = dict(hidden_dims=(32,), embedding_dim=3, epochs=15, batch_size=32, device="cpu", verbose=False,
                  random_state=0)
    engine.set_precision("fp32")
    full, full_history = pretrain_autoencoder(X, **kwargs)
    assert dtypes_seen["training"] == {torch.float32}
    dtypes_seen["training"].clear()
    engine.set_precision("bf16")
    half, half_history = pretrain_autoencoder(X, **kwargs)
    assert dtypes_seen["training"] == {torch.bfloat16}
    z = embed(half, X)
    assert z.dtype == np.float32 and dtypes_seen["full_pass"] == {torch.float32}
    # bf16 keeps ~3 significant digits: the loss curve follows fp32's, and the blobs stay apart
    np.testing.assert_allclose([r["loss"] for r in half_history], [r["loss"] for r in full_history], rtol=0.05)
    from sklearn.cluster import KMeans
    assert cluster_accuracy(y, KMeans(N_CLUSTERS, n_init=5, random_state=0).fit_predict(z)) > 0.95


@pytest.mark.parametrize("name", sorted(DEEP_CASES))
def test_every_deep_method_trains_under_bf16_autocast(name, deep_case, dtypes_seen):
    estimator, X, y = deep_case(name)
    dtypes_seen["training"].clear()
    engine.set_precision("bf16")
    estimator.fit(X, y)
    assert torch.bfloat16 in dtypes_seen["training"], f"{name}: no training step ran under bf16 autocast"
    assert estimator.labels_.shape == (len(X),)  # and no DivergenceError: the losses stayed finite
    if hasattr(estimator, "autoencoder_"):
        assert estimator.transform(X).dtype == np.float32


def test_deterministic_off_leaves_torchs_compiler_unimported():
    """The job scripts call set_deterministic(False) by default: it must not import torch's
    compiler stack (torch._inductor, ~1.5 s of every training job's start-up) to change nothing."""
    code = ("import sys; from deepclust import engine; engine.set_deterministic(False); "
            "print('torch._inductor' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
