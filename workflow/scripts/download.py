from deepclust import jobs  # first: it holds the garbage collector while the others import

from pathlib import Path

from deepclust import data, io
from deepclust.data.remote import file_digest, mirror_directory

jobs.start(snakemake)
manifest = Path(snakemake.output[0])
mirror = mirror_directory(snakemake.config["data"]["mirror"])
if snakemake.rule == "download_model":
    name, fetch = snakemake.wildcards.model, data.download_model
else:
    name, fetch = snakemake.wildcards.source, data.download
print(f"fetching {name} into {manifest.parent} (mirror: {mirror})")
paths = fetch(name, manifest.parent, mirror, retries=snakemake.config["data"]["retries"])
io.save_json(manifest, {"name": name, "files": [
    {"name": p.name, "bytes": p.stat().st_size, "md5": file_digest(p, "md5")} for p in paths]})
print(f"fetched {[p.name for p in paths]}")
