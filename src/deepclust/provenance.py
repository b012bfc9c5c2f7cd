"""Code fingerprints and config hashes, so that Snakemake reruns exactly what a change touches,
and the machine a run computed on, for its record.

Snakemake sees changes to a rule's script but not to the modules it imports. A job's params
therefore carry ``code_fingerprint(...)``: a hash of the given deepclust modules and, found by
reading their ``import`` statements (never importing them), every deepclust module they use.
Editing methods/dec.py changes DEC's fingerprint only; editing nn/ changes everything that
builds a network. The hash is of the code's syntax tree without docstrings, so editing comments,
docstrings or layout reruns nothing and keeps a long training's checkpoint. This module must stay
free of heavy imports: the Snakefile loads it.
"""

import ast
import hashlib
import json
import os
import platform
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PACKAGE = PACKAGE_ROOT.name
# Modules that never change a result: reached through imports they are left out, so editing
# the MLflow mirror does not recompute everything (the tracking rules name it themselves), nor
# does a changed parameter constraint, which only refuses values before anything is computed.
NOT_RESULT_AFFECTING = {f"{PACKAGE}.tracking", f"{PACKAGE}.methods.parameters"}


def module_path(module: str) -> Path:
    parts = module.split(".")[1:]
    if not parts:  # the package itself
        return PACKAGE_ROOT / "__init__.py"
    relative = Path(*parts)
    candidates = [PACKAGE_ROOT / relative.with_suffix(".py"), PACKAGE_ROOT / relative / "__init__.py"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ValueError(f"no source file for module {module!r} (looked for {[str(c) for c in candidates]})")


@lru_cache(maxsize=None)
def imported_modules(path: Path) -> tuple[str, ...]:
    """deepclust modules imported by the file at ``path`` (absolute imports only)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            for alias in node.names:  # `from deepclust import engine` imports the module deepclust.engine
                sub = f"{node.module}.{alias.name}"
                try:
                    module_path(sub)
                    found.add(sub)
                except ValueError:
                    found.add(node.module)
    return tuple(sorted(found))


def dependency_files(*roots: str | Path) -> list[Path]:
    """Source files of the given modules (names) or files (paths) and everything they import,
    except NOT_RESULT_AFFECTING modules reached through imports."""
    pending = [Path(r) if isinstance(r, Path) else module_path(r) for r in roots]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        pending.extend(module_path(m) for m in imported_modules(path) if m not in NOT_RESULT_AFFECTING)
    return sorted(seen)


@lru_cache(maxsize=None)  # the Snakefile fingerprints every job: parse each source text once
def code_without_docs(source: str) -> str:
    """The code's syntax tree without comments, docstrings and layout (line numbers), as text."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            if docstring and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


def code_fingerprint(*roots: str | Path) -> str:
    """Short hash of the code of ``roots`` and their deepclust imports (path-independent)."""
    digest = hashlib.sha256()
    for path in dependency_files(*roots):
        name = path.relative_to(PACKAGE_ROOT).as_posix() if path.is_relative_to(PACKAGE_ROOT) else path.name
        digest.update(name.encode() + b"\0" + code_without_docs(path.read_text()).encode() + b"\0")
    return digest.hexdigest()[:16]


def canonical(value) -> str:
    """JSON with sorted keys: the same settings always give the same string (and hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(value) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()[:16]


@lru_cache(maxsize=None)
def cpu_name() -> str:
    """The CPU's model name and the cores this process sees, e.g. "Intel(R) Xeon(R) Processor, 2 cores"."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # SLURM's share
    return f"{model or platform.processor() or 'unknown CPU'}, {cores} cores"


def machine() -> str:
    """What a run computed on, for run.json: the CPU, plus the GPU when this process used CUDA.
    Never imports torch (or initialises CUDA) itself, so baselines' records stay cheap."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        return f"{cpu_name()}; GPU {torch.cuda.get_device_name(torch.cuda.current_device())}"
    return cpu_name()
