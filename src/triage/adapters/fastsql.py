"""Statements of the device path, compiled once per dialect and run on the DB-API cursor.

SQLAlchemy Core builds, keys and executes a statement in 35–100 µs of Python; the database
itself answers a primary-key read in about 5 µs. A device passes through about eight writing
transactions of ten to thirty statements each, so on the device path that overhead was most of
the CPU a device cost (docs/performance.md, "Where the time goes"). A ``Statement`` here is an
ordinary Core statement, built once at import with ``bindparam`` placeholders; on first use
with a dialect it is compiled by SQLAlchemy (the SQL text, the order of its parameters and each
column type's bind and result processors), and from then on each run is one DB-API call plus
those processors. Nothing is hand-written SQL: the text is SQLAlchemy's, for each dialect.

What it does not do, on purpose: expanding ``IN`` lists and other statements whose text varies
with the values (they are refused when compiled; use ``Connection.execute`` for them), ORM
anything, and SQLAlchemy's engine events and echo logging (an ``observers`` hook takes their
place for counting statements). Errors from the driver are raised as SQLAlchemy's own
(``IntegrityError``, ``OperationalError``...), so callers handle them exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# Called with the SQL text of every statement run here (profiling and tests count them).
observers: list[Callable[[str], None]] = []

_Processor = Callable[[Any], Any] | None


class _Compiled:
    """One statement's text and processors for one dialect."""

    __slots__ = ("binds", "dbapi_error", "keys", "positional", "results", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        binds: list[tuple[str, str, bool, Any, _Processor]] = []
        for name in names:
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"fastsql cannot run a statement with an expanding IN: {bind}")
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            # ``key`` is what the caller passes; ``name`` is what the compiled text uses.
            binds.append((name, bind.key, bind.required, bind.value, processor))
        self.binds = binds
        columns = list(getattr(statement, "exported_columns", ()))
        self.keys: tuple[str, ...] = tuple(str(getattr(c, "key", i)) for i, c in enumerate(columns))
        self.results: tuple[_Processor, ...] = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
        self.dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.positional:
            out: list[Any] = []
            for _name, key, required, default, processor in self.binds:
                value = values[key] if required else values.get(key, default)
                out.append(value if processor is None else processor(value))
            return out
        named: dict[str, Any] = {}
        for name, key, required, default, processor in self.binds:
            value = values[key] if required else values.get(key, default)
            named[name] = value if processor is None else processor(value)
        return named

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if processor is None or value is None else processor(value)
            for processor, value in zip(self.results, raw, strict=True)
        )


class Statement:
    """A Core statement run without SQLAlchemy's per-execution work (see the module's text).

    Build it once, at import, with ``bindparam("name")`` for every value; run it with the
    values as keyword arguments, on the unit of work's connection (inside its transaction).
    """

    __slots__ = ("_by_dialect", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _Compiled(self.statement, dialect)
        return compiled

    def _cursor(self, conn: Connection, compiled: _Compiled, values: Mapping[str, Any]) -> Any:
        return _run(conn, compiled, compiled.parameters(values), many=False)

    def rows(self, conn: Connection, **values: Any) -> list[tuple[Any, ...]]:
        """Every row, each a tuple in the statement's column order."""
        compiled = self._compiled(conn.dialect)
        cursor = self._cursor(conn, compiled, values)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        return [compiled.row(raw) for raw in fetched]

    def mappings(self, conn: Connection, **values: Any) -> list[dict[str, Any]]:
        """Every row, each a dict by column key."""
        keys = self._compiled(conn.dialect).keys
        return [dict(zip(keys, row, strict=True)) for row in self.rows(conn, **values)]

    def first(self, conn: Connection, **values: Any) -> tuple[Any, ...] | None:
        """The first row (a tuple), or None."""
        compiled = self._compiled(conn.dialect)
        cursor = self._cursor(conn, compiled, values)
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else compiled.row(raw)

    def first_mapping(self, conn: Connection, **values: Any) -> dict[str, Any] | None:
        """The first row as a dict by column key, or None."""
        row = self.first(conn, **values)
        return (
            None if row is None else dict(zip(self._compiled(conn.dialect).keys, row, strict=True))
        )

    def scalar(self, conn: Connection, **values: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.first(conn, **values)
        return None if row is None else row[0]

    def run(self, conn: Connection, **values: Any) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        compiled = self._compiled(conn.dialect)
        cursor = self._cursor(conn, compiled, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, conn: Connection, values: Iterable[Mapping[str, Any]]) -> None:
        """Run a statement that returns no rows once per set of values (executemany)."""
        compiled = self._compiled(conn.dialect)
        batch = [compiled.parameters(v) for v in values]
        if not batch:
            return
        _run(conn, compiled, batch, many=True).close()


def _run(conn: Connection, compiled: _Compiled, parameters: Any, *, many: bool) -> Any:
    """Run the compiled statement on the connection's DB-API cursor (inside its transaction,
    begun as Connection.execute's autobegin would); the cursor, or the driver's error raised
    as SQLAlchemy's."""
    if not conn.in_transaction():
        conn.begin()
    if observers:
        for observer in observers:
            observer(compiled.sql)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(compiled.sql, parameters)
        else:
            cursor.execute(compiled.sql, parameters)
    except compiled.dbapi_error as exc:
        cursor.close()
        raise _wrapped(exc, compiled, parameters, conn.dialect) from exc
    return cursor


def _wrapped(exc: Exception, compiled: _Compiled, parameters: Any, dialect: Dialect) -> Exception:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError, ...)."""
    return DBAPIError.instance(compiled.sql, parameters, exc, compiled.dbapi_error, dialect=dialect)


def dialect_insert(dialect: str, table: Table) -> Any:
    """The ``postgresql`` or ``sqlite`` dialect's own insert into ``table`` (they differ in how
    they say ON CONFLICT). The dialect's module loads on first use: a command that writes
    nothing on SQLite never loads PostgreSQL's."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


# -- statements made from a table and the names of the columns given -------------------------
# The projections' writes and the reads by key, made once per table and set of names.

_MADE: dict[tuple[Any, ...], Statement] = {}


def _made(key: tuple[Any, ...], build: Callable[[], ClauseElement]) -> Statement:
    statement = _MADE.get(key)
    if statement is None:
        statement = _MADE[key] = Statement(build())
    return statement


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (each naming the same columns) into ``table``."""
    if not rows:
        return
    names = tuple(rows[0])
    statement = _made(
        ("insert", table, names),
        lambda: table.insert().values({name: bindparam(name) for name in names}),
    )
    if len(rows) == 1:
        statement.run(conn, **rows[0])
    else:
        statement.run_many(conn, rows)


def update_where(
    conn: Connection, table: Table, where: Mapping[str, Any], values: Mapping[str, Any]
) -> int:
    """``UPDATE table SET values WHERE`` each column of ``where`` equals its value; how many
    rows changed. Values are plain values (not SQL expressions)."""
    keys, names = tuple(where), tuple(values)
    statement = _made(
        ("update", table, keys, names),
        lambda: (
            table.update()
            .where(*(table.c[k] == bindparam(f"w_{k}") for k in keys))
            .values({name: bindparam(f"v_{name}") for name in names})
        ),
    )
    bound = {f"w_{k}": v for k, v in where.items()}
    bound.update({f"v_{k}": v for k, v in values.items()})
    return statement.run(conn, **bound)


def rows_where(conn: Connection, table: Table, **where: Any) -> list[dict[str, Any]]:
    """Every row of ``table`` whose columns equal the values given, as dicts."""
    keys = tuple(where)
    statement = _made(
        ("select", table, keys),
        lambda: select(table).where(*(table.c[k] == bindparam(k) for k in keys)),
    )
    return statement.mappings(conn, **where)


def row_where(conn: Connection, table: Table, **where: Any) -> dict[str, Any] | None:
    """The first row of ``table`` whose columns equal the values given, or None."""
    keys = tuple(where)
    statement = _made(
        ("select", table, keys),
        lambda: select(table).where(*(table.c[k] == bindparam(k) for k in keys)),
    )
    return statement.first_mapping(conn, **where)
