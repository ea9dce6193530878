"""`kvit.db.operations.AddIndexConcurrently`: CREATE INDEX CONCURRENTLY on PostgreSQL, a
plain index elsewhere, and the ledger's (tenant, posted_on) index built with it."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import NotSupportedError, connection, models, transaction
from django.db.migrations.state import ProjectState

from kvit.db.operations import AddIndexConcurrently
from kvit.ledger.models import LedgerEntry


def ledger_indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, LedgerEntry._meta.db_table)
    return {name: info["columns"] for name, info in found.items() if info["index"]}


@pytest.mark.django_db
def test_the_ledger_has_its_posting_date_index() -> None:
    assert ledger_indexes()["ledger_entry_tenant_posted_idx"] == ["tenant_id", "posted_on"]


@pytest.mark.django_db(transaction=True)
def test_the_index_is_added_and_removed_outside_a_transaction() -> None:
    operation = AddIndexConcurrently(
        "ledgerentry", models.Index(fields=["posted_on"], name="test_posted_on_idx")
    )
    before = ProjectState.from_apps(apps)
    after = before.clone()
    operation.state_forwards("ledger", after)
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("ledger", editor, before, after)
    assert ledger_indexes()["test_posted_on_idx"] == ["posted_on"]
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("ledger", editor, after, before)
    assert "test_posted_on_idx" not in ledger_indexes()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_it_inside_a_transaction() -> None:
    operation = AddIndexConcurrently(
        "ledgerentry", models.Index(fields=["posted_on"], name="test_posted_on_idx")
    )
    before = ProjectState.from_apps(apps)
    after = before.clone()
    operation.state_forwards("ledger", after)
    editor: Any
    with (
        transaction.atomic(),
        connection.schema_editor() as editor,
        pytest.raises(NotSupportedError, match="atomic = False"),
    ):
        operation.database_forwards("ledger", editor, before, after)
