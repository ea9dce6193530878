"""Writes sent behind (`kvit.db.bulk.writes_behind`): made on the same connection, in the
same transaction and in the order asked for; a failure is raised at the next statement;
savepoints keep and undo them as they would writes made at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kvit.db.bulk import (
    _BEHIND,
    WriteBehindFailed,
    _behind,
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
def test_a_failure_in_a_released_savepoint_is_raised_at_the_next_statement(table: str) -> None:
    with pytest.raises(WriteBehindFailed), transaction.atomic(), writes_behind(connection):
        with transaction.atomic():  # its release is sent behind the write
            write_behind(connection, table, ["n", "t"], [(-1, "refused")])
        with pytest.raises(WriteBehindFailed) as failed:
            rows()
        assert isinstance(failed.value.__cause__, IntegrityError)
    assert rows() == []


@pytest.mark.postgres
def test_a_failure_swallowed_by_a_handler_is_raised_again(table: str) -> None:
    """Django's rollback to a savepoint swallows an error of its own statement: the
    failure is raised at every statement after, and at the end of the block."""
    with (
        pytest.raises(WriteBehindFailed) as failed,
        transaction.atomic(),
        writes_behind(connection),
    ):
        write_behind(connection, table, ["n", "t"], [(1, "good")])
        try:
            with transaction.atomic():
                write_behind(connection, table, ["n", "t"], [(-1, "refused")])
                raise ValueError("another error")
        except ValueError:
            pass  # the savepoint's rollback met the failure and swallowed it
        with pytest.raises(WriteBehindFailed):
            rows()
    assert isinstance(failed.value.__cause__, IntegrityError)
    assert rows() == []


@pytest.mark.postgres
def test_an_error_in_the_block_leaves_every_write_asked_for_made(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP SEQUENCE behind_seq")  # not undone by a rollback
    with transaction.atomic():
        with pytest.raises(ValueError, match="stop"), writes_behind(connection):
            execute_behind(connection, "SELECT pg_sleep(0.2)", [])  # the next two wait
            execute_behind(connection, "SELECT nextval('behind_seq')", [])
            write_behind(connection, table, ["n", "t"], [(1, "kept")])
            execute_behind(connection, "SELECT nextval('behind_seq')", [])
            raise ValueError("stop")
        assert not _BEHIND
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value FROM behind_seq")
            assert cursor.fetchone() == (2,)  # both made, none after the block
        assert rows() == [(1, "kept")]  # as if written at once


@pytest.mark.postgres
def test_a_failed_write_raised_over_an_error_of_the_block(table: str) -> None:
    with (
        pytest.raises(WriteBehindFailed) as failed,
        transaction.atomic(),
        writes_behind(connection),
    ):
        write_behind(connection, table, ["n", "t"], [(-1, "refused")])
        raise ValueError("the block's own error")
    assert isinstance(failed.value.__cause__, IntegrityError)
    assert isinstance(failed.value.__context__, ValueError)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failed_write_rolls_the_transaction_back(table: str) -> None:
    with transaction.atomic():
        write_behind(connection, table, ["n", "t"], [(1, "committed before")])
    with pytest.raises(WriteBehindFailed), transaction.atomic(), writes_behind(connection):
        write_behind(connection, table, ["n", "t"], [(2, "kept?"), (-1, "refused")])
        execute_behind(connection, f"UPDATE {table} SET t = 'changed'", [])  # noqa: S608
    assert rows() == [(1, "committed before")]


@pytest.mark.postgres
def test_a_nested_block_and_another_thread_make_their_writes_at_once(table: str) -> None:
    other: list[object] = []
    with transaction.atomic(), writes_behind(connection):
        with writes_behind(connection):  # the outer block sends
            write_behind(connection, table, ["n", "t"], [(1, "nested")])
        (behind,) = _BEHIND.values()
        assert behind.sent == []  # waited for at the inner block's end
        thread = threading.Thread(target=lambda: other.append(_behind(connection)[1]))
        thread.start()
        thread.join()
        assert other == [None]  # another thread's writes are its own, made at once
        assert rows() == [(1, "nested")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_only_inside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="needs a transaction"), writes_behind(connection):
        pass
    assert not _BEHIND


@pytest.mark.postgres
def test_a_release_sent_behind_is_logged_as_itself(table: str) -> None:
    with transaction.atomic(), writes_behind(connection):
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            write_behind(connection, table, ["n", "t"], [(1, "a")])
        sqls = [query["sql"] for query in captured]
    assert sqls[0].startswith("SAVEPOINT") and sqls[-1].startswith('RELEASE SAVEPOINT "')
