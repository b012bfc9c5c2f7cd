from deepclust import jobs  # first: it holds the garbage collector while the others import

from collections import defaultdict
from pathlib import Path

from deepclust import figures, io

jobs.start(snakemake)
histories = defaultdict(list)
for path in [*snakemake.input.pretrain, *snakemake.input.runs]:
    tags = io.load_json(Path(path).parent / "run.json")["tags"]
    histories[tags["method"]].append(io.load_json(path))
figures.training_curves(histories, snakemake.output[0], f"{snakemake.wildcards.dataset}: training curves")
