"""One implementation per concept: the package's import graph and its one descent."""

import ast
import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import sk_sigmoid_neuron
from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV

PACKAGE = Path(sk_sigmoid_neuron.__file__).parent
NAME = sk_sigmoid_neuron.__name__


def module_names():
    return [
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE)], prefix=NAME + ".")
        if not info.name.endswith("__main__")
    ]


def imports_of(name):
    """The package's modules that ``name`` imports, anywhere in its code
    (lazy imports inside functions count: they close a circle as well), but
    its own package, which ``from . import x`` names too."""
    path = Path(importlib.import_module(name).__file__)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{target}" if target else base
            candidates = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        found.update(c for c in candidates if c in MODULES)
    return found - {name, package}


MODULES = set(module_names())


def test_no_import_circle_anywhere_in_the_package():
    graph = {name: imports_of(name) for name in MODULES}
    visiting, done = [], set()

    def visit(name):
        if name in done:
            return
        assert name not in visiting, " -> ".join([*visiting, name])
        visiting.append(name)
        for other in graph[name]:
            visit(other)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
    assert f"{NAME}._dask" in graph and f"{NAME}._kernels._base" in graph


def reaches(name):
    """Every module of the package that ``name`` imports, directly or not."""
    seen, todo = set(), [name]
    while todo:
        for other in imports_of(todo.pop()) - seen:
            seen.add(other)
            todo.append(other)
    return seen


ESTIMATORS = {
    f"{NAME}.{name}" for name in ("_sigmoid_neuron", "_fit", "_cv", "_cv_folds")
}
ESTIMATORS.add(NAME)
ABOVE_THE_SOURCES = ESTIMATORS | {
    f"{NAME}.{name}" for name in ("_descent", "_lbfgs", "_newton", "_coordinates")
}


@pytest.mark.parametrize(
    "source", ["_source", "_parts", "_dask", "_dask_chunks", "_dask_memory"]
)
def test_the_sources_import_nothing_from_the_descent_or_the_estimators(source):
    assert not reaches(f"{NAME}.{source}") & ABOVE_THE_SOURCES


def test_the_kernels_import_nothing_above_them():
    kernels = {name for name in MODULES if name.startswith(f"{NAME}._kernels")}
    above = ABOVE_THE_SOURCES | {
        f"{NAME}.{name}"
        for name in ("_source", "_parts", "_dask", "_dask_chunks", "_dask_memory")
    }
    for name in kernels:
        assert not reaches(name) & above, name


@pytest.fixture
def descents(monkeypatch):
    """Records each call of the one descent."""
    from sk_sigmoid_neuron import _cv_folds, _descent, _sigmoid_neuron

    calls = []
    descend = _descent.descend

    def spy(source, *args, **kwargs):
        calls.append((type(source).__name__, kwargs.get("partial", False)))
        return descend(source, *args, **kwargs)

    monkeypatch.setattr(_sigmoid_neuron, "descend", spy)
    monkeypatch.setattr(_cv_folds, "descend", spy)
    return calls


def test_fit_partial_fit_dask_and_the_cv_folds_and_refit_share_the_descent(
    descents,
):
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -1.0, 0.5]
    SigmoidNeuronRegressor(epochs=3).fit(X, y)
    SigmoidNeuronRegressor(epochs=3).partial_fit(X, y)
    SigmoidNeuronRegressor(epochs=3).fit(da.from_array(X, 50), da.from_array(y, 50))
    SigmoidNeuronRegressor(epochs=3).partial_fit(
        da.from_array(X, 50), da.from_array(y, 50)
    )
    SigmoidNeuronRegressorCV(learnrates=[1.0], epochs=[2], cv=2).fit(X, y)
    SigmoidNeuronRegressorCV(learnrates=[1.0], epochs=[2], cv=2).fit(
        da.from_array(X, 50), da.from_array(y, 50)
    )
    assert descents == [
        ("InMemory", False),
        ("InMemory", True),
        ("DaskSource", False),
        ("DaskSource", True),
        ("InMemory", False),  # the CV's folds
        ("InMemory", False),
        ("InMemory", False),  # the CV refit
        ("DaskSource", False),  # on dask: the folds, then the refit
        ("DaskSource", False),
        ("DaskSource", False),
    ]
