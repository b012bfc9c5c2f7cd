"""A job's start-up: the garbage collector is held while a workflow script imports its libraries
and what they made is frozen once it starts (deepclust.jobs); library users are never affected."""

import ast
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "workflow" / "scripts"

PROBE = """
import gc, sys, types
{main}
from deepclust import jobs
held = not gc.isenabled()
import json  # stands for the script's other imports
{start}
print(held, gc.isenabled(), gc.get_freeze_count() > 0)
"""
AS_SNAKEMAKE_SCRIPT = "snakemake = types.SimpleNamespace(log=[sys.argv[1]])  # what Snakemake's preamble sets"
START = "jobs.start(snakemake)\nsys.stdout = sys.__stdout__"


def probe(tmp_path, main: str, start: str) -> list[str]:
    code = PROBE.format(main=main, start=start)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "job.log")], capture_output=True,
                          text=True, check=True)
    return done.stdout.split()


def test_a_job_holds_the_collector_while_it_imports_and_freezes_what_they_made(tmp_path):
    assert probe(tmp_path, AS_SNAKEMAKE_SCRIPT, START) == ["True", "True", "True"]


def test_importing_jobs_elsewhere_leaves_the_collector_alone(tmp_path):
    assert probe(tmp_path, "", "") == ["False", "True", "False"]


def test_every_script_imports_jobs_first_and_starts_the_job():
    def module(node):
        return node.module if isinstance(node, ast.ImportFrom) else node.names[0].name

    for script in sorted(SCRIPTS.glob("*.py")):
        tree = ast.parse(script.read_text())
        imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        first = next(node for node in imports if module(node).split(".")[0] not in sys.stdlib_module_names)
        assert module(first) == "deepclust" and [alias.name for alias in first.names] == ["jobs"], \
            f"{script.name}: its first import of a library must be `from deepclust import jobs`"
        assert "jobs.start(snakemake)" in script.read_text(), f"{script.name} never calls jobs.start"
