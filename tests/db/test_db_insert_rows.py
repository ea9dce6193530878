"""`insert_rows` writes each value as its column's type (binary COPY on PostgreSQL), or as
text when asked; `scratch_table` gives an empty table shaped like a query."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection, transaction

from kvit.db.bulk import insert_rows, scratch_table

pytestmark = pytest.mark.django_db

SHAPE = (
    "SELECT p.amount, p.paid_at, p.period, p.account_number, p.penalty_designated, e.details "
    "FROM payments_payment p, payments_paymentevent e"
)
COLUMNS = ("amount", "paid_at", "period", "account_number", "penalty_designated", "details")
MOSCOW = timezone(timedelta(hours=3))
ROWS = [
    (
        Decimal("1234.50"),
        datetime(2025, 6, 10, 12, 0, 1, 250, tzinfo=MOSCOW),
        date(2025, 6, 1),
        'Иванов "И" ,\\\n\t{}',
        True,
        json.dumps({"reason": "closed", "amount": "1.50", "list": [1, None]}),
    ),
    (Decimal("-0.01"), datetime(1999, 12, 31, 23, 59, tzinfo=UTC), None, "", False, "{}"),
]


def _read() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM kvit_scratch ORDER BY amount DESC")  # noqa: S608
        return cursor.fetchall()


@pytest.mark.postgres
def test_typed_values_come_back_as_they_went() -> None:
    with transaction.atomic():
        scratch_table(connection, "kvit_scratch", SHAPE)
        insert_rows(connection, "kvit_scratch", COLUMNS, ROWS)
        found = _read()
    assert [row[:5] for row in found] == [row[:5] for row in ROWS]
    assert [json.loads(row[5]) for row in found] == [json.loads(row[5]) for row in ROWS]


@pytest.mark.postgres
def test_values_as_text_are_read_by_the_column() -> None:
    text = [
        ("1234.50", "2025-06-10 09:00:01.00025+00", "2025-06-01", "x", "t", '{"a": 1}'),
    ]
    with transaction.atomic():
        scratch_table(connection, "kvit_scratch", SHAPE)
        insert_rows(connection, "kvit_scratch", COLUMNS, text, as_text=True)
        (row,) = _read()
    assert row[:5] == (*ROWS[0][:3], "x", True)
    assert json.loads(row[5]) == {"a": 1}


def test_a_scratch_table_is_empty_each_time_it_is_asked_for() -> None:
    with transaction.atomic():
        scratch_table(connection, "kvit_scratch", SHAPE)
        insert_rows(connection, "kvit_scratch", ("account_number",), [("a",), ("b",)])
        scratch_table(connection, "kvit_scratch", SHAPE)
        insert_rows(connection, "kvit_scratch", ("account_number",), [("c",)])
        with connection.cursor() as cursor:
            cursor.execute("SELECT account_number FROM kvit_scratch")
            assert cursor.fetchall() == [("c",)]
