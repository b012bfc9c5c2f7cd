from deepclust import jobs  # first: it holds the garbage collector while the others import

from pathlib import Path

from deepclust import io, tracking

jobs.start(snakemake)
# asks the store once, whatever init found; a store still down fails here, at once and alone
info = tracking.reopen(io.load_json(snakemake.input.tracking))
synced = {}
for run_file in [*snakemake.input.pretrained, *snakemake.input.runs]:
    synced[str(Path(run_file).parent)] = tracking.log_run_dir(Path(run_file).parent, info)
failed = [run for run, run_id in synced.items() if run_id is None]
io.save_json(snakemake.output[0], {"tracking": info, "runs": synced, "failed": failed})
print(f"{len(synced) - len(failed)} runs in MLflow, {len(failed)} failed")
if failed:
    raise RuntimeError(f"MLflow sync failed for {len(failed)} run(s), e.g. {failed[0]}; rerun to retry")
