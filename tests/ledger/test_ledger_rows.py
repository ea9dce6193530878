"""`post_rows`: the bill run's bulk path into the ledger, checked by the database."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kvit.ledger.actions import ENTRY_COLUMNS, close_period, open_period, post_rows
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches, cached_balance

JULY = date(2025, 7, 1)


def test_the_row_columns_are_every_column_but_the_id_and_the_creation_time() -> None:
    columns = [field.column for field in LedgerEntry._meta.concrete_fields]
    assert sorted(columns) == sorted(["id", "created_at", *ENTRY_COLUMNS])


def row(account: Any, provider: Any, amount: str, **values: Any) -> tuple[Any, ...]:
    fields: dict[str, Any] = {
        "tenant_id": account.tenant_id, "account_id": account.pk, "provider_id": provider.pk,
        "service_id": None, "period": JULY, "posted_on": date(2025, 7, 31), "kind": "charge",
        "amount": Decimal(amount), "quantity": Decimal("1.5"), "unit": "m3",
        "tariff": Decimal("2.000000"), "rule": "metered", "zone": "", "tier": 0,
        "span_from": JULY, "span_to": date(2025, 8, 1), "explanation": json.dumps({"rule": "x"}),
        "corrects_id": None, "corrects_period": None, "reason": "", "source_kind": "bill_run",
        "source_id": "1", "run_id": 1, "created_by_id": None, **values,
    }  # fmt: skip
    return tuple(fields[column] for column in ENTRY_COLUMNS)


@pytest.mark.django_db
def test_rows_are_posted_and_the_cached_balances_follow(make: Any) -> None:
    account = make.account(make.premise(make.building(make.tenant())))
    provider = make.provider(account.tenant)
    open_period(account.tenant, JULY)
    post_rows(account.tenant_id, [row(account, provider, "3.00"), row(account, provider, "-1.25")])
    post_rows(account.tenant_id, [row(account, provider, "10.00")])
    assert balance(account) == cached_balance(account) == Decimal("11.75")
    assert balance_mismatches() == []
    entry = LedgerEntry.objects.filter(account=account).order_by("id").first()
    assert entry is not None and entry.explanation == {"rule": "x"} and entry.created_at


@pytest.mark.django_db
def test_a_closed_or_unopened_period_is_refused_and_nothing_is_posted(make: Any) -> None:
    account = make.account(make.premise(make.building(make.tenant())))
    provider = make.provider(account.tenant)
    with pytest.raises(ValidationError, match="not open"):
        post_rows(account.tenant_id, [row(account, provider, "3.00")])
    open_period(account.tenant, JULY)
    close_period(account.tenant, JULY, make.user(account.tenant))
    with pytest.raises(ValidationError, match="closed"):
        post_rows(account.tenant_id, [row(account, provider, "3.00")])
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_the_database_checks_what_is_not_validated_row_by_row(make: Any) -> None:
    account = make.account(make.premise(make.building(make.tenant())))
    provider = make.provider(account.tenant)
    open_period(account.tenant, JULY)
    with pytest.raises(IntegrityError), transaction.atomic():
        post_rows(account.tenant_id, [row(account, provider, "3.00", span_to=JULY)])
    assert not LedgerEntry.objects.exists()
