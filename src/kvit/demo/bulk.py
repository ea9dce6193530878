"""The bulk writer: COPY on PostgreSQL, executemany on SQLite; no ORM, no per-row query.

Rows arrive with their ids already set. Before writing, the tables are locked against
other writers (so max(id) + 1 stays free); afterwards the id sequences are moved past the
ids used, so the ORM's next insert does not collide.

On PostgreSQL, per-row foreign-key triggers cost more than everything else together, so
when the role may (superuser), they are switched off for this transaction and every
foreign key of the written rows is checked instead with one anti-join per key, which
rolls everything back on a dangling reference, like the triggers would have. For big
seeds, the secondary indexes and exclusion constraints of the biggest tables are dropped
and re-created from their catalog definitions after the load: a GiST exclusion index
grows 2-3 times faster built at once than row by row. All of it is one transaction, so a
failure leaves the schema and the data as they were.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any, TypeVar, cast

from django.core.management.color import no_style
from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import ForeignKey, Model

from kvit.db.bulk import insert_rows, quoted
from kvit.demo.rows import Batch
from kvit.demo.schema import (
    ACCOUNT_SERVICE,
    BENEFIT,
    OWNERSHIP,
    PERSON,
    READING,
    REGISTRATION,
    TABLES,
    Table,
)

T = TypeVar("T")
DETACHED = (PERSON, OWNERSHIP, ACCOUNT_SERVICE, REGISTRATION, BENEFIT, READING)

# Each index of the tables that is not the primary key: how to drop and re-create it.
INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid),
       pg_get_indexdef(i.indexrelid), i.indrelid::regclass::text
FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype IN ('u', 'x')
WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
ORDER BY 1
"""


def first_ids(connection: BaseDatabaseWrapper) -> dict[Table, int]:
    """max(id) + 1 per table: where the pre-assigned ids start."""
    with connection.cursor() as cursor:
        found = {}
        for table in TABLES:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {quoted(table.name)}")  # noqa: S608
            found[table] = int(cursor.fetchone()[0])
    return found


class DanglingReference(DatabaseError):
    pass


class Writer:
    def __init__(self, connection: BaseDatabaseWrapper, *, detach: bool = False) -> None:
        self.connection = connection
        self.detach = detach and connection.vendor == "postgresql"
        self.recreate: list[str] = []  # statements that put detached indexes back
        self.postgres = connection.vendor == "postgresql"
        self.rows: dict[Table, int] = dict.fromkeys(TABLES, 0)
        self.seconds: dict[Table, float] = dict.fromkeys(TABLES, 0.0)  # spent writing
        self.triggers_off = False
        self.index_seconds = self.reference_seconds = 0.0

    def prepare(self) -> None:
        """Lock out other writers until the transaction ends; on PostgreSQL, switch the
        foreign-key triggers off if allowed (checked in bulk by `finish`)."""
        if not self.postgres:
            return  # SQLite: the IMMEDIATE transaction already holds the write lock
        names = ", ".join(quoted(t.name) for t in TABLES)
        with self.connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            # Where triggers stay on: check each COPY at its end instead of queueing
            # millions of checks (and their memory) until the commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        try:
            with transaction.atomic(using=self.connection.alias), self.connection.cursor() as c:
                c.execute("SET LOCAL session_replication_role = replica")
            self.triggers_off = True
        except DatabaseError:
            self.triggers_off = False  # not a superuser: the triggers check every row
        if self.detach:
            self._detach_indexes()

    def _detach_indexes(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(INDEXES_SQL, [[t.name for t in DETACHED]])
            drops = []
            for index, constraint, definition, create, table in cursor.fetchall():
                if constraint:
                    drops.append(f"ALTER TABLE {table} DROP CONSTRAINT {quoted(constraint)}")
                    self.recreate.append(
                        f"ALTER TABLE {table} ADD CONSTRAINT {quoted(constraint)} {definition}"
                    )
                else:
                    drops.append(f"DROP INDEX {index}")
                    self.recreate.append(create)
            for sql in drops:
                cursor.execute(sql)

    def write(self, batch: Batch) -> None:
        """Write the batch and empty it, so its memory is freed before the next one."""
        for table in TABLES:
            rows = batch.rows[table]
            if not rows:
                continue
            started = time.perf_counter()
            insert_rows(self.connection, table.name, table.columns, rows, as_text=True)
            self.rows[table] += len(rows)
            self.seconds[table] += time.perf_counter() - started
            batch.rows[table] = []

    def finish(self, first: dict[Table, int]) -> None:
        if self.recreate:
            started = time.perf_counter()
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for sql in self.recreate:
                    cursor.execute(sql)
            self.index_seconds = time.perf_counter() - started
        if self.triggers_off:
            started = time.perf_counter()
            self._check_references(first)
            self.reference_seconds = time.perf_counter() - started
        statements = self.connection.ops.sequence_reset_sql(no_style(), [t.model for t in TABLES])
        if self.postgres:
            # Fresh statistics, or the first queries plan for the tables' old, tiny sizes.
            statements.append(f"ANALYZE {', '.join(quoted(t.name) for t in TABLES)}")
            # The rest of an enclosing transaction runs as usual again.
            statements += [
                "SET CONSTRAINTS ALL DEFERRED",
                "SET LOCAL session_replication_role TO DEFAULT",
                "SET LOCAL maintenance_work_mem TO DEFAULT",
            ]
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def _check_references(self, first: dict[Table, int]) -> None:
        """Every foreign key of the rows written (ids from `first` on) points at a row."""
        with self.connection.cursor() as cursor:
            for table in TABLES:
                if not self.rows[table]:
                    continue
                for field in table.model._meta.concrete_fields:
                    if not isinstance(field, ForeignKey):
                        continue
                    parent = cast(type[Model], field.related_model)._meta
                    cursor.execute(
                        f"SELECT c.id FROM {quoted(table.name)} c WHERE c.id >= %s "  # noqa: S608
                        f"AND c.{quoted(field.column)} IS NOT NULL AND NOT EXISTS (SELECT 1 "
                        f"FROM {quoted(parent.db_table)} p WHERE p.{quoted(parent.pk.column)} "
                        f"= c.{quoted(field.column)}) LIMIT 1",
                        [first[table]],
                    )
                    dangling = cursor.fetchone()
                    if dangling:
                        raise DanglingReference(
                            f"{table.name} {dangling[0]}: {field.column} points at no row"
                        )


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced in a background thread while the caller works on the previous one
    (the database works while the next chunk is generated)."""
    done = object()
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False  # the consumer has gone

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as error:  # handed to the consumer, raised there
            put(error)

    thread = threading.Thread(target=produce, name="demo-generator", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
