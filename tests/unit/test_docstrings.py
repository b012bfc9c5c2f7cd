"""Every estimator has a numpydoc class docstring that documents each ``__init__`` parameter."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from deepclust import methods
from deepclust.methods import parameters
from deepclust.methods.base import DeepClusterer
from deepclust.methods.baselines import AutoEpsDBSCAN

REQUIRED_SECTIONS = ("Parameters", "Attributes", "References")
# a numpydoc heading: a title line underlined by dashes of the same length
HEADING = re.compile(r"^([A-Z][A-Za-z ]*)\n(-+)[ \t]*$", re.MULTILINE)
METHODS_DIR = Path(methods.__file__).parent

ESTIMATORS = [methods.get(name) for name in methods.DEEP_METHODS] + [DeepClusterer, AutoEpsDBSCAN]


def sections(doc: str) -> dict[str, str]:
    """Section title -> body of a numpydoc docstring (the text before the first heading is left out)."""
    text = inspect.cleandoc(doc)
    parts = HEADING.split(text)
    found = {}
    # parts: [preamble, title, dashes, body, title, dashes, body, ...]
    for title, dashes, body in zip(parts[1::3], parts[2::3], parts[3::3]):
        if len(dashes) == len(title.strip()):
            found[title.strip()] = body
    return found


def documented_names(section: str) -> set[str]:
    """Names of the entries of a Parameters/Attributes section: the lines at the section's least
    indentation, "name : type" or "name1, name2 : types"."""
    lines = [line for line in section.splitlines() if line.strip()]
    if not lines:
        return set()
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    names = set()
    for line in lines:
        if len(line) - len(line.lstrip()) == indent:
            head = line.strip().split(" :")[0]
            names.update(name.strip() for name in head.split(","))
    return names


def init_parameters(cls) -> list[str]:
    """Named parameters of ``cls.__init__``, without self, *args and **kwargs."""
    signature = inspect.signature(cls.__init__)
    return [name for name, parameter in signature.parameters.items()
            if name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]


def undocumented_parameters(cls) -> list[str]:
    documented = documented_names(sections(cls.__doc__).get("Parameters", ""))
    return [name for name in init_parameters(cls) if name not in documented]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_class_has_numpydoc_sections(cls):
    assert cls.__doc__ is not None, f"{cls.__name__} has no docstring (is it the class's first statement?)"
    found = sections(cls.__doc__)
    missing = [title for title in REQUIRED_SECTIONS if title not in found]
    assert not missing, f"{cls.__name__}'s docstring lacks the sections {missing}"
    assert inspect.cleandoc(cls.__doc__).splitlines()[0].strip(), f"{cls.__name__} needs a one-line summary first"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_init_parameter_is_documented(cls):
    assert not undocumented_parameters(cls), (
        f"{cls.__name__}'s Parameters section lacks {undocumented_parameters(cls)}")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_attributes_are_fitted_names(cls):
    attributes = documented_names(sections(cls.__doc__)["Attributes"])
    assert attributes, f"{cls.__name__}'s Attributes section lists nothing"
    assert all(name.endswith("_") for name in attributes), attributes


def test_base_class_documents_the_shared_parameters():
    # DeepClusterer has no __init__ of its own; its docstring lists what every subclass passes it
    documented = documented_names(sections(DeepClusterer.__doc__)["Parameters"])
    assert parameters.WORKFLOW_SET <= documented, parameters.WORKFLOW_SET - documented


def test_an_undocumented_parameter_is_caught():
    class Documented:
        """Summary.

        Parameters
        ----------
        alpha : float, default=1.0
            Mentions beta in the text, which does not document it.
        gamma, delta : int
            Two at once.

        Attributes
        ----------
        labels_ : ndarray

        References
        ----------
        .. [1] A paper.
        """

        def __init__(self, alpha=1.0, beta=2, gamma=0, delta=0, *args, **kwargs):
            pass

    assert undocumented_parameters(Documented) == ["beta"]


@pytest.mark.parametrize("path", sorted(METHODS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_class_has_a_misplaced_docstring(path):
    # a string after the first statement of a class is no docstring: __doc__ stays None
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef):
            for statement in node.body[1:]:
                is_string = (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                             and isinstance(statement.value.value, str))
                assert not is_string, f"{path.name}: class {node.name} has a string at line {statement.lineno}"
