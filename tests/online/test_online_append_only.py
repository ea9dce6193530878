"""The log of online requests is never changed nor deleted: the database refuses, on SQLite
and on PostgreSQL (R14, R24)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from online_shop import Shop

from append_only_checks import raw
from append_only_checks import refused as refused_as
from kvit.online.models import OnlineEvent

pytestmark = pytest.mark.django_db
NAME = "online_event_append_only"
TABLE = OnlineEvent._meta.db_table


def refused(attempt: Callable[[], Any]) -> None:
    refused_as(NAME, attempt)


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
