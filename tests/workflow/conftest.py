"""Shared helpers of the workflow tests: copy the workflow into a temporary directory, write a tiny
config there, run the venv's snakemake in it and read what it printed.

Every test works on a copy (Snakefile, workflow/, config/, profiles/, envs/ and src/), never on
the checkout: jobs import the copy's src/ (PYTHONPATH), so tests may edit library code freely.
The one full run is shared by the whole session (``finished_workflow``). It starts in the
background right after collection, and the tests that do not need it run first, meanwhile; so does
the SLURM test's run, which mostly waits on SLURM (a module's ``start_in_background``).
Tests that change something first copy the finished directory (results and .snakemake metadata
included, modification times preserved) and change the copy.
"""

import concurrent.futures
import copy
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import snakemake_forks
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
WORKFLOW_PATHS = ["Snakefile", "workflow", "config", "profiles", "envs", "src"]
FULL_RUN_TIMEOUT = 1800  # seconds; the tiny run takes a few minutes on two busy cores
DRY_RUN_TIMEOUT = 300
NO_SLURM = Path(__file__).resolve().parent / "no_slurm"  # a failing scontrol, see its comment

DATASET = "digits"
N_SAMPLES = 300
SEEDS = [0, 1]
DEEP_METHODS = ["dec", "idec", "dcn", "vade", "infogan", "jule"]
BASELINES = ["kmeans-raw", "gmm-ae", "dbscan-raw", "hdbscan-umap-ae", "agglomerative-vae"]
METHODS = DEEP_METHODS + BASELINES
DEEP_PARAMS = {"max_epochs": 2, "update_interval": 5, "batch_size": 64}

# Tiny but complete: every rule runs (deep methods, raw / embedding / UMAP baselines, all figures,
# MLflow). Key order matters to test_rerun_plans (it is written as is, not sorted).
TINY_CONFIG = {
    "device": "cpu",
    "seeds": SEEDS,
    "threads": {"train": 1},
    "datasets": {DATASET: {"n_clusters": 10, "preprocess": "minmax", "subsample": N_SAMPLES}},
    "nets": {"ae": {"hidden_dims": [32, 32], "embedding_dim": 4, "epochs": 2, "batch_size": 64},
             "vae": {"kind": "vae", "hidden_dims": [32], "embedding_dim": 3, "epochs": 2, "batch_size": 64}},
    "methods": {
        "dec": {"algorithm": "dec", "net": "ae", "params": dict(DEEP_PARAMS)},
        "idec": {"algorithm": "idec", "net": "ae", "params": {**DEEP_PARAMS, "gamma": 0.1}},
        "dcn": {"algorithm": "dcn", "net": "ae", "params": {"max_epochs": 2, "batch_size": 64}},
        # generative: also writes samples.npy, drawn by figure_samples
        "vade": {"algorithm": "vade", "net": "ae", "params": {"max_epochs": 2, "batch_size": 64, "n_init": 1}},
        # trained from scratch: no pretrained net, image_shape from the dataset
        "infogan": {"algorithm": "infogan", "params": {"hidden_dim": 16, "filters": 4, "q_hidden_dim": 8,
                                                       "max_epochs": 1, "batch_size": 64}},
        "jule": {"algorithm": "jule", "params": {"filters": 4, "feature_dim": 6, "epochs_per_period": 1,
                                                 "batch_size": 64}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
        "gmm-ae": {"algorithm": "gmm", "features": "ae"},
        "dbscan-raw": {"algorithm": "dbscan", "features": "raw"},
        "hdbscan-umap-ae": {"algorithm": "hdbscan", "features": "umap-ae"},
        "agglomerative-vae": {"algorithm": "agglomerative", "features": "vae"},
    },
    "figures": {"elbow_k": [2, 4]},
    "tracking": {"enabled": True},
}


def tiny_config() -> dict:
    return copy.deepcopy(TINY_CONFIG)


def full_config() -> dict:
    """The full run's config: the tiny one with every figure, t-SNE maps included (the other DAG
    fixtures keep the default UMAP maps alone: a t-SNE job per space is most of a tiny DAG's
    figures) drawn of a fixed subset of the samples (figures.max_points), and MLflow as
    config/config.yaml has it: the sync logs every run at the end (live logging, an MLflow import
    in every training job, is the faults and MLflow-down tests')."""
    config = tiny_config()
    config["figures"].update(projection=["umap", "tsne"], max_points=120)
    config["tracking"]["live"] = False
    return config


def copy_workflow(dest: Path) -> Path:
    """A fresh copy of the workflow and the library, without results."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in WORKFLOW_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, dest / name)
    return dest


def copy_tree(source: Path, dest: Path) -> Path:
    """A copy of a (finished) workflow directory: results, metadata and mtimes included."""
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return dest


def config_path(workdir: Path) -> Path:
    return workdir / "config" / "config.yaml"


def write_config(workdir: Path, config: dict) -> None:
    """Replace config/config.yaml (a --configfile would be merged into the default config)."""
    config_path(workdir).write_text(yaml.safe_dump(config, sort_keys=False))


def read_config(workdir: Path) -> dict:
    return yaml.safe_load(config_path(workdir).read_text())


# the environment as the session started: DAGs built in the background must not see a variable
# that a unit test sets meanwhile (monkeypatch)
_ENVIRON = dict(os.environ)


def snakemake_env(workdir: Path, slurm: bool = False) -> dict:
    """``slurm``: keep SLURM's own scontrol on PATH; otherwise a stub that fails at once (see it)."""
    env = dict(_ENVIRON)
    env.pop("MLFLOW_TRACKING_URI", None)  # the default sqlite store under results/
    env.pop("DEEPCLUST_DATA_MIRROR", None)  # a test that wants a mirror names it in its config
    if not slurm:
        env["PATH"] = f"{NO_SLURM}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(workdir / "src")  # the copy's library, not the checkout's
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(var, "1")  # two cores: no oversubscription inside jobs
    return env


@dataclass
class Result:
    returncode: int
    output: str  # stdout and stderr together, as a user sees them
    seconds: float

    def tail(self, n: int = 80) -> str:
        return "\n".join(self.output.splitlines()[-n:])


def run_snakemake(workdir: Path, *args: str, timeout: float = DRY_RUN_TIMEOUT, env: dict | None = None) -> Result:
    """`snakemake --cores 2 *args` in ``workdir`` (forked from a process that imported Snakemake
    once: snakemake_forks); ``env``: variables to set on top of the test environment."""
    start = time.perf_counter()
    with tempfile.NamedTemporaryFile(prefix="snakemake-", suffix=".log") as log:
        returncode = snakemake_forks.run(["--cores", "2", *args], workdir,
                                         {**snakemake_env(workdir), **(env or {})}, Path(log.name), timeout)
        output = Path(log.name).read_text(errors="replace")
    if returncode is None:
        pytest.fail(f"snakemake {' '.join(args)} ran over {timeout}s in {workdir}:\n{output[-5000:]}")
    return Result(returncode, output, time.perf_counter() - start)


def selected_params(request, test: str, param: str) -> list:
    """The values of ``param`` in the selected cases (-k, -m and node ids honoured) of the
    parametrised test function named ``test``."""
    return [item.callspec.params[param] for item in request.session.items
            if getattr(item, "originalname", None) == test]


def side_by_side(calls: dict) -> dict:
    """{key: call()} for each no-argument ``call`` (each starts a snakemake of its own), as many at
    once as there are cores: for the many dry runs and refusals that each take a second or two of
    one core. A call's exception (a timeout's pytest.fail) is raised when its result is read."""
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        futures = {key: pool.submit(call) for key, call in calls.items()}
    return {key: future.result() for key, future in futures.items()}


# ---- reading `snakemake -n` -----------------------------------------------------------------
# A dry run prints one block per planned job:
#
#   [Mon Nov 23 15:44:10 2026]
#   rule cluster_deep:            (or "localrule ...", "checkpoint ...")
#       input: ...
#       output: results/runs/digits/dec/seed0/labels.npy, results/runs/digits/dec/seed0/metrics.json, ...
#       ...
#       wildcards: dataset=digits, method=dec, seed=0     (absent for rules without wildcards)
#       resources: tmpdir=/tmp
#
# and, when nothing is to be done, "Nothing to be done (all requested files are present and up to date)."
_RULE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\S+):$")
_FIELD = re.compile(r"^\s+(wildcards|output): (.*)$")

Job = tuple[str, tuple[tuple[str, str], ...]]  # (rule, ((wildcard, value), ...))


@dataclass
class Plan:
    """The jobs a dry run plans: (rule, wildcards) pairs and the files they would write."""
    jobs: set[Job]
    outputs: set[str]

    @property
    def rules(self) -> set[str]:
        return {rule for rule, _ in self.jobs}

    def of_rule(self, rule: str) -> set[Job]:
        return {j for j in self.jobs if j[0] == rule}

    def writes_under(self, prefix: str) -> bool:
        return any(path.startswith(prefix) for path in self.outputs)


def parse_dry_run(output: str) -> Plan:
    jobs, outputs = [], set()
    for line in output.splitlines():
        if match := _RULE.match(line):
            jobs.append([match.group(1), ()])
        elif jobs and (match := _FIELD.match(line)):
            field, value = match.groups()
            if field == "wildcards":
                pairs = (item.split("=", 1) for item in value.split(", "))
                jobs[-1][1] = tuple(sorted((k, v) for k, v in pairs))
            else:
                outputs.update(value.split(", "))
    return Plan({(rule, wildcards) for rule, wildcards in jobs}, outputs)


def job(rule: str, **wildcards) -> Job:
    return rule, tuple(sorted((k, str(v)) for k, v in wildcards.items()))


NOTHING_TO_BE_DONE = "Nothing to be done"


# ---- the full run, started in the background ------------------------------------------------
class BackgroundRun:
    """`snakemake --cores 2` on a fresh copy with the full config, in a process of its own.

    Started as soon as collection is over when a selected test needs it, so that the tests that
    do not (bad configs, lint) run while it works instead of after it."""

    def __init__(self, timeout: float = FULL_RUN_TIMEOUT):
        self.workdir = copy_workflow(Path(tempfile.mkdtemp(prefix="deepclust-workflow-")) / "wf")
        write_config(self.workdir, full_config())
        self.timeout = timeout
        self.log_path = self.workdir.parent / "snakemake.log"
        self.started = time.perf_counter()
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([str(SNAKEMAKE), "--cores", "2"], cwd=self.workdir,
                                            env=snakemake_env(self.workdir), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.result: Result | None = None

    def wait(self) -> Result:
        if self.result is None:
            remaining = self.timeout - (time.perf_counter() - self.started)
            try:
                returncode = self.process.wait(timeout=max(remaining, 1))
            except subprocess.TimeoutExpired:
                self.stop()
                returncode = -1
            self.result = Result(returncode, self.log_path.read_text(errors="replace"),
                                 time.perf_counter() - self.started)
        return self.result

    def stop(self) -> None:
        """End the run (and its jobs: its own process group) if it is still going."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir.parent, ignore_errors=True)


_full_run: BackgroundRun | None = None
_background_modules: list = []  # test modules whose start_in_background() ran


def background_module(item):
    """The test's module if it runs a fixture of its own in the background (it defines
    ``start_in_background()`` and ``stop_background()``, as the SLURM test does), else None."""
    module = getattr(item, "module", None)
    return module if hasattr(module, "start_in_background") else None


# ---- DAG fixtures built in the background ---------------------------------------------------
_builds: dict = {}  # "module::fixture" -> build(tmp_path_factory), see built_in_background
_build_futures: dict = {}
_build_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dag-fixtures")


def built_in_background(build):
    """Decorator: a module-scoped fixture named like ``build``, whose value is
    ``build(tmp_path_factory)``, a DAG run of the module's own. When a selected test uses it, it
    starts right after collection in the background, one build at a time and after the full run,
    while the tests that need no run go first; the fixture then waits for it (and raises what the
    build raised). Not for builds whose test times them: they would share the cores."""
    key = f"{build.__module__}::{build.__name__}"
    _builds[key] = build

    @pytest.fixture(scope="module", name=build.__name__)
    def fixture(tmp_path_factory):
        future = _build_futures.get(key)
        return future.result() if future is not None else build(tmp_path_factory)

    fixture.__doc__ = build.__doc__
    return fixture


def background_builds(item) -> list[str]:
    module = getattr(getattr(item, "module", None), "__name__", "")
    return [key for key in (f"{module}::{name}" for name in getattr(item, "fixturenames", ())) if key in _builds]


def _build_after_full_run(build, tmp_path_factory):
    if _full_run is not None:
        _full_run.process.wait()  # two DAGs at once beside the tests would overload two cores
    return build(tmp_path_factory)


def in_background(item) -> bool:
    """A test that waits on a background run: the full run, its module's own or a DAG fixture."""
    return ("finished_workflow" in getattr(item, "fixturenames", ()) or background_module(item) is not None
            or bool(background_builds(item)))


def pytest_collection_modifyitems(items):
    """Tests that wait on a background run last (stable otherwise), so the others overlap with it."""
    items.sort(key=in_background)


def pytest_collection_finish(session):
    global _full_run
    if session.config.option.collectonly:
        return
    if any("finished_workflow" in getattr(item, "fixturenames", ()) for item in session.items):
        _full_run = BackgroundRun()
    for module in dict.fromkeys(filter(None, map(background_module, session.items))):
        module.start_in_background()
        _background_modules.append(module)
    builds = list(dict.fromkeys(key for item in session.items for key in background_builds(item)))
    if builds:
        # pytest's own factory (the tmpdir plugin's), as the fixtures' tmp_path_factory; its base
        # folder made here, before any thread asks for it (two first calls at once make two)
        tmp_path_factory = session.config._tmp_path_factory
        tmp_path_factory.getbasetemp()
        for key in builds:
            _build_futures[key] = _build_pool.submit(_build_after_full_run, _builds[key], tmp_path_factory)


def pytest_sessionfinish(session, exitstatus):
    _build_pool.shutdown(wait=True, cancel_futures=True)  # builds no test waited for (-x, Ctrl-C)
    for module in _background_modules:
        module.stop_background()
    if _full_run is not None:
        _full_run.stop()
        if exitstatus == 0:
            _full_run.cleanup()
        else:
            print(f"\nthe full workflow run is kept in {_full_run.workdir}")


# ---- fixtures --------------------------------------------------------------------------------
@dataclass
class Workflow:
    path: Path
    run: Result


@pytest.fixture(scope="session")
def pristine_workflow(tmp_path_factory) -> Path:
    """The workflow with the full run's config, never run (tests copy it before changing it)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("pristine") / "wf")
    write_config(workdir, full_config())
    return workdir


@pytest.fixture
def fresh_copy(pristine_workflow, tmp_path) -> Path:
    return copy_tree(pristine_workflow, tmp_path / "wf")


@pytest.fixture(scope="session")
def finished_workflow() -> Workflow:
    """The tiny config run to the end once per session; tests must not change it (copy it)."""
    assert _full_run is not None, "pytest_collection_finish starts the full run"
    result = _full_run.wait()
    workdir = _full_run.workdir
    print(f"\nfull workflow run: {result.seconds:.0f}s (rc {result.returncode})")
    if result.returncode != 0:
        logs_dir = workdir / "results" / "logs"
        logs = "\n".join(f"--- {p.relative_to(workdir)}\n{p.read_text()[-2000:]}"
                         for p in sorted(logs_dir.rglob("*.log"))) if logs_dir.is_dir() else ""
        what = f"ran over {FULL_RUN_TIMEOUT}s" if result.returncode == -1 else f"failed (rc {result.returncode})"
        pytest.fail(f"the full workflow run {what}:\n{result.tail(150)}\n{logs}")
    return Workflow(workdir, result)


@pytest.fixture
def finished_copy(finished_workflow, tmp_path) -> Path:
    """A private copy of the finished run, to change and dry-run."""
    return copy_tree(finished_workflow.path, tmp_path / "wf")
