"""The log of online requests is never changed nor deleted: the database refuses, on SQLite
and on PostgreSQL (R14, R24)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from online_shop import Shop

from kvit.db.append_only import refusal
from kvit.online.models import OnlineEvent

pytestmark = pytest.mark.django_db
NAME = "online_event_append_only"
TABLE = OnlineEvent._meta.db_table


def refused(attempt: Callable[[], Any]) -> None:
    with pytest.raises(IntegrityError, match=refusal(NAME)), transaction.atomic():
        attempt()


def raw(sql: str, *params: Any) -> Callable[[], None]:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run


def test_changing_or_deleting_a_logged_request_is_refused(shop: Shop) -> None:
    shop.bank.check("000101")
    rows = OnlineEvent.objects.all()
    event = rows.get()
    refused(lambda: rows.update(outcome="found nothing"))
    refused(rows.delete)
    refused(event.save)
    refused(raw(f'UPDATE "{TABLE}" SET outcome = %s', "x"))  # noqa: S608
    refused(raw(f'DELETE FROM "{TABLE}" WHERE id = %s', event.pk))  # noqa: S608
    assert OnlineEvent.objects.get().outcome == "found"


def test_the_database_has_the_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
            expected = {f"{NAME}_row", f"{NAME}_truncate"}
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
            )
            expected = {f"{NAME}_update", f"{NAME}_delete"}
        assert {name for (name,) in cursor.fetchall()} == expected
