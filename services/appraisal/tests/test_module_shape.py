"""The shape every appraisal module keeps (STYLE.md, "One shape for every service"):
routers speak HTTP only, repositories hold every query, service functions take keyword-only
arguments, and the year and subject of a path come from the YearDep / SubjectDep
dependencies instead of being looked up in each handler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "appraisal"
MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py")
QUERY_CALLS = {"execute", "scalar", "scalars", "stream", "stream_scalars", "get"}
NOT_SERVICES = {
    "router.py",
    "repository.py",
    "models.py",
    "schemas.py",
    "dependencies.py",
    "db.py",
    "state.py",
}
"""Modules that are not services: HTTP, queries, tables, models, the app's wiring."""


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def queries(module: ast.Module) -> list[str]:
    """``select(...)`` calls and ``session.execute/scalar(s)/get`` calls in a module."""
    found = []
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id == "select":
            found.append(f"select() at line {node.lineno}")
        if (
            isinstance(function, ast.Attribute)
            and function.attr in QUERY_CALLS
            and isinstance(function.value, ast.Name)
            and function.value.id == "session"
        ):
            found.append(f"session.{function.attr}() at line {node.lineno}")
    return found


def test_the_package_has_the_modules_it_should() -> None:
    names = {name(path) for path in MODULES}
    assert len([n for n in names if n.endswith("router.py")]) == 9
    assert {"appraisal/evaluation/service.py", "appraisal/years/params.py"}.isdisjoint(names)


@pytest.mark.parametrize("path", [p for p in MODULES if p.name == "router.py"], ids=name)
def test_routers_speak_http_only(path: Path) -> None:
    module = tree(path)
    imported = {node.module or "" for node in ast.walk(module) if isinstance(node, ast.ImportFrom)} | {
        alias.name for node in ast.walk(module) if isinstance(node, ast.Import) for alias in node.names
    }
    assert not [item for item in imported if item.startswith("sqlalchemy")]
    assert queries(module) == []
    assert "repository" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "repository.py"], ids=name)
def test_queries_live_in_repositories(path: Path) -> None:
    assert queries(tree(path)) == []


@pytest.mark.parametrize("path", [p for p in MODULES if p.name == "router.py"], ids=name)
def test_handlers_take_the_year_and_subject_from_dependencies(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    for lookup in ("find_year(", "find_subject(", "year_context(", "year_named(", "subject_named("):
        assert lookup not in source


def public_functions(path: Path) -> list[ast.AsyncFunctionDef]:
    return [
        node
        for node in tree(path).body
        if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_")
    ]


SERVICE_MODULES = [p for p in MODULES if p.name not in NOT_SERVICES and public_functions(p)]


def test_service_modules_are_found() -> None:
    assert {name(path) for path in SERVICE_MODULES} >= {
        "appraisal/assessment/service.py",
        "appraisal/evaluation/results.py",
        "appraisal/evaluation/incidents.py",
        "appraisal/years/service.py",
        "appraisal/workflow/service.py",
    }


@pytest.mark.parametrize("path", SERVICE_MODULES, ids=name)
def test_service_functions_take_keyword_only_arguments(path: Path) -> None:
    positional = [
        f"{function.name}({', '.join(argument.arg for argument in function.args.args)})"
        for function in public_functions(path)
        if function.args.args or function.args.posonlyargs
    ]
    assert positional == []
