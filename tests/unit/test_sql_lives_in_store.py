"""All SQL lives in hubsync/store/: no other module builds a statement or runs one on a connection.

Jobs may hold an Engine or a Connection (they open transactions and pass them to store functions); they may not
import SQLAlchemy's statement builders or call `execute` themselves. The import contracts in pyproject.toml
(`make lint`) check the package layering; this test checks what import-linter cannot see: calls.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGE = REPO / "hubsync"
# Only these parts of SQLAlchemy may be imported outside the store: types to annotate with and errors to classify.
ALLOWED_SQLALCHEMY = {"sqlalchemy.engine", "sqlalchemy.exc"}
RUNS_SQL = {"execute", "exec_driver_sql", "scalar", "scalars", "executemany"}


def sql_outside_store(source: str, filename: str = "<source>") -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            found += [f"{filename}:{node.lineno}: import {a.name}" for a in node.names if _is_sqlalchemy(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _is_sqlalchemy(node.module):
            if node.module not in ALLOWED_SQLALCHEMY:
                found.append(f"{filename}:{node.lineno}: from {node.module} import …")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL:
            found.append(f"{filename}:{node.lineno}: .{node.func.attr}(…)")
    return found


def _is_sqlalchemy(module: str) -> bool:
    return module == "sqlalchemy" or module.startswith("sqlalchemy.") or module == "sqlmodel"


def outside_store() -> list[Path]:
    store, sandbox = PACKAGE / "store", PACKAGE / "sandbox"
    return [p for p in sorted(PACKAGE.rglob("*.py")) if store not in p.parents and sandbox not in p.parents]


@pytest.mark.parametrize("path", outside_store(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_sql_outside_the_store(path: Path) -> None:
    assert sql_outside_store(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy as sa",
        "from sqlalchemy import select",
        "from sqlmodel import Session",
        "conn.execute(query)",
        "engine.connect().scalars(stmt)",
    ],
)
def test_the_check_catches_sql(source: str) -> None:
    assert sql_outside_store(source) != []


def test_the_check_allows_engine_types_and_errors() -> None:
    source = "from sqlalchemy.engine import Connection, Engine\nfrom sqlalchemy.exc import OperationalError\n"
    assert sql_outside_store(source) == []
