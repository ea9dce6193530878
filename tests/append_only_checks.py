"""Helpers for the tests that the database refuses to change an append-only table (R14):
`refused(name, attempt)` expects the refusal of the constraint `name`; `raw(sql)` is an
attempt by plain SQL, past the ORM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from kvit.db.append_only import refusal


def refused(name: str, attempt: Callable[[], Any]) -> None:
    with pytest.raises(IntegrityError, match=refusal(name)), transaction.atomic():
        attempt()


def raw(sql: str, *params: Any) -> Callable[[], None]:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    return run
