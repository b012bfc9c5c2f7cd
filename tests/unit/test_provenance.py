import shutil
from pathlib import Path

import pytest

from deepclust import provenance


def names(paths, root=None):
    root = root or provenance.PACKAGE_ROOT
    return {p.relative_to(root).as_posix() for p in paths}


def test_module_path_resolves_modules_and_packages():
    root = provenance.PACKAGE_ROOT
    assert provenance.module_path("deepclust.losses") == root / "losses.py"
    assert provenance.module_path("deepclust.methods") == root / "methods" / "__init__.py"
    assert provenance.module_path("deepclust.nn.autoencoder") == root / "nn" / "autoencoder.py"
    with pytest.raises(ValueError, match="no source file for module 'deepclust.nope'"):
        provenance.module_path("deepclust.nope")


def test_module_path_of_the_package_itself():
    assert provenance.module_path("deepclust") == provenance.PACKAGE_ROOT / "__init__.py"


def test_dec_dependencies():
    found = names(provenance.dependency_files("deepclust.methods.dec"))
    assert {"methods/dec.py", "losses.py", "engine.py", "optimizers.py", "methods/base.py", "pretrain.py", "metrics.py",
            "nn/autoencoder.py", "nn/networks.py", "nn/vae.py", "io.py"} == found  # pretrain.py trains VAEs too
    assert "methods/dcn.py" not in found and "methods/idec.py" not in found


def test_idec_dependencies_include_dec():
    found = names(provenance.dependency_files("deepclust.methods.idec"))
    assert {"methods/idec.py", "methods/dec.py", "losses.py", "engine.py", "methods/base.py"} <= found
    assert "methods/dcn.py" not in found


def test_imported_modules_reads_import_statements():
    root = provenance.PACKAGE_ROOT
    # `from deepclust import engine` is the module engine; `from deepclust.losses import x` is losses
    assert provenance.imported_modules(root / "methods" / "dcn.py") == (
        "deepclust.engine", "deepclust.losses", "deepclust.methods.base", "deepclust.methods.parameters")
    # imports inside functions count too (hdbscan's factory imports hdbscan lazily; a deepclust
    # module imported inside a function would be found the same way)
    assert "deepclust.io" in provenance.imported_modules(root / "nn" / "networks.py")


def test_dependency_files_of_a_script_path(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import numpy\nfrom deepclust import io, tracking\nfrom deepclust.metrics import evaluate\n")
    found = provenance.dependency_files(script)
    assert script in found
    # tracking never changes a result, so it is left out even when a script imports it
    assert names([p for p in found if p != script]) == {"io.py", "metrics.py"}


def test_tracking_reached_through_imports_is_not_part_of_a_fingerprint(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("from deepclust import runs\n")
    found = names([p for p in provenance.dependency_files(script) if p != script])
    assert "runs.py" in found and "metrics.py" in found
    assert "tracking.py" not in found
    named = provenance.dependency_files(script, "deepclust.tracking")
    assert "tracking.py" in names([p for p in named if p != script])


def test_parameter_constraints_are_not_part_of_a_methods_fingerprint():
    # a constraint only refuses values before anything is computed: editing one reruns nothing
    found = names(provenance.dependency_files("deepclust.methods.dec"))
    assert "methods/base.py" in found and "methods/parameters.py" not in found


def test_code_fingerprint_is_stable_and_method_specific():
    a = provenance.code_fingerprint("deepclust.methods.dec")
    assert a == provenance.code_fingerprint("deepclust.methods.dec")
    assert len(a) == 16 and int(a, 16) >= 0
    assert a != provenance.code_fingerprint("deepclust.methods.dcn")
    assert a != provenance.code_fingerprint("deepclust.methods.idec")


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the deepclust sources that provenance reads instead of the real ones."""
    copy = tmp_path / "a" / "deepclust"
    shutil.copytree(provenance.PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_ROOT", copy)
    provenance.imported_modules.cache_clear()
    yield copy
    provenance.imported_modules.cache_clear()


def test_fingerprint_of_a_copy_is_path_independent(package_copy):
    copied = provenance.code_fingerprint("deepclust.methods.dec")
    provenance.imported_modules.cache_clear()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(provenance, "PACKAGE_ROOT", Path(provenance.__file__).resolve().parent)
        original = provenance.code_fingerprint("deepclust.methods.dec")
    assert copied == original


def test_fingerprint_changes_with_a_dependency_and_only_for_its_dependents(package_copy):
    before = {m: provenance.code_fingerprint(f"deepclust.methods.{m}") for m in ("dec", "idec", "dcn")}

    dcn = package_copy / "methods" / "dcn.py"
    dcn.write_text(dcn.read_text() + "\nEDITED = True\n")
    provenance.imported_modules.cache_clear()
    after_dcn = {m: provenance.code_fingerprint(f"deepclust.methods.{m}") for m in before}
    assert after_dcn["dcn"] != before["dcn"]
    assert after_dcn["dec"] == before["dec"] and after_dcn["idec"] == before["idec"]

    losses = package_copy / "losses.py"  # shared by all three
    losses.write_text(losses.read_text().replace("1e-12", "1e-11"))
    provenance.imported_modules.cache_clear()
    after_losses = {m: provenance.code_fingerprint(f"deepclust.methods.{m}") for m in before}
    assert all(after_losses[m] != after_dcn[m] for m in before)

    dec = package_copy / "methods" / "dec.py"  # idec imports dec
    dec.write_text(dec.read_text() + "\nEDITED = True\n")
    provenance.imported_modules.cache_clear()
    after_dec = {m: provenance.code_fingerprint(f"deepclust.methods.{m}") for m in before}
    assert after_dec["dec"] != after_losses["dec"] and after_dec["idec"] != after_losses["idec"]
    assert after_dec["dcn"] == after_losses["dcn"]


def test_comments_docstrings_and_layout_leave_the_fingerprint(package_copy):
    before = provenance.code_fingerprint("deepclust.methods.dec")
    dec = package_copy / "methods" / "dec.py"
    source = dec.read_text()
    assert source.startswith('"""') and "\n    def _loss(" in source
    edited = ('"""A rewritten module docstring."""\n# a new comment\n\n' + source.split('"""', 2)[2]
              ).replace("\n    def _loss(", "\n\n    # why the loss is what it is\n    def _loss(")
    dec.write_text(edited)
    assert provenance.code_fingerprint("deepclust.methods.dec") == before
    dec.write_text(edited.replace("\n    def _loss(", "\n    FLAG = 1\n\n    def _loss(", 1))
    assert provenance.code_fingerprint("deepclust.methods.dec") != before


def test_fingerprint_follows_a_new_import(package_copy):
    before = provenance.code_fingerprint("deepclust.methods.dcn")
    dcn = package_copy / "methods" / "dcn.py"
    dcn.write_text("from deepclust import tables\n" + dcn.read_text())
    provenance.imported_modules.cache_clear()
    assert "tables.py" in names(provenance.dependency_files("deepclust.methods.dcn"), package_copy)
    assert provenance.code_fingerprint("deepclust.methods.dcn") != before


def test_canonical_is_key_order_independent():
    a = {"b": 1, "a": {"y": [1, 2], "x": None}}
    b = {"a": {"x": None, "y": [1, 2]}, "b": 1}
    assert provenance.canonical(a) == provenance.canonical(b) == '{"a":{"x":null,"y":[1,2]},"b":1}'
    assert provenance.config_hash(a) == provenance.config_hash(b)
    assert provenance.config_hash(a) != provenance.config_hash({**a, "b": 2})
    assert len(provenance.config_hash(a)) == 16
    assert provenance.canonical({"p": Path("x/y")}) == '{"p":"x/y"}'
