"""The DAG on image, text and user datasets: MNIST's test split and 20 Newsgroups through the
download rule (offline, from a mirror holding small fake files in their formats), the conv
autoencoder selected per dataset, TF-IDF and word2vec features with the cluster-terms table, and
the user's own CSV files with and without labels."""

import hashlib
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import (NOTHING_TO_BE_DONE, built_in_background, copy_workflow, job, parse_dry_run, run_snakemake,
                      write_config)
from unit.fake_datasets import CARS, SPACE, class_patterns, topic_documents, write_idx_gz, write_newsgroups_archive

pytestmark = pytest.mark.slow

FAKE_MNIST_TEST_SIZE = 500  # images in the fake MNIST test files; the config subsamples 300
TINY_PARAMS = {"max_epochs": 1, "update_interval": 5, "batch_size": 64}


def blobs(path, with_labels):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 0.0], [0.0, 8.0, 8.0]])
    labels = np.repeat(["north", "east", "west"], 40)
    points = centres[np.repeat(np.arange(3), 40)] + rng.normal(scale=0.5, size=(120, 3))
    table = pd.DataFrame(points, columns=["x", "y", "z"])
    if with_labels:
        table["region"] = labels
    table.to_csv(path, index=False)


def fake_mnist_test(mirror) -> dict[str, str]:
    """MNIST's two test files, in its format and folder layout, holding class_patterns' images and
    labels instead of digits: {file name: md5}."""
    raw = mirror / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = class_patterns(FAKE_MNIST_TEST_SIZE)
    write_idx_gz(raw / "t10k-images-idx3-ubyte.gz", images)
    write_idx_gz(raw / "t10k-labels-idx1-ubyte.gz", labels)
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in sorted(raw.iterdir())}


def expect_fake_mnist_test(workdir, md5s: dict[str, str]) -> None:
    """Make the workflow copy's library expect the fake files: the mnist_test source keeps its file
    names but gets their MD5s and no URLs, so its download job takes them from the mirror and never
    goes online. The unit tests monkeypatch the same (fake_datasets.use_fake_files); here the jobs
    are other processes importing the copy's src/, so the copy's source gets three more lines."""
    images = workdir / "src" / "deepclust" / "data" / "images.py"
    remotes = "".join(f"Remote({name!r}, md5={md5!r}), " for name, md5 in md5s.items())
    images.write_text(images.read_text() + "\n\n# fake MNIST test files, written by the workflow's DAG test\n"
                      "from dataclasses import replace\n"
                      "from deepclust.data.remote import Remote\n"
                      f"MNIST_TEST = replace(MNIST_TEST, remotes=lambda: ({remotes}))\n")


def fake_newsgroups(mirror) -> str:
    """20 Newsgroups' archive name in the mirror, holding 120 posts on two topics: its md5."""
    posts = {("20news-bydate-train" if i < 80 else "20news-bydate-test", "sci.space" if i % 2 == 0 else "rec.autos",
              i): f"Subject: post {i}\n\n{document}" for i, document in enumerate(topic_documents(60))}
    path = write_newsgroups_archive(mirror / "20news-bydate.tar.gz", posts)
    return hashlib.md5(path.read_bytes()).hexdigest()


def expect_fake_newsgroups(workdir, md5: str) -> None:
    """As expect_fake_mnist_test, for the 20newsgroups source and its archive."""
    text = workdir / "src" / "deepclust" / "data" / "text.py"
    text.write_text(text.read_text() + "\n\n# the fake archive, written by the workflow's DAG test\n"
                    "from dataclasses import replace\n"
                    f"NEWSGROUPS = replace(NEWSGROUPS, remotes=lambda: (Remote('20news-bydate.tar.gz', md5={md5!r}),))\n")


def datasets_config(mirror, labelled_csv, unlabelled_csv):
    return {
        "device": "cpu",
        "seeds": [0],
        "threads": {"train": 1},
        "datasets": {
            "mnist_test": {"n_clusters": 10, "preprocess": "minmax", "subsample": 300, "net": "cae"},
            "regions": {"source": "file", "path": str(labelled_csv), "label_column": "region",
                        "n_clusters": 3, "preprocess": "standard"},
            "regions_unlabelled": {"source": "file", "path": str(unlabelled_csv), "n_clusters": 3,
                                   "preprocess": "standard"},
            "news_tfidf": {"source": "20newsgroups", "n_clusters": 2, "max_features": 40},
            "news_word2vec": {"source": "20newsgroups", "features": "word2vec", "n_clusters": 2},
        },
        "data": {"mirror": str(mirror)},
        "nets": {
            "ae": {"hidden_dims": [16], "embedding_dim": 3, "epochs": 2, "batch_size": 32},
            "cae": {"kind": "cae", "filters": [4, 8, 8], "embedding_dim": 4, "epochs": 1, "batch_size": 64},
        },
        "methods": {
            "dec": {"algorithm": "dec", "net": "ae", "params": dict(TINY_PARAMS)},
            # DCEC's job-to-method interface (checkpoint, conv net) has no other DAG test
            "dcec": {"algorithm": "dcec", "net": "cae", "datasets": ["mnist_test"],
                     "params": dict(TINY_PARAMS)},
            "kmeans-raw": {"algorithm": "kmeans", "features": "raw"},
            "kmeans-ae": {"algorithm": "kmeans", "features": "ae"},
        },
        # the kinds that draw labels, images or embeddings, which differ by kind of data (the
        # elbow and training curves do not: the full run's)
        "figures": {"draw": ["methods", "confusion", "embedding", "centres", "samples"]},
        "tracking": {"enabled": False},
    }


@built_in_background
def datasets_and_mirror(tmp_path_factory):
    """The run (its folder) of every kind of dataset, and the mirror it read: the fake MNIST test
    files and 20 Newsgroups archive, and their MD5s."""
    mirror = tmp_path_factory.mktemp("mirror")
    md5s, newsgroups_md5 = fake_mnist_test(mirror), fake_newsgroups(mirror)
    workdir = copy_workflow(tmp_path_factory.mktemp("datasets") / "wf")
    expect_fake_mnist_test(workdir, md5s)
    expect_fake_newsgroups(workdir, newsgroups_md5)
    (workdir / "data").mkdir()
    blobs(workdir / "data" / "regions.csv", with_labels=True)
    blobs(workdir / "data" / "regions_unlabelled.csv", with_labels=False)
    write_config(workdir, datasets_config(mirror, "data/regions.csv", "data/regions_unlabelled.csv"))
    result = run_snakemake(workdir, timeout=900)
    assert result.returncode == 0, result.tail(150)
    return workdir, (mirror, md5s, newsgroups_md5)


@pytest.fixture(scope="module")
def fake_mirror(datasets_and_mirror):
    return datasets_and_mirror[1]


@pytest.fixture(scope="module")
def datasets_run(datasets_and_mirror):
    return datasets_and_mirror[0]


def test_mnist_is_fetched_from_the_mirror_and_verified(datasets_run, fake_mirror):
    import json

    _, md5s, _ = fake_mirror
    manifest = json.loads((datasets_run / "resources/datasets/mnist_test/MANIFEST.json").read_text())
    assert {f["name"]: f["md5"] for f in manifest["files"]} == md5s
    for name, md5 in md5s.items():
        path = datasets_run / "resources/datasets/mnist_test" / name
        assert hashlib.md5(path.read_bytes()).hexdigest() == md5
    with np.load(datasets_run / "results/data/mnist_test.npz") as prepared:
        assert prepared["X"].shape == (300, 784) and 0.0 <= prepared["X"].min() and prepared["X"].max() <= 1.0
        assert set(np.unique(prepared["y"])) == set(range(10))
    kmeans = json.loads((datasets_run / "results/runs/mnist_test/kmeans-raw/seed0/metrics.json").read_text())
    assert kmeans["acc"] > 0.9  # the fake classes are distinct patterns: the metrics mean something


def test_text_features_and_the_words_of_each_cluster(datasets_run):
    import json

    with np.load(datasets_run / "results/data/news_word2vec.npz") as prepared:
        assert prepared["X"].shape == (120, 100)
        meta = json.loads(str(prepared["meta"]))
    assert meta["features"] == "word2vec" and meta["documents_without_vectors"] == 0
    runs = datasets_run / "results/runs"
    assert json.loads((runs / "news_tfidf/kmeans-raw/seed0/metrics.json").read_text())["acc"] == 1.0
    assert json.loads((runs / "news_word2vec/dec/seed0/metrics.json").read_text())["acc"] > 0.5
    for dataset in ("news_tfidf", "news_word2vec"):
        table = (datasets_run / f"results/tables/{dataset}_cluster_terms.md").read_text()
        assert [line for line in table.splitlines() if line.startswith("## ")] == [
            "## dec", "## kmeans-raw", "## kmeans-ae"]
    # TF-IDF k-means finds the two topics: each cluster is one group, named by its own words
    section = table_section((datasets_run / "results/tables/news_tfidf_cluster_terms.md").read_text(), "kmeans-raw")
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert sorted(int(row[1]) for row in rows) == [60, 60] and all("(100%)" in row[2] for row in rows)
    for row in rows:
        words = row[3].rstrip(" |").split(", ")
        topic = SPACE if "sci.space" in row[2] else CARS
        assert len(words) == 10 and set(words[:5]) <= set(topic), row
    assert not (datasets_run / "results/tables/mnist_test_cluster_terms.md").exists()  # images have no words


def table_section(markdown, method):
    start = markdown.index(f"## {method}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end if end > 0 else None]


def test_dataset_net_replaces_the_methods_net(datasets_run):
    pretrain = datasets_run / "results/pretrain"
    assert sorted(p.name for p in (pretrain / "mnist_test").iterdir()) == ["cae"]
    assert sorted(p.name for p in (pretrain / "regions").iterdir()) == ["ae"]
    embedding = np.load(datasets_run / "results/runs/mnist_test/dec/seed0/embedding.npy")
    assert embedding.shape == (300, 4)  # the cae's embedding_dim, not the ae's 3


def test_dcec_fine_tunes_the_datasets_conv_autoencoder(datasets_run):
    import json

    run = datasets_run / "results/runs/mnist_test/dcec/seed0"
    assert np.load(run / "embedding.npy").shape == (300, 4)
    assert len(np.load(run / "labels.npy")) == 300
    assert 0.0 < json.loads((run / "metrics.json").read_text())["acc"] <= 1.0
    assert not (datasets_run / "results/runs/regions/dcec").exists()  # listed for mnist_test only


def test_labelled_and_unlabelled_user_files(datasets_run):
    import json

    runs = datasets_run / "results/runs"
    labelled = json.loads((runs / "regions/kmeans-raw/seed0/metrics.json").read_text())
    assert labelled["acc"] == 1.0  # three well separated blobs
    unlabelled = json.loads((runs / "regions_unlabelled/kmeans-raw/seed0/metrics.json").read_text())
    assert "acc" not in unlabelled and "nmi" not in unlabelled
    assert unlabelled["silhouette"] > 0.8 and unlabelled["davies_bouldin"] < 0.3
    assert unlabelled["calinski_harabasz"] > 100
    summary = (datasets_run / "results/tables/summary.md").read_text()
    section = summary[summary.index("### regions_unlabelled"):]
    assert "No labels: only internal metrics" in section
    assert "| Method | Silhouette | DB | CH |" in section
    assert (datasets_run / "results/figures/regions_unlabelled/confusion.png").stat().st_size > 0
    board = (datasets_run / "results/tables/leaderboard.md").read_text()
    assert "### regions\n" in board and "Not ranked (no labels, so no ACC, NMI or ARI): regions_unlabelled." in board


def test_editing_a_user_file_reruns_only_that_dataset(datasets_run, tmp_path):
    assert NOTHING_TO_BE_DONE in run_snakemake(datasets_run, "-n").output
    workdir = tmp_path / "wf"
    shutil.copytree(datasets_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    user_file = workdir / "data" / "regions_unlabelled.csv"
    user_file.touch()  # a newer file with the same bytes: Snakemake's stored checksum says unchanged
    assert NOTHING_TO_BE_DONE in run_snakemake(workdir, "-n").output
    with open(user_file, "a") as f:
        f.write("0.1,0.2,0.3\n")

    result = run_snakemake(workdir, "-n")

    assert result.returncode == 0, result.tail()
    plan = parse_dry_run(result.output)
    assert job("prepare_dataset", dataset="regions_unlabelled") in plan.jobs
    # only the per-method bar charts of other datasets redraw (they read the shared summary table)
    others = {(rule, dict(wildcards).get("dataset")) for rule, wildcards in plan.jobs
              if dict(wildcards).get("dataset") not in (None, "regions_unlabelled")}
    assert {rule for rule, _ in others} == {"figure_methods"}, plan.jobs
    assert "download_dataset" not in plan.rules


def test_moving_the_mirror_reruns_nothing(datasets_run, tmp_path):
    import yaml

    workdir = tmp_path / "wf"
    shutil.copytree(datasets_run, workdir, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    config_file = workdir / "config" / "config.yaml"
    config = yaml.safe_load(config_file.read_text())
    config["data"] = {"mirror": str(tmp_path), "retries": 5}
    write_config(workdir, config)

    result = run_snakemake(workdir, "-n")

    assert result.returncode == 0 and NOTHING_TO_BE_DONE in result.output, result.tail()


def job_blocks(output):
    """The dry run's job descriptions, one text block per job."""
    return [block for block in output.split("\n\n") if "rule " in block]


def test_network_features_run_on_the_gpu_and_their_weights_have_their_own_rule(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    config = datasets_config(tmp_path, "x.csv", "x.csv")
    config["device"] = "cuda"
    config["datasets"] = {
        "cifar10_resnet50": {"source": "cifar10", "features": "resnet50", "n_clusters": 10},
        "cifar10_vgg16": {"source": "cifar10", "features": "vgg16", "n_clusters": 10},
        "cifar10_pixels": {"source": "cifar10", "n_clusters": 10},
    }
    del config["methods"]["dcec"]  # it lists mnist_test
    write_config(workdir, config)

    result = run_snakemake(workdir, "-n")

    assert result.returncode == 0, result.tail()
    prepare = {name: block for block in job_blocks(result.output) if "rule prepare_dataset:" in block
               for name in ("cifar10_resnet50", "cifar10_vgg16", "cifar10_pixels") if f"dataset={name}" in block}
    for name in ("resnet50", "vgg16"):
        assert "gpu=1" in prepare[f"cifar10_{name}"]
        assert f"resources/models/{name}/MANIFEST.json" in prepare[f"cifar10_{name}"]
        assert job("download_model", model=name) in parse_dry_run(result.output).jobs
    assert "gpu=0" in prepare["cifar10_pixels"] and "resources/models" not in prepare["cifar10_pixels"]
    plan = parse_dry_run(result.output)
    assert job("download_dataset", source="cifar10") in plan.jobs  # one download for both datasets
    assert len(plan.of_rule("download_dataset")) == 1
