"""Image datasets: real MNIST against torchvision (from $DEEPCLUST_DATA_MIRROR, skipped without it),
every other format from fake files, damaged files refused with their names, and ResNet-50 features
with random weights. All offline."""

import gzip
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from deepclust import data
from deepclust.data import pretrained
from deepclust.data.remote import DownloadError

from .fake_datasets import RED, mnist_like, use_fake_files, write_idx_gz

MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
               "t10k-labels-idx1-ubyte.gz"]
SHAPES = {"mnist": [1, 28, 28], "mnist_test": [1, 28, 28], "fashion_mnist": [1, 28, 28], "kmnist": [1, 28, 28],
          "fashion_mnist_test": [1, 28, 28], "kmnist_test": [1, 28, 28],
          "usps": [1, 16, 16], "cifar10": [3, 32, 32], "stl10": [3, 96, 96]}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in the unit tests")

    monkeypatch.setattr("urllib.request.urlopen", refuse)


def copy_real_mnist(real_data, destination: Path) -> Path:
    """A copy of the mirror's real MNIST files (skips without them; nothing writes into the mirror)."""
    paths = real_data("MNIST", "MNIST/raw", MNIST_FILES)
    destination.mkdir(parents=True)
    for path in paths:
        shutil.copyfile(path, destination / path.name)
    return destination


# ----------------------------------------------------------------------------- real MNIST

@pytest.fixture(scope="module")
def real_mnist(tmp_path_factory, real_data):
    """MNIST fetched from a copy of the real files used as the mirror, then loaded."""
    tmp = tmp_path_factory.mktemp("mnist")
    copy_real_mnist(real_data, tmp / "mirror" / "MNIST" / "raw")
    fetched = data.download("mnist", tmp / "resources", mirror=tmp / "mirror")
    return tmp, fetched, data.load("mnist", directory=tmp / "resources")


def test_real_mnist_is_train_plus_test_scaled_to_unit_range(real_mnist):
    tmp, fetched, (X, y, meta) = real_mnist
    assert sorted(p.name for p in fetched) == sorted(MNIST_FILES)
    assert X.shape == (70_000, 784) and X.dtype == np.float32
    assert y.dtype == np.int64 and y[0] == 5 and set(np.unique(y)) == set(range(10))
    assert X.min() == 0.0 and X.max() == 1.0
    assert meta["image_shape"] == [1, 28, 28] and meta["max_value"] == 255.0 and meta["n_classes"] == 10


def test_real_mnist_equals_torchvision_pixel_for_pixel(real_mnist, real_data, tmp_path):
    from torchvision.datasets import MNIST

    _, _, (X, y, _) = real_mnist
    copy_real_mnist(real_data, tmp_path / "MNIST" / "raw")  # torchvision decompresses next to the files it is given
    train, test = (MNIST(root=tmp_path, train=split, download=True) for split in (True, False))
    raw, labels, _ = data.source("mnist").read(real_mnist[0] / "resources", {"features": "raw"})
    np.testing.assert_array_equal(raw, np.concatenate([train.data, test.data]).reshape(70_000, 784))
    np.testing.assert_array_equal(labels, np.concatenate([train.targets, test.targets]))
    np.testing.assert_array_equal(X, (raw / 255.0).astype(np.float32))
    np.testing.assert_array_equal(y, labels)


def test_real_mnist_test_split(real_mnist):
    tmp, _, (X_all, y_all, _) = real_mnist
    fetched = data.download("mnist_test", tmp / "test", mirror=tmp / "mirror")
    assert sorted(p.name for p in fetched) == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    X, y, meta = data.load("mnist_test", directory=tmp / "test")
    assert X.shape == (10_000, 784) and y[0] == 7 and meta["image_shape"] == [1, 28, 28]
    np.testing.assert_array_equal(X, X_all[60_000:])
    np.testing.assert_array_equal(y, y_all[60_000:])


@pytest.mark.parametrize("damaged, damage", [("t10k-labels-idx1-ubyte.gz", "flip"),
                                             ("t10k-images-idx3-ubyte.gz", "truncate")])
def test_download_refuses_a_damaged_mirror_file(damaged, damage, real_data, tmp_path):
    from torchvision.datasets import MNIST

    mirror = copy_real_mnist(real_data, tmp_path / "mirror")
    content = bytearray((mirror / damaged).read_bytes())
    if damage == "flip":
        content[len(content) // 2] ^= 0xFF
    else:
        content = content[:len(content) // 2]
    (mirror / damaged).write_bytes(content)
    with pytest.raises(DownloadError) as error:
        data.download("mnist_test", tmp_path / "resources", mirror=mirror, retries=1)
    message = str(error.value)
    assert f"{damaged} (md5 {dict(MNIST.resources)[damaged]})" in message
    assert f"wrong checksum: {mirror / damaged}" in message
    assert "network disabled" in message  # then tried torchvision's URLs
    assert not list((tmp_path / "resources").glob(f"*{damaged}*"))  # nothing half-written left behind


# ----------------------------------------------------------------------------- the registry's files

def test_remotes_are_torchvisions_files_with_every_mirror():
    from torchvision import datasets

    for name, cls in (("mnist", datasets.MNIST), ("fashion_mnist", datasets.FashionMNIST),
                      ("kmnist", datasets.KMNIST)):
        remotes = data.source(name).remotes()
        assert [(r.filename, r.md5) for r in remotes] == [tuple(f) for f in cls.resources]
        assert all(r.urls == tuple(m + r.filename for m in cls.mirrors) for r in remotes)
    assert len(data.source("mnist").remotes()[0].urls) == 2
    for name, cls in (("mnist_test", datasets.MNIST), ("fashion_mnist_test", datasets.FashionMNIST),
                      ("kmnist_test", datasets.KMNIST)):
        assert [(r.filename, r.md5) for r in data.source(name).remotes()] == [
            tuple(f) for f in cls.resources if f[0].startswith("t10k")]
    assert [(r.urls[0], r.filename, r.md5) for r in data.source("usps").remotes()] == [
        tuple(f) for f in datasets.USPS.split_list.values()]
    for name, cls in (("cifar10", datasets.CIFAR10), ("stl10", datasets.STL10)):
        (remote,) = data.source(name).remotes()
        assert (remote.filename, remote.urls, remote.md5) == (cls.filename, (cls.url,), cls.tgz_md5)


def test_the_registry_modules_import_neither_torch_nor_torchvision():
    code = ("import sys, deepclust.data.images, deepclust.data.pretrained; "
            "print(sorted(m for m in ('torch', 'torchvision', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- fake files, every format

def fetch_fake(monkeypatch, tmp_path, name, **options):
    expected = use_fake_files(monkeypatch, name, tmp_path / "mirror", **options)
    data.download(name, tmp_path / name, mirror=tmp_path / "mirror")
    return expected, tmp_path / name


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_fake_files_are_fetched_and_read(name, monkeypatch, tmp_path):
    (images, labels), directory = fetch_fake(monkeypatch, tmp_path, name)
    X, y, meta = data.load(name, directory=directory, preprocess="none")
    assert X.shape == (len(images), int(np.prod(SHAPES[name]))) and X.dtype == np.float32
    assert images.shape[1:] == tuple(SHAPES[name])
    np.testing.assert_array_equal(X, images.reshape(len(images), -1))  # C, H, W order
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64
    assert meta["image_shape"] == SHAPES[name] and meta["max_value"] == 255.0 and meta["features"] == "raw"
    scaled, _, _ = data.load(name, directory=directory)
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    np.testing.assert_allclose(scaled, X / 255.0, rtol=1e-6)


def test_cifar_rows_start_with_the_red_plane(monkeypatch, tmp_path):
    _, directory = fetch_fake(monkeypatch, tmp_path, "cifar10")
    X, _, _ = data.load("cifar10", directory=directory, preprocess="none")
    for channel, value in enumerate(RED):
        assert (X[0, channel * 1024:(channel + 1) * 1024] == value).all()


def test_stl10_column_major_images_come_out_row_major(monkeypatch, tmp_path):
    _, directory = fetch_fake(monkeypatch, tmp_path, "stl10")
    X, _, _ = data.load("stl10", directory=directory, preprocess="none")
    first_channel = X[0].reshape(3, 96, 96)[0]
    np.testing.assert_array_equal(first_channel, np.tile(np.arange(96), (96, 1)))  # value = column index


def _torchvision_pixels(name, directory: Path, root: Path, monkeypatch):
    """The same fake files read by torchvision's dataset class (its MD5 checks switched off)."""
    from torchvision import datasets

    if name in ("fashion_mnist", "kmnist"):
        cls = datasets.FashionMNIST if name == "fashion_mnist" else datasets.KMNIST
        raw = root / cls.__name__ / "raw"
        raw.mkdir(parents=True)
        for path in directory.glob("*.gz"):
            (raw / path.stem).write_bytes(gzip.decompress(path.read_bytes()))
        splits = [cls(root, train=train) for train in (True, False)]
        return np.concatenate([s.data[:, None] for s in splits]), np.concatenate([s.targets for s in splits])
    if name == "usps":
        splits = [datasets.USPS(directory, train=train) for train in (True, False)]
        return np.concatenate([s.data[:, None] for s in splits]), np.concatenate([s.targets for s in splits])
    archive, module = {"cifar10": ("cifar-10-python.tar.gz", "cifar"), "stl10": ("stl10_binary.tar.gz", "stl10")}[name]
    with tarfile.open(directory / archive) as tar:
        tar.extractall(root, filter="data")
    monkeypatch.setattr(f"torchvision.datasets.{module}.check_integrity", lambda *args, **kwargs: True)
    if name == "cifar10":
        splits = [datasets.CIFAR10(root, train=train) for train in (True, False)]
        return (np.concatenate([s.data.transpose(0, 3, 1, 2) for s in splits]),  # torchvision keeps H, W, C
                np.concatenate([s.targets for s in splits]))
    splits = [datasets.STL10(root, split=split) for split in ("train", "test")]
    return np.concatenate([s.data for s in splits]), np.concatenate([s.labels for s in splits])


@pytest.mark.parametrize("name", ["fashion_mnist", "kmnist", "usps", "cifar10", "stl10"])
def test_fake_files_read_as_torchvision_reads_them(name, monkeypatch, tmp_path):
    _, directory = fetch_fake(monkeypatch, tmp_path, name)
    X, y, _ = data.source(name).read(directory, {"features": "raw"})
    images, labels = _torchvision_pixels(name, directory, tmp_path / "torchvision", monkeypatch)
    np.testing.assert_array_equal(X, images.reshape(len(images), -1))
    np.testing.assert_array_equal(y, labels)


# ----------------------------------------------------------------------------- damaged files

@pytest.mark.parametrize("name, damaged", [
    ("mnist", "train-images-idx3-ubyte.gz"), ("mnist_test", "t10k-labels-idx1-ubyte.gz"),
    ("usps", "usps.t.bz2"), ("cifar10", "cifar-10-python.tar.gz"), ("stl10", "stl10_binary.tar.gz")])
def test_read_refuses_a_truncated_file_that_download_accepted(name, damaged, monkeypatch, tmp_path):
    _, directory = fetch_fake(monkeypatch, tmp_path, name, truncate=damaged)
    with pytest.raises(ValueError, match=re.escape(str(directory / damaged)) + ".*truncated or corrupted"):
        data.load(name, directory=directory)


def test_idx_payload_shorter_than_its_header_says(tmp_path):
    mnist_like(tmp_path)
    images = np.zeros((4, 28, 28), np.uint8)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:  # header for 5 images, data for 4
        f.write(bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + images.tobytes())
    with pytest.raises(ValueError, match=re.escape(f"{path}: the header says 5x28x28 = 3920 bytes of data but "
                                                   "the file holds 3136")):
        data.load("mnist", directory=tmp_path)


def test_idx_wrong_magic_number_and_count_mismatch(tmp_path):
    mnist_like(tmp_path, sizes=(5, 3))
    images, labels = tmp_path / "t10k-images-idx3-ubyte.gz", tmp_path / "t10k-labels-idx1-ubyte.gz"
    shutil.copyfile(labels, images)
    with pytest.raises(ValueError, match=re.escape(f"{images}: magic number 00000801, expected 00000803")):
        data.load("mnist_test", directory=tmp_path)
    write_idx_gz(images, np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=re.escape(f"{images} holds 4 images but {labels} holds 3 labels")):
        data.load("mnist_test", directory=tmp_path)


def test_usps_bad_line_is_named(monkeypatch, tmp_path):
    import bz2

    _, directory = fetch_fake(monkeypatch, tmp_path, "usps")
    path = directory / "usps.t.bz2"
    lines = bz2.decompress(path.read_bytes()).splitlines(keepends=True)
    path.write_bytes(bz2.compress(b"".join([lines[0], b"3 1:0.5 300:0.5\n", *lines[1:]])))
    message = f"{path}, line 2: not a dense libsvm line 'label 1:value ... 256:value' (2 index:value pairs)"
    with pytest.raises(ValueError, match=re.escape(message)):
        data.load("usps", directory=directory)


# ----------------------------------------------------------------------------- ImageNet features

# network -> (torchvision's weights file, the shorter side its transforms resize to)
IMAGENET_NETWORKS = {"resnet50": ("resnet50-11ad3fa6.pth", 232), "vgg16": ("vgg16-397923af.pth", 256)}


@pytest.fixture(scope="module", params=list(IMAGENET_NETWORKS))
def fake_weights(request, tmp_path_factory):
    """Randomly initialised weights of a network in a mirror, named like torch hub's files
    (<name>-<sha256 prefix>.pth), and that network with its classifier removed."""
    import torchvision.models

    name = request.param
    mirror = tmp_path_factory.mktemp(f"{name}_mirror")
    torch.manual_seed(0)
    network = getattr(torchvision.models, name)().eval()
    torch.save(network.state_dict(), mirror / "weights.pth")
    prefix = hashlib.sha256((mirror / "weights.pth").read_bytes()).hexdigest()[:8]
    (mirror / "weights.pth").rename(mirror / f"{name}-{prefix}.pth")
    if name == "resnet50":
        network.fc = torch.nn.Identity()
    else:
        network.classifier = network.classifier[:-1]  # fc6, ReLU, dropout, fc7, ReLU, dropout
    return name, mirror, prefix, network


@pytest.fixture
def patched_weights(fake_weights, monkeypatch):
    from deepclust.data.remote import Remote

    name, mirror, prefix, network = fake_weights
    monkeypatch.setattr(pretrained, "weights_remote", lambda asked: Remote(f"{asked}-{prefix}.pth", sha256_prefix=prefix))
    return name, mirror, prefix, network


@pytest.mark.parametrize("name", IMAGENET_NETWORKS)
def test_weights_remote_is_torchvisions_file(name):
    import torchvision.models

    enum, weights, _ = pretrained.NETWORKS[name]
    remote = pretrained.weights_remote(name)
    assert remote.urls == (getattr(torchvision.models, enum)[weights].url,)
    filename = IMAGENET_NETWORKS[name][0]
    assert remote.filename == filename and remote.sha256_prefix == filename[-12:-4]
    with pytest.raises(ValueError, match="unknown pretrained network 'vgg19'; valid: resnet50, vgg16"):
        pretrained.weights_remote("vgg19")


def test_imagenet_features_resize_normalise_and_are_deterministic(patched_weights, tmp_path):
    import torchvision.transforms.functional as F  # the functions the weights' transforms call

    name, mirror, prefix, network = patched_weights
    images = np.random.default_rng(0).integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    features, meta = pretrained.network_features(images, name, mirror=mirror, models=tmp_path / "models")
    assert features.shape == (3, pretrained.NETWORKS[name][2]) and features.dtype == np.float32
    assert (tmp_path / "models" / name / f"{name}-{prefix}.pth").is_file()
    weights = pretrained.NETWORKS[name][1]
    assert meta == {"feature_extractor": f"{name}/{weights}", "weights_file": f"{name}-{prefix}.pth"}
    again, _ = pretrained.network_features(images, name, models=tmp_path / "models")  # the weights are there now
    np.testing.assert_array_equal(features, again)

    pixels = torch.from_numpy(images)
    resized = F.center_crop(F.resize(pixels, [IMAGENET_NETWORKS[name][1]], antialias=True), [224])
    assert resized.shape == (3, 3, 224, 224)
    normalised = F.normalize(resized.float() / 255, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    with torch.inference_mode():
        expected = network(normalised).numpy()
        unresized = network(F.normalize(pixels.float() / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(features, unresized.numpy(), atol=1e-2)


def test_cifar10_imagenet_features_through_the_registry(patched_weights, monkeypatch, tmp_path):
    name, mirror, _, _ = patched_weights
    (images, labels), directory = fetch_fake(monkeypatch, tmp_path, "cifar10", per_batch=1)
    X, y, meta = data.load("cifar10", {"features": name}, directory=directory, preprocess="none",
                           mirror=mirror, models=tmp_path / "models")
    assert X.shape == (len(images), pretrained.NETWORKS[name][2]) and X.dtype == np.float32
    np.testing.assert_array_equal(y, labels)
    assert meta["feature_extractor"] == f"{name}/{pretrained.NETWORKS[name][1]}" and meta["features"] == name
    assert "image_shape" not in meta and "max_value" not in meta
    assert data.source("cifar10").network_features == {"resnet50", "vgg16"}
    # the folder of the weights is the caller's to give: the library names none of its own
    with pytest.raises(ValueError, match=f"features '{name}' need the folder of the pretrained weights: give models="):
        data.load("cifar10", {"features": name}, directory=directory, preprocess="none", mirror=mirror)
