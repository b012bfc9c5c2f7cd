"""Reproduced-vs-reported tables: parsing the reported numbers, matching runs, the arithmetic
and both renderings."""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from deepclust import paper

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, document):
    path = tmp_path / "reported.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def one_paper(*results):
    return {"papers": {"DEC": {"citation": "Xie et al. 2016", "results": list(results)}}}


def entry(verified=False, **values):
    """A DEC-on-MNIST entry read in the paper's Table 2, with ``values`` (metrics, or keys replaced)."""
    return {"method": "dec", "dataset": "mnist", "table": "Table 2", "source": "DEC paper, Table 2",
            "verified": verified, **values}


def without(key, **values):
    return {k: v for k, v in entry(**values).items() if k != key}


def test_the_repository_file_loads_and_names_every_papers_source():
    reported = paper.load_reported(REPO / "config" / "paper_results.yaml")
    assert {"DEC", "IDEC", "DCN", "VaDE", "N2D", "DCEC", "JULE", "InfoGAN"} <= set(reported["paper"])
    assert reported["source"].str.len().min() > 0
    assert reported["read_in"].str.len().min() > 0
    assert reported["verified"].map(type).eq(bool).all()
    assert reported["reported"].between(0, 1).all()
    dec = reported[reported["paper"] == "DEC"]
    dec_mnist = dec[(dec["method"] == "dec") & (dec["dataset"] == "mnist")]
    assert dec_mnist["reported"].tolist() == [0.8430]
    assert dec_mnist["read_in"].tolist() == ["DEC paper, Table 2"] and dec_mnist["verified"].all()
    vade = reported[reported["paper"] == "VaDE"].set_index("dataset")["verified"]
    assert vade.to_dict() == {"mnist": True, "reuters_10k": False, "stl10": False}


@pytest.mark.parametrize("bad, message", [
    (entry(acc=84.3), "84.3 is not a fraction"),
    (entry(accuracy=0.8), "unknown key(s) ['accuracy']"),
    (without("table", acc=0.8), "missing table"),
    (entry(), "no metric"),
    (without("source", acc=0.8), "missing source"),
    (entry(acc=0.8, source=" "), ".source: ' ' does not say where the value was read"),
    (entry(acc=0.8, source=["DEC paper"]), ".source: ['DEC paper'] does not say where"),
    (without("verified", acc=0.8), "missing verified"),
    (entry(acc=0.8, verified="yes"), ".verified: 'yes' is not true or false"),
    (entry(acc=0.8, verified=1), ".verified: 1 is not true or false"),
    (entry(acc=0.8, verified=None), ".verified: None is not true or false"),
])
def test_bad_entries_are_refused_with_the_paper_and_entry_named(tmp_path, bad, message):
    with pytest.raises(paper.ReportedResultsError) as error:
        paper.load_reported(write(tmp_path, one_paper(bad)))
    assert message in str(error.value)
    assert "papers.DEC.results[0]" in str(error.value)


def test_the_old_per_paper_checked_flag_is_refused_for_per_entry_verified(tmp_path):
    document = one_paper(entry(acc=0.843))
    document["papers"]["DEC"]["checked"] = True
    with pytest.raises(paper.ReportedResultsError) as error:
        paper.load_reported(write(tmp_path, document))
    assert "papers.DEC: 'checked' is no longer read" in str(error.value)
    assert "'verified: true' or 'verified: false'" in str(error.value)


def test_rows_carry_their_entrys_verified_flag_and_where_it_was_read(tmp_path):
    reported = paper.load_reported(write(tmp_path, one_paper(
        entry(verified=True, acc=0.843, nmi=0.8),
        entry(method="kmeans-raw", source="a later paper, Table 4", acc=0.53))))
    assert reported[["method", "metric", "verified", "read_in", "source"]].values.tolist() == [
        ["dec", "acc", True, "DEC paper, Table 2", "Table 2"],
        ["dec", "nmi", True, "DEC paper, Table 2", "Table 2"],
        ["kmeans-raw", "acc", False, "a later paper, Table 4", "Table 2"]]


def test_a_file_without_papers_is_refused(tmp_path):
    with pytest.raises(paper.ReportedResultsError, match="no 'papers' mapping"):
        paper.load_reported(write(tmp_path, {"dec": 0.84}))


def runs_frame():
    return pd.DataFrame({
        "dataset": ["mnist70k", "mnist70k", "mnist70k", "mnist70k", "digits"],
        "method": ["dec", "dec", "idec", "idec", "dec"],
        "seed": [0, 1, 0, 1, 0],
        "acc": [0.80, 0.90, 0.88, 0.86, 0.5],
        "nmi": [0.70, 0.80, 0.85, 0.85, 0.5],
    })


@pytest.fixture()
def table(tmp_path):
    reported = paper.load_reported(write(tmp_path, {"papers": {
        "DEC": {"citation": "Xie", "results": [{"method": "dec", "dataset": "mnist", "table": "T2", "acc": 0.843,
                                                "source": "a later paper", "verified": False}]},
        "IDEC": {"citation": "Guo", "results": [
            {"method": "idec", "dataset": "mnist", "table": "T2", "acc": 0.8806, "nmi": 0.8672,
             "source": "IDEC paper, T2", "verified": True},
            {"method": "idec", "dataset": "usps", "table": "T2", "acc": 0.76, "source": "IDEC paper, T2",
             "verified": False}]},
    }}))
    # mnist70k is our id for source mnist; digits is not mnist and must not match
    return paper.compare(runs_frame(), reported, {"mnist70k": "mnist", "digits": "digits"})


def test_runs_match_by_dataset_source_and_method(table):
    assert set(zip(table["paper"], table["method"], table["metric"])) == {
        ("DEC", "dec", "acc"), ("IDEC", "idec", "acc"), ("IDEC", "idec", "nmi")}
    assert set(table["our_dataset"]) == {"mnist70k"}   # the usps entry has no run


def test_mean_std_and_difference_are_over_seeds(table):
    dec = table[(table["method"] == "dec")].iloc[0]
    assert dec["mean"] == pytest.approx(0.85)
    assert dec["std"] == pytest.approx(0.05)          # population std of 0.80, 0.90
    assert dec["n_seeds"] == 2
    assert dec["difference"] == pytest.approx(0.85 - 0.843)
    idec_nmi = table[(table["method"] == "idec") & (table["metric"] == "nmi")].iloc[0]
    assert idec_nmi["difference"] == pytest.approx(0.85 - 0.8672)


def test_a_variant_is_compared_with_its_papers_method_under_its_own_id(tmp_path):
    reported = paper.load_reported(write(tmp_path, one_paper(entry(table="T2", acc=0.843))))
    runs = runs_frame().replace({"method": {"idec": "dec-variant"}})
    table = paper.compare(runs, reported, {"mnist70k": "mnist"}, {"dec-variant": "dec"})
    assert list(zip(table["method"], table["paper_method"])) == [("dec", "dec"), ("dec-variant", "dec")]
    variant = table[table["method"] == "dec-variant"].iloc[0]
    assert variant["mean"] == pytest.approx(0.87)
    assert variant["difference"] == pytest.approx(0.87 - 0.843)
    assert "| dec-variant | DEC (T2) † | 84.3 | **87.0 ± 1.0** | +2.7 |" in paper.markdown(table)
    # without the mapping the variant has no reported number of its own
    assert set(paper.compare(runs, reported, {"mnist70k": "mnist"})["method"]) == {"dec"}


def test_markdown_shows_percent_points_best_bold_and_unverified_marked(table):
    text = paper.markdown(table)
    assert "### mnist70k" in text
    assert "| dec | DEC (T2) † | 84.3 | 85.0 ± 5.0 | +0.7 |" in text
    # idec's mean ACC (0.87) beats dec's (0.85): bold
    assert "**87.0 ± 1.0**" in text
    assert "| idec | IDEC (T2) | 88.1 | **87.0 ± 1.0** | −1.1 | 86.7 | **85.0 ± 0.0** | −1.7 |" in text
    assert "† not verified against the paper or the authors' own text." in text


def test_latex_uses_booktabs_and_escapes(table):
    tex = paper.latex(table)
    for command in ("\\toprule", "\\midrule", "\\bottomrule", "\\cmidrule(lr){3-5}"):
        assert command in tex
    assert "$85.0 \\pm 5.0$" in tex and "\\textbf{$87.0 \\pm 1.0$}" in tex
    assert "$^\\dagger$" in tex


def test_empty_comparison_says_so():
    empty = paper.compare(runs_frame().iloc[:0], paper.load_reported(REPO / "config" / "paper_results.yaml"), {})
    assert paper.markdown(empty) == "No run matches a reported result.\n"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (apt: texlive-latex-recommended)")
def test_latex_compiles(table, tmp_path):
    document = tmp_path / "table.tex"
    document.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
                        + paper.latex(table) + "\n\\end{document}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", document.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "table.pdf").is_file()
