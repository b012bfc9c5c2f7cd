from collections import defaultdict
from pathlib import Path

from deepclust import figures, io, jobs

jobs.start(snakemake)
histories = defaultdict(list)
for path in [*snakemake.input.pretrain, *snakemake.input.runs]:
    tags = io.load_json(Path(path).parent / "run.json")["tags"]
    histories[tags["method"]].append(io.load_json(path))
figures.training_curves(histories, snakemake.output[0], f"{snakemake.wildcards.dataset}: training curves")
