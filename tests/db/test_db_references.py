"""References checked per statement (`kvit.db.references`, ADR 5): the ledger and the cached
balances refuse rows that point at nothing or at another organisation's rows, and a row
they refer to cannot be deleted; on SQLite and on PostgreSQL, by the ORM, raw SQL or COPY."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from kvit.db.references import References, dangling, referenced
from kvit.ledger.actions import ENTRY_COLUMNS, open_period, post_rows
from kvit.ledger.models import AccountBalance, LedgerEntry

JAN = date(2024, 1, 1)
ENTRIES = "ledger_entry_references"
BALANCES = "ledger_balance_references"


@pytest.fixture
def books(make: Any, db: Any) -> dict[str, Any]:
    tenant = make.tenant()
    provider = make.provider(tenant)
    open_period(tenant, JAN)
    return {
        "tenant": tenant,
        "account": make.account(make.premise(make.building(tenant))),
        "provider": provider,
        "service": make.service(tenant, provider=provider),
    }


def row(books: dict[str, Any], **ids: Any) -> tuple[Any, ...]:
    """An entry row for `post_rows` (COPY on PostgreSQL); `ids` override the references."""
    values = {
        "tenant_id": books["tenant"].pk,
        "account_id": books["account"].pk,
        "provider_id": books["provider"].pk,
        "service_id": books["service"].pk,
        "period": JAN,
        "posted_on": JAN,
        "kind": "charge",
        "amount": Decimal("10.00"),
        "quantity": None,
        "unit": "",
        "tariff": None,
        "rule": "",
        "zone": "",
        "tier": 0,
        "span_from": None,
        "span_to": None,
        "explanation": "{}",
        "corrects_id": None,
        "corrects_period": None,
        "reason": "",
        "source_kind": "",
        "source_id": "",
        "run_id": None,
        "created_by_id": None,
        **ids,
    }
    return tuple(values[column] for column in ENTRY_COLUMNS)


def refused(text: str, attempt: Any) -> None:
    with pytest.raises(IntegrityError, match=text), transaction.atomic():
        attempt()


def test_posted_rows_with_their_own_references_are_kept(books: dict[str, Any]) -> None:
    post_rows(books["tenant"].pk, [row(books), row(books, service_id=None)])
    assert LedgerEntry.objects.filter(account=books["account"]).count() == 2
    assert AccountBalance.objects.filter(account=books["account"]).count() == 2


@pytest.mark.parametrize(
    ("column", "missing"),
    [("account_id", 10**9), ("provider_id", 10**9), ("service_id", 10**9), ("tenant_id", 10**9)],
)
def test_a_reference_to_nothing_is_refused(
    books: dict[str, Any], column: str, missing: int
) -> None:
    refused(
        dangling(ENTRIES, column),
        lambda: post_rows(books["tenant"].pk, [row(books), row(books, **{column: missing})]),
    )
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("column", ["account_id", "provider_id", "service_id"])
def test_a_reference_to_another_organisations_row_is_refused(
    books: dict[str, Any], make: Any, column: str
) -> None:
    other = make.tenant()
    provider = make.provider(other)
    foreign = {
        "account_id": make.account(make.premise(make.building(other))).pk,
        "provider_id": provider.pk,
        "service_id": make.service(other, provider=provider).pk,
    }
    refused(
        dangling(ENTRIES, column),
        lambda: post_rows(books["tenant"].pk, [row(books, **{column: foreign[column]})]),
    )


def test_an_orm_insert_is_checked_too(books: dict[str, Any]) -> None:
    entry = LedgerEntry(
        tenant=books["tenant"],
        account_id=books["account"].pk,
        provider_id=10**9,
        service=books["service"],
        period=JAN,
        posted_on=JAN,
        kind="charge",
        amount=Decimal("1.00"),
    )
    refused(dangling(ENTRIES, "provider_id"), entry.save)


def test_a_balance_to_nothing_is_refused(books: dict[str, Any]) -> None:
    balance = AccountBalance(account=books["account"], provider_id=10**9, amount=Decimal(1))
    refused(dangling(BALANCES, "provider_id"), balance.save)


@pytest.mark.parametrize("name", ["account", "provider", "service"])
def test_a_referenced_row_cannot_be_deleted_by_sql(books: dict[str, Any], name: str) -> None:
    post_rows(books["tenant"].pk, [row(books)])
    target = books[name]
    table = connection.ops.quote_name(target._meta.db_table)

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [target.pk])  # noqa: S608

    # The ledger's check or the balances' (both refer to it), whichever runs first.
    refused(f"({ENTRIES}|{BALANCES}): a row of {target._meta.db_table}", delete)
    assert type(target).objects.filter(pk=target.pk).exists()


def test_an_unreferenced_row_can_be_deleted(books: dict[str, Any], make: Any) -> None:
    spare = make.provider(books["tenant"])
    post_rows(books["tenant"].pk, [row(books)])
    spare.delete()
    assert not type(spare).objects.filter(pk=spare.pk).exists()


def test_the_constraint_is_declared_and_its_foreign_keys_make_no_row_checks() -> None:
    found = [c for c in LedgerEntry._meta.constraints if isinstance(c, References)]
    assert [c.name for c in found] == [ENTRIES]
    for name in found[0].fields:
        assert LedgerEntry._meta.get_field(name).db_constraint is False  # type: ignore[union-attr]
    assert found[0].deconstruct()[2] == {
        "name": ENTRIES,
        "fields": ("tenant", "account", "provider", "service"),
        "tenant": "tenant",
    }
    assert referenced("x", "t") != dangling("x", "t")


@pytest.mark.postgres
@pytest.mark.usefixtures("purge_append_only")
def test_a_delete_waits_for_an_insert_under_way_and_then_is_refused(
    make: Any, transactional_db: Any
) -> None:
    """The insert holds a key-share lock on the provider until it commits; the delete waits
    for it, then sees the committed entry and is refused — never a dangling reference."""
    tenant = make.tenant()
    spare = make.provider(tenant)
    books = {
        "tenant": tenant,
        "account": make.account(make.premise(make.building(tenant))),
        "provider": spare,
        "service": make.service(tenant, provider=spare),
    }
    open_period(tenant, JAN)
    inserted, outcome = threading.Event(), {}

    def insert() -> None:
        with transaction.atomic():
            post_rows(tenant.pk, [row(books)])
            inserted.set()
            delete_started.wait(5)
            threading.Event().wait(0.5)  # the delete is now waiting for this transaction
        connections.close_all()

    def delete() -> None:
        inserted.wait(5)
        delete_started.set()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("DELETE FROM providers_provider WHERE id = %s", [spare.pk])
            outcome["deleted"] = True
        except IntegrityError as error:
            outcome["refused"] = str(error)
        finally:
            connections.close_all()

    delete_started = threading.Event()
    threads = [threading.Thread(target=insert), threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert "deleted" not in outcome
    assert "providers_provider is still referred to" in outcome["refused"]
    assert LedgerEntry.objects.filter(provider=spare).count() == 1
