"""Regenerate every table of numbers in README.md, docs/ and studies/ from the committed records.

A page marks each generated part with a pair of comments:

    <!-- generated: NAME -->
    ...rewritten by this script...
    <!-- end: NAME -->

NAME is a renderer of this file (RENDERERS below) or ``<study>.<function>``: the function of
studies/<study>/tables.py, called with that study's records ({file stem: record}). Figures drawn
from records (docs/images/) are written too. Usage, from the repository root:

    python docs/generate.py           # rewrite the pages (make docs)
    python docs/generate.py --check   # exit 1, naming them, when committed pages differ from their records
"""

import argparse
import importlib.util
import re
import sys
from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import pandas as pd

from deepclust import paper
from deepclust.records import load, markdown_table, provenance

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "results"
STUDIES = ROOT / "studies"
IMAGES = ROOT / "docs" / "images"
BLOCK = re.compile(r"(<!-- generated: (\S+) -->\n).*?(<!-- end: \2 -->)", re.S)
DRAW = True  # draw the figures; off in --check, which writes nothing
GOAL_POINTS = 2.0  # "met": our mean within this many points of the paper, or above it


# ----------------------------------------------------------------------------- records

@lru_cache(maxsize=None)
def study_records(study: str) -> dict:
    """{file stem: record} of studies/<study>/records/."""
    return {path.stem: load(path) for path in sorted((STUDIES / study / "records").glob("*.json"))}


@lru_cache(maxsize=None)
def bench_record(name: str) -> dict:
    return load(BENCH / f"{name}.json")


def signed(value: float, digits=1) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


# ----------------------------------------------------------------------------- the papers

PAPER_METHODS = [  # (our method id, dataset, metric, label in the tables), in the order the tables list them
    ("dec", "mnist", "acc", "DEC"),
    ("idec", "mnist", "acc", "IDEC"),
    ("dcn", "mnist", "acc", "DCN"),
    ("kmeans-ae", "mnist", "acc", "AE + k-means"),
    ("kmeans-raw", "mnist", "acc", "k-means on pixels"),
    ("gmm-umap-ae", "mnist", "acc", "N2D"),
    ("dcec", "mnist", "acc", "DCEC"),
    ("vade", "mnist", "acc", "VaDE"),
    ("jule", "mnist_test", "nmi", "JULE (MNIST-test, NMI)"),
    ("jule", "mnist", "nmi", "JULE (MNIST, NMI)"),
    ("infogan", "mnist", "acc", "InfoGAN"),
]
PAPER_OF = {"dec": "DEC", "idec": "IDEC", "dcn": "DCN", "kmeans-ae": "IDEC", "kmeans-raw": "DEC", "gmm-umap-ae": "N2D",
            "dcec": "DCEC", "vade": "VaDE", "jule": "JULE", "infogan": "InfoGAN"}
# what each paper-settings study is called in the docs, and where its page is
STUDY_PAGES = {"paper_settings_mnist": "MNIST at the papers' settings", "dcec_paper_settings": "DCEC",
               "vade_paper_settings": "VaDE", "jule_paper_settings": "JULE", "infogan_paper_settings": "InfoGAN"}


@lru_cache(maxsize=None)
def paper_runs() -> tuple[pd.DataFrame, dict, dict]:
    """Every run of the records that compare with the papers (``paper_comparison: true``), their
    variants' paper methods ({our id: paper's id}) and which study each (method, dataset) is in."""
    rows, paper_methods, study_of = [], {}, {}
    for path in sorted(STUDIES.glob("*/records/*.json")):
        record = load(path)
        if not record.get("paper_comparison"):
            continue
        paper_methods.update(record.get("paper_methods", {}))
        for run in record["runs"]:
            rows.append({k: run.get(k) for k in ("dataset", "method", "seed", "acc", "nmi", "ari")})
            study_of[run["method"], run["dataset"]] = path.parent.parent.name
    return pd.DataFrame(rows).drop_duplicates(["dataset", "method", "seed"]), paper_methods, study_of


@lru_cache(maxsize=None)
def reported() -> pd.DataFrame:
    return paper.load_reported(ROOT / "config" / "paper_results.yaml")


def comparison() -> pd.DataFrame:
    runs, paper_methods, _ = paper_runs()
    sources = {"mnist_cae": "mnist"}  # DCEC's dataset id: MNIST with the conv autoencoder
    return paper.compare(runs, reported(), sources, paper_methods)


def _status_rows():
    """One row per (method, dataset) of PAPER_METHODS: the paper's own number for it, our mean ±
    std over seeds, Δ and the verdict, then a row per variant of ours."""
    table = comparison()
    _, paper_methods, study_of = paper_runs()
    for method, dataset, metric, label in PAPER_METHODS:
        ids = [method] + sorted(m for m, p in paper_methods.items() if p == method)
        for ours in ids:
            rows = table[(table["method"] == ours) & (table["paper"] == PAPER_OF[method])
                         & (table["dataset"] == dataset) & (table["metric"] == metric)]
            if rows.empty:
                continue
            row = rows.iloc[0]
            verified = bool(row["verified"])
            reported_cell = f"{100 * row['reported']:.1f}" + ("" if verified else " †")
            difference = 100 * row["difference"]
            verdict = "met" if difference >= -GOAL_POINTS else "short"
            if not verified:
                verdict += " (unverified number)"
            name = label if ours == method else f"{label}, `{ours}` (ours, not in the paper)"
            study = study_of.get((ours, row["our_dataset"]))
            link = f"[{STUDY_PAGES.get(study, study)}](studies/{study}/README.md)" if study else ""
            yield [name, reported_cell, f"{pm_from(row)} ({row['n_seeds']})", signed(difference), verdict, link]


def pm_from(row) -> str:
    return f"{100 * row['mean']:.1f} ± {100 * row['std']:.1f}"


STATUS_HEADER = ["Method", "Paper", "Ours: mean ± std (seeds)", "Δ (points)", "Status", "Details"]
STATUS_NOTE = ("ACC in percent unless marked NMI; MNIST is all 70,000 images, MNIST-test the 10,000 test images; "
               "± is the standard deviation over seeds; \"met\": our mean within 2 points of the paper's number or "
               "above it. † the paper's number could not be verified in the paper "
               "or the authors' own text (config/paper_results.yaml says where each number was read).")


def paper_status() -> str:
    """Each paper's number against ours: the README's and the reproducing page's table."""
    return markdown_table(STATUS_HEADER, list(_status_rows()), "---|---:|---:|---:|---|---") + \
        "\n\n" + STATUS_NOTE


def paper_table() -> str:
    """The workflow's paper table (results/tables/paper_table.md) over every paper-settings record."""
    return paper.markdown(comparison()).replace("### ", "#### ")


def reported_numbers() -> str:
    """config/paper_results.yaml as a table: every number, where it stands and where it was read."""
    table = reported()
    rows = [[r.paper, r.method, r.dataset, r.metric.upper(), f"{100 * r.reported:.2f}", r.source, r.read_in,
             "yes" if r.verified else "no"] for r in table.itertuples()]
    return markdown_table(["Paper", "Method id", "Dataset", "Metric", "Value (%)", "Table", "Read in", "Verified"],
                          rows, "---|---|---|---|---:|---|---|---")


# ----------------------------------------------------------------------------- performance

def _dag() -> dict:
    return bench_record("dag_walltime")


def dag_time() -> str:
    """The default DAG's wall time from scratch, per repeat and median."""
    record = _dag()
    seconds = [run["seconds"] for run in record["runs"]]
    rows = [[record["params"]["configfile"], len(record["runs"]), ", ".join(f"{s:.0f}" for s in seconds),
             f"**{np.median(seconds):.0f} s**"]]
    return markdown_table(["Config", "Repeats", "Seconds per repeat", "Median"], rows) + "\n\n" + \
        provenance(record, "bench/results/dag_walltime.json")


# the default DAG side by side with the code before a start-up change: (record, {variant: what it runs})
DAG_SIDE_BY_SIDE = ("dag_walltime_collector_on_collector_held", {
    "collector_on": "jobs import their libraries with Python's garbage collector on",
    "collector_held": "jobs hold the collector while they import, then freeze what the imports made",
})


def dag_side_by_side() -> str:
    """The default DAG timed with two versions of the code in one invocation (alternating repeats):
    seconds, job-seconds (the cores' work) and whether both computed the same results."""
    name, described = DAG_SIDE_BY_SIDE
    record = bench_record(name)
    rows = []
    for variant, what in described.items():
        runs = [run for run in record["runs"] if run["variant"] == variant]
        seconds = [run["seconds"] for run in runs]
        work = [sum(rule["job_seconds"] for rule in run["profile"]["rules"].values()) for run in runs]
        rows.append([f"`{variant}`: {what}", ", ".join(f"{s:.0f}" for s in seconds), f"**{np.median(seconds):.0f} s**",
                     f"{np.median(work):.0f}"])
    same = "the same" if record["summary"]["same_results"] else "**different**"
    return markdown_table(["Code", "Seconds per repeat", "Median", "Job-seconds (median)"], rows) + \
        f"\n\nBoth computed {same} results (every run's metrics).\n\n" + \
        provenance(record, f"bench/results/{name}.json", show_command=False)  # it names the commits


def command_times() -> str:
    """The two commands' measured times, for the README."""
    dag = _dag()
    dag_seconds = np.median([run["seconds"] for run in dag["runs"]])
    text = (f"Measured on {dag['machine']}: `make run`'s DAG takes **{dag_seconds / 60:.1f} minutes** from scratch "
            f"(median of {len(dag['runs'])}, `bench/dag_walltime.py`), after a one-time set-up of the virtual "
            "environment")
    if not (BENCH / "test_walltime.json").exists():  # before its first measurement
        return text + "."
    tests = bench_record("test_walltime")
    run = tests["runs"][-1]
    counts = ", ".join(f"{run[k]} {k}" for k in ("passed", "skipped", "failed") if run.get(k))
    return text + (f"; `make test` takes **{run['seconds'] / 60:.0f} minutes** ({counts}; `bench/test_walltime.py`, "
                   f"on {tests['machine']}).")


def _digits_summary() -> pd.DataFrame:
    """Per method on digits: mean and std over seeds of the default run's metrics (the DAG record's
    last repeat)."""
    runs = pd.DataFrame(_dag()["runs"][-1]["results"])
    metrics = ["acc", "nmi", "ari", "silhouette", "seconds"]
    summary = runs.groupby("method")[metrics].agg(["mean", lambda x: x.std(ddof=0)])
    summary.columns = [f"{m}_{'mean' if s == 'mean' else 'std'}" for m, s in summary.columns]
    summary["seeds"] = runs.groupby("method")["seed"].nunique()
    return summary.sort_values("acc_mean", ascending=False)


def digits_results() -> str:
    summary = _digits_summary()
    rows = []
    for method, row in summary.iterrows():
        rows.append([method] + [f"{row[f'{m}_mean']:.3f} ± {row[f'{m}_std']:.3f}" for m in ("acc", "nmi", "ari",
                                                                                          "silhouette")]
                    + [f"{row['seconds_mean']:.1f}"])
    record = _dag()
    return markdown_table(["Method", "ACC", "NMI", "ARI", "Silhouette", "Fit time (s)"], rows) + "\n\n" + \
        f"Mean ± std over seeds {', '.join(map(str, sorted({r['seed'] for r in record['runs'][-1]['results']})))}. " + \
        provenance(record, "bench/results/dag_walltime.json")


def methods_figure() -> str:
    """Draws docs/images/methods_digits.png from the DAG record (not in --check); the block holds the image link."""
    from deepclust import figures

    if not DRAW:
        return "![Methods on digits, sorted by ACC](docs/images/methods_digits.png)"
    summary = _digits_summary()
    long = [{"method": method, "metric": metric, "mean": row[f"{metric}_mean"], "std": row[f"{metric}_std"]}
            for method, row in summary.iterrows() for metric in ("acc", "nmi", "ari")]
    IMAGES.mkdir(parents=True, exist_ok=True)
    figures.method_bars(pd.DataFrame(long), IMAGES / "methods_digits.png",
                        "digits: mean ± std over seeds (the default run)")
    return "![Methods on digits, sorted by ACC](docs/images/methods_digits.png)"


def acc_difference(record: dict, method: str) -> str:
    """deepclust's mean ACC minus ClustPy's, with Welch's 95% interval: a seed draws different
    random streams in the two libraries, so the runs are two samples, not pairs."""
    from scipy.stats import ttest_ind

    accs = [[run["acc"] for run in record["runs"] if run["method"] == method and run["library"] == side]
            for side in ("ours", "clustpy")]
    interval = ttest_ind(*accs, equal_var=False).confidence_interval(0.95)
    return f"{np.mean(accs[0]) - np.mean(accs[1]):+.3f} [{interval.low:+.3f}, {interval.high:+.3f}]"


def clustpy_table(name: str) -> str:
    record = bench_record(name)
    rows = []
    for method, summary in record["summary"].items():
        ours, theirs = summary["ours"], summary["clustpy"]
        rows.append([method.upper(), f"{ours['total_s']:.1f} s", f"{theirs['total_s']:.1f} s",
                     f"**{theirs['total_s'] / ours['total_s']:.2f}×**", f"{ours['acc_mean']:.3f} ± {ours['acc_std']:.3f}",
                     f"{theirs['acc_mean']:.3f} ± {theirs['acc_std']:.3f}", acc_difference(record, method)])
    params = record["params"]
    head = (f"{params['dataset']}, {params['pretrain_epochs']} + {params['clustering_epochs']} epochs, "
            f"{params['threads']} thread(s), seeds {params['seeds'][0]}–{params['seeds'][-1]}; times are medians, "
            "ACC mean ± std over seeds; the ACC difference is deepclust's minus ClustPy's with Welch's 95% "
            "interval.\n\n")
    return head + markdown_table(["Method", "deepclust", "ClustPy", "ClustPy / deepclust", "ACC deepclust",
                                  "ACC ClustPy", "ACC difference"], rows) + "\n\n" + \
        provenance(record, f"bench/results/{name}.json")


# the ClustPy side-by-side tables: generated block -> record (bench/clustpy_side_by_side.py's variants)
CLUSTPY_TABLES = {
    "clustpy_digits": "clustpy_side_by_side_digits_cpu",
    "clustpy_digits_n_init20": "clustpy_side_by_side_digits_cpu_ours_n_init20",
    "clustpy_digits_bf16": "clustpy_side_by_side_digits_cpu_ours_bf16",
    "clustpy_digits_bf16_idec_objective": "clustpy_side_by_side_digits_cpu_ours_bf16_idec_clustpy_objective",
    "clustpy_digits_equal": "clustpy_side_by_side_digits_cpu_ours_bf16_n_init20_idec_clustpy_objective",
}


def pretrain_throughput() -> str:
    rows = []
    for name in ("pretrain_throughput_cpu_fp32", "pretrain_throughput_cpu", "pretrain_throughput_cpu_bf16"):
        record = bench_record(name)
        cells = {run["batch_size"]: f"{run['samples_per_second']:,.0f}" for run in record["runs"]}
        rows.append([f"`{record['params']['precision']}`", *(cells.get(b, "") for b in (64, 256, 1024))])
    record = bench_record("pretrain_throughput_cpu")
    return markdown_table(["precision", "batch 64", "batch 256", "batch 1024"], rows) + "\n\n" + \
        f"Samples per second, d-500-500-2000-10 autoencoder, Adam, {record['params']['threads']} thread(s). " + \
        provenance(record, "bench/results/pretrain_throughput_cpu*.json")


MLFLOW_DOWN = "dag_walltime_tracking_off_mlflow_down"
MLFLOW_DOWN_COMMAND = ("python bench/dag_walltime.py --repeats 3 --variant tracking_off tracking.enabled=false "
                       "--variant mlflow_down tracking.live=true MLFLOW_TRACKING_URI=http://127.0.0.1:9")


def mlflow_down() -> str:
    """The limits deepclust.tracking puts on a store that is down (from the code), and what a
    server that is down costs the default DAG (from the record, once measured)."""
    from deepclust import tracking

    limits = ", ".join(f"`{name}={value}`" for name, value in tracking.HTTP_LIMITS.items())
    text = (f"The probe waits at most {tracking.PROBE_SECONDS} s; deepclust's MLflow calls run with {limits} "
            "(seconds) unless the environment sets them.")
    if not (BENCH / f"{MLFLOW_DOWN}.json").exists():  # before its first measurement
        return text + f" Not measured yet: `{MLFLOW_DOWN_COMMAND}` times the default DAG with tracking off " \
                      "and with live logging to a server that is down, side by side."
    record = bench_record(MLFLOW_DOWN)
    rows = []
    for name, settings in record["params"]["variants"].items():
        seconds = [run["seconds"] for run in record["runs"] if run["variant"] == name]
        rows.append([f"`{name}`", " ".join(f"`{s}`" for s in settings), ", ".join(f"{s:.0f}" for s in seconds),
                     f"**{np.median(seconds):.0f} s**"])
    return text + "\n\n" + markdown_table(["Variant", "Settings", "Seconds per repeat", "Median"], rows,
                                           "---|---|---:|---:") + \
        "\n\n" + provenance(record, f"bench/results/{MLFLOW_DOWN}.json")


# ----------------------------------------------------------------------------- reliability

# (what is tried, node ids of the tests that try it: "file::test" or "file::test_prefix*")
RELIABILITY = [
    ("Bad inputs, each refused with a message naming it", None),
    ("configs (wrong types, unknown keys, out-of-range values, ids that are no plain file names, unknown "
     "algorithms, nets, datasets, feature spaces, sources, estimator parameters; in files and in --config), "
     "refused before any job", ["tests/workflow/test_bad_config.py::test_bad_config_is_refused*"]),
    ("estimator parameters (wrong types, out-of-range values, unknown names), per registered method: fit and "
     "the config check give the same message", ["tests/unit/test_estimator_checks.py::test_bad_parameter*",
                                                 "tests/unit/test_baselines_registry.py::test_bad_baseline_params*",
                                                 "tests/unit/test_baselines_registry.py::test_check_params_refuses*"]),
    ("rows given to fit, predict and transform (NaN, infinity, a wrong feature count, sparse, 1-D, labels of the "
     "wrong length, a RandomState seed) and use before fit, per registered deep method",
     ["tests/unit/test_estimator_checks.py::test_bad_rows*", "tests/unit/test_estimator_checks.py::test_bad_labels*",
      "tests/unit/test_estimator_checks.py::test_unfitted*"]),
    ("scikit-learn's own estimator checks, per registered deep method (those that cannot pass are expected "
     "failures, each with its reason in docs/methods.md)",
     ["tests/unit/test_estimator_checks.py::test_scikit_learn_estimator_checks"]),
    ("methods of one's own (`package.module:Class` that does not import, has no class, sets no labels_, takes "
     "no such parameter or refuses its value)", ["tests/unit/test_plugins.py::test_bad_plugins*"]),
    ("user data files (missing, empty, truncated, garbage bytes, NaN/inf, wrong shapes, labels of the wrong "
     "length, pickled arrays, ...)", ["tests/unit/test_user_files.py::test_bad_user_files*",
                                      "tests/unit/test_user_files.py::test_missing_file_is_named"]),
    ("the same in the DAG, beside a finished dataset whose files are kept",
     ["tests/workflow/test_bad_data.py::test_bad_data_fails*"]),
    ("downloads (truncated transfers, wrong checksums, corrupted or missing mirror files), nothing left behind",
     ["tests/unit/test_remote.py::test_bad_download*", "tests/unit/test_remote.py::test_corrupted_mirror*",
      "tests/unit/test_remote.py::test_missing_mirror*", "tests/unit/test_remote.py::test_remote_needs*"]),
    ("model files (garbage, pickled foreign objects, a torch file without a model)",
     ["tests/unit/test_io.py::test_load_model_on*"]),
    ("published-numbers files and variants naming a paper method they lack",
     ["tests/unit/test_paper_table.py::test_bad_entries*", "tests/unit/test_paper_table.py::test_a_file_without*",
      "tests/unit/test_paper_table.py::test_the_old_per_paper*", "tests/workflow/test_paper_table.py::test_bad_*",
      "tests/workflow/test_paper_table.py::test_a_paper_method_missing*"]),
    ("records behind the documentation (missing keys, wrong types)",
     ["tests/unit/test_records.py::test_malformed*", "tests/unit/test_records.py::test_a_record_missing*"]),
    ("Faults survived, nothing finished lost", None),
    ("a running training job of the DAG killed (SIGKILL): the rerun resumes to the uninterrupted result",
     ["tests/workflow/test_faults.py::test_a_sigkilled*"]),
    ("training stopped (SIGTERM, a kill after a periodic save, a checkpoint at the last epoch), per registered "
     "method, for pretraining and for a method written in the test with no checkpoint code: resumed equals "
     "uninterrupted",
     ["tests/unit/test_checkpoint_methods.py::test_*", "tests/unit/test_checkpoint.py::test_pretraining_resumed*",
      "tests/unit/test_checkpoint.py::test_sigterm*", "tests/unit/test_checkpoint.py::test_the_sigterm_handler*"]),
    ("a checkpoint that cannot be read (truncated): set aside under a new name, the log names it, the run starts "
     "afresh to the uninterrupted result",
     ["tests/unit/test_checkpoint.py::test_an_unreadable_checkpoint*",
      "tests/workflow/test_faults.py::test_an_unreadable_checkpoint*"]),
    ("an interrupted run's checkpoint of other settings, code or file format: set aside, not deleted; the run "
     "starts afresh", ["tests/unit/test_checkpoint.py::test_a_checkpoint_of_other_settings*",
                       "tests/unit/test_checkpoint.py::test_a_checkpoint_of_another_format*"]),
    ("a pretrained model that cannot be read: the job starting from it fails naming it, and the next run "
     "pretrains it again",
     ["tests/unit/test_io.py::test_an_unreadable_input_model*",
      "tests/workflow/test_faults.py::test_an_unreadable_pretrained*"]),
    ("a finished run's metrics.json deleted: the next run remakes that run, and the tables are complete",
     ["tests/workflow/test_full_run.py::test_a_deleted_metrics*"]),
    ("two configs with the same ids, one after the other: each keeps its runs in its own results folder",
     ["tests/workflow/test_configfile.py::test_two_configs*"]),
    ("a diverging loss (NaN): that job fails naming the epoch, the others finish",
     ["tests/workflow/test_faults.py::test_a_diverging*"]),
    ("the MLflow store locked or unreachable: every job completes, the sync fills it in later",
     ["tests/workflow/test_faults.py::test_jobs_complete_while_mlflow*", "tests/unit/test_tracking.py::test_a_locked*",
      "tests/unit/test_tracking.py::test_unavailable_store*"]),
    ("an MLflow server down or never answering: found in seconds, recorded once, no job waits on it, the sync "
     "alone fails and alone reruns",
     ["tests/unit/test_tracking.py::test_a_closed_port*", "tests/unit/test_tracking.py::test_a_server_that_never*",
      "tests/unit/test_tracking.py::test_mlflow_calls_give_up*", "tests/unit/test_tracking.py::test_a_server_down*",
      "tests/unit/test_tracking.py::test_jobs_trust*", "tests/workflow/test_mlflow_down.py::test_a_server_that*"]),
    ("a wrong MLflow store fixed (a store that cannot be created, then the right one): the tracking rules rerun, "
     "not the jobs, and the sync mirrors every run",
     ["tests/unit/test_tracking.py::test_a_store_that_cannot*", "tests/unit/test_tracking.py::test_the_sync_finds*",
      "tests/workflow/test_mlflow_down.py::test_a_wrong_store*"]),
    ("a GPU lock's holder killed: its GPU goes to the next job", ["tests/unit/test_devices.py::test_a_killed*"]),
    ("GPU locks named by device UUID: SLURM jobs that each see their own GPU as device 0 start at once, "
     "one GPU seen under two indexes is one lock",
     ["tests/unit/test_devices.py::test_slurm_jobs*", "tests/unit/test_devices.py::test_one_gpu_seen*"]),
    ("a checkpoint met by another kind of device (`device: auto`) or by fewer GPUs: a fresh start, or a "
     "refusal naming both devices",
     ["tests/unit/test_checkpoint.py::test_a_cpu_run*", "tests/unit/test_checkpoint.py::test_a_gpu_run*",
      "tests/unit/test_checkpoint.py::test_a_state_from_another*", "tests/unit/test_checkpoint.py::test_a_jobs*"]),
    ("eight processes logging into one MLflow store at once: no run lost or duplicated",
     ["tests/unit/test_tracking.py::test_eight_jobs*"]),
    ("Determinism", None),
    ("same seed, bit-identical labels, embeddings, weights and history (every registered method, pretraining, "
     "UMAP, t-SNE maps; also across processes and hash seeds, and under deterministic mode); another seed, "
     "another run",
     ["tests/unit/test_determinism.py::test_*"]),
]


@lru_cache(maxsize=None)
def collected_tests() -> tuple[str, ...]:
    """Node ids of every test, without the parameters' brackets (one entry per case)."""
    import subprocess

    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                             "tests"], cwd=ROOT, capture_output=True, text=True)
    ids = tuple(line.split("[")[0] for line in result.stdout.splitlines() if "::" in line)
    if not ids:
        raise SystemExit(f"pytest collected no tests:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return ids


def reliability_counts() -> str:
    from fnmatch import fnmatch

    rows, ids = [], collected_tests()
    for label, patterns in RELIABILITY:
        if patterns is None:
            rows.append([f"**{label}**", "", ""])
            continue
        matched = [i for i in ids if any(fnmatch(i, p) for p in patterns)]
        if not matched:
            raise SystemExit(f"no test matches {patterns} ({label})")
        files = sorted({i.split("::")[0] for i in matched})
        rows.append([label, len(matched), ", ".join(f"`{f}`" for f in files)])
    return markdown_table(["What is tried", "Cases", "Tests"], rows, "---|---:|---") + \
        "\n\nCounted from the test suite's collected cases by `make docs`; every case runs in `make test`."


RENDERERS = {name: function for name, function in globals().items()
             if callable(function) and name in {
                 "paper_status", "paper_table", "reported_numbers", "dag_time", "dag_side_by_side",
                 "command_times", "digits_results", "methods_figure",
                 "pretrain_throughput", "mlflow_down", "reliability_counts"}}
RENDERERS |= {block: partial(clustpy_table, record) for block, record in CLUSTPY_TABLES.items()}


# ----------------------------------------------------------------------------- pages

def study_renderer(study: str, function: str):
    path = STUDIES / study / "tables.py"
    spec = importlib.util.spec_from_file_location(f"study_tables_{study}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda: getattr(module, function)(study_records(study))


def render(name: str) -> str:
    if "." in name:
        return study_renderer(*name.split(".", 1))().rstrip("\n")
    if name not in RENDERERS:
        raise SystemExit(f"unknown generated block {name!r}; renderers: {', '.join(sorted(RENDERERS))}")
    return RENDERERS[name]().rstrip("\n")


def pages() -> list[Path]:
    """Every page that may hold generated blocks (docs/studies is a link to studies/: read once)."""
    docs = [p for p in sorted((ROOT / "docs").rglob("*.md")) if "studies" not in p.relative_to(ROOT / "docs").parts]
    return [ROOT / "README.md", *docs, *sorted(STUDIES.glob("*/README.md"))]


def regenerate(text: str) -> str:
    return BLOCK.sub(lambda m: f"{m.group(1)}{render(m.group(2))}\n{m.group(3)}", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which pages are stale")
    args = parser.parse_args()
    global DRAW
    DRAW = not args.check
    stale = []
    for page in pages():
        text = page.read_text()
        new = regenerate(text)
        if new != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(new)
    if args.check and stale:
        sys.exit("stale pages (run `make docs`): " + ", ".join(map(str, stale)))
    print(("stale: " if args.check else "regenerated: ") + (", ".join(map(str, stale)) or "nothing"))


if __name__ == "__main__":
    main()
