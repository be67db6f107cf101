"""Set-based upserts: insert rows, or update the other columns of rows whose key exists, on SQLite and PostgreSQL.

The pull stores about a million rows on a first sync, so the per-row cost counts. SQLAlchemy's own executemany
builds a parameter dict per row and runs each value's type conversion through its generic machinery, which costs
more than the database spends writing the row. Here each statement is compiled once per table and column set, the
same type conversions (UTC times, JSON) are applied column by column, and the rows go to the driver as tuples:
- SQLite: one prepared `INSERT … ON CONFLICT` run over the batch by sqlite3's executemany (in C).
- PostgreSQL: the batch is streamed with COPY into a session temporary table shaped like the target, then moved
  with one `INSERT … SELECT … ON CONFLICT`; a few rows (a cursor, a pending mark) go as one multi-row statement.
`update_stored` updates rows already stored the same two ways (`UPDATE … FROM` the stage on PostgreSQL).
Both run inside the caller's transaction (a page and its cursor commit together); the values stored are the same
whichever way they travel (tests/integration/store/test_copy_upsert.py compares them).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any, Final

import psycopg
import sqlalchemy as sa
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect

# Below this many rows a COPY's extra round trips (stage, copy, move, empty) cost more than they save.
COPY_MIN_ROWS: Final = 50


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, or update every other column of rows whose key exists. Returns rows written.

    The key is the primary key, unless the table names another unique key in `info["upsert_key"]` (activities
    are stored by contact and time but identified by their id). Every row must have the same columns: filling the
    gaps with NULL would overwrite stored values on conflict, so the caller must decide."""
    if not rows:
        return 0
    rows = _last_per_key(table, rows)
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        return upsert_by_copy(conn, table, rows)
    return upsert_by_statement(conn, table, rows)


def upsert_by_statement(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """The upsert as one `INSERT … ON CONFLICT` executed over the rows (what `upsert` does on SQLite, and on
    PostgreSQL for a few rows)."""
    if not rows:
        return 0
    rows = _last_per_key(table, rows)
    plan = _plan(conn.dialect, table, tuple(rows[0]))
    conn.exec_driver_sql(plan.statement_sql, plan.tuples(rows))
    return len(rows)


def upsert_by_copy(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """The upsert on PostgreSQL as COPY into a temporary stage, then one `INSERT … SELECT … ON CONFLICT`."""
    if not rows:
        return 0
    rows = _last_per_key(table, rows)
    plan = _plan(conn.dialect, table, tuple(rows[0]))
    _copy(conn, plan, plan.tuples(rows))
    return len(rows)


def update_stored(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Update the other columns of rows whose key is stored; a key not stored is left out (nothing is inserted).
    Returns the rows given. On PostgreSQL many rows travel as the upsert's do (COPY into the stage), then one
    `UPDATE … FROM` the stage instead of a statement per row (about a tenth less CPU per row, client and server)."""
    if not rows:
        return 0
    rows = _last_per_key(table, rows)
    plan = _plan(conn.dialect, table, tuple(rows[0]), update=True)
    tuples = plan.tuples(rows)
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        _copy(conn, plan, tuples)
    else:
        conn.exec_driver_sql(plan.statement_sql, tuples)
    return len(rows)


def upsert_tuples(conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> int:
    """`upsert` of rows given as tuples of `columns` (no dict per row: a full rescore writes a hundred thousand),
    each key at most once. Each column's conversion runs once per distinct value (a batch's rows share `as_of`,
    most have no gates). Returns rows written."""
    if not rows:
        return 0
    plan = _plan(conn.dialect, table, columns)
    given = list(zip(*rows, strict=True))
    ordered = []
    for name, convert in zip(plan.columns, plan.converters, strict=True):
        values = list(given[columns.index(name)]) if name in columns else [plan.defaults[name]] * len(rows)
        ordered.append(values if convert is None else _converted(values, convert, plan.statement_sql))
    tuples = list(zip(*ordered, strict=True))
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        _copy(conn, plan, tuples)
    else:
        conn.exec_driver_sql(plan.statement_sql, tuples)
    return len(rows)


def _converted(values: list[Any], convert: Callable[[Any], Any], statement: str) -> list[Any]:
    """`convert` of each value, called once per distinct value (equal values convert alike)."""
    done: dict[Any, Any] = {}
    out = []
    try:
        for value in values:
            # A list (a JSON column's) is remembered by its items.
            key = tuple(value) if type(value) is list else value
            try:
                out.append(done[key])
            except KeyError:
                out.append(done.setdefault(key, convert(value)))
            except TypeError:  # unhashable: converted each time
                out.append(convert(value))
    except (TypeError, ValueError) as err:
        # As `_Plan.tuples` refuses a value no column takes (a naive time).
        raise sa.exc.StatementError(str(err), statement, None, err) from err
    return out


def _copy(conn: Connection, plan: _Plan, tuples: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL: the rows (converted, in the plan's column order) COPYed into the stage, then moved."""
    # The stage lives as long as the session; a rolled-back transaction that created it takes it along, so it is
    # declared again each time (a no-op when it exists).
    conn.exec_driver_sql(plan.create_stage_sql)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]  # psycopg's, while conn is open
    try:
        with cursor.copy(plan.copy_sql) as copy:
            for row in tuples:
                copy.write_row(row)
    except psycopg.Error as err:
        # Raised past SQLAlchemy (a raw cursor): wrapped as SQLAlchemy would, so db.transaction translates it.
        raise sa.exc.DBAPIError.instance(plan.copy_sql, None, err, psycopg.Error) from err
    finally:
        cursor.close()
    conn.exec_driver_sql(plan.move_sql)
    conn.exec_driver_sql(plan.empty_stage_sql)


def _last_per_key(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    key = itemgetter(*_key(table))
    # PostgreSQL refuses a statement that touches one row twice; a page may repeat a record, the last one wins.
    unique = list({key(row): row for row in rows}.values())
    columns = unique[0].keys()
    if any(row.keys() != columns for row in unique):
        raise ValueError(f"upsert into {table.name}: every row must have the same columns")
    return unique


def _key(table: Table) -> tuple[str, ...]:
    return tuple(table.info.get("upsert_key") or [c.name for c in table.primary_key.columns])


@dataclass(frozen=True, slots=True)
class _Plan:
    """One table and column set on one dialect: the statements and each value's conversion, built once."""

    # The values in placeholder order, each with its conversion (None: passed as it is).
    columns: tuple[str, ...]
    converters: tuple[Callable[[Any], Any] | None, ...]
    statement_sql: str
    # Columns the rows leave out that have a default (an owner's open task count): inserted with it.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    create_stage_sql: str = ""
    copy_sql: str = ""
    move_sql: str = ""
    empty_stage_sql: str = ""

    def tuples(self, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        if self.defaults:
            rows = [{**self.defaults, **row} for row in rows]
        values = itemgetter(*self.columns) if len(self.columns) > 1 else (lambda row: (row[self.columns[0]],))
        converted = [(i, f) for i, f in enumerate(self.converters) if f is not None]
        if not converted:
            return [values(row) for row in rows]
        out = []
        try:
            for row in rows:
                value = list(values(row))
                for i, f in converted:
                    value[i] = f(value[i])
                out.append(tuple(value))
        except (TypeError, ValueError) as err:
            # A value no column takes (a naive time): refused as SQLAlchemy refuses it, before the database sees it.
            raise sa.exc.StatementError(str(err), self.statement_sql, None, err) from err
        return out


_PLANS: weakref.WeakKeyDictionary[Dialect, dict[tuple[str, tuple[str, ...], bool], _Plan]] = weakref.WeakKeyDictionary()


def _plan(dialect: Dialect, table: Table, columns: tuple[str, ...], *, update: bool = False) -> _Plan:
    plans = _PLANS.setdefault(dialect, {})
    plan = plans.get((table.name, columns, update))
    if plan is None:
        plan = plans[(table.name, columns, update)] = _make_plan(dialect, table, columns, update=update)
    return plan


def _make_plan(dialect: Dialect, table: Table, columns: tuple[str, ...], *, update: bool) -> _Plan:
    keys = _key(table)
    # The conversions SQLAlchemy would apply to each value (UTC times, JSON, …), taken from the column types.
    converter_of = {c: table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns}
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    # Compiled for positional placeholders (psycopg's own style is by name), so rows can travel as tuples.
    positional = dialect if dialect.positional else type(dialect)(paramstyle="format")  # type: ignore[call-arg]  # every concrete dialect takes it; the base class does not declare it
    if update:
        # Named apart from the columns (SQLAlchemy reserves a column's own name for its SET value).
        column_of = {f"new_{c}": c for c in columns if c not in keys} | {f"key_{c}": c for c in keys}
        statement = (
            sa.update(table)
            .where(*(table.c[k] == sa.bindparam(f"key_{k}") for k in keys))
            .values({table.c[c]: sa.bindparam(name) for name, c in column_of.items() if c not in keys})
        )
        compiled = statement.compile(dialect=positional)
    else:
        compiled = _on_conflict(insert(table), keys, columns).compile(dialect=positional, column_keys=list(columns))
        column_of = {}
    # The placeholders' order is the compiled statement's, which need not be the rows'.
    order = tuple(column_of.get(name, name) for name in compiled.positiontup or columns)
    defaults = {c: _scalar_default(table.c[c]) for c in order if c not in converter_of}
    converter_of |= {c: table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in defaults}
    plan = _Plan(order, tuple(converter_of[c] for c in order), compiled.string, defaults)
    if dialect.name != "postgresql":
        return plan
    stage = f"hubsync_stage_{table.name}"
    quote = dialect.identifier_preparer.quote
    staged = sa.table(stage, *(sa.column(c) for c in order))
    if update:
        moved = (
            sa.update(table)
            .where(*(table.c[k] == staged.c[k] for k in keys))
            .values({table.c[c]: staged.c[c] for c in columns if c not in keys})
        )
    else:
        moved = _on_conflict(insert(table).from_select(list(order), sa.select(*staged.c)), keys, columns)
    return replace(
        plan,
        # The target's columns and types, so COPY parses each value as the target column would; without its
        # constraints: a column these rows leave out (one with a server default) stays empty in the stage.
        create_stage_sql=(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(stage)} AS SELECT * FROM {quote(table.name)} WITH NO DATA"  # noqa: S608 -- identifiers from the table metadata, quoted
        ),
        copy_sql=f"COPY {quote(stage)} ({', '.join(quote(c) for c in order)}) FROM STDIN",
        move_sql=str(moved.compile(dialect=dialect)),
        empty_stage_sql=f"TRUNCATE {quote(stage)}",
    )


def _scalar_default(column: sa.Column[Any]) -> Any:
    default = column.default
    if not (isinstance(default, sa.ColumnDefault) and default.is_scalar):
        raise ValueError(f"upsert into {column.table.name}: no value for {column.name}, which has no plain default")
    return default.arg


def _on_conflict(stmt: Any, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    updates = {c: stmt.excluded[c] for c in columns if c not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates) if updates else stmt.on_conflict_do_nothing()
