"""Planning for the many small queries of a chunk: set for the transaction, then gone."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from kvit.db.bulk import plan_for_few_rows

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
SETTINGS = ("jit", "max_parallel_workers_per_gather", "enable_seqscan")


def settings() -> tuple[str, ...]:
    with connection.cursor() as cursor:
        found = []
        for name in SETTINGS:
            cursor.execute(f"SHOW {name}")
            found.append(cursor.fetchone()[0])
    return tuple(found)


def test_the_plan_for_few_rows_lasts_as_long_as_the_transaction() -> None:
    before = settings()
    assert before[2] == "on"
    with transaction.atomic():
        plan_for_few_rows(connection)
        assert settings() == ("off", "0", "off")
    assert settings() == before
