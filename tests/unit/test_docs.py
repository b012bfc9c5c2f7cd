"""The documentation cannot go stale: every generated block of README.md, docs/ and studies/ is what
its records give (`make docs` rewrites them), and the generator refuses what it cannot render."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def generate():
    spec = importlib.util.spec_from_file_location("generate", REPO / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # collects the whole test suite for the reliability counts (~10 s)
def test_committed_pages_are_what_their_records_give():
    result = subprocess.run([sys.executable, "docs/generate.py", "--check"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_page_with_numbers_has_generated_blocks(generate):
    pages = {p.relative_to(REPO).as_posix(): p.read_text() for p in generate.pages()}
    for name in ("README.md", "docs/reproducing.md", "docs/performance.md", "docs/results.md", "docs/reliability.md"):
        assert "<!-- generated: " in pages[name], name


def test_a_block_is_replaced_and_the_prose_around_it_kept(generate, monkeypatch):
    monkeypatch.setitem(generate.RENDERERS, "answer", lambda: "| x |\n|---|\n| 42 |")
    text = "Before.\n<!-- generated: answer -->\nstale\n<!-- end: answer -->\nAfter.\n"
    assert generate.regenerate(text) == "Before.\n<!-- generated: answer -->\n| x |\n|---|\n| 42 |\n" \
                                        "<!-- end: answer -->\nAfter.\n"


def test_an_unknown_block_is_refused_naming_it(generate):
    with pytest.raises(SystemExit, match="unknown generated block 'nonsense'"):
        generate.regenerate("<!-- generated: nonsense -->\n<!-- end: nonsense -->\n")


def test_the_paper_status_rests_on_records_and_marks_unverified_numbers(generate):
    table = generate.comparison()
    assert set(table["method"]) >= {"dec", "idec", "dcn", "vade", "jule", "infogan"}
    status = generate.paper_status()
    for row in status.splitlines()[2:]:
        if row.startswith("|") and "†" in row.split("|")[2]:
            assert "unverified" in row, row
