from deepclust import jobs  # first: it holds the garbage collector while the others import

import numpy as np

from deepclust import figures, io

jobs.start(snakemake)
_, _, meta = io.load_dataset(snakemake.input.data)
samples = {method: np.load(path) for method, path in zip(snakemake.params.methods, snakemake.input.samples)}
figures.samples_grid(samples, meta["image_shape"], snakemake.output[0],
                     f"{snakemake.wildcards.dataset}: generated samples, one row per cluster")
