"""Running another config with `snakemake --configfile my.yaml`, as docs/configuration.md documents."""

import pytest
import yaml
from conftest import METHODS, copy_workflow, parse_dry_run, run_snakemake, tiny_config

pytestmark = pytest.mark.slow


def test_configfile_replaces_the_default_methods(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")  # with the default config/config.yaml
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(tiny_config(), sort_keys=False))

    result = run_snakemake(workdir, "-n", "--configfile", "tiny.yaml")

    assert result.returncode == 0, result.tail()
    planned = parse_dry_run(result.output)
    methods = {path.split("/")[3] for path in planned.outputs if path.startswith("results/runs/")}
    assert methods == set(METHODS), result.tail()


@pytest.mark.parametrize("names", [["mnist"], ["paper"], ["paper_cpu"], ["paper_cpu", "paper_adam_ae"],
                                   ["paper", "jule_outliers"], ["paper", "vade_latent_scale"]])
def test_shipped_configs_plan_every_configured_run_and_the_paper_table(tmp_path, names):
    """config/mnist.yaml, paper.yaml, paper_cpu.yaml and the overlays (Adam pretraining, JULE's
    outlier remedy, VaDE's latent scale) stay valid: a dry run plans one run per method x dataset x seed they list, and
    the paper table (a GPU is not needed to plan)."""
    workdir = copy_workflow(tmp_path / "wf")
    configs = [yaml.safe_load((workdir / "config" / f"{name}.yaml").read_text()) for name in names]
    shipped = configs[0]
    methods = {method: spec for config in configs for method, spec in config.get("methods", {}).items()}

    result = run_snakemake(workdir, "-n", "--configfile", *[f"config/{name}.yaml" for name in names])

    assert result.returncode == 0, result.tail()
    planned = parse_dry_run(result.output)
    runs = {tuple(path.split("/")[2:5]) for path in planned.outputs
            if path.startswith("results/runs/") and path.endswith("/metrics.json")}
    expected = {(dataset, method, f"seed{seed}")
                for method, spec in methods.items()
                for dataset in spec.get("datasets", shipped["datasets"])
                for seed in shipped["seeds"]}
    assert runs == expected
    assert "results/tables/paper_table.tex" in planned.outputs
