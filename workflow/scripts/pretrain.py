from deepclust import jobs  # first: it holds the garbage collector while the others import

import time
from pathlib import Path

from deepclust import devices, engine, io, runs
from deepclust.nn import networks
from deepclust.pretrain import embed, pretrain_autoencoder

jobs.start(snakemake)
engine.set_deterministic(snakemake.params.deterministic)  # before CUDA starts
engine.set_threads(snakemake.threads)
device = engine.resolve_device(devices.claim(snakemake.params.device))  # a free GPU, held until exit
engine.set_precision(snakemake.params.precision, device)  # before any tensor work
dataset, net, seed = snakemake.wildcards.dataset, snakemake.wildcards.net, int(snakemake.wildcards.seed)
settings = snakemake.params.settings
X, _, meta = io.load_dataset(snakemake.input.data)
# conv nets rebuild images from the flat rows
shape = {"image_shape": meta.get("image_shape")} if settings["kind"] == "cae" else {}

checkpoint = jobs.checkpoint(snakemake, device)
start = time.perf_counter()  # a resumed job times only what it ran itself
model, history = pretrain_autoencoder(X, **settings, **shape, device=str(device), random_state=seed,
                                      cuda_graphs=snakemake.params.cuda_graphs, checkpoint=checkpoint)
seconds = time.perf_counter() - start

networks.save(snakemake.output.model, model)
io.save_json(snakemake.output.history, history)
io.save_array(snakemake.output.embedding, embed(model, X))
runs.finish_run(Path(snakemake.output.run).parent, snakemake.input.tracking,
                **runs.identity(dataset, f"pretrain-{net}", seed, "pretrain"), params={**settings, "seed": seed},
                seconds=seconds, history_file="history.json", artifacts=["history.json"])
checkpoint.remove()
