from deepclust import jobs  # first: it holds the garbage collector while the others import

import time
from pathlib import Path

import numpy as np

from deepclust import devices, engine, io, methods, runs
from deepclust.methods import plugins
from deepclust.nn import networks

jobs.start(snakemake)
engine.set_threads(snakemake.threads)
dataset, method, seed = snakemake.wildcards.dataset, snakemake.wildcards.method, int(snakemake.wildcards.seed)
spec = snakemake.params.spec
X, y, meta = io.load_dataset(snakemake.input.data)
features = np.load(snakemake.input.features) if snakemake.input.features else X  # the space it clusters

estimator_class = methods.get(spec["algorithm"])
given = {"n_clusters": snakemake.params.n_clusters, "random_state": seed}
if plugins.takes(estimator_class, "device"):
    given["device"] = str(engine.resolve_device(devices.claim(snakemake.params.device)))
if snakemake.input.pretrained:
    given["autoencoder"] = jobs.read_input(networks.load, snakemake.input.pretrained)
estimator = estimator_class(**{k: v for k, v in given.items() if plugins.takes(estimator_class, k)},
                            **spec.get("params", {}))
start = time.perf_counter()
estimator.fit(features)
seconds = time.perf_counter() - start
labels = getattr(estimator, "labels_", None)
if labels is None or len(labels) != len(X):
    raise RuntimeError(f"{spec['algorithm']}.fit gave no labels_ of length {len(X)} (got "
                       f"{'none' if labels is None else len(labels)})")

embedding = None
if hasattr(snakemake.output, "embedding"):
    embedding = np.asarray(estimator.transform(features), dtype=np.float32)
    io.save_array(snakemake.output.embedding, embedding)
runs.finish_run(Path(snakemake.output.run).parent, snakemake.input.tracking,
                **runs.identity(dataset, method, seed, "cluster"), params={**spec, "seed": seed},
                seconds=seconds, labels=labels, X=X, y=y, embedding=embedding)
