"""The DAG on image and user datasets: MNIST's test split through the download rule (offline, from
a mirror holding small fake files in MNIST's format), the conv autoencoder selected per dataset, and
the user's own CSV files with and without labels."""

import hashlib
import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import NOTHING_TO_BE_DONE, copy_workflow, job, parse_dry_run, run_snakemake, write_config
from unit.fake_datasets import class_patterns, write_idx_gz

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
        "figures": {"elbow_k": [2, 4]},
        "tracking": {"enabled": False},
    }


@pytest.fixture(scope="module")
def fake_mirror(tmp_path_factory):
    """A mirror holding the fake MNIST test files, and their MD5s."""
    mirror = tmp_path_factory.mktemp("mirror")
    return mirror, fake_mnist_test(mirror)


@pytest.fixture(scope="module")
def datasets_run(tmp_path_factory, fake_mirror):
    mirror, md5s = fake_mirror
    workdir = copy_workflow(tmp_path_factory.mktemp("datasets") / "wf")
    expect_fake_mnist_test(workdir, md5s)
    (workdir / "data").mkdir()
    blobs(workdir / "data" / "regions.csv", with_labels=True)
    blobs(workdir / "data" / "regions_unlabelled.csv", with_labels=False)
    write_config(workdir, datasets_config(mirror, "data/regions.csv", "data/regions_unlabelled.csv"))
    result = run_snakemake(workdir, timeout=900)
    assert result.returncode == 0, result.tail(150)
    return workdir


def test_mnist_is_fetched_from_the_mirror_and_verified(datasets_run, fake_mirror):
    import json

    _, md5s = fake_mirror
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
        "cifar10_pixels": {"source": "cifar10", "n_clusters": 10},
    }
    del config["methods"]["dcec"]  # it lists mnist_test
    write_config(workdir, config)

    result = run_snakemake(workdir, "-n")

    assert result.returncode == 0, result.tail()
    prepare = {name: block for block in job_blocks(result.output) if "rule prepare_dataset:" in block
               for name in ("cifar10_resnet50", "cifar10_pixels") if f"dataset={name}" in block}
    assert "gpu=1" in prepare["cifar10_resnet50"] and "resources/models/resnet50/MANIFEST.json" in prepare[
        "cifar10_resnet50"]
    assert "gpu=0" in prepare["cifar10_pixels"] and "resources/models" not in prepare["cifar10_pixels"]
    plan = parse_dry_run(result.output)
    assert job("download_model", model="resnet50") in plan.jobs
    assert job("download_dataset", source="cifar10") in plan.jobs  # one download for both datasets
    assert len(plan.of_rule("download_dataset")) == 1
