"""Tables of numbers: scikit-learn's bundled digits and the user's own files."""

from pathlib import Path

import numpy as np

from deepclust.data import Source

USER_FORMATS = (".npy", ".npz", ".csv", ".parquet")


def read_digits(directory, settings, **_):
    """scikit-learn's bundled 8x8 digits: 1797 x 64, values 0..16, 10 classes. No download."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.float32), bunch.target.astype(np.int64), {"image_shape": [1, 8, 8], "max_value": 16.0}


class UserFileError(ValueError):
    """A user data file that cannot be used; the message names the file and the reason."""


def read_user_file(directory, settings, **_):
    """The user's samples x features file (``path``), labels optional (``label_column``).

    .npy: one 2-D array, no labels. .npz: features under ``features_key`` (default the only array
    or "X"), labels under ``label_column`` (default "y" when present). .csv/.parquet: every column
    but ``label_column`` is a feature and must be numeric. Labels of any type become 0..k-1 in
    sorted order (``meta["class_names"]``). ``image_shape`` [C, H, W] lets conv nets use the file.
    Without labels only internal metrics are reported.

    A file that cannot be used raises UserFileError ("<path>: <the problem>"), also when numpy,
    pandas or pyarrow cannot read it (their error is quoted in the message)."""
    path = Path(settings["path"])
    if path.suffix not in USER_FORMATS:
        raise UserFileError(f"{path}: unsupported file type {path.suffix!r}; use one of {', '.join(USER_FORMATS)}")
    if not path.is_file():
        raise UserFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise UserFileError(f"{path}: the file is empty (0 bytes)")
    label_column = settings.get("label_column")
    try:
        if path.suffix in (".npy", ".npz"):
            X, labels = _read_numpy(path, label_column, settings.get("features_key"))
        else:
            X, labels = _read_table(path, label_column)
    except (UserFileError, MemoryError):
        raise
    except Exception as error:  # numpy, pandas, pyarrow, zipfile: a truncated or foreign file
        raise _unreadable(path, f"{type(error).__name__}: {str(error).strip() or 'no details'}") from error
    return _checked(path, X, labels, settings.get("image_shape"))


def _unreadable(path, reason: str) -> UserFileError:
    return UserFileError(f"{path}: cannot read it as a {path.suffix} file ({reason}); "
                         "is it truncated, or in another format?")


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive (.npz), an empty one


def _array(path, load, name=None):
    """One array of a .npy/.npz file; object arrays (pickled Python objects) are refused."""
    try:
        return load()
    except ValueError as error:
        if "Object arrays cannot be loaded" not in str(error):
            raise
        what = f"array {name!r}" if name else "the array"
        raise UserFileError(f"{path}: {what} holds Python objects (a pickled object array), which are not "
                            "loaded for safety; save numbers instead (e.g. np.asarray(X, dtype=float))") from None


def _read_numpy(path, label_column, features_key):
    with open(path, "rb") as file:
        magic = file.read(len(_NPY_MAGIC))
    is_zip = magic.startswith(_ZIP_MAGICS)
    if path.suffix == ".npy":
        if is_zip:
            raise UserFileError(f"{path}: this is an .npz archive (several arrays), not a .npy file; rename it .npz")
        if magic != _NPY_MAGIC:
            raise _unreadable(path, f"it does not start with the .npy header but with {magic!r}")
        if label_column:
            raise UserFileError(f"{path}: a .npy file holds one array, so it cannot have label_column "
                                f"{label_column!r}; use .npz with arrays X and {label_column}")
        return _array(path, lambda: np.load(path, allow_pickle=False)), None
    if magic == _NPY_MAGIC:
        raise UserFileError(f"{path}: this is a .npy file (one array), not an .npz archive; rename it .npy")
    if not is_zip:
        raise _unreadable(path, f"not a zip archive: it starts with {magic!r}")
    with np.load(path, allow_pickle=False) as arrays:
        names = list(arrays.files)
        if not names:
            raise UserFileError(f"{path}: the .npz archive holds no arrays")
        label_column = label_column or ("y" if "y" in names else None)
        if label_column and label_column not in names:
            raise UserFileError(f"{path}: no array {label_column!r} for the labels; arrays: {', '.join(names)}")
        features = [n for n in names if n != label_column]
        if features_key is not None and features_key not in names:
            raise UserFileError(f"{path}: no array {features_key!r} (features_key); arrays: {', '.join(names)}")
        if not features:
            raise UserFileError(f"{path}: no features array, only the labels {label_column!r}")
        key = features_key or ("X" if "X" in features else (features[0] if len(features) == 1 else None))
        if key is None:
            raise UserFileError(f"{path}: cannot tell which array holds the features ({', '.join(names)}); "
                                "name it X or set features_key")
        X = _array(path, lambda: arrays[key], key)
        labels = _array(path, lambda: arrays[label_column], label_column) if label_column else None
        return X, labels


def _read_table(path, label_column):
    import pandas as pd

    try:
        table = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:  # blank lines only
        raise UserFileError(f"{path}: the file is empty (no header, no rows)") from None
    if len(table) == 0:
        raise UserFileError(f"{path}: no samples (columns {', '.join(map(str, table.columns))} but no rows)")
    labels = None
    if label_column is not None:
        if label_column not in table:
            raise UserFileError(f"{path}: no label column {label_column!r}; "
                                f"columns: {', '.join(map(str, table.columns))}")
        labels = table.pop(label_column).to_numpy()
    if table.shape[1] == 0:
        only = f", only the labels {label_column!r}" if label_column else ""
        raise UserFileError(f"{path}: no feature columns{only}")
    non_numeric = [str(c) for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise UserFileError(f"{path}: non-numeric feature column(s) {non_numeric}; drop them or name the label "
                            "column with label_column")
    return table.to_numpy(dtype=np.float64), labels


_KINDS = {"U": "text", "S": "bytes", "O": "Python objects", "b": "booleans", "M": "dates", "m": "durations",
          "V": "records"}


def _checked(path, X, labels, image_shape):
    X = np.asarray(X)
    if X.ndim == 2 and X.shape[0] == 0:
        raise UserFileError(f"{path}: no samples (the features array has shape {X.shape})")
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise UserFileError(f"{path}: features must be a 2-D samples x features array with at least 2 rows; "
                            f"got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number) or X.dtype.kind == "c":
        kind = _KINDS.get(X.dtype.kind, "complex numbers" if X.dtype.kind == "c" else "not numbers")
        raise UserFileError(f"{path}: features must be real numbers, got dtype {X.dtype} ({kind})")
    bad_rows = ~np.isfinite(X).all(axis=1)
    if bad_rows.any():
        rows = np.flatnonzero(bad_rows)
        raise UserFileError(f"{path}: {len(rows)} row(s) contain NaN or infinite values "
                            f"(first: row {rows[0]}, counting from 0); impute or drop them first")
    meta = {"source_file": str(path)}
    if image_shape is not None:
        if int(np.prod(image_shape)) != X.shape[1]:
            raise UserFileError(f"{path}: image_shape {image_shape} has {int(np.prod(image_shape))} values but "
                                f"rows have {X.shape[1]} features")
        meta["image_shape"] = [int(d) for d in image_shape]
    if labels is None:
        return X.astype(np.float32), None, meta
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise UserFileError(f"{path}: labels must be a 1-D array, one label per sample; got shape {labels.shape}"
                            + (" (flatten it with .ravel())" if labels.ndim == 2 and labels.shape[1] == 1 else ""))
    if len(labels) != len(X):
        raise UserFileError(f"{path}: {len(labels)} labels for {len(X)} samples; there must be one label per sample")
    if labels.dtype.kind in "fO" and any(v != v for v in labels):  # NaN or missing labels
        raise UserFileError(f"{path}: some labels are missing; drop those rows or leave label_column unset")
    class_names, y = np.unique(labels, return_inverse=True)
    if len(class_names) == len(y):
        raise UserFileError(f"{path}: every sample has a label of its own ({len(y)} classes for {len(y)} samples); "
                            "is label_column an id column?")
    meta["class_names"] = [str(c) for c in class_names]
    return X.astype(np.float32), y.astype(np.int64), meta


DIGITS = Source(read=read_digits, image=True, description="scikit-learn's 8x8 digits, 1797 samples")
USER_FILE = Source(read=read_user_file, description="your own .npy/.npz/.csv/.parquet file")
