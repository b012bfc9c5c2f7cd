"""The training loop every method runs in (TrainingLoop: epochs, mini-batches, optimiser steps,
progress, the NaN stop, checkpoints and resume) and its pieces: device-resident data, batching,
full passes, precision and CUDA graphs.

Data lives on the training device as one tensor; a mini-batch is an index slice of a
device-side permutation, so there is no DataLoader and no per-sample Python. Losses are
summed on the device and read once per epoch, so the step loop never waits on the host.
Checkpoints are written and read here only: a method declares its state to its TrainingLoop
and never saves or restores anything itself.
"""

import contextlib
import itertools
import math
import os
import signal
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

from deepclust import io, optimizers


class DivergenceError(RuntimeError):
    """The loss became NaN or infinite."""


class Preempted(RuntimeError):
    """SIGTERM arrived (SLURM preemption or time limit): the state is saved, the job exits
    non-zero and its retry resumes from the checkpoint."""


# what a checkpoint file holds (TrainingLoop's layout); a file of another format is set aside unread
FORMAT = 2


class Checkpoint:
    """A training loop's state at epoch boundaries, in one file.

    ``epoch_end`` saves every ``every`` epochs and, after a SIGTERM, at the end of the epoch it
    arrived in, then raises Preempted. A file is only resumed when its ``key`` (the job's
    params and code) and its ``FORMAT`` match; TrainingLoop restores what it saved, RNG states
    included, so a resumed run ends with the labels an uninterrupted one would: on the CPU, and
    on a GPU under ``set_deterministic(True)`` (the GPU suite checks it; without it, float
    atomics in CUDA kernels make every GPU run differ in the last bits). ``path`` None disables
    all of it (the library's default). SLURM sends SIGKILL KillWait seconds (30 by default)
    after SIGTERM, so an epoch must take less than that for the last epochs to be kept; the
    periodic save covers the rest."""

    def __init__(self, path=None, key: str = "", every: int = 1):
        self.path, self.key, self.every = (Path(path) if path else None), key, max(1, int(every))
        self.stop_requested = False
        self._previous_handler = None

    def __enter__(self):
        if self.path is not None:
            self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc):
        if self._previous_handler is not None:
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None

    def _on_sigterm(self, signum, frame):
        print("[checkpoint] SIGTERM: saving at the end of this epoch, then exiting", file=sys.stderr, flush=True)
        self.stop_requested = True

    def load(self) -> dict | None:
        """The saved state if its key and format match, else None. A file that cannot be read (truncated,
        not a checkpoint) or of another key (other settings, code or kind of device) is set aside,
        never deleted: the run starts afresh and an interrupted run of other settings can still
        be looked at."""
        if self.path is None or not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            key = state["key"]  # a torch file without it is not a checkpoint
        except Exception as error:  # torch's own message (PytorchStreamReader...) does not name the file
            self._set_aside("unreadable", f"cannot be read ({type(error).__name__}: {str(error)[:200]})")
            return None
        if key != self.key or state.get("format") != FORMAT:
            self._set_aside("other-settings", "is from other settings, code or kind of device")
            return None
        print(f"[checkpoint] resuming after epoch {state['epoch'] + 1} from {self.path}", file=sys.stderr, flush=True)
        return state

    def _set_aside(self, why: str, reason: str) -> None:
        aside = io.set_aside(self.path, why)
        print(f"[checkpoint] {self.path} {reason}: set aside as {aside.name if aside else '(gone)'}, "
              "starting afresh", file=sys.stderr, flush=True)

    def epoch_end(self, epoch: int, state) -> None:
        """After epoch ``epoch`` (0-based); ``state`` is a callable returning the dict to save."""
        if self.path is None:
            return
        if self.stop_requested or (epoch + 1) % self.every == 0:
            self.save(epoch, state())
        if self.stop_requested:
            raise Preempted(f"SIGTERM: stopped after epoch {epoch + 1}, checkpoint saved to {self.path}")

    def save(self, epoch: int, state: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        torch.save({**state, "key": self.key, "format": FORMAT, "epoch": epoch}, partial)
        os.replace(partial, self.path)  # a kill while saving leaves the previous checkpoint whole

    def remove(self) -> None:
        """The run finished: its checkpoint is no longer needed."""
        if self.path is not None and self.path.exists():
            self.path.unlink()


NO_CHECKPOINT = Checkpoint()


def rng_state(generator: torch.Generator) -> dict:
    """Every random stream a training loop draws from: its generator, torch's global CPU stream
    and, on a GPU, the global stream of the generator's device (dropout, reparameterisation).
    Only that device's: a resumed job may see more GPUs or fewer, and train on another index."""
    state = {"device": generator.device.type, "generator": generator.get_state(), "torch": torch.get_rng_state()}
    if generator.device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(generator.device)
    return state


def set_rng_state(generator: torch.Generator, state: dict) -> None:
    """Refuses a state saved on another kind of device: a CPU generator's state does not fit a
    CUDA generator, nor the reverse."""
    saved_on = state.get("device", "an unknown device")
    if saved_on != generator.device.type:
        raise ValueError(f"the checkpoint's random streams are from a run on {saved_on}, this run trains on "
                         f"{generator.device.type}: resume it on the same kind of device, or delete the checkpoint "
                         "to start afresh")
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], generator.device)


def resolve_device(device: str = "auto") -> torch.device:
    """The torch device of "cpu", "cuda", "cuda:N" or "auto" (CUDA when available). A CUDA device
    becomes the current one, with its index: torch makes new streams (CUDA-graph capture's
    included), generators and bf16 checks on the current device, which is otherwise cuda:0."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was asked for but CUDA is not available; use 'cpu' or 'auto'")
    device = torch.device(device)
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
    return device


def set_threads(threads: int | None) -> None:
    """Use as many intra-op threads as the job was given (Snakemake's threads), never more."""
    if threads:
        torch.set_num_threads(int(threads))


PRECISIONS = ("fp32", "tf32", "bf16")
_autocast_dtype = None  # set by set_precision: bf16 autocasts the training steps' forward passes


def set_precision(precision: str, device: torch.device | None = None) -> None:
    """How training does its float arithmetic, process-wide (as torch's own matmul precision):
    "fp32" is IEEE float32 everywhere; "tf32" (the default) lets CUDA matrix products and
    convolutions use TF32 tensor cores (10-bit mantissa inputs, float32 accumulation) and
    flushes denormal floats to zero on the CPU; "bf16" adds bfloat16 autocast to the forward
    pass of every training step (on the CPU too: fast where it has AMX or AVX-512 BF16, slow
    without) and is refused on a CUDA ``device`` without native bfloat16 (``native_bf16``).
    Full passes (DEC's target, embeddings, labels) stay in float32 under every setting
    (``full_pass`` turns TF32 off), so the clusters read off them are not rounded.

    Why flush denormals: Adam's moments of weights that rarely get a gradient (MNIST's border
    pixels, dead ReLUs) decay below 1e-38 within a few epochs, and x86 arithmetic on such
    numbers is many times slower (studies/denormals measures it on MNIST pretraining). The flag is per thread and torch's worker threads copy
    it when they start, so call this before any parallel tensor operation, as the job scripts do."""
    global _autocast_dtype
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "bf16" and device is not None and not native_bf16(torch.device(device)):
        raise ValueError(f"precision 'bf16': {torch.cuda.get_device_name(device)} has no native bfloat16 "
                         "(emulated, it is slower than float32); use 'tf32' or 'fp32'")
    torch.backends.cuda.matmul.allow_tf32 = precision != "fp32"
    torch.backends.cudnn.allow_tf32 = precision != "fp32"
    torch.set_flush_denormal(precision != "fp32")  # False where the CPU has no such flag
    _autocast_dtype = torch.bfloat16 if precision == "bf16" else None


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively: the CPU always may (slowly without AMX or
    AVX-512 BF16); a GPU from compute capability 8.0. torch.cuda.is_bf16_supported counts the
    emulation of older GPUs (V100, T4) unless told not to; it asks the current device, which
    resolve_device set."""
    return device.type != "cuda" or torch.cuda.is_bf16_supported(including_emulation=False)


def set_deterministic(on: bool) -> None:
    """Bit-identical GPU runs: torch's deterministic algorithms (an operation that has none
    stops the job with torch's error naming it), deterministic cuDNN convolutions and a fixed
    cuBLAS workspace (CUBLAS_WORKSPACE_CONFIG, which cuBLAS reads when it starts: call this
    before any CUDA work, as the job scripts do). With it a GPU run, resumed or not, is meant to
    repeat itself on the same GPU model and software (tests/unit/test_gpu.py checks it); without
    it, float atomics (index_add_, indexing and sort backward, cuDNN's convolution backward) vary
    the last bits from run to run. On the CPU results are bit-identical either way."""
    if on and "CUBLAS_WORKSPACE_CONFIG" not in os.environ:
        if torch.cuda.is_initialized():
            raise RuntimeError("set_deterministic(True) must come before CUDA starts: cuBLAS reads "
                               "CUBLAS_WORKSPACE_CONFIG when it starts")
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"
    if on != torch.are_deterministic_algorithms_enabled():  # the call imports torch's compiler (~1.5 s)
        torch.use_deterministic_algorithms(on)
    torch.backends.cudnn.deterministic = on


def autocast(device: torch.device):
    """The context a training step's forward pass runs in: bf16 autocast under
    set_precision("bf16"), else nothing. Without autocast's weight-cast cache, which torch wants
    off around CUDA-graph capture (make_graphed_callables' documentation); re-casting these small
    networks' weights per call costs little."""
    if _autocast_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=_autocast_dtype, cache_enabled=False)


def make_optimizer(name: str, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                   betas=(0.9, 0.999)):
    """Adam or SGD with momentum, fused: one kernel updates every parameter. On the CPU this is
    1.2-1.5x faster per sample for the 2.6M-parameter DEC autoencoder at batch 64-256. torch's
    kernels without torch.optim's wrapper (deepclust.optimizers: the same updates, bit for bit,
    without importing torch's compiler). Their step count lives on the device, so a CUDA graph
    can replay the update."""
    if name == "adam":
        return optimizers.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay)
    if name == "sgd":
        return optimizers.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def seeded_generator(seed: int, device: torch.device) -> torch.Generator:
    """A generator on the device, so permutations are drawn there. Also seeds torch's global RNG
    (weight initialisation) for reproducibility."""
    torch.manual_seed(seed)
    return torch.Generator(device=device).manual_seed(seed)


def as_tensor(X, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32, device=device)


def minibatches(n: int, batch_size: int, generator: torch.Generator, shuffle: bool = True):
    """Index tensors of one epoch's mini-batches (the last one may be smaller)."""
    device = generator.device
    order = torch.randperm(n, generator=generator, device=device) if shuffle else torch.arange(n, device=device)
    return order.split(batch_size)


def optimizer_step(optimizer, loss: torch.Tensor, inputs=None) -> None:
    """Backpropagate ``loss`` (into ``inputs`` only, if given) and update."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward(inputs=inputs)
    optimizer.step()


class TrainStep:
    """One optimiser step on the mini-batch ``idx``: ``batch_loss(idx)`` under ``autocast``,
    backward, update; returns the detached loss.

    With ``cuda_graphs`` on a CUDA device, the whole step of a full-size batch (gather, forward,
    backward, optimiser) is captured once as a CUDA graph and then replayed, one launch instead
    of ~60 kernel launches from Python, which bound small networks' steps. The first
    ``WARMUP`` full-size batches run eagerly on a side stream (CUDA's rule before a capture,
    and it creates the optimiser's state), the next one is captured and replayed, and batches
    of another size (an epoch's last) stay eager. The graph bakes in the learning rate and the
    shapes: only for a constant learning rate (make_optimizer's keep their step counts on the
    device), with no host reads inside ``batch_loss``. On the CPU the flag changes nothing."""

    WARMUP = 3

    def __init__(self, batch_loss, optimizer, batch_size: int, cuda_graphs: bool = False):
        self.batch_loss, self.optimizer, self.batch_size = batch_loss, optimizer, batch_size
        self.cuda_graphs = cuda_graphs
        self.graph, self.warmed_up = None, 0

    def __call__(self, idx: torch.Tensor) -> torch.Tensor:
        if not (self.cuda_graphs and idx.device.type == "cuda" and len(idx) == self.batch_size):
            return self._eager(idx)
        if self.graph is None:
            if self.warmed_up < self.WARMUP:
                self.warmed_up += 1
                side = torch.cuda.Stream(idx.device)
                side.wait_stream(torch.cuda.current_stream(idx.device))
                with torch.cuda.stream(side):
                    loss = self._eager(idx)
                torch.cuda.current_stream(idx.device).wait_stream(side)
                return loss
            self._capture(idx)
        self.static_idx.copy_(idx)
        self.graph.replay()
        return self.static_loss.clone()

    def _eager(self, idx):
        with autocast(idx.device):
            loss = self.batch_loss(idx)
        optimizer_step(self.optimizer, loss)
        return loss.detach()

    def _capture(self, idx):
        self.static_idx = idx.clone()
        self.optimizer.zero_grad(set_to_none=True)  # the graph's backward allocates (and later rewrites) the grads
        self.graph = torch.cuda.CUDAGraph()
        # a stream of the step's own device: graph's default stream is made on the current device
        with torch.cuda.graph(self.graph, stream=torch.cuda.Stream(idx.device)):
            with autocast(idx.device):
                loss = self.batch_loss(self.static_idx)
            loss.backward()
            self.optimizer.step()
        self.static_loss = loss.detach()


def train_epoch(step: TrainStep, n: int, batch_size: int, generator: torch.Generator) -> float:
    """One pass of mini-batch steps; the mean loss per sample, read from the device once."""
    total = None
    for idx in minibatches(n, batch_size, generator):
        loss = step(idx) * len(idx)
        total = loss if total is None else total + loss
    return total.item() / n


@contextlib.contextmanager
def float32_only():
    """TF32 off inside, whatever set_precision chose for the training steps: what clusters are
    read off (full passes, neighbour searches) is not rounded to TF32's 10-bit mantissa."""
    flags = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = flags


@torch.inference_mode()
def full_pass(fn, X: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """Apply ``fn`` to all of X in large batches without building a graph, in float32
    (``float32_only``). The default batch is 8192 on a GPU and 1024 on the CPU, where the
    d-500-500-2000 activations of larger batches leave the cache: a full MNIST encoder pass takes
    1.27 s at 1024 and 1.47 s at 8192 (2 threads, bench/full_pass_batch.py); the outputs are
    bit-equal."""
    batch_size = batch_size or (1024 if X.device.type == "cpu" else 8192)
    with float32_only():
        return torch.cat([fn(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])


class Progress:
    """Per-epoch log line with loss and ETA, and the divergence check (NaN loss stops the job)."""

    def __init__(self, name: str, total_epochs: int, verbose: bool = True, every: int = 0):
        self.name, self.total, self.verbose = name, total_epochs, verbose
        self.every = every or max(1, total_epochs // 10)
        self.start = time.perf_counter()
        self.last_good = None

    def check(self, epoch: int, loss: float) -> None:
        if not math.isfinite(loss):
            last = (f"last finite loss was {self.last_good:.6g}" if self.last_good is not None
                    else "no epoch had a finite loss")
            raise DivergenceError(f"{self.name}: loss became {loss} at epoch {epoch}; {last}. "
                                  "Lower the learning rate or check the input scaling.")
        self.last_good = loss

    def epoch_done(self, epoch: int, loss: float, **extra) -> None:
        self.check(epoch, loss)
        done = epoch + 1
        if self.verbose and (done % self.every == 0 or done == self.total):
            elapsed = time.perf_counter() - self.start
            eta = elapsed / done * (self.total - done)
            more = " ".join(f"{k}={v:.4f}" for k, v in extra.items() if v is not None)
            print(f"[{self.name}] epoch {done}/{self.total} loss={loss:.5f} {more} "
                  f"elapsed={elapsed:.1f}s eta={eta:.1f}s", file=sys.stderr, flush=True)


class TrainingLoop:
    """The loop every training runs in: epochs, mini-batches, optimiser steps under autocast,
    progress, the NaN stop, periodic and SIGTERM checkpoints, and resume.

    A method declares its state once and writes only its maths in the loop's body::

        loop = engine.TrainingLoop("DCN", generator, checkpoint, verbose=True)
        s = loop.start(lambda: {"centers": ..., "labels": ...})  # what a fresh start computes
        loop.keep(model=model, optimizer=optimizer)               # restored in place on resume
        for epoch in loop.epochs(max_epochs):
            for idx in loop.batches(len(data), batch_size):
                loss = loop.step(optimizer, lambda: ...)           # autocast, backward, update
                ...                                                # s.labels = ..., s.counts += ...
            loop.epoch_done(mean_loss)                             # progress line, NaN stop

    ``start(fresh)`` gives the values the method rebinds as it trains (tensors, arrays, counters,
    labels) as attributes of a namespace: ``fresh()``'s at a fresh start (it is not called when
    a checkpoint resumes, so a start's k-means or mixture fit is not repeated), the checkpoint's
    otherwise, tensors on the generator's device. ``keep(**objects)`` names what is changed in
    place (modules, optimisers: anything with ``state_dict``; lists such as the history): a
    resumed run loads the saved state into them at once. ``epochs(n)`` yields the epochs left
    (all of them, or those after the checkpoint's, with the random streams restored before the
    first); after each it saves everything declared, the random streams and the progress, every
    ``checkpoint.every`` epochs and after a SIGTERM (then raises Preempted). Leaving the loop
    early (a stopping rule's ``break``) saves nothing more. ``epochs(None)`` runs until the body
    breaks. Nothing here reads or writes a file when the checkpoint has no path."""

    def __init__(self, name: str, generator: torch.Generator, checkpoint: Checkpoint = NO_CHECKPOINT,
                 verbose: bool = True):
        self.name, self.generator, self.checkpoint, self.verbose = name, generator, checkpoint, verbose
        self.device = generator.device
        self.saved = checkpoint.load()
        self.values, self.kept = types.SimpleNamespace(), {}
        self.progress = Progress(name, 0, verbose)

    def start(self, fresh) -> types.SimpleNamespace:
        """The namespace of the values the method rebinds: ``fresh()`` (a dict) at a fresh start,
        the checkpoint's when resuming."""
        if self.saved is None:
            values = fresh()
        else:
            arrays = set(self.saved["arrays"])
            values = {name: value.numpy() if name in arrays else
                      value.to(self.device) if isinstance(value, torch.Tensor) else value
                      for name, value in self.saved["values"].items()}
        self.values = types.SimpleNamespace(**values)
        return self.values

    def keep(self, **objects) -> None:
        """Objects changed in place (with ``state_dict``, or lists), loaded from the checkpoint
        now when resuming."""
        self.kept.update(objects)
        if self.saved is not None:
            for name, target in objects.items():
                saved = self.saved["objects"][name]
                if isinstance(target, list):
                    target[:] = saved
                else:
                    target.load_state_dict(saved)

    def epochs(self, total: int | None, progress_epochs: int | None = None):
        """The epochs left of ``total`` (0-based), checkpointed after each. ``progress_epochs``:
        how many epochs the progress lines count when an epoch of the loop is several of the
        method's (metric-learning DC's rounds)."""
        self.progress = Progress(self.name, progress_epochs or total or 0, self.verbose)
        self.total, first = total, 0
        if self.saved is not None:
            set_rng_state(self.generator, self.saved["rng"])
            self.progress.last_good, first = self.saved["last_good"], self.saved["epoch"] + 1
        with self.checkpoint:
            for epoch in itertools.count(first) if total is None else range(first, total):
                self.epoch = epoch
                yield epoch
                self.checkpoint.epoch_end(epoch, self._state)

    def batches(self, n: int, batch_size: int):
        """The epoch's mini-batches: index slices of a permutation drawn on the device."""
        return minibatches(n, batch_size, self.generator)

    def step(self, optimizer, loss, inputs=None):
        """One optimiser step: ``loss()`` under autocast, backward (into ``inputs`` only, if
        given), update. ``loss()`` gives the loss, or a tuple whose first term is minimised
        (the others are reported); returned detached."""
        with autocast(self.device):
            terms = loss()
        optimizer_step(optimizer, terms[0] if isinstance(terms, tuple) else terms, inputs)
        return tuple(t.detach() for t in terms) if isinstance(terms, tuple) else terms.detach()

    def train_epoch(self, step: "TrainStep", n: int, batch_size: int) -> float:
        """One pass of ``step`` (a TrainStep) over the mini-batches; the mean loss per sample."""
        return train_epoch(step, n, batch_size, self.generator)

    def autocast(self):
        return autocast(self.device)

    def epoch_done(self, loss: float, epoch: int | None = None, **extra) -> None:
        """The progress line of ``epoch`` (the loop's by default), and DivergenceError when the
        loss is not finite. Without a known number of epochs, the check only."""
        epoch = self.epoch if epoch is None else epoch
        if self.progress.total:
            self.progress.epoch_done(epoch, loss, **extra)
        else:
            self.progress.check(epoch, loss)

    def _state(self) -> dict:
        """Everything declared, on the CPU, as a checkpoint holds it (plain tensors and values)."""
        values = vars(self.values)
        return {"rng": rng_state(self.generator), "last_good": self.progress.last_good,
                "objects": {name: list(target) if isinstance(target, list) else target.state_dict()
                            for name, target in self.kept.items()},
                "values": {name: torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else
                           value.detach().cpu() if isinstance(value, torch.Tensor) else value
                           for name, value in values.items()},
                "arrays": [name for name, value in values.items() if isinstance(value, np.ndarray)]}
