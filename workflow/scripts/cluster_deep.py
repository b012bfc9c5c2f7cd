from deepclust import jobs  # first: it holds the garbage collector while the others import

import time
from pathlib import Path

from deepclust import devices, engine, io, methods, runs
from deepclust.nn import networks

jobs.start(snakemake)
engine.set_deterministic(snakemake.params.deterministic)  # before CUDA starts
engine.set_threads(snakemake.threads)
device = engine.resolve_device(devices.claim(snakemake.params.device))  # a free GPU, held until exit
engine.set_precision(snakemake.params.precision, device)  # before any tensor work
dataset, method, seed = snakemake.wildcards.dataset, snakemake.wildcards.method, int(snakemake.wildcards.seed)
spec = snakemake.params.spec
X, y, meta = io.load_dataset(snakemake.input.data)

algorithm = spec["algorithm"]
estimator_class = methods.get(algorithm)
extra = {}
if snakemake.input.pretrained:  # methods trained from scratch (InfoGAN, JULE) have none
    # read on the CPU, so that only a bad file (never a GPU error) sets it aside for pretraining again
    extra["autoencoder"] = jobs.read_input(networks.load, snakemake.input.pretrained).to(device)
if "image_shape" in estimator_class._parameter_constraints and "image_shape" in meta:
    extra["image_shape"] = tuple(meta["image_shape"])  # conv networks of methods that build their own
estimator = estimator_class(n_clusters=snakemake.params.n_clusters, device=str(device), random_state=seed,
                            verbose=True, **extra, **spec.get("params", {}))
checkpoint = jobs.checkpoint(snakemake, device)
start = time.perf_counter()  # a resumed job times only what it ran itself
# y only feeds the ACC/NMI columns of the history, never the training
estimator.fit(X, y, checkpoint=checkpoint)
seconds = time.perf_counter() - start

embedding = estimator.transform(X)
io.save_json(snakemake.output.history, estimator.history_)
io.save_array(snakemake.output.embedding, embedding)
networks.save(snakemake.output.model, estimator.autoencoder_)
if hasattr(snakemake.output, "samples"):
    io.save_array(snakemake.output.samples, getattr(estimator, methods.GENERATIVE[algorithm])(8, random_state=seed))
runs.finish_run(Path(snakemake.output.run).parent, snakemake.input.tracking,
                **runs.identity(dataset, method, seed, "cluster"), params={**spec, "seed": seed},
                seconds=seconds, labels=estimator.labels_, X=X, y=y, embedding=embedding,
                history_file="history.json", artifacts=["history.json", "labels.npy"])
checkpoint.remove()
