"""Static checks of the workflow, run on the checkout itself (read-only)."""

import subprocess

from conftest import REPO, SNAKEMAKE, snakemake_env


def run_in_repo(*command):
    return subprocess.run([str(c) for c in command], cwd=REPO, env=snakemake_env(REPO), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)


def test_snakemake_lint_passes():
    result = run_in_repo(SNAKEMAKE, "--lint")
    assert result.returncode == 0, result.stdout
    assert "Congratulations, your workflow is in a good condition!" in result.stdout, result.stdout


def test_snakefmt_check_passes():
    result = run_in_repo(SNAKEMAKE.parent / "snakefmt", "--check", ".")
    assert result.returncode == 0, result.stdout
    assert "would be left unchanged" in result.stdout, result.stdout
