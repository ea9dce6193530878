"""Writes sent behind (`kvit.db.bulk.writes_behind`): made on the same connection, in the
same transaction and in the order asked for; a failure is raised at the next statement;
savepoints keep and undo them as they would writes made at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from kvit.db.bulk import (
    _BEHIND,
    WriteBehindFailed,
    execute_behind,
    insert_rows,
    write_behind,
    writes_behind,
)

pytestmark = pytest.mark.django_db
TABLE = "behind_test"


@pytest.fixture
def table(db: Any) -> Iterator[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {TABLE} (n integer CHECK (n >= 0), t text)")
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


def rows() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT n, t FROM {TABLE} ORDER BY n, t")  # noqa: S608
        return list(cursor.fetchall())


def test_writes_are_made_in_the_order_asked_for(table: str) -> None:
    with transaction.atomic(), writes_behind(connection):
        write_behind(connection, table, ["n", "t"], ((n, f"row {n}") for n in range(3)))
        execute_behind(connection, f"UPDATE {table} SET t = t || %s WHERE n = %s", ["!", 1])  # noqa: S608
        insert_rows(connection, table, ["n", "t"], [(7, "at once")])  # after the two
        execute_behind(connection, f"DELETE FROM {table} WHERE t = %s", ["at once"])  # noqa: S608
        assert rows() == [(0, "row 0"), (1, "row 1!"), (2, "row 2")]  # a query waits
    assert rows() == [(0, "row 0"), (1, "row 1!"), (2, "row 2")]


@pytest.mark.postgres
def test_the_writes_go_through_another_thread_on_the_same_connection(table: str) -> None:
    seen: list[int] = []
    with transaction.atomic(), writes_behind(connection):
        (behind,) = _BEHIND.values()
        behind.send(lambda: seen.append(threading.get_ident()))
        write_behind(connection, table, ["n", "t"], [(1, "a")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        (worker,) = seen
        assert worker != threading.get_ident()
        assert rows() == [(1, "a")]  # uncommitted: seen only in this transaction
    assert connection.connection.info.backend_pid == pid
    assert not _BEHIND


@pytest.mark.postgres
def test_a_failed_write_is_raised_at_the_next_statement(table: str) -> None:
    with (
        pytest.raises(WriteBehindFailed) as failed,
        transaction.atomic(),
        writes_behind(connection),
    ):
        write_behind(connection, table, ["n", "t"], [(1, "kept"), (-1, "refused")])
        rows()
    assert isinstance(failed.value.__cause__, IntegrityError)
    assert "behind_test_n_check" in str(failed.value)
    assert rows() == []  # the transaction was rolled back


@pytest.mark.postgres
def test_savepoints_keep_and_undo_the_writes_as_written_at_once(table: str) -> None:
    with transaction.atomic(), writes_behind(connection):
        write_behind(connection, table, ["n", "t"], [(1, "before")])
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            write_behind(connection, table, ["n", "t"], [(2, "undone")])
            _ = 1 / 0
        with transaction.atomic():  # released without waiting for its write
            write_behind(connection, table, ["n", "t"], [(3, "released")])
        write_behind(connection, table, ["n", "t"], [(4, "after")])
    assert rows() == [(1, "before"), (3, "released"), (4, "after")]


@pytest.mark.postgres
def test_an_error_in_the_block_drops_what_was_not_written(table: str) -> None:
    with (
        pytest.raises(RuntimeError, match="stop"),
        transaction.atomic(),
        writes_behind(connection),
    ):
        write_behind(connection, table, ["n", "t"], [(1, "a")])
        raise RuntimeError("stop")
    assert not _BEHIND
    assert rows() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_only_inside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="needs a transaction"), writes_behind(connection):
        pass
    assert not _BEHIND
