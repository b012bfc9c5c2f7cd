"""Running another config with `snakemake --configfile my.yaml`, as docs/configuration.md documents."""

import copy
import csv
import functools
import json
import shutil

import pytest
import yaml
from conftest import (METHODS, NOTHING_TO_BE_DONE, REPO, built_in_background, copy_workflow, parse_dry_run,
                      run_snakemake, selected_params, side_by_side, tiny_config)

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 900


def test_configfile_replaces_the_default_methods(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")  # with the default config/config.yaml
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(tiny_config(), sort_keys=False))

    result = run_snakemake(workdir, "-n", "--configfile", "tiny.yaml")

    assert result.returncode == 0, result.tail()
    planned = parse_dry_run(result.output)
    methods = {path.split("/")[3] for path in planned.outputs if path.startswith("results/runs/")}
    assert methods == set(METHODS), result.tail()


def shipped_config(name):
    """config/<name>.yaml, or a study's config (studies/<study>/study.yaml) given by that path."""
    return f"{name}.yaml" if "/" in name else f"config/{name}.yaml"


SHIPPED = [["mnist"], ["paper"], ["paper_cpu"], ["paper_cpu", "paper_adam_ae"], ["paper", "jule_outliers"],
           ["paper", "vade_latent_scale"], ["benchmark"], ["benchmark", "benchmark_offline"], ["benchmark_gpu"],
           ["studies/metric_losses/study"], ["studies/text_features/study"]]


@pytest.fixture(scope="module")
def shipped_plans(request, tmp_path_factory):
    """Each selected combination's dry run, side by side: {names: (workdir, result)}."""
    selected = map(tuple, selected_params(request, "test_shipped_configs_plan_every_configured_run_and_the_paper_table",
                                          "names"))
    workdirs = {}
    for names in selected:
        workdir = copy_workflow(tmp_path_factory.mktemp("shipped") / "wf")
        for name in names:
            if not (workdir / shipped_config(name)).exists():  # a study's: studies/ is not part of the workflow
                (workdir / shipped_config(name)).parent.mkdir(parents=True)
                shutil.copy(REPO / shipped_config(name), workdir / shipped_config(name))
        workdirs[names] = workdir
    results = side_by_side({names: functools.partial(run_snakemake, workdir, "-n", "--configfile",
                                                     *[shipped_config(name) for name in names])
                            for names, workdir in workdirs.items()})
    return {names: (workdirs[names], results[names]) for names in workdirs}


@pytest.mark.parametrize("names", SHIPPED,
                         ids=lambda names: "+".join(name.split("/")[1] if "/" in name else name for name in names))
def test_shipped_configs_plan_every_configured_run_and_the_paper_table(shipped_plans, names):
    """config/mnist.yaml, paper.yaml, paper_cpu.yaml, the benchmark suites, the overlays (Adam
    pretraining, JULE's outlier remedy, VaDE's latent scale, the offline datasets) and the studies'
    configs stay valid: a dry run plans one run per method x dataset x seed they list, the
    leaderboard and, where set, the paper table (a GPU is not needed to plan), all in the config's
    own results folder."""
    workdir, result = shipped_plans[tuple(names)]
    configs = [yaml.safe_load((workdir / shipped_config(name)).read_text()) for name in names]
    shipped = configs[0]
    methods = {method: spec for config in configs for method, spec in config.get("methods", {}).items()}

    assert result.returncode == 0, result.tail()
    planned = parse_dry_run(result.output)
    results = shipped["results"]
    elsewhere = [path for path in planned.outputs if not path.startswith((f"{results}/", "resources/"))]
    assert results != "results" and not elsewhere, elsewhere
    runs = {tuple(path.split("/")[-4:-1]) for path in planned.outputs
            if path.startswith(f"{results}/runs/") and path.endswith("/metrics.json")}
    run_datasets = next((c["run_datasets"] for c in reversed(configs) if "run_datasets" in c), shipped["datasets"])
    expected = {(dataset, method, f"seed{seed}")
                for method, spec in methods.items()
                for dataset in spec.get("datasets", shipped["datasets"]) if dataset in run_datasets
                for seed in next(c["seeds"] for c in reversed(configs) if "seeds" in c)}
    assert runs == expected
    assert f"{results}/tables/leaderboard.md" in planned.outputs
    assert (f"{results}/tables/paper_table.tex" in planned.outputs) == bool(shipped.get("paper_results"))


@built_in_background
def two_configs_run(tmp_path_factory):
    """Two configs with the same dataset and method ids but other settings, run one after the other
    in one folder: (the folder, each config's targets)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("two-configs") / "wf")
    config = tiny_config()
    config["seeds"] = [0]
    config["nets"] = {"ae": config["nets"]["ae"]}
    config["methods"] = {m: config["methods"][m] for m in ("dec", "kmeans-raw")}
    config["tracking"]["live"] = False
    config["figures"]["draw"] = []  # the results folders are the point, not the figures' jobs
    first = {**config, "results": "results/first"}
    second = copy.deepcopy({**config, "results": "results/second"})
    second["methods"]["dec"]["params"]["lr"] = 0.05
    targets = {}
    for name, settings in (("first", first), ("second", second)):
        (workdir / f"{name}.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
        targets[name] = [f"results/{name}/tables/summary.csv", f"results/{name}/mlflow/synced.json"]
        result = run_snakemake(workdir, *targets[name], "--configfile", f"{name}.yaml", timeout=RUN_TIMEOUT)
        assert result.returncode == 0, result.tail()
    return workdir, targets


def test_two_configs_with_the_same_ids_keep_their_runs_in_their_own_results_folders(two_configs_run):
    """Each config writes only under its `results:` folder (runs, logs, checkpoints, MLflow store),
    neither overwrites the other's runs, and each is then up to date."""
    workdir, targets = two_configs_run
    for name in ("first", "second"):
        planned = run_snakemake(workdir, "-n", *targets[name], "--configfile", f"{name}.yaml")
        assert NOTHING_TO_BE_DONE in planned.output, planned.tail()
        results = workdir / "results" / name
        assert (results / "mlflow.db").is_file() and (results / "logs/cluster/digits/dec/seed0.log").is_file()
        assert {row["method"] for row in csv.DictReader(open(results / "tables/runs.csv"))} == {"dec", "kmeans-raw"}
    params = {name: json.loads((workdir / f"results/{name}/runs/digits/dec/seed0/run.json").read_text())["params"]
              for name in ("first", "second")}
    assert params["first"].get("params", {}).get("lr") != 0.05 and params["second"]["params"]["lr"] == 0.05
    assert sorted(p.name for p in (workdir / "results").iterdir()) == ["first", "second"]


def test_command_line_overrides_take_yaml_values(fresh_copy):
    """`--config key=value` as docs/configuration.md shows it: Snakemake hands nested values over
    as strings ('2', '0.5'); they are read as YAML, so numbers, booleans and null pass the same
    checks as in a config file (a method's lr below would otherwise be the string '0.5')."""
    result = run_snakemake(fresh_copy, "-n", "--config", "threads={train: 2}", "seeds=[0, 3]",
                           "methods={dec: {params: {lr: 0.5, tol: 0}}}", "paper_results=null")

    assert result.returncode == 0, result.tail()
    planned = parse_dry_run(result.output)
    seeds = {dict(wildcards)["seed"] for _, wildcards in planned.of_rule("cluster_deep")}
    assert seeds == {"0", "3"}, result.tail()
    assert "threads: 2" in result.output


@pytest.mark.parametrize("draw", [["embedding", "sensitivity"], []])
def test_figures_draw_plans_only_the_kinds_it_names(fresh_copy, draw):
    """figures.draw: the figure jobs of the kinds named and no other; [] plans tables only (the
    critical-difference diagram comes with the leaderboard)."""
    result = run_snakemake(fresh_copy, "-n", "--config", f"figures={{draw: {draw}, projection: [umap, tsne]}}")

    assert result.returncode == 0, result.tail()
    planned = parse_dry_run(result.output)
    figures = {path.split("/")[-1] for path in planned.outputs if path.startswith("results/figures/")}
    maps = {name for name in figures if name.startswith("embedding_")}
    if draw:
        assert {"embedding_raw_umap.png", "embedding_raw_tsne.png", "embedding_dec_tsne.png"} <= maps, result.tail(200)
    assert figures == {"critical_difference.png", *maps}, result.tail(200)
    assert "results/tables/leaderboard.md" in planned.outputs and "results/mlflow/synced.json" in planned.outputs
