"""Writing many rows at once: binary COPY on PostgreSQL, executemany on SQLite; writes
sent behind; temporary tables; planning for many small queries.

Mass work (the demo seed, bill runs, registry imports) writes through `insert_rows`, never
a query per row. The caller opens the transaction and passes rows as tuples in the order of
`columns`, with database-ready values (JSON as text).

Inside `writes_behind(connection)` (PostgreSQL), `write_behind` and `execute_behind` hand a
write whose result nobody waits for (a batch's ledger entries, events, registry lines) to
a second thread, which sends it on the same connection — so in the same transaction —
while this thread goes on with Python work (parsing the next batch). Every other statement
on the connection first waits for the writes before it, so everything reaches the database
in the order it was asked for. A write that fails cannot be caught where it was sent: it is
raised (`WriteBehindFailed`) at the next statement, at every one after, and at the end of
the block, so the transaction is rolled back whatever handled it in between.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import orjson
from django.db import DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from django.utils.connection import ConnectionProxy
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

M = TypeVar("M", bound=models.Model)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def instance(model: type[M], values: Mapping[str, Any]) -> M:
    """`model(**values)` with the values by attribute name (`account_id`), four times as
    fast (a registry builds a million payments): the values go into the instance as
    `Model.__init__` would put them, without its per-field work. A field not given gets its
    default. A model with receivers of `pre_init` or `post_init` is built by `__init__`."""
    names, defaults = _layout(model)
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model(*[values[name] if name in values else defaults[name]() for name in names])
    built = model.__new__(model)
    built._state = ModelState()
    fields = built.__dict__
    for name in names:
        fields[name] = values[name] if name in values else defaults[name]()
    return built


@cache
def _layout(model: type[models.Model]) -> tuple[tuple[str, ...], dict[str, Callable[[], Any]]]:
    fields = model._meta.concrete_fields
    return tuple(f.attname for f in fields), {f.attname: f.get_default for f in fields}


def json_text(data: Any) -> str:
    """`data` as JSON text for a row: orjson (8× the `json` module; a bill run and a
    registry write millions), dates in ISO format, Decimals as strings."""
    return orjson.dumps(data, default=_decimal).decode()


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def insert_rows(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    as_text: bool = False,
) -> None:
    """Insert `rows` into `table` (names come from model metadata, never from input). The
    values are of their columns' types (Decimal, date, aware datetime, JSON as text), or,
    `as_text`, any value whose text the column reads (the demo seed writes numbers as
    strings)."""
    wrapper, behind = _behind(connection)
    if behind is not None:
        behind.wait()  # the COPY goes on the raw connection, past the execute wrapper
    _insert(wrapper, table, columns, rows, as_text)


def _insert(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    as_text: bool = False,
) -> None:
    # The raw driver's errors become Django's (IntegrityError …), as from the ORM.
    with connection.wrap_database_errors:
        names = ", ".join(quoted(column) for column in columns)
        connection.ensure_connection()
        raw: Any = connection.connection
        if connection.vendor == "postgresql":
            # Binary COPY: psycopg's compiled dumpers write each value by its column's type,
            # a third less Python than COPY text (100,000 payment-shaped rows: 0.18 s against
            # 0.27 s), and the server parses no numbers or times.
            sql = f"COPY {quoted(table)} ({names}) FROM STDIN"
            with raw.cursor() as cursor:
                if not as_text:
                    types = _column_types(cursor, table, columns)
                    cursor.adapters.register_dumper(None, JsonTextDumper)
                    sql += " (FORMAT BINARY)"
                with cursor.copy(sql) as copy:
                    if not as_text:
                        copy.set_types(types)
                    write_row = copy.write_row
                    for row in rows:
                        write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        raw.executemany(f"INSERT INTO {quoted(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _column_types(cursor: Any, table: str, columns: Sequence[str]) -> list[int]:
    """The type of each column (one query: a temporary table's are its own)."""
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [quoted(table)],
    )
    found = dict(cursor.fetchall())
    return [found[column] for column in columns]


class JsonTextDumper(Dumper):
    """JSON text (a `str`, as rows carry it: `json_text`) into a jsonb column of a binary
    COPY: the format's version byte, then the text. psycopg's own jsonb dumper would encode
    the string as a JSON string."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


# --- writes sent behind -------------------------------------------------------------------


class WriteBehindFailed(DatabaseError):
    """A write sent behind (`write_behind`, `execute_behind`) failed; raised, with the
    database's error as its cause, at the next statement on the connection, at every one
    after it and at the end of the block."""


class _Behind:
    """The writes sent behind on one connection of one thread (`owner`): one worker thread
    runs them in order."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.owner = threading.get_ident()
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="kvit-write-behind")
        self.sent: list[Future[None]] = []
        self.failed: BaseException | None = None

    def send(self, write: Callable[..., None], *args: Any) -> None:
        self.sent.append(self.worker.submit(write, *args))

    def wait(self) -> None:
        """Wait for every write sent; WriteBehindFailed when one failed — then every time:
        the transaction cannot go on, also when a handler (Django's rollback to a
        savepoint) swallowed the first."""
        sent, self.sent = self.sent, []
        for future in sent:
            error = future.exception()
            if self.failed is None and error is not None:
                self.failed = error
        if self.failed is not None:
            raise WriteBehindFailed(f"a write sent behind failed: {self.failed}") from self.failed

    def execute(self, sql: str, params: Sequence[Any] | None) -> None:
        with self.connection.wrap_database_errors, self.connection.connection.cursor() as cursor:
            cursor.execute(sql, params)


_BEHIND: WeakKeyDictionary[BaseDatabaseWrapper, _Behind] = WeakKeyDictionary()
RELEASE = "RELEASE SAVEPOINT "  # how Django's PostgreSQL backend ends a savepoint


def _wrapper(connection: BaseDatabaseWrapper) -> BaseDatabaseWrapper:
    """The connection object itself: for `django.db.connection` (a proxy, which in the
    worker would be the worker's own connection), this thread's."""
    if isinstance(connection, ConnectionProxy):
        return connections[connection.alias]
    return connection


def _behind(connection: BaseDatabaseWrapper) -> tuple[BaseDatabaseWrapper, _Behind | None]:
    """This thread's connection, and its writes sent behind if this thread sends them."""
    wrapper = _wrapper(connection)
    behind = _BEHIND.get(wrapper)
    if behind is None or behind.owner != threading.get_ident():
        return wrapper, None
    return wrapper, behind


@contextmanager
def writes_behind(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Send `write_behind` and `execute_behind` of this thread on `connection` to a worker
    thread until the block ends (see the module doc); at its end every write asked for
    has been made, also when the block ends by an exception. Open it inside the
    transaction. Elsewhere than on PostgreSQL the writes are made at once; a block inside
    another sends through the outer one, and waits for the writes at its end."""
    wrapper, outer = _behind(connection)
    if wrapper.vendor != "postgresql":
        yield
        return
    if outer is not None:
        yield
        outer.wait()
        return
    if not wrapper.in_atomic_block:  # a commit goes past the execute wrapper
        raise RuntimeError("writes_behind needs a transaction: its commit waits for no write")
    behind = _Behind(wrapper)

    def in_order(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith(RELEASE):
            # Releasing a savepoint needs nothing of the writes before it: it is sent after
            # them. (A savepoint made, or rolled back to, must wait for them: a rollback to
            # it would undo a write made before it.)
            behind.send(behind.execute, sql, params)
            return None
        behind.wait()
        return execute(sql, params, many, context)

    _BEHIND[wrapper] = behind
    try:
        with wrapper.execute_wrapper(in_order):
            yield
    finally:
        del _BEHIND[wrapper]
        behind.worker.shutdown(wait=True)  # every write asked for is made, as if at once
        behind.wait()  # a failed write is raised, also over an error of the block


def write_behind(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """`insert_rows`, sent behind inside `writes_behind` (the rows are read here, at once)."""
    wrapper, behind = _behind(connection)
    if behind is None:
        _insert(wrapper, table, columns, rows)
    else:
        behind.send(_insert, wrapper, table, columns, list(rows))


def execute_behind(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> None:
    """A statement whose result nobody reads (an upsert), sent behind inside
    `writes_behind`; `sql` takes its parameters as %s, as Django's PostgreSQL backend."""
    wrapper, behind = _behind(connection)
    if behind is None:
        with wrapper.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        behind.send(behind.execute, sql, params)


def scratch_table(connection: BaseDatabaseWrapper, name: str, select: str) -> None:
    """An empty temporary table `name` with the columns of the query `select`, for the rest
    of the transaction (PostgreSQL: dropped at commit, emptied when asked for again;
    SQLite: made anew). Only column types: no keys, no defaults, no constraints. Call it
    inside a transaction: on PostgreSQL, in autocommit it would be dropped at once."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DROP AS {select} LIMIT 0"
            )
            cursor.execute(f"TRUNCATE {name}")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} AS {select} LIMIT 0")


def plan_for_few_rows(connection: BaseDatabaseWrapper) -> None:
    """For the rest of the transaction, plan queries as the many small ones they are (a
    chunk's or one account's, each reading by key): on PostgreSQL no JIT compilation and no
    parallel workers, whose start-up (10–300 ms) costs more than such a query, and no scan
    of a whole table where an index leads to the rows. Without statistics — a ledger filling
    up in its first bill run, before autovacuum analyses it — the planner took the debts of
    a chunk by reading all 6 million entries (1.3 s instead of 20 ms, every chunk). Reports
    keep all three."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # SET LOCAL of the three, in one round trip
            cursor.execute(
                "SELECT set_config('jit', 'off', true), "
                "set_config('max_parallel_workers_per_gather', '0', true), "
                "set_config('enable_seqscan', 'off', true)"
            )


def plan_for_whole_tables(connection: BaseDatabaseWrapper) -> None:
    """For the rest of the transaction, plan queries as the whole-table aggregates they are
    (the reconciliation checks): on PostgreSQL no nested loops. With statistics older than
    the millions of rows a bill run or an import has just added, the planner took the
    ledger's side of a join for one row and looped over it once per payment (minutes instead
    of seconds)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_nestloop', 'off', true)")
