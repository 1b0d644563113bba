"""users_app sits below content_app: it offers hooks and never imports the apps above it."""

from __future__ import annotations

import ast
from pathlib import Path

import users_app

HIGHER_APPS = ("content_app", "legal_app")


def _imported_modules(source: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_users_app_imports_no_higher_app() -> None:
    root = Path(users_app.__file__).parent
    sources = sorted(root.rglob("*.py"))
    assert len(sources) > 10  # the walk found the app's modules
    offending = {
        f"{source.relative_to(root)}: {module}"
        for source in sources
        for module in _imported_modules(source)
        if module.split(".")[0] in HIGHER_APPS
    }
    assert offending == set()
