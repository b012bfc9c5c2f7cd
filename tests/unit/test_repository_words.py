"""The repository speaks of the product: no work-item numbers, no history of how it was developed,
no paths of one machine, no commit hashes in prose. Records carry commits as data, so their
`commit` fields are not scanned; everything else tracked is."""

import json
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEXT = (".md", ".py", ".yaml", ".yml", ".smk", ".sh", ".rst", ".toml", ".cfg", ".txt", ".json", "")
DEVELOPMENT_WORDS = [
    r"\bissues? ?#?\d",                  # work items
    r"\btasks? ?#\d",
    r"\bwork items?\b",
    r"\bdesign document\b",
    r"\b(this|that|earlier|previous|next|later|last|one|other|every) sessions?\b",
    r"\bsessions so far\b",
    r"\bstop notes?\b",
    r"\b(device|search|issues) tool\b",
    r"\bno GPU was lent\b|\bwas lent\b|\bwere lent\b",
]
MACHINE_PATHS = r"(?<![\w.])/(work|root|home|Users)/[\w.-]+|\.\./shared\b"
# a commit hash in prose: 7 to 40 hex digits with at least one letter and one digit
HASH = re.compile(r"(?<![\w/.-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![\w/.-])")
# where a machine path is the point: CI's own entry point looks for the folder beside the clone
ALLOWED_PATHS = {".ci/run"}


def tracked_files():
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [name for name in names if Path(name).suffix in TEXT and (REPO / name).is_file()
            and not (REPO / name).is_symlink()]


def prose(name: str) -> str:
    """The file's text; for a record, its text without the commit fields it carries as data."""
    text = (REPO / name).read_text(errors="replace")
    if name.endswith(".json") and ("/records/" in name or name.startswith("bench/results/")):
        def strip(value):
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if k not in ("commit", "git_commit")}
            if isinstance(value, list):
                return [strip(v) for v in value]
            return value
        text = json.dumps(strip(json.loads(text)), indent=0)
    return text


def findings(pattern, names, flags=re.I):
    found = []
    for name in names:
        for number, line in enumerate(prose(name).splitlines(), 1):
            if re.search(pattern, line, flags):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    return found


@pytest.fixture(scope="module")
def files():
    names = tracked_files()
    assert len(names) > 50
    return [n for n in names if n != Path(__file__).relative_to(REPO).as_posix()]


def test_no_words_about_how_the_project_was_developed(files):
    found = [f for pattern in DEVELOPMENT_WORDS for f in findings(pattern, files)]
    assert not found, "development words:\n" + "\n".join(found)


def test_no_paths_of_one_machine(files):
    found = findings(MACHINE_PATHS, [n for n in files if n not in ALLOWED_PATHS], flags=0)
    assert not found, "machine paths:\n" + "\n".join(found)


def test_no_commit_hashes_in_the_documentation(files):
    pages = [n for n in files if n.endswith(".md")]
    found = findings(HASH, pages, flags=0)
    assert not found, "commit hashes in prose (records carry them as data):\n" + "\n".join(found)


@pytest.mark.parametrize("line, pattern", [
    ("as issue 6 asked", DEVELOPMENT_WORDS[0]),
    ("no GPU was lent to us", DEVELOPMENT_WORDS[-1]),
    ("see the design document", DEVELOPMENT_WORDS[3]),
    ("run at commit 4aa5c95 on", HASH),
    ("files in /work/shared/data", MACHINE_PATHS),
])
def test_the_scan_finds_what_it_looks_for(line, pattern):
    assert re.search(pattern, line, 0 if pattern in (HASH, MACHINE_PATHS) else re.I)
