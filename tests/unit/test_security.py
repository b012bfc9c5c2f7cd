"""The security rules, checked on the code itself so that a new file that
breaks one fails here: model files load with weights_only, pickles only through the allow-list,
no shell anywhere a config string could reach, servers on 127.0.0.1."""

import ast
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from deepclust.data import images

REPO = Path(__file__).resolve().parents[2]
PYTHON_FILES = sorted(p for folder in ("src", "workflow", "bench") for p in (REPO / folder).rglob("*.py"))
RULE_FILES = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]


def calls(name: str):
    """(file, call node) for every call of ``name`` (e.g. "torch.load") in the project's Python."""
    for path in PYTHON_FILES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == name:
                yield path.relative_to(REPO), node


def keyword(node: ast.Call, name: str):
    return next((ast.unparse(k.value) for k in node.keywords if k.arg == name), None)


def is_argv_list(path: Path, argument: ast.expr) -> bool:
    """A list literal, or a name that the file only ever binds to list literals."""
    if isinstance(argument, ast.List):
        return True
    if not isinstance(argument, ast.Name):
        return False
    bindings = [node.value for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == argument.id for t in node.targets)]
    return bool(bindings) and all(isinstance(value, ast.List) for value in bindings)


def test_python_files_are_found():
    assert len(PYTHON_FILES) > 30 and len(RULE_FILES) > 5


def test_every_torch_load_is_weights_only():
    found = list(calls("torch.load"))
    assert found
    for path, node in found:
        assert keyword(node, "weights_only") == "True", f"{path}:{node.lineno}: torch.load without weights_only=True"


def test_numpy_loads_refuse_pickles():
    for path, node in calls("np.load"):
        # numpy's default is allow_pickle=False
        assert keyword(node, "allow_pickle") in (None, "False"), f"{path}:{node.lineno}: np.load allows pickles"


def test_no_plain_unpickling():
    for name in ("pickle.load", "pickle.loads", "torch.serialization.load"):
        found = [f"{path}:{node.lineno}" for path, node in calls(name)]
        assert not found, f"{name} can run code from the file: {found}"


def test_no_shell_anywhere():
    for name in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"):
        assert not list(calls(name)), name
    for name in ("subprocess.run", "subprocess.Popen", "subprocess.check_output", "subprocess.check_call"):
        for path, node in calls(name):
            assert keyword(node, "shell") in (None, "False"), f"{path}:{node.lineno}: shell=True"
            assert is_argv_list(REPO / path, node.args[0]), f"{path}:{node.lineno}: the command must be an argv list"
    for path in RULE_FILES:  # rules run scripts; a shell: directive would interpolate config strings
        text = path.read_text()
        assert not re.search(r"^\s+shell:", text, re.M), f"{path}: shell directive"
        assert "shell(" not in text, f"{path}: shell() call"


def test_documented_servers_bind_to_localhost():
    documents = (REPO / "README.md", *REPO.glob("docs/*.md"), *REPO.glob("studies/*/README.md"))
    commands = [line for path in (*documents, *REPO.glob("tests/**/*.py"), *REPO.glob("tests/**/*.sh"))
                for line in path.read_text().splitlines() if re.search(r"mlflow (server|ui)\b|\"server\"", line)]
    assert commands
    for line in commands:
        host = re.search(r"--host[ =\"',]+([\w.:]+)", line)
        assert host is None or host.group(1) == "127.0.0.1", line


def test_cifar_unpickler_reads_arrays_and_refuses_code(tmp_path):
    batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [1, 2], "batch_label": "x"}
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        pixels, labels = images._cifar_batch(pickle.dumps(batch, protocol=protocol), "batch")
        assert pixels.shape == (2, 3072) and labels.tolist() == [1, 2]

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    with pytest.raises(ValueError, match=r"batch: not a pickled CIFAR batch .*refusing to load pathlib"):
        images._cifar_batch(pickle.dumps({"data": Exploit(), "labels": []}), "batch")
    assert not (tmp_path / "pwned").exists()
