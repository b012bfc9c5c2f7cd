"""Dataset registry: a source name -> how to fetch its files and read them into (X, y, meta).

Adding a dataset is one ``Source`` in a module of this package and one line in ``SOURCES``;
the workflow needs no edit. Modules here import torch, torchvision and scikit-learn only
inside functions: the Snakefile imports this registry when it parses, and every job parses it.

``read(directory, settings, device=..., mirror=..., models=...)`` returns raw ``X`` (n x d, images
flattened C*H*W), ``y`` (int labels or None) and ``meta``: ``image_shape`` [C, H, W] for image
pixels (conv nets reshape with it), ``max_value`` for the ``minmax`` scaling, anything else the
loader wants recorded. ``directory`` holds the files that ``download`` fetched.

Fetching (mirror, checksums, retries, atomic writes) lives in ``deepclust.data.remote``
(``Remote``, ``fetch``): a submodule named ``download`` would shadow the ``download`` function.
"""

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from deepclust.data import preprocessing, pretrained


@dataclass(frozen=True)
class Source:
    read: Callable
    # () -> tuple of download.Remote; called only by the download job (may import torchvision)
    remotes: Callable | None = None
    # choices for the dataset's `features` setting; the first is the default
    features: tuple[str, ...] = ("raw",)
    # features computed by a pretrained network: their preparation job is tagged gpu=1
    network_features: frozenset = field(default_factory=frozenset)
    # network features -> the pretrained weights they need (MODELS), fetched by their own job
    models: dict = field(default_factory=dict)
    # pixel features have an image_shape (conv autoencoders need it)
    image: bool = False
    # documents: the cluster-terms table reads their TF-IDF (features tfidf, whatever the dataset's)
    text: bool = False
    description: str = ""


SOURCES = {
    "digits": "deepclust.data.tabular:DIGITS",
    "file": "deepclust.data.tabular:USER_FILE",
    "mnist": "deepclust.data.images:MNIST",
    "mnist_test": "deepclust.data.images:MNIST_TEST",
    "fashion_mnist": "deepclust.data.images:FASHION_MNIST",
    "fashion_mnist_test": "deepclust.data.images:FASHION_MNIST_TEST",
    "kmnist": "deepclust.data.images:KMNIST",
    "kmnist_test": "deepclust.data.images:KMNIST_TEST",
    "usps": "deepclust.data.images:USPS",
    "cifar10": "deepclust.data.images:CIFAR10",
    "stl10": "deepclust.data.images:STL10",
    "20newsgroups": "deepclust.data.text:NEWSGROUPS",
    "reuters": "deepclust.data.text:REUTERS",
}


# pretrained weights, fetched into <models>/<name>/ (the folder the caller gives ``read`` as
# ``models``): the ImageNet networks of deepclust.data.pretrained
MODELS = tuple(pretrained.NETWORKS)


def _resolve(reference: str):
    module, attribute = reference.split(":")
    return getattr(importlib.import_module(module), attribute)


def source(name: str) -> Source:
    if name not in SOURCES:
        raise ValueError(f"unknown dataset source {name!r}; valid sources: {', '.join(sorted(SOURCES))}")
    return _resolve(SOURCES[name])


def download(name: str, directory, mirror=None, **fetch_options) -> list[Path]:
    """Fetch every file of source ``name`` into ``directory`` (see remote.fetch); their paths."""
    from deepclust.data.remote import fetch

    spec = source(name)
    remotes = spec.remotes() if spec.remotes else ()
    return [fetch(remote, directory, mirror, **fetch_options) for remote in remotes]


def download_model(name: str, directory, mirror=None, **fetch_options) -> list[Path]:
    """Fetch the weights of pretrained model ``name`` (MODELS) into ``directory``; their paths."""
    from deepclust.data.remote import fetch

    if name not in MODELS:
        raise ValueError(f"unknown pretrained model {name!r}; valid: {', '.join(MODELS)}")
    return [fetch(pretrained.weights_remote(name), directory, mirror, **fetch_options)]


def load(name: str, settings: dict | None = None, directory=None, preprocess: str = "auto",
         subsample: int | None = None, seed: int = 0, **read_options):
    """(X float32, y or None, meta) of source ``name`` after preprocessing.

    ``settings`` are the dataset's config entry (features, path, label_column, ...);
    ``preprocess`` "auto" picks what the papers do for that kind of data (preprocessing.auto);
    ``subsample`` keeps a random subset of that many samples (for tiny configs)."""
    spec = source(name)
    settings = dict(settings or {})
    features = settings.setdefault("features", spec.features[0])
    if features not in spec.features:
        raise ValueError(f"features {features!r} is not available for {name}; valid: {', '.join(spec.features)}")
    X, y, meta = spec.read(Path(directory) if directory else None, settings, **read_options)
    if subsample is not None and subsample < len(X):
        keep = np.sort(np.random.default_rng(seed).choice(len(X), subsample, replace=False))
        X, y = X[keep], (None if y is None else y[keep])
    if preprocess == "auto":
        preprocess = preprocessing.auto(meta)
    X = preprocessing.apply(preprocess, X, meta)
    meta = {**meta, "name": name, "features": features, "preprocess": preprocess,
            "n_samples": int(len(X)), "n_features": int(X.shape[1])}
    if y is not None:
        meta["n_classes"] = int(len(np.unique(y)))
    return X.astype(np.float32), y, meta
