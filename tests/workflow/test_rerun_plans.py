"""What a change reruns, read from `snakemake -n` on a private copy of the finished tiny run.

Snakemake reruns a job when its params change; the workflow's params carry the job's config
section and a fingerprint of the deepclust code it imports (deepclust.provenance), so a change
must rerun exactly the jobs it touches and, by modification time, what reads their outputs.
Dry runs only: nothing is executed.

Expectations name the rules whose jobs are one per run (pretrain_autoencoder, cluster_deep) and
otherwise the files a plan would write, so that batching figures or baselines into fewer jobs
does not change what is asserted.
"""

import re

import pytest
from conftest import (BASELINES, DATASET, DEEP_METHODS, NOTHING_TO_BE_DONE, SEEDS, full_config, job,
                      parse_dry_run, read_config, run_snakemake, write_config)

pytestmark = pytest.mark.slow

FIGURES = f"results/figures/{DATASET}"


def plan(workdir):
    result = run_snakemake(workdir, "-n")
    assert result.returncode == 0, result.tail()
    return parse_dry_run(result.output), result


def deep(*methods):
    """Deep clustering jobs; generative methods (VaDE) run as cluster_generative."""
    return {job("cluster_generative" if m in ("vade", "infogan") else "cluster_deep", dataset=DATASET, method=m,
                seed=s)
            for m in methods for s in SEEDS}


def pretrain():
    return {job("pretrain_autoencoder", dataset=DATASET, net="ae", seed=s) for s in SEEDS}


def run_files(method):
    return f"results/runs/{DATASET}/{method}/"


def append_code(workdir, module, text="\nEDITED = True  # code the run never uses, but code\n"):
    path = workdir / "src" / "deepclust" / module
    assert path.is_file(), path
    with open(path, "a") as f:
        f.write(text)


def reversed_keys(mapping):
    return dict(reversed(list(mapping.items())))


def assert_no_upstream_work(planned, result):
    """Nothing before the clustering: no dataset, no pretraining, no UMAP features."""
    assert not planned.of_rule("prepare_dataset"), result.tail(200)
    assert not planned.of_rule("pretrain_autoencoder"), result.tail(200)
    assert not planned.writes_under("results/features/"), result.tail(200)


def test_unchanged_copy_plans_nothing(finished_copy):
    """Control: the copy (mtimes and metadata kept) is as up to date as the original."""
    planned, result = plan(finished_copy)
    assert NOTHING_TO_BE_DONE in result.output, result.tail()
    assert planned.jobs == set()


def test_dec_hyperparameter_reruns_dec_and_what_reads_it(finished_copy):
    config = read_config(finished_copy)
    config["methods"]["dec"]["params"]["tol"] = 0.01
    write_config(finished_copy, config)

    planned, result = plan(finished_copy)

    assert planned.of_rule("cluster_deep") == deep("dec"), result.tail(200)
    assert {"summary_table", "sync_tracking"} <= planned.rules
    assert_no_upstream_work(planned, result)
    assert not any(planned.writes_under(run_files(m)) for m in BASELINES), result.tail(200)
    figures = {f"{FIGURES}/{name}.png" for name in ["embedding_dec_umap", "embedding_dec_tsne", "confusion",
                                                     "training_curves", "methods", "centres"]}
    assert {"results/tables/summary.csv", "results/tables/summary.md", "results/mlflow/synced.json",
            *figures} <= planned.outputs, result.tail(200)
    # UMAP draws every space in one job; t-SNE redraws only the space whose methods changed
    assert f"{FIGURES}/embedding_raw_umap.png" in planned.outputs
    assert f"{FIGURES}/embedding_raw_tsne.png" not in planned.outputs
    assert f"{FIGURES}/elbow.png" not in planned.outputs  # reads no method's results


def test_editing_dec_module_reruns_dec_and_idec(finished_copy):
    """IDEC subclasses DEC: its code fingerprint includes methods/dec.py."""
    append_code(finished_copy, "methods/dec.py")
    planned, result = plan(finished_copy)
    assert planned.of_rule("cluster_deep") == deep("dec", "idec"), result.tail(200)
    assert_no_upstream_work(planned, result)
    assert not any(planned.writes_under(run_files(m)) for m in BASELINES), result.tail(200)
    assert {f"{FIGURES}/embedding_dec_umap.png", f"{FIGURES}/embedding_idec_tsne.png"} <= planned.outputs


def test_editing_comments_and_docstrings_plans_nothing(finished_copy):
    """They change no result, so a long training's outputs and checkpoint stay valid."""
    append_code(finished_copy, "nn/autoencoder.py", "\n# a comment\n")
    dec = finished_copy / "src" / "deepclust" / "methods" / "dec.py"
    source = dec.read_text()
    assert source.startswith('"""DEC: Deep Embedded Clustering')
    dec.write_text(source.replace('"""DEC: Deep Embedded Clustering', '"""DEC, deep embedded clustering', 1))
    planned, result = plan(finished_copy)
    assert NOTHING_TO_BE_DONE in result.output and planned.jobs == set(), result.tail(200)


def test_editing_dcn_module_reruns_dcn_only(finished_copy):
    append_code(finished_copy, "methods/dcn.py")
    planned, result = plan(finished_copy)
    assert planned.of_rule("cluster_deep") == deep("dcn"), result.tail(200)
    assert_no_upstream_work(planned, result)
    assert not any(planned.writes_under(run_files(m)) for m in BASELINES), result.tail(200)


def test_editing_the_autoencoder_reruns_pretraining_and_deep_methods(finished_copy):
    append_code(finished_copy, "nn/autoencoder.py")
    planned, result = plan(finished_copy)
    assert pretrain() | deep(*DEEP_METHODS) <= planned.jobs, result.tail(200)
    # and the baselines that cluster the pretrained embedding or its UMAP
    assert planned.writes_under(run_files("gmm-ae")) and planned.writes_under(run_files("hdbscan-umap-ae"))


def test_editing_the_autoencoder_does_not_rerun_dataset_preparation(finished_copy):
    append_code(finished_copy, "nn/autoencoder.py")
    planned, result = plan(finished_copy)
    assert not planned.of_rule("prepare_dataset"), result.tail(200)


def test_reordering_top_level_keys_plans_nothing(finished_copy):
    write_config(finished_copy, reversed_keys(read_config(finished_copy)))
    planned, result = plan(finished_copy)
    assert planned.jobs == set(), result.tail(200)


def reorder_settings(config):
    """Same values, each entry's keys in reverse order (the order of the entries is kept)."""
    for group in ("datasets", "nets", "methods"):
        for name, spec in config[group].items():
            spec = reversed_keys(spec)
            if "params" in spec:
                spec["params"] = reversed_keys(spec["params"])
            config[group][name] = spec
    return config


def spell_out_a_default(config):
    """nets.ae.weight_decay: 0.0 is the schema's default; written first instead of left out."""
    config["nets"]["ae"] = {"weight_decay": 0.0, **config["nets"]["ae"]}
    return config


def name_the_only_dataset(config):
    """methods.<id>.datasets says where a method runs: naming every dataset is the default."""
    for method in ("jule", "kmeans-raw"):
        config["methods"][method]["datasets"] = [DATASET]
    return config


@pytest.mark.parametrize("change", [reorder_settings, spell_out_a_default, name_the_only_dataset])
def test_same_values_in_another_order_plan_nothing(finished_copy, change):
    config = read_config(finished_copy)
    assert config == full_config()
    write_config(finished_copy, change(config))
    planned, result = plan(finished_copy)
    assert planned.jobs == set(), result.tail(200)


def test_drawing_fewer_figures_reruns_nothing_but_the_sync(finished_copy):
    """figures.draw narrowed after a run: the figures drawn stay, nothing is redrawn or retrained;
    only the MLflow sync, which waits for the figures the config asks for, reruns (it logs each
    run once)."""
    config = read_config(finished_copy)
    config["figures"]["draw"] = ["confusion"]
    write_config(finished_copy, config)
    planned, result = plan(finished_copy)
    assert planned.rules <= {"sync_tracking", "all"}, result.tail(200)


def test_adding_a_seed_runs_that_seed_only(finished_copy):
    """The other seeds' pretraining, UMAP features, runs and baselines stay as they are."""
    config = read_config(finished_copy)
    config["seeds"] = SEEDS + [max(SEEDS) + 1]
    write_config(finished_copy, config)

    planned, result = plan(finished_copy)

    new = f"seed{max(SEEDS) + 1}"
    per_seed = [path for path in planned.outputs if re.search(r"seed\d+", path)]
    assert per_seed and all(re.search(rf"{new}\b", path) for path in per_seed), result.tail(200)
    assert planned.of_rule("pretrain_autoencoder") == {
        job("pretrain_autoencoder", dataset=DATASET, net=net, seed=max(SEEDS) + 1) for net in ("ae", "vae")}
    assert planned.writes_under(f"results/features/{DATASET}/umap-ae/{new}"), result.tail(200)
    assert planned.writes_under(f"{run_files('kmeans-raw')}{new}/"), result.tail(200)


def test_precision_reruns_every_training_job_not_the_data(finished_copy):
    config = read_config(finished_copy)
    config["precision"] = "bf16"
    write_config(finished_copy, config)
    planned, result = plan(finished_copy)
    assert pretrain() | deep(*DEEP_METHODS) <= planned.jobs, result.tail(200)
    assert not planned.of_rule("prepare_dataset"), result.tail(200)


def test_deterministic_reruns_every_training_job_not_the_data(finished_copy):
    """The key reaches every training job, as precision does."""
    config = read_config(finished_copy)
    config["deterministic"] = True
    write_config(finished_copy, config)
    planned, result = plan(finished_copy)
    assert pretrain() | deep(*DEEP_METHODS) <= planned.jobs, result.tail(200)
    assert not planned.of_rule("prepare_dataset"), result.tail(200)


def test_cuda_graphs_reruns_pretraining_and_what_starts_from_it(finished_copy):
    config = read_config(finished_copy)
    config["cuda_graphs"] = True
    write_config(finished_copy, config)
    planned, result = plan(finished_copy)
    assert pretrain() <= planned.jobs, result.tail(200)
    # methods trained from scratch (InfoGAN, JULE) use no pretrained net and are not rerun
    assert not planned.writes_under(run_files("jule")) and not planned.writes_under(run_files("infogan"))
