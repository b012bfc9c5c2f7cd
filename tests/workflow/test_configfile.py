"""Running another config with `snakemake --configfile my.yaml`, as config/README.md documents."""

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
