"""The PostgreSQL backend reads `timestamptz` with psycopg's compiled loader and gives the
same values as Django's own loader (kvit.db.backends.postgresql)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

from kvit.db.backends.postgresql.base import COMPILED

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TIMES = [
    datetime(2025, 6, 10, 7, 0, tzinfo=UTC),
    datetime(2025, 10, 26, 0, 30, 15, 123456, tzinfo=UTC),  # Berlin's clock goes back
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=3))),
    datetime(2030, 3, 1, 12, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
]
SELECT = "SELECT t FROM unnest(%s::timestamptz[]) AS t"


def _read() -> list[datetime]:
    with connection.cursor() as cursor:
        cursor.execute(SELECT, [TIMES])
        return [row[0] for row in cursor.fetchall()]


def test_times_read_as_django_reads_them() -> None:
    fast = _read()
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's pure-Python loader
        cursor.execute(SELECT, [TIMES])
        django = [row[0] for row in cursor.fetchall()]
    assert fast == django == TIMES
    assert [value.tzinfo for value in fast] == [connection.timezone] * len(TIMES)
    assert [value.utcoffset() for value in fast] == [timedelta(0)] * len(TIMES)


def test_the_loader_is_the_compiled_one() -> None:
    assert COMPILED.__module__.startswith("psycopg_binary")
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader.__name__ == "FastTzLoader"
    assert loader.timezone == connection.timezone
