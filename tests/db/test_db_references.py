"""References checked per statement (`kvit.db.references`, ADR 5): the ledger and the cached
balances refuse rows that point at nothing or at another organisation's rows, and a row
they refer to cannot be deleted; on SQLite and on PostgreSQL, by the ORM, raw SQL or COPY."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, models, transaction
from django.utils import timezone

from kvit.db.references import References, dangling, referenced
from kvit.ledger.actions import ENTRY_COLUMNS, open_period, post_rows
from kvit.ledger.models import AccountBalance, LedgerEntry
from kvit.payments.models import Payment, PaymentEvent
from kvit.registries.models import Registry, RegistryLine

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


BULK = [LedgerEntry, AccountBalance, Payment, PaymentEvent, RegistryLine]
"""The tables written a million rows at a time: no foreign key of theirs checks row by row."""


@pytest.mark.parametrize("model", BULK, ids=lambda model: model.__name__)
def test_every_foreign_key_of_a_bulk_table_is_checked_per_statement(model: Any) -> None:
    declared = [c for c in model._meta.constraints if isinstance(c, References)]
    checked = [name for constraint in declared for name in constraint.fields]
    keys = [f.name for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]
    assert sorted(checked) == sorted(keys)
    for name in keys:
        assert model._meta.get_field(name).db_constraint is False


def test_the_ledgers_constraints_check_with_the_organisation_but_the_author() -> None:
    found = {c.name: c for c in LedgerEntry._meta.constraints if isinstance(c, References)}
    assert found[ENTRIES].deconstruct()[2] == {
        "name": ENTRIES,
        "fields": ("tenant", "account", "provider", "service", "corrects"),
        "tenant": "tenant",
    }
    assert found["ledger_entry_author"].tenant is None  # a superuser has no organisation
    assert referenced("x", "t") != dangling("x", "t")


def test_a_correction_of_nothing_or_of_another_organisations_entry_is_refused(
    books: dict[str, Any], make: Any
) -> None:
    post_rows(books["tenant"].pk, [row(books)])
    entry = LedgerEntry.objects.get(account=books["account"])
    refused(
        dangling(ENTRIES, "corrects_id"),
        lambda: post_rows(books["tenant"].pk, [row(books, corrects_id=10**9)]),
    )
    tenant = make.tenant()
    provider = make.provider(tenant)
    open_period(tenant, JAN)
    theirs = {
        "tenant_id": tenant.pk,
        "account_id": make.account(make.premise(make.building(tenant))).pk,
        "provider_id": provider.pk,
        "service_id": make.service(tenant, provider=provider).pk,
    }
    refused(  # an entry of another organisation is no entry of this one
        dangling(ENTRIES, "corrects_id"),
        lambda: post_rows(tenant.pk, [row(books, **theirs, corrects_id=entry.pk)]),
    )
    post_rows(books["tenant"].pk, [row(books, corrects_id=entry.pk, amount=Decimal("-1.00"))])
    assert entry.corrections.count() == 1


def test_an_author_who_does_not_exist_is_refused(books: dict[str, Any]) -> None:
    refused(
        dangling("ledger_entry_author", "created_by_id"),
        lambda: post_rows(books["tenant"].pk, [row(books, created_by_id=10**9)]),
    )


def test_a_payment_refers_to_its_organisations_account_and_its_lines_protect_it(
    books: dict[str, Any], make: Any
) -> None:
    other = make.account(make.premise(make.building(make.tenant())))
    payment = Payment(
        tenant=books["tenant"],
        source="bank",
        external_id="1",
        paid_at=timezone.now(),
        account=other,
        amount=Decimal("1.00"),
        net_amount=Decimal("1.00"),
        status=Payment.Status.POSTED,
    )
    refused(dangling("payments_payment_references", "account_id"), payment.save)
    payment.account = books["account"]
    payment.save()
    refused(
        dangling("payments_event_references", "payment_id"),
        lambda: PaymentEvent.objects.create(payment_id=10**9, kind="posted", at=timezone.now()),
    )
    registry = Registry.objects.create(
        tenant=books["tenant"],
        format_code="sberbank",
        source="bank",
        file_name="r.txt",
        sha256="0" * 64,
        size=1,
        status=Registry.Status.IMPORTED,
        imported_at=timezone.now(),
    )
    RegistryLine.objects.create(registry=registry, number=1, outcome="posted", payment=payment)

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM payments_payment WHERE id = %s", [payment.pk])

    refused(referenced("registries_line_references", "payments_payment"), delete)
    assert Payment.objects.filter(pk=payment.pk).exists()


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
