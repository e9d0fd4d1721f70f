"""The code's shape, as issue 17 set it: small modules, short functions, no import circles.

A module over 400 lines or a function over 60 (its docstring aside) is a sign that it holds
more than one job; an import circle (counting imports inside functions, which only hide one)
means two modules cannot be understood, or loaded, apart. Migrations are generated and exempt.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import grimp
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("composer", "bachsurvey")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def sources() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((REPO / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the function's end."""
    body = node.body
    has_docstring = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    if has_docstring and len(body) == 1:
        return 0
    first = body[1] if has_docstring else body[0]
    return (node.end_lineno or first.lineno) - first.lineno + 1


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(REPO)): lines
        for path in sources()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_no_function_is_over_60_lines() -> None:
    long = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (lines := function_lines(node)) > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO)}:{node.lineno} {node.name}"] = lines
    assert not long, long


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Both packages' imports, those inside functions included (they only hide an import);
    external packages as single nodes; imports under TYPE_CHECKING left out (never run)."""
    return grimp.build_graph(
        *PACKAGES,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )


def test_no_import_circle(graph: grimp.ImportGraph) -> None:
    modules = sorted(graph.modules)
    index = {name: i for i, name in enumerate(modules)}
    edges = [
        (index[importer], index[imported])
        for importer in modules
        for imported in graph.find_modules_directly_imported_by(importer)
    ]
    rows, cols = zip(*edges, strict=True)
    adjacency = csr_matrix((np.ones(len(edges)), (rows, cols)), shape=(len(modules),) * 2)
    # A strongly connected component of more than one module is an import circle.
    _, labels = connected_components(adjacency, directed=True, connection="strong")
    circles = [
        sorted(modules[i] for i in np.flatnonzero(labels == label))
        for label in np.unique(labels)
        if np.count_nonzero(labels == label) > 1
    ]
    assert not circles, circles


def test_composer_never_imports_the_site(graph: grimp.ImportGraph) -> None:
    for site in ("bachsurvey", "django", "rest_framework", "celery"):
        assert not graph.chain_exists(importer="composer", imported=site, as_packages=True), site


def test_the_survey_reaches_the_composer_only_through_its_generation_room(
    graph: grimp.ImportGraph,
) -> None:
    """Besides bachsurvey.generation, bachsurvey.harmonize (the public harmonizer: composer
    imported inside functions) and the management commands, only names (composer.paths,
    composer.voices: no torch, no music21) may be imported, so web processes stay light."""
    allowed = ("bachsurvey.generation", "bachsurvey.harmonize", "bachsurvey.management")
    names = {"composer.paths", "composer.voices"}
    reaching = {
        (module, imported)
        for module in graph.find_descendants("bachsurvey") | {"bachsurvey"}
        if not module.startswith(allowed)
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("composer") and imported not in names
    }
    assert not reaching, sorted(reaching)


def test_the_web_processes_load_neither_torch_nor_music21() -> None:
    code = (
        "import sys, django; django.setup(); import bachsurvey.urls, bachsurvey.wsgi; "
        "print(' '.join(m for m in ('torch', 'music21') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bachsurvey.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
