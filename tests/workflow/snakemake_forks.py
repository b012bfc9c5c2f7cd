"""`snakemake` for the workflow tests, forked from a process that imported Snakemake once.

A snakemake command spends most of a dry run importing: Snakemake itself (~1.7 s) and the
scikit-learn the Snakefile's config checks import (~1.7 s), then ~1 s parsing the workflow. The
tests run it ~150 times. Here a multiprocessing fork server imports those libraries once per
session (PRELOAD, never deepclust: each run imports the library of its own workflow copy, as
the command would) and each run is a fork of it that calls Snakemake's command-line entry point
with the run's arguments, folder and environment, its output in a file, in a process group of
its own (a timeout stops its jobs too). The full run, the SLURM run and the runs a test kills run
the real command (conftest.BackgroundRun, test_slurm, test_faults).
"""

import atexit
import gc
import multiprocessing
import os
import signal
import sys
from pathlib import Path

PRELOAD = ["snakemake.cli", "snakemake.api", "snakemake.report", "snakemake.scheduling.job_scheduler",
           "sklearn.cluster", "sklearn.utils._param_validation", "jsonschema", "yaml", "numpy", "pandas",
           __name__]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def _main(args: list[str], workdir: str, env: dict, output: str) -> None:
    """The forked process: `snakemake *args` in ``workdir`` with environment ``env``, as a fresh
    command would run it, then exit as a command would (exit handlers run, streams flushed)."""
    gc.freeze()  # the preloaded libraries: never walked by this run's garbage collections
    os.setsid()
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    sys.argv = [str(Path(sys.executable).parent / "snakemake"), *args]
    from snakemake.cli import main

    code = 0
    try:
        main(args)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(args: list[str], workdir: Path, env: dict, output: Path, timeout: float) -> int | None:
    """Exit status of `snakemake *args` in ``workdir``, its stdout and stderr in ``output``; None
    when it ran over ``timeout`` seconds (it and its jobs are then stopped)."""
    process = _context.Process(target=_main, args=(list(args), str(workdir), dict(env), str(output)))
    process.start()
    process.join(timeout)
    if process.exitcode is not None:
        return process.exitcode
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        process.join(wait)
        if process.exitcode is not None:
            break
    return None
