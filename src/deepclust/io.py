"""Reading and writing the workflow's files. Writes are atomic (temp file, then rename), so an
interrupted job never leaves a file that looks complete."""

import json
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the mode a plain open() would
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def set_aside(path, why: str) -> Path | None:
    """Rename ``path`` to ``<name>.<why>-<time>`` beside it: a file the workflow cannot use is
    kept for a look but no longer found. The new path, or None when the file is already gone
    (another job set it aside first)."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.{why}-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return None
    return aside


def save_json(path, value) -> None:
    """Strict JSON: NaN and infinities are written as null (other parsers reject bare NaN)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_finite(value), indent=2, sort_keys=True, default=_json_default,
                                  allow_nan=False) + "\n")


def _finite(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load_json(path):
    return json.loads(Path(path).read_text())


def save_array(path, array) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def save_dataset(path, X, y, meta: dict) -> None:
    arrays = {"X": np.asarray(X, dtype=np.float32), "meta": np.array(json.dumps(meta))}
    if y is not None:
        arrays["y"] = np.asarray(y, dtype=np.int64)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def load_dataset(path):
    """(X, y or None, meta) from a prepared results/data/{dataset}.npz."""
    with np.load(path) as data:
        return data["X"], (data["y"] if "y" in data else None), json.loads(str(data["meta"]))
