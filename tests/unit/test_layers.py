"""The library's layers, as its source shows them. The algorithm modules (methods, networks, the
training engine, losses, metric losses, pretraining, metrics, UMAP features, JULE's
agglomeration, data loading) name no folder of the workflow's (every path is an argument the
workflow gives them) and import nothing of the workflow's runtime; only the engine saves or
restores a training state, so a method has no checkpoint code of its own."""

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "deepclust"
ALGORITHMS = sorted([*SRC.glob("methods/*.py"), *SRC.glob("nn/*.py"), *SRC.glob("data/*.py"),
                     *(SRC / f"{name}.py" for name in ("engine", "optimizers", "losses", "metric_losses", "pretrain",
                                                        "metrics", "features", "agglomeration"))])
# what the algorithm modules may import of deepclust: themselves and the file helpers
ALGORITHM_MODULES = ("deepclust.methods", "deepclust.nn", "deepclust.data", "deepclust.engine", "deepclust.optimizers",
                     "deepclust.losses",
                     "deepclust.metric_losses", "deepclust.pretrain", "deepclust.metrics", "deepclust.features",
                     "deepclust.agglomeration", "deepclust.io")
# what saving or restoring a training state takes: random streams, checkpoint files, state dicts
CHECKPOINTING = re.compile(r"rng_state|Checkpoint\(|epoch_end|torch\.save|torch\.load|state_dict")


def relative(path):
    return path.relative_to(SRC).as_posix()


@pytest.mark.parametrize("path", ALGORITHMS, ids=relative)
def test_algorithm_modules_name_no_workflow_folder(path):
    assert not re.findall(r"\b(?:results|resources)/", path.read_text())


@pytest.mark.parametrize("path", ALGORITHMS, ids=relative)
def test_algorithm_modules_import_no_workflow_runtime(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    ours = {name for name in imported if name.startswith("deepclust.")}
    assert {name for name in ours if not name.startswith(ALGORITHM_MODULES)} == set()


def test_only_the_engine_saves_or_restores_a_training_state():
    """Methods and pretraining declare their state to engine.TrainingLoop; model files (networks)
    and pretrained weights (data.pretrained) are saved and read elsewhere, training states never."""
    training = [*SRC.glob("methods/*.py"), SRC / "pretrain.py"]
    assert {relative(path): CHECKPOINTING.findall(path.read_text()) for path in training
            if CHECKPOINTING.search(path.read_text())} == {}
    assert "rng_state" in (SRC / "engine.py").read_text()
