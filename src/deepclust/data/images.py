"""Image datasets, read from the files torchvision downloads: MNIST, Fashion-MNIST and KMNIST (IDX
in gzip), USPS (libsvm text in bz2), CIFAR-10 (pickled batches in a .tar.gz), STL-10 (raw bytes in
a .tar.gz).

The URLs and MD5s are torchvision's own class attributes, read when the download job runs. The
files are parsed here with numpy rather than by torchvision's dataset classes, which re-check
hard-coded MD5s (download already verified every file, and test files cannot match them) and
extract whole archives to disk (STL-10's holds 2.6 GB of unlabeled images that are not used).

Pixels come back as uint8 rows flattened in C, H, W order with ``max_value`` 255, train split
first, then test. CIFAR-10 and STL-10 can instead give ImageNet features (``features: resnet50``
or ``vgg16``, see deepclust.data.pretrained).
"""

import bz2
import gzip
import io
import pickle
import struct
import tarfile
import zlib
from functools import partial
from pathlib import Path

import numpy as np

from deepclust.data import Source
from deepclust.data.pretrained import NETWORKS, network_features

N_CLASSES = 10
# a decompressor's ways of saying that its input is truncated or corrupted
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error)


# ----------------------------------------------------------------------------- remotes

def _idx_remotes(dataset_class: str, splits: tuple[str, ...]):
    """torchvision's files of an MNIST-like dataset for ``splits`` ("train", "t10k"), each with every mirror."""
    from torchvision import datasets

    from deepclust.data.remote import Remote

    cls = getattr(datasets, dataset_class)
    return tuple(Remote(filename, urls=tuple(mirror + filename for mirror in cls.mirrors), md5=md5)
                 for filename, md5 in cls.resources if filename.startswith(splits))


def _usps_remotes():
    from torchvision.datasets import USPS

    from deepclust.data.remote import Remote

    return tuple(Remote(filename, urls=(url,), md5=md5) for url, filename, md5 in USPS.split_list.values())


def _archive_remote(dataset_class: str):
    """The single archive of CIFAR10 or STL10 (class attributes url, filename, tgz_md5)."""
    from torchvision import datasets

    from deepclust.data.remote import Remote

    cls = getattr(datasets, dataset_class)
    return (Remote(cls.filename, urls=(cls.url,), md5=cls.tgz_md5),)


# ----------------------------------------------------------------------------- readers

def read_idx(directory, settings, splits=("train", "t10k"), device="cpu", mirror=None, models=None, **_):
    """MNIST-like 28x28 digits: the IDX image and label files of each split, concatenated."""
    directory = Path(directory)
    images, labels = [], []
    for split in splits:
        image_file = directory / f"{split}-images-idx3-ubyte.gz"
        label_file = directory / f"{split}-labels-idx1-ubyte.gz"
        pixels, split_labels = _idx_array(image_file, ndim=3), _idx_array(label_file, ndim=1)
        if pixels.shape[1:] != (28, 28):
            raise ValueError(f"{image_file}: images are {pixels.shape[1]}x{pixels.shape[2]}, expected 28x28")
        if len(pixels) != len(split_labels):
            raise ValueError(f"{image_file} holds {len(pixels)} images but {label_file} holds "
                             f"{len(split_labels)} labels")
        images.append(pixels[:, None])
        labels.append(_checked_labels(split_labels, label_file))
    return _result(np.concatenate(images), np.concatenate(labels), settings, device, mirror, models)


def read_usps(directory, settings, device="cpu", mirror=None, models=None, **_):
    """USPS 16x16 digits, train (7,291) then test (2,007). The libsvm files hold values in [-1, 1];
    they are mapped to 0..255 exactly as torchvision.datasets.USPS does (float32, truncated to uint8)."""
    images, labels = [], []
    for filename in ("usps.bz2", "usps.t.bz2"):
        path = Path(directory) / filename
        values, split_labels = _libsvm(path, n_features=16 * 16)
        images.append(((values + 1) / 2 * 255).astype(np.uint8).reshape(-1, 1, 16, 16))
        labels.append(_checked_labels(split_labels - 1, path))  # classes are numbered 1..10
    return _result(np.concatenate(images), np.concatenate(labels), settings, device, mirror, models)


def read_cifar10(directory, settings, device="cpu", mirror=None, models=None, **_):
    """CIFAR-10 32x32 colour images: data_batch_1..5 (50,000) then test_batch (10,000). Each batch
    is a pickled dict whose rows are already R, G, B planes (C, H, W order), unpickled with an
    allow-list of numpy's array classes only (a pickle can otherwise run code)."""
    path = Path(directory) / "cifar-10-python.tar.gz"
    names = [f"cifar-10-batches-py/{b}" for b in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")]
    members = _tar_members(path, names)
    images, labels = [], []
    for name in names:
        pixels, batch_labels = _cifar_batch(members[name], f"{path}:{name}")
        images.append(pixels.reshape(-1, 3, 32, 32))
        labels.append(_checked_labels(batch_labels, f"{path}:{name}"))
    return _result(np.concatenate(images), np.concatenate(labels), settings, device, mirror, models)


def read_stl10(directory, settings, device="cpu", mirror=None, models=None, **_):
    """STL-10's labelled 96x96 colour images: train (5,000) then test (8,000); the unlabeled split is
    not used. Each image is stored channel by channel, each channel column-major (as in MATLAB), so
    it is read as (3, W, H) and transposed to (3, H, W), as torchvision's STL10 does."""
    path = Path(directory) / "stl10_binary.tar.gz"
    splits = [(f"stl10_binary/{s}_X.bin", f"stl10_binary/{s}_y.bin") for s in ("train", "test")]
    members = _tar_members(path, [name for split in splits for name in split])
    images, labels = [], []
    for image_name, label_name in splits:
        split_labels = _checked_labels(np.frombuffer(members[label_name], np.uint8).astype(np.int64) - 1,
                                       f"{path}:{label_name}")  # classes are numbered 1..10
        pixels = np.frombuffer(members[image_name], np.uint8)
        if pixels.size != len(split_labels) * 3 * 96 * 96:
            raise ValueError(f"{path}:{image_name}: {pixels.size} bytes, expected {len(split_labels)} images "
                             f"(the labels in {label_name}) x 3x96x96 = {len(split_labels) * 3 * 96 * 96}")
        images.append(pixels.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2))
        labels.append(split_labels)
    return _result(np.concatenate(images), np.concatenate(labels), settings, device, mirror, models)


def _result(images, labels, settings, device, mirror, models):
    """(X, y, meta) of uint8 images (n, C, H, W): flattened pixels, or their pretrained features."""
    features = settings.get("features", "raw")
    if features != "raw":  # an ImageNet network's (the registry checked it is one the source offers)
        if models is None:
            raise ValueError(f"features {features!r} need the folder of the pretrained weights: give models=")
        X, meta = network_features(images, features, models, device=device, mirror=mirror)
        return X, labels, meta
    return images.reshape(len(images), -1), labels, {"image_shape": list(images.shape[1:]), "max_value": 255.0}


# ----------------------------------------------------------------------------- file formats

def _decompressed(path: Path, decompressor) -> bytes:
    """All of a gzip or bz2 file; a truncated or corrupted one is a ValueError naming it."""
    with open(path, "rb") as file:
        try:
            return decompressor(file).read()
        except DECOMPRESSION_ERRORS as error:
            raise ValueError(f"{path}: cannot be decompressed ({type(error).__name__}: {error}); "
                             "the file is truncated or corrupted") from error


def _idx_array(path: Path, ndim: int) -> np.ndarray:
    """An IDX array of unsigned bytes (LeCun's format): magic 0x0000 08 <ndim>, big-endian int32
    dimensions, then the bytes."""
    raw = _decompressed(path, gzip.open)
    magic = bytes([0, 0, 0x08, ndim])
    if raw[:4] != magic:
        raise ValueError(f"{path}: magic number {raw[:4].hex()}, expected {magic.hex()} "
                         f"(IDX, unsigned bytes, {ndim} dimension(s)); is it the right file?")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX header of {header} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: the header says {'x'.join(map(str, shape))} = {int(np.prod(shape))} bytes "
                         f"of data but the file holds {len(raw) - header}; it is truncated or corrupted")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def _libsvm(path: Path, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 values and int labels of a bz2 libsvm file whose lines are dense, as USPS's are:
    "label 1:v1 2:v2 ... n:vn". Values are parsed straight to float32, as torchvision does."""
    lines = _decompressed(path, bz2.open).decode("ascii", errors="replace").splitlines()
    if not lines:
        raise ValueError(f"{path}: no samples")
    indices = [str(i) for i in range(1, n_features + 1)]
    rows = [line.replace(":", " ").split() for line in lines]
    for number, row in enumerate(rows, 1):
        if len(row) != 1 + 2 * n_features or row[1::2] != indices:
            raise ValueError(f"{path}, line {number}: not a dense libsvm line 'label 1:value ... "
                             f"{n_features}:value' ({len(row) // 2} index:value pairs)")
    try:
        return (np.array([row[2::2] for row in rows], dtype=np.float32),
                np.array([row[0] for row in rows], dtype=np.int64))
    except ValueError as error:
        raise ValueError(f"{path}: a label or value is not a number ({error})") from error


def _tar_members(path: Path, names: list[str]) -> dict[str, bytes]:
    """The named members of a .tar.gz, read in one pass without extracting anything to disk. The
    pass stops once all are read, so members after them (STL-10's unlabeled split) need not be
    decompressed."""
    found = {}
    with open(path, "rb") as file:
        try:
            with tarfile.open(fileobj=file, mode="r|gz") as archive:
                for member in archive:
                    if member.name in names:
                        found[member.name] = archive.extractfile(member).read()
                        if len(found[member.name]) != member.size:
                            raise EOFError(f"{member.name} ends after {len(found[member.name])} of "
                                           f"{member.size} bytes")
                        if len(found) == len(names):
                            break
        except (tarfile.TarError, *DECOMPRESSION_ERRORS) as error:
            raise ValueError(f"{path}: cannot be read as a .tar.gz ({type(error).__name__}: {error}); "
                             "the file is truncated or corrupted") from error
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(f"{path}: no member {', '.join(missing)} in the archive; is it the right file?")
    return found


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and numpy arrays, nothing else: a pickle can name
    any callable (os.system) and a swapped file must not run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"),  # bytes in protocol-2 pickles
               ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}  # protocol 5

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only numpy arrays are expected")
        return super().find_class(module, name)


def _cifar_batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (n x 3072 uint8) and labels of one pickled CIFAR batch (Python 2 pickle: latin1)."""
    try:
        batch = _ArraysOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
        pixels, labels = np.asarray(batch["data"]), np.asarray(batch["labels"], dtype=np.int64)
    except Exception as error:  # unpickling malformed bytes can fail in many ways, all meaning the same
        raise ValueError(f"{where}: not a pickled CIFAR batch with 'data' and 'labels' "
                         f"({type(error).__name__}: {error})") from error
    if pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{where}: data is {pixels.dtype} {pixels.shape}, expected uint8 n x 3072")
    if labels.shape != (len(pixels),):
        raise ValueError(f"{where}: {labels.size} labels for {len(pixels)} images")
    return pixels, labels


def _checked_labels(labels: np.ndarray, where) -> np.ndarray:
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise ValueError(f"{where}: labels range {labels.min()}..{labels.max()}, expected 0..{N_CLASSES - 1} "
                         f"(as stored: 1..{N_CLASSES} for USPS and STL-10)")
    return labels


_PRETRAINED = dict(features=("raw", *NETWORKS), network_features=frozenset(NETWORKS),
                   models={name: name for name in NETWORKS}, image=True)

MNIST = Source(read=read_idx, remotes=partial(_idx_remotes, "MNIST", ("train", "t10k")), image=True,
               description="MNIST handwritten digits, train+test: 70,000 28x28 (as DEC, IDEC and DCN use it)")
MNIST_TEST = Source(read=partial(read_idx, splits=("t10k",)), remotes=partial(_idx_remotes, "MNIST", ("t10k",)),
                    image=True, description="MNIST test split only: 10,000 28x28 (as JULE and N2D report)")
FASHION_MNIST = Source(read=read_idx, remotes=partial(_idx_remotes, "FashionMNIST", ("train", "t10k")),
                       image=True, description="Fashion-MNIST clothing, train+test: 70,000 28x28")
FASHION_MNIST_TEST = Source(read=partial(read_idx, splits=("t10k",)),
                            remotes=partial(_idx_remotes, "FashionMNIST", ("t10k",)), image=True,
                            description="Fashion-MNIST test split only: 10,000 28x28")
KMNIST = Source(read=read_idx, remotes=partial(_idx_remotes, "KMNIST", ("train", "t10k")), image=True,
                description="Kuzushiji-MNIST cursive Japanese characters, train+test: 70,000 28x28")
KMNIST_TEST = Source(read=partial(read_idx, splits=("t10k",)), remotes=partial(_idx_remotes, "KMNIST", ("t10k",)),
                     image=True, description="Kuzushiji-MNIST test split only: 10,000 28x28")
USPS = Source(read=read_usps, remotes=_usps_remotes, image=True,
              description="USPS handwritten digits, train+test: 9,298 16x16")
CIFAR10 = Source(read=read_cifar10, remotes=partial(_archive_remote, "CIFAR10"), **_PRETRAINED,
                 description="CIFAR-10 objects, train+test: 60,000 3x32x32; features raw, resnet50 or vgg16")
STL10 = Source(read=read_stl10, remotes=partial(_archive_remote, "STL10"), **_PRETRAINED,
               description="STL-10 labelled objects, train+test: 13,000 3x96x96; features raw, resnet50 or vgg16")
