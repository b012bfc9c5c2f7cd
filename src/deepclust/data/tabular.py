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


def read_user_file(directory, settings, **_):
    """The user's samples x features file (``path``), labels optional (``label_column``).

    .npy: one 2-D array, no labels. .npz: features under ``features_key`` (default the only array
    or "X"), labels under ``label_column`` (default "y" when present). .csv/.parquet: every column
    but ``label_column`` is a feature and must be numeric. Labels of any type become 0..k-1 in
    sorted order (``meta["class_names"]``). ``image_shape`` [C, H, W] lets conv nets use the file.
    Without labels only internal metrics are reported."""
    path = Path(settings["path"])
    if path.suffix not in USER_FORMATS:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use one of {', '.join(USER_FORMATS)}")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    label_column = settings.get("label_column")
    if path.suffix in (".npy", ".npz"):
        X, labels = _read_numpy(path, label_column, settings.get("features_key"))
    else:
        X, labels = _read_table(path, label_column)
    return _checked(path, X, labels, settings.get("image_shape"))


def _read_numpy(path, label_column, features_key):
    if path.suffix == ".npy":
        if label_column:
            raise ValueError(f"{path}: a .npy file holds one array, so it cannot have label_column "
                             f"{label_column!r}; use .npz with arrays X and {label_column}")
        return np.load(path, allow_pickle=False), None
    with np.load(path, allow_pickle=False) as arrays:
        names = list(arrays.files)
        label_column = label_column or ("y" if "y" in names else None)
        if label_column and label_column not in names:
            raise ValueError(f"{path}: no array {label_column!r} for the labels; arrays: {', '.join(names)}")
        features = [n for n in names if n != label_column]
        key = features_key or ("X" if "X" in features else (features[0] if len(features) == 1 else None))
        if key not in names:
            raise ValueError(f"{path}: cannot tell which array holds the features ({', '.join(names)}); "
                             "name it X or set features_key")
        return arrays[key], (arrays[label_column] if label_column else None)


def _read_table(path, label_column):
    import pandas as pd

    table = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    labels = None
    if label_column is not None:
        if label_column not in table:
            raise ValueError(f"{path}: no label column {label_column!r}; columns: {', '.join(map(str, table.columns))}")
        labels = table.pop(label_column).to_numpy()
    non_numeric = [str(c) for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise ValueError(f"{path}: non-numeric feature column(s) {non_numeric}; drop them or name the label "
                         "column with label_column")
    return table.to_numpy(dtype=np.float64), labels


def _checked(path, X, labels, image_shape):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(f"{path}: features must be a 2-D samples x features array with at least 2 rows; "
                         f"got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{path}: features must be numeric, got dtype {X.dtype}")
    bad_rows = ~np.isfinite(X).all(axis=1)
    if bad_rows.any():
        rows = np.flatnonzero(bad_rows)
        raise ValueError(f"{path}: {len(rows)} row(s) contain NaN or infinite values (first: row {rows[0]}); "
                         "impute or drop them first")
    meta = {"source_file": str(path)}
    if image_shape is not None:
        if int(np.prod(image_shape)) != X.shape[1]:
            raise ValueError(f"{path}: image_shape {image_shape} has {int(np.prod(image_shape))} values but "
                             f"rows have {X.shape[1]} features")
        meta["image_shape"] = [int(d) for d in image_shape]
    if labels is None:
        return X.astype(np.float32), None, meta
    labels = np.asarray(labels)
    if labels.shape != (len(X),):
        raise ValueError(f"{path}: {labels.shape} labels for {len(X)} samples")
    if labels.dtype.kind in "fO" and any(v != v for v in labels):  # NaN or missing labels
        raise ValueError(f"{path}: some labels are missing; drop those rows or leave label_column unset")
    class_names, y = np.unique(labels, return_inverse=True)
    if len(class_names) == len(y):
        raise ValueError(f"{path}: every sample has a label of its own ({len(y)} classes for {len(y)} samples); "
                         "is label_column an id column?")
    meta["class_names"] = [str(c) for c in class_names]
    return X.astype(np.float32), y.astype(np.int64), meta


DIGITS = Source(read=read_digits, image=True, description="scikit-learn's 8x8 digits, 1797 samples")
USER_FILE = Source(read=read_user_file, description="your own .npy/.npz/.csv/.parquet file")
