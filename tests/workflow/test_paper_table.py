"""paper_results on the finished tiny run: only the paper table is added, and its numbers are
the runs' own (means over the seeds), beside the reported ones."""

import pandas as pd
import pytest
import yaml
from conftest import DATASET, SEEDS, parse_dry_run, read_config, run_snakemake, write_config

pytestmark = pytest.mark.slow

DEC_PAPER = {"source": "DEC paper, Table 2", "verified": True}
LATER_PAPER = {"source": "a later paper, Table 4", "verified": False}
REPORTED = {"papers": {
    "DEC": {"citation": "Xie et al.", "results": [
        {"method": "dec", "dataset": DATASET, "table": "Table 2", "acc": 0.8430, **DEC_PAPER},
        {"method": "kmeans-raw", "dataset": DATASET, "table": "Table 2", "acc": 0.5349, **DEC_PAPER}]},
    "IDEC": {"citation": "Guo et al.", "results": [
        {"method": "idec", "dataset": DATASET, "table": "Table 2", "acc": 0.8806, "nmi": 0.8672, **LATER_PAPER},
        {"method": "idec", "dataset": "usps", "table": "Table 2", "acc": 0.7605, **LATER_PAPER}]},
}}


def with_reported(workdir, document):
    (workdir / "config" / "reported.yaml").write_text(yaml.safe_dump(document))
    config = read_config(workdir)
    config["paper_results"] = "config/reported.yaml"
    write_config(workdir, config)


def test_paper_table_is_the_only_new_job_and_holds_the_runs_means(finished_copy):
    with_reported(finished_copy, REPORTED)
    planned = parse_dry_run(run_snakemake(finished_copy, "-n").output)
    assert planned.rules == {"paper_table", "all"}

    result = run_snakemake(finished_copy)
    assert result.returncode == 0, result.tail()
    tables = finished_copy / "results" / "tables"
    runs = pd.read_csv(tables / "runs.csv")
    table = pd.read_csv(tables / "paper_table.csv")
    assert len(table) == 4                      # dec acc, kmeans-raw acc, idec acc + nmi; no usps run
    for row in table.itertuples():
        ours = runs.loc[(runs["dataset"] == DATASET) & (runs["method"] == row.method), row.metric]
        assert len(ours) == len(SEEDS)
        assert row.mean == pytest.approx(ours.mean())
        assert row.difference == pytest.approx(ours.mean() - row.reported)
    markdown = (tables / "paper_table.md").read_text()
    assert "| dec | DEC (Table 2) | 84.3 |" in markdown
    assert "IDEC (Table 2) †" in markdown          # not verified
    assert "\\toprule" in (tables / "paper_table.tex").read_text()


def test_a_variant_is_compared_with_its_papers_method_and_only_the_table_reruns(finished_copy):
    # idec stands in for a variant of DEC (say, DEC with a remedy of ours): paper_method puts its
    # runs beside DEC's reported number, under its own id; nothing but the table reruns
    with_reported(finished_copy, REPORTED)
    assert run_snakemake(finished_copy).returncode == 0
    config = read_config(finished_copy)
    config["methods"]["idec"]["paper_method"] = "dec"
    write_config(finished_copy, config)
    planned = parse_dry_run(run_snakemake(finished_copy, "-n").output)
    assert planned.rules == {"paper_table", "all"}

    assert run_snakemake(finished_copy).returncode == 0
    table = pd.read_csv(finished_copy / "results" / "tables" / "paper_table.csv")
    dec_acc = table[(table["paper_method"] == "dec") & (table["metric"] == "acc")]
    assert sorted(dec_acc["method"]) == ["dec", "idec"]
    assert "idec" not in set(table["paper_method"])     # idec's own entries no longer match it
    markdown = (finished_copy / "results" / "tables" / "paper_table.md").read_text()
    assert "| idec | DEC (Table 2) | 84.3 |" in markdown


def test_a_paper_method_missing_from_paper_results_is_refused(finished_copy):
    with_reported(finished_copy, REPORTED)
    config = read_config(finished_copy)
    config["methods"]["idec"]["paper_method"] = "decc"
    write_config(finished_copy, config)
    result = run_snakemake(finished_copy, "-n")
    assert result.returncode != 0
    assert "methods.idec.paper_method: 'decc' is not a method of config/reported.yaml" in result.output, \
        result.tail()
    assert "Building DAG of jobs" not in result.output


@pytest.mark.parametrize("document, message", [
    (None, "paper_results: no such file 'config/reported.yaml'"),
    ({"papers": {"DEC": {"citation": "x", "results": [
        {"method": "dec", "dataset": DATASET, "table": "T", "acc": 84.3, **DEC_PAPER}]}}},
     "84.3 is not a fraction in [0, 1]"),
    ({"papers": {"DEC": {"citation": "x", "checked": True, "results": [
        {"method": "dec", "dataset": DATASET, "table": "T", "acc": 0.843, **DEC_PAPER}]}}},
     "papers.DEC: 'checked' is no longer read"),
])
def test_bad_paper_results_are_refused_before_any_job(finished_copy, document, message):
    if document is None:
        config = read_config(finished_copy)
        config["paper_results"] = "config/reported.yaml"
        write_config(finished_copy, config)
    else:
        with_reported(finished_copy, document)
    result = run_snakemake(finished_copy, "-n")
    assert result.returncode != 0
    assert message in result.output, result.tail()
    assert "Building DAG of jobs" not in result.output
