"""Tiny files in each image dataset's real on-disk format, and a way to make the registry fetch them.

Each writer puts a few random images into the files torchvision would download (same names, same
layout) and returns {split: (uint8 images (n, C, H, W), int64 labels 0..9)}. ``use_fake_files``
then points the registry's remotes at them, so tests go through download and read offline.
``class_patterns`` gives images with structure instead, for tests that cluster them (the workflow's
DAG test writes them as MNIST's test files); ``topic_documents`` does the same for text, written as
a 20 Newsgroups archive by ``write_newsgroups_archive``.
"""

import bz2
import gzip
import importlib
import io
import pickle
import struct
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from deepclust import data
from deepclust.data.remote import file_digest


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes: magic 0x0000 08 <ndim>, big-endian dimensions, the bytes; gzipped."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_tar_gz(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


def write_newsgroups_archive(path: Path, posts: dict) -> Path:
    """A bydate-like tar.gz of {(folder, group, post id): text}, written in an unsorted order."""
    with tarfile.open(path, "w:gz") as tar:
        for (folder, group, post_id), body in reversed(posts.items()):
            content = body.encode("latin-1")
            member = tarfile.TarInfo(f"{folder}/{group}/{post_id}")
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    return path


SPACE = "orbit moon shuttle rocket launch probe planet satellite astronaut telescope".split()
CARS = "engine car tyres oil brakes dealer gearbox wheel clutch exhaust".split()


def topic_documents(n_per_topic=40, seed=0):
    """Short documents drawn from one of two disjoint vocabularies (SPACE, CARS), alternating."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(SPACE if i % 2 == 0 else CARS, size=12)) for i in range(2 * n_per_topic)]


def _random_images(rng, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """Random uint8 images whose first one holds both 0 and 255 (the value range is known)."""
    images = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    images.reshape(n, -1)[0, :2] = (0, 255)
    return images


def mnist_like(directory: Path, seed: int = 0, sizes=(5, 3)) -> dict:
    """train-/t10k- images-idx3 and labels-idx1 .gz files, as for MNIST, Fashion-MNIST and KMNIST."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, n in zip(("train", "t10k"), sizes):
        images, labels = _random_images(rng, n, (28, 28)), rng.integers(0, 10, n)
        write_idx_gz(directory / f"{split}-images-idx3-ubyte.gz", images)
        write_idx_gz(directory / f"{split}-labels-idx1-ubyte.gz", labels)
        splits[split] = (images[:, None], labels)
    return splits


def class_patterns(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 28x28 uint8 images of 10 classes that clustering can tell apart, and their int64 labels
    (each class about n / 10 times, shuffled): class k is a bright bar 4 pixels wide over dim noise,
    horizontal at rows 5k + 2 to 5k + 5 for k < 5, vertical at those columns for k - 5."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    images = rng.integers(0, 64, (n, 28, 28), dtype=np.uint8)
    for image, label in zip(images, labels):
        bar = slice(2 + 5 * (label % 5), 6 + 5 * (label % 5))
        pixels = (bar, slice(None)) if label < 5 else (slice(None), bar)
        image[pixels] = rng.integers(192, 256, image[pixels].shape, dtype=np.uint8)
    return images, labels


def usps(directory: Path, seed: int = 0, sizes=(4, 3)) -> dict:
    """usps.bz2 and usps.t.bz2: libsvm lines "label 1:v1 ... 256:v256", labels 1..10, values in [-1, 1]
    (multiples of 1/128, so their text is exact)."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, filename, n in zip(("train", "test"), ("usps.bz2", "usps.t.bz2"), sizes):
        values = rng.integers(0, 257, (n, 256)) / 128 - 1
        values[0, :2] = (-1.0, 1.0)
        labels = rng.integers(0, 10, n)
        lines = (f"{label + 1} " + " ".join(f"{i + 1}:{float(v)}" for i, v in enumerate(row)) + "\n"
                 for label, row in zip(labels, values))
        with bz2.open(directory / filename, "wt") as f:
            f.writelines(lines)
        pixels = ((values.astype(np.float32) + 1) / 2 * 255).astype(np.uint8)  # torchvision's mapping
        splits[split] = (pixels.reshape(n, 1, 16, 16), labels)
    return splits


RED = (255, 0, 0)


def cifar10(directory: Path, seed: int = 0, per_batch: int = 2) -> dict:
    """cifar-10-python.tar.gz: cifar-10-batches-py/data_batch_1..5 and test_batch, each a pickled
    dict with 'data' (n x 3072 uint8, R, G then B plane) and 'labels', plus batches.meta. The first
    training image is pure red."""
    rng = np.random.default_rng(seed)
    batches = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    images = _random_images(rng, per_batch * len(batches), (3, 32, 32))
    images[0] = np.array(RED, dtype=np.uint8)[:, None, None]
    labels = rng.integers(0, 10, len(images))
    members = {"cifar-10-batches-py/batches.meta": pickle.dumps(
        {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": per_batch, "num_vis": 3072},
        protocol=2)}
    for i, batch in enumerate(batches):
        rows = slice(i * per_batch, (i + 1) * per_batch)
        members[f"cifar-10-batches-py/{batch}"] = pickle.dumps(
            {"batch_label": batch, "labels": labels[rows].tolist(), "data": images[rows].reshape(per_batch, -1),
             "filenames": [f"{batch}_{j}.png" for j in range(per_batch)]}, protocol=2)
    write_tar_gz(directory / "cifar-10-python.tar.gz", members)
    train = slice(0, 5 * per_batch)
    return {"train": (images[train], labels[train]), "test": (images[5 * per_batch:], labels[5 * per_batch:])}


def stl10(directory: Path, seed: int = 0, sizes=(3, 2)) -> dict:
    """stl10_binary.tar.gz: {train,test}_X.bin (each channel stored column-major), {train,test}_y.bin
    (labels 1..10) and an unlabeled_X.bin between them that must be skipped. In the first training
    image, channel 0 is a ramp along the width: pixel (0, h, w) = w."""
    rng = np.random.default_rng(seed)
    members = {"stl10_binary/class_names.txt": "".join(f"class{i}\n" for i in range(10)).encode()}
    splits = {}
    for split, n in zip(("train", "test"), sizes):
        images, labels = _random_images(rng, n, (3, 96, 96)), rng.integers(0, 10, n)
        if split == "train":
            images[0, 0] = np.arange(96, dtype=np.uint8)[None, :]
        members[f"stl10_binary/{split}_X.bin"] = images.transpose(0, 1, 3, 2).tobytes()
        members[f"stl10_binary/{split}_y.bin"] = (labels + 1).astype(np.uint8).tobytes()
        if split == "train":
            members["stl10_binary/unlabeled_X.bin"] = _random_images(rng, 2, (3, 96, 96)).tobytes()
        splits[split] = (images, labels)
    write_tar_gz(directory / "stl10_binary.tar.gz", members)
    return splits


# source name -> (writer, the splits its reader returns, in order)
FAKES = {
    "mnist": (mnist_like, ("train", "t10k")),
    "mnist_test": (mnist_like, ("t10k",)),
    "fashion_mnist": (mnist_like, ("train", "t10k")),
    "kmnist": (mnist_like, ("train", "t10k")),
    "fashion_mnist_test": (mnist_like, ("t10k",)),
    "kmnist_test": (mnist_like, ("t10k",)),
    "usps": (usps, ("train", "test")),
    "cifar10": (cifar10, ("train", "test")),
    "stl10": (stl10, ("train", "test")),
}


def use_fake_files(monkeypatch, name: str, mirror: Path, seed: int = 0, truncate: str | None = None,
                   **sizes):
    """Write fake files of source ``name`` into ``mirror``/``name`` and make the registry expect
    them: its remotes keep torchvision's file names but get the fake files' MD5s and no URLs, so
    nothing is ever downloaded. ``truncate`` names a file to cut to half its size before its
    checksum is taken (a damaged file that download accepts, for the readers' error handling).
    ``sizes`` go to the writer (``sizes=(n_train, n_test)``, or ``per_batch`` for CIFAR-10).

    Returns the images (n, C, H, W) and labels that reading the source must give."""
    writer, splits = FAKES[name]
    folder = Path(mirror) / name
    folder.mkdir(parents=True)
    written = writer(folder, seed, **sizes)
    if truncate:
        content = (folder / truncate).read_bytes()
        (folder / truncate).write_bytes(content[:len(content) // 2])
    module_name, attribute = data.SOURCES[name].split(":")
    module = importlib.import_module(module_name)
    spec = getattr(module, attribute)
    remotes = tuple(replace(remote, urls=(), md5=file_digest(folder / remote.filename, "md5"))
                    for remote in spec.remotes())
    monkeypatch.setattr(module, attribute, replace(spec, remotes=lambda: remotes))
    return (np.concatenate([written[split][0] for split in splits]),
            np.concatenate([written[split][1] for split in splits]))
