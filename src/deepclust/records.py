"""Records: the one file format for every measured number the documentation quotes.

A record is a JSON object holding what was measured and everything needed to measure it again:

``what``     one sentence: what was measured, on which data, at which settings
``command``  the exact command, run from the repository's root, that wrote the record; every
             file it names (scripts, config overlays) is in the repository
``commit``   the commit whose code made the runs (``dirty`` says whether tracked files differed)
``machine``  the CPU model and cores, plus the GPU when one was used
``date``     the day it ran, YYYY-MM-DD
``params``   the settings that matter beyond the command (epochs, threads, seeds, ...)
``runs``     the per-run values: a list of objects, one per seed or repeat, with the measured numbers

Anything else (``summary``, ``notes``, a per-epoch ``history`` inside a run) may be added.
Benchmarks (bench/) and studies (studies/<name>/) write records with ``write``; the
documentation's tables are generated from them (``make docs``), so a number in the docs always
has a record behind it.
"""

import json
import shlex
import sys
import time
from pathlib import Path

REQUIRED = {"what": str, "command": str, "commit": str, "machine": str, "date": str, "params": dict, "runs": list}


class RecordError(ValueError):
    """A record that does not follow the format; the message names the file and the key."""


def validate(record: dict, where="record") -> dict:
    """``record`` itself when it has every required key with the right type and non-empty runs."""
    if not isinstance(record, dict):
        raise RecordError(f"{where}: a record is a JSON object, not {type(record).__name__}")
    for key, kind in REQUIRED.items():
        if key not in record:
            raise RecordError(f"{where}: missing key {key!r} (a record needs {', '.join(REQUIRED)})")
        if not isinstance(record[key], kind):
            raise RecordError(f"{where}: {key!r} is {type(record[key]).__name__}, expected {kind.__name__}")
    if not record["runs"] or not all(isinstance(run, dict) for run in record["runs"]):
        raise RecordError(f"{where}: 'runs' must be a non-empty list of objects (one per run)")
    if len(record["date"]) != 10 or record["date"][4] != "-" or record["date"][7] != "-":
        raise RecordError(f"{where}: 'date' {record['date']!r} is not YYYY-MM-DD")
    return record


def load(path) -> dict:
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise RecordError(f"{path}: cannot read a record: {error}") from error
    return validate(record, str(path))


def command_line(root) -> str:
    """This process's command as typed from the repository ``root``: ``python <script> <args>``."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(Path(root).resolve())
    except ValueError:
        pass
    return shlex.join(["python", str(script), *sys.argv[1:]])


def write(path, *, what: str, params: dict, runs: list, root=".", command: str | None = None, device="cpu",
          commit: str | None = None, **extra) -> dict:
    """Write a record to ``path``: the caller gives what, params and runs; the command (this
    process's), commit (the checkout's), machine and date are filled in unless given."""
    from deepclust.provenance import cpu_name
    from deepclust.runs import git_state

    head, dirty = git_state(root)
    if commit is not None and commit != head:
        dirty = "unknown"  # the runs' own commit, not this checkout's
    commit = commit or head
    machine = cpu_name()
    if str(device).startswith("cuda"):
        import torch

        machine += f"; GPU {torch.cuda.get_device_name(torch.device(device))}"
    record = validate({"what": what, "command": command or command_line(root), "commit": commit, "dirty": dirty,
                       "machine": machine, "date": time.strftime("%Y-%m-%d"), "params": params, "runs": runs,
                       **extra}, str(path))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
    return record


# ----------------------------------------------------------------------------- rendering, for the docs

def provenance(record: dict, name: str, show_command: bool = True) -> str:
    """The line under a generated table saying where its numbers come from (a long command, or
    one that names commits, is left to the record itself)."""
    command = record["command"]
    command = f"`{command}`" if show_command and len(command) <= 120 else "the command in the record"
    return f"<sub>Record `{name}`: {command}, {record['machine']}, {record['date']}, commit {record['commit'][:10]}.</sub>"


def latest(records: dict) -> tuple[str, dict]:
    """(file stem, record) of the last of a study's records ({file stem: record}) by name."""
    name = max(records)
    return name, records[name]


def acc_nmi_cells(runs) -> list[str]:
    """ACC and NMI of some runs (rows with ``acc`` and ``nmi``) in percent, "mean ± std" over them,
    or dashes where there are none."""
    if not len(runs):
        return ["–", "–"]
    return [mean_std(runs["acc"], 100, 1), mean_std(runs["nmi"], 100, 1)]


def markdown_table(header: list, rows: list, align: str | None = None) -> str:
    """A markdown table; ``align`` defaults to the first column left, the others right."""
    align = align or "|".join(["---"] + ["---:"] * (len(header) - 1))
    lines = ["| " + " | ".join(header) + " |", "|" + align + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def mean_std(values, scale: float = 1.0, digits: int = 3) -> str:
    """"mean ± std" of ``values`` times ``scale``; std with ddof 0, as the workflow's tables."""
    import numpy as np

    values = np.asarray(values, dtype=float) * scale
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"
