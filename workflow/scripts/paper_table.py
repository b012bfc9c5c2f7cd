from deepclust import jobs  # first: it holds the garbage collector while the others import

import pandas as pd

from deepclust import paper

jobs.start(snakemake)
reported = paper.load_reported(snakemake.input.reported)
table = paper.compare(pd.read_csv(snakemake.input.runs), reported, snakemake.params.sources,
                      snakemake.params.paper_methods)
table.to_csv(snakemake.output.csv, index=False)
with open(snakemake.output.markdown, "w") as f:
    f.write(paper.markdown(table))
with open(snakemake.output.latex, "w") as f:
    f.write(paper.latex(table))
