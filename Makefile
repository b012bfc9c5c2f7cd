# make run   : set up .venv (reused while the lock is unchanged) and run the default DAG + report
# make test  : lint, the test suite and the documentation's strict build (what CI runs)
# make docs  : regenerate every table of numbers in README.md, docs/ and studies/ from the records
# make benchmark: the field study (config/benchmark.yaml): every method on 8 datasets, 5 seeds, ranked
# make paper : the papers' tables (config/paper.yaml); make paper-cpu: its CPU-sized part;
# make paper-quick: the 2-core CPU variant with cut epochs; each config writes under its own
# `results:` folder (results/paper/, results/paper_cpu/, results/mnist/), the default under results/
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := envs/requirements.lock
# The stamp's name carries the hash of the lock and pyproject: changing either rebuilds the venv.
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) pyproject.toml | sha256sum | cut -c1-16)
CORES ?= all

.PHONY: venv run report test lint docs benchmark paper paper-cpu paper-quick clean

venv: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/.installed-*
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -W ignore -m deepclust.features  # compile UMAP's numba code into its disk cache once
	touch $@

run: venv
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html

report: venv
	$(BIN)/snakemake --report results/report.html

# the papers' settings (GPU-sized); the quick variant is config/mnist.yaml (cut epochs, for a
# 2-core CPU) with the papers' 5 seeds, and shares its runs with `snakemake --configfile config/mnist.yaml`
paper: venv
	$(BIN)/snakemake --cores $(CORES) --configfile config/paper.yaml

# paper.yaml's DEC, IDEC, DCN, N2D, k-means (MNIST) and JULE (MNIST-test) at the papers' settings on a CPU
paper-cpu: venv
	$(BIN)/snakemake --cores $(CORES) --configfile config/paper_cpu.yaml

benchmark: venv
	$(BIN)/snakemake --cores $(CORES) --configfile config/benchmark.yaml

paper-quick: venv
	$(BIN)/snakemake --cores $(CORES) --configfile config/mnist.yaml --config seeds='[0,1,2,3,4]'

lint: venv
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .

docs: venv
	$(BIN)/python docs/generate.py

# the site goes to a temporary folder: the build is a check that every page and link resolves
test: lint
	$(BIN)/python -m pytest -q -rs
	site=$$(mktemp -d) && $(BIN)/mkdocs build --strict --quiet --site-dir "$$site" && rm -rf "$$site"

clean:
	rm -rf results .snakemake site
