from deepclust import jobs  # first: it holds the garbage collector while the others import

import numpy as np

from deepclust import figures, io

jobs.start(snakemake)
_, y, _ = io.load_dataset(snakemake.input.data)
labellings = {method: np.load(path) for method, path in zip(snakemake.params.methods, snakemake.input.labels)}
figures.confusion_grid(y, labellings, snakemake.output[0],
                       f"{snakemake.wildcards.dataset}: confusion after Hungarian matching")
