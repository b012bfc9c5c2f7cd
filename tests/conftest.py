"""What the unit and the workflow tests share: where real downloaded data is, if anywhere.

Real files are reached only through $DEEPCLUST_DATA_MIRROR, a directory laid out like a data mirror
(MNIST/raw/*.gz, FashionMNIST/raw/*.gz, 20newsgroups/20news-bydate-repack.tar.gz). A test that
needs them is skipped, with the reason, when the variable is unset or the files are not there;
everything else runs on small fake files in the real formats (unit/fake_datasets.py). Tests copy
real files before using them: nothing writes into the mirror.

This folder is not a package, so pytest puts it on sys.path: the workflow tests import the fake
files' writers as ``unit.fake_datasets``.
"""

import gc
import os
from pathlib import Path

import pytest

MIRROR_ENV = "DEEPCLUST_DATA_MIRROR"


def pytest_configure(config):
    gc.disable()  # until collection is over (see pytest_collection_finish)


def pytest_collection_finish(session):
    """Freeze what collection made (torch, scikit-learn, Snakemake, every test module and item):
    Python's garbage collector then never walks it again, instead of at every full collection
    while the tests run (about a third of the unit tests' time)."""
    gc.freeze()
    gc.enable()


@pytest.fixture(scope="session")
def real_data():
    """``real_data(what, folder, names)``: the files ``names`` in ``folder`` of the mirror named by
    $DEEPCLUST_DATA_MIRROR. It skips the test (``what`` names the data in the reason) when the
    variable is unset or a file is missing."""
    def find(what: str, folder: str, names) -> list[Path]:
        value = os.environ.get(MIRROR_ENV)
        if not value:
            pytest.skip(f"{MIRROR_ENV} is not set: no real {what} files to test against")
        paths = [Path(value) / folder / name for name in names]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            pytest.skip(f"no real {what} files to test against: {', '.join(missing)} not found")
        return paths

    return find
