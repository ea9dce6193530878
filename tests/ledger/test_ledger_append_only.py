"""The database refuses to change or delete a posted ledger entry, on SQLite and on
PostgreSQL, however it is asked (R14, architecture §4)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from ledger_books import Books

from append_only_checks import raw
from append_only_checks import refused as refused_as
from kvit.db.append_only import AppendOnly
from kvit.db.triggers import install_sqlite_triggers
from kvit.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

TABLE = LedgerEntry._meta.db_table
NAME = "ledger_entry_append_only"


def refused(attempt: Callable[[], Any]) -> None:
    refused_as(NAME, attempt)


@pytest.fixture
def posted(books: Books) -> LedgerEntry:
    return books.post()


def test_queryset_update_is_refused(posted: LedgerEntry) -> None:
    refused(lambda: LedgerEntry.objects.filter(pk=posted.pk).update(amount=Decimal(1)))


def test_queryset_delete_is_refused(posted: LedgerEntry) -> None:
    refused(lambda: LedgerEntry.objects.filter(pk=posted.pk).delete())


def test_saving_a_posted_entry_again_is_refused(posted: LedgerEntry) -> None:
    posted.amount = Decimal("1.00")
    refused(posted.save)


def test_deleting_a_posted_entry_is_refused(posted: LedgerEntry) -> None:
    refused(posted.delete)


def test_raw_update_and_delete_are_refused(posted: LedgerEntry) -> None:
    refused(raw(f'UPDATE "{TABLE}" SET amount = 0 WHERE id = %s', posted.pk))  # noqa: S608
    refused(raw(f'UPDATE "{TABLE}" SET reason = %s', "typo"))  # noqa: S608
    refused(raw(f'DELETE FROM "{TABLE}" WHERE id = %s', posted.pk))  # noqa: S608
    refused(raw(f'DELETE FROM "{TABLE}"'))  # noqa: S608


def test_the_entry_is_unchanged_after_the_attempts(posted: LedgerEntry) -> None:
    refused(lambda: LedgerEntry.objects.update(amount=Decimal(0)))
    refused(lambda: LedgerEntry.objects.all().delete())
    posted.refresh_from_db()
    assert posted.amount == Decimal("100.00")
    assert LedgerEntry.objects.count() == 1


def test_inserting_is_allowed(books: Books) -> None:
    books.post()
    books.post(amount=Decimal("-30.00"), kind="payment", service=None)
    assert LedgerEntry.objects.count() == 2


def test_validation_refuses_a_saved_entry(posted: LedgerEntry) -> None:
    with pytest.raises(ValidationError) as caught:
        posted.full_clean()
    assert "A saved ledger entry cannot be changed: post a correction instead." in (
        caught.value.messages
    )


def test_every_append_only_model_is_known() -> None:
    """A guard: this file proves the ledger entry's triggers; a new append-only model needs
    its own proof (an audit table, payment events …). Payment split lines and events:
    tests/payments/test_payments_append_only.py; the log of online requests:
    tests/online/test_online_append_only.py; registry lines and readings, bank statements
    and their credits: tests/registries/test_registries_append_only.py."""
    models = {
        model._meta.label
        for model in apps.get_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, AppendOnly)
    }
    assert models == {
        "ledger.LedgerEntry",
        "payments.PaymentEvent",
        "payments.PaymentSplit",
        "online.OnlineEvent",
        "registries.RegistryLine",
        "registries.RegistryReading",
        "registries.BankStatement",
        "registries.StatementCredit",
    }


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_refuses_truncate(posted: LedgerEntry) -> None:
    # PostgreSQL truncates nothing with deferred foreign-key checks pending (the entry was
    # inserted in this test's transaction): run them now.
    raw("SET CONSTRAINTS ALL IMMEDIATE")()
    refused(raw(f'TRUNCATE "{TABLE}"'))
    refused(raw(f'TRUNCATE "{TABLE}" CASCADE'))
    accounts = posted.account._meta.db_table
    # What an entry refers to is protected like by a foreign key (kvit.db.references).
    still = f"a row of {accounts} is still referred to"
    with pytest.raises(IntegrityError, match=still), transaction.atomic():
        raw(f'TRUNCATE "{accounts}" CASCADE')()
    assert LedgerEntry.objects.filter(pk=posted.pk).exists()


@pytest.mark.postgres
def test_postgres_lets_an_empty_table_be_truncated() -> None:
    """Nothing is lost, and Django's test flush truncates every table."""
    raw(f'TRUNCATE "{TABLE}"')()


@pytest.mark.postgres
def test_postgres_removing_the_constraint_drops_the_triggers() -> None:
    """The migration that would remove the constraint (done here inside the test's
    transaction: PostgreSQL DDL rolls back) leaves the table writable."""
    constraint = next(c for c in LedgerEntry._meta.constraints if isinstance(c, AppendOnly))
    with transaction.atomic():
        with connection.schema_editor(atomic=False) as editor:
            editor.remove_constraint(LedgerEntry, constraint)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
                "AND tgname LIKE %s",
                [TABLE, f"{NAME}%"],
            )
            assert cursor.fetchone() == (0,)
        with connection.schema_editor(atomic=False) as editor:
            editor.add_constraint(LedgerEntry, constraint)
        transaction.set_rollback(True)


# --- SQLite -----------------------------------------------------------------------------------


def sqlite_triggers() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [TABLE],
        )
        return dict(cursor.fetchall())


def test_sqlite_triggers_come_back_after_migrate(books: Books) -> None:
    """A table rebuild drops a SQLite table's triggers; `migrate` reinstalls them."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite triggers")
    with connection.cursor() as cursor:
        for name in sqlite_triggers():
            cursor.execute(f'DROP TRIGGER "{name}"')
    entry = books.post()
    LedgerEntry.objects.filter(pk=entry.pk).update(reason="nothing stops it now")
    install_sqlite_triggers()
    install_sqlite_triggers()  # idempotent
    refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).update(reason="again"))


@pytest.mark.usefixtures("purge_append_only")
def test_committed_entries_are_refused_too_and_the_flush_still_runs(make: Any) -> None:
    """Outside a test transaction (rows committed), the same refusal; afterwards the fixture
    empties the table so that Django's flush of the test database can run."""
    entry = make.entry(make.account(make.premise(make.building(make.tenant()))))
    refused(entry.delete)
    refused(lambda: LedgerEntry.objects.update(reason="x"))
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()
