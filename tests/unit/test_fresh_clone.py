"""The tests run from any clone: no test file names a folder outside the repository by its absolute
path, nor the real data folder beside a checkout. Real data comes only through
$DEEPCLUST_DATA_MIRROR (tests/conftest.py); everything else is written by the tests themselves."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# a work folder's absolute path, or the data folder beside a checkout (the brackets keep this line
# from matching itself)
OUTSIDE_PATH = re.compile(r"/[w]ork/|/[s]hared/data")
# the repository-wide scan of the same kind, whose own examples are such paths
EXAMPLES = {"tests/unit/test_repository_words.py"}


def tracked_test_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    names = subprocess.run(["git", "ls-files", "tests"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return [REPO / name for name in names if name not in EXAMPLES]


def test_the_pattern_finds_outside_paths():
    for text in ("/".join(["", "work", "shared", "data", "MNIST", "raw"]), "/".join(["..", "shared", "data"]),
                 "/".join(["", "work", "main", "tests"])):
        assert OUTSIDE_PATH.search(f'Path("{text}")'), text
    assert not OUTSIDE_PATH.search('Path("/tmp/deepclust-slurm")')


def test_no_tracked_test_file_names_a_path_outside_the_repository():
    files = tracked_test_files()
    assert REPO / "tests" / "workflow" / "conftest.py" in files
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
             for path in files if path.is_file()
             for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
             if OUTSIDE_PATH.search(line)]
    assert not found, ("paths outside the repository (real data comes only through $DEEPCLUST_DATA_MIRROR):\n"
                       + "\n".join(found))
