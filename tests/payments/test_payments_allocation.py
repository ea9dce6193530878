"""A payment story end to end: an account billed for two months by the bill run, a partial
payment, then an overpayment (spec 3.4, example 21's rules). Every number is worked out by
hand below."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from payment_desk import at

from kvit.billing.actions import bill
from kvit.core.periods import Period
from kvit.ledger.actions import open_period, post_entries
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance, balance_mismatches
from kvit.payments.actions import PaymentRecord, Result, post_payment

pytestmark = pytest.mark.django_db

JULY, AUGUST = Period(2025, 7), Period(2025, 8)


def billed_for_two_months(make: Any) -> Any:
    """Maintenance 40 m² × 32.15 = 1286.00 a month; cold water 5 m³ in July and 3 m³ in
    August × 45.12 = 225.60 and 135.36; one provider. No penalty scheme: the one penalty of
    the story is posted by hand (50.00 on July's maintenance), so the numbers stay the
    engine's and this test's."""
    tenant = make.tenant()
    quiet = {"penalty_scheme": "none"}
    maintenance = make.service(
        tenant,
        code="maintenance",
        name="Maintenance",
        unit="m2",
        method="per_area",
        resource="",
        **quiet,
    )
    make.tariff(maintenance, value=Decimal("32.150000"))
    water = make.service(tenant, code="cold_water", name="Cold water", **quiet)
    make.tariff(water, value=Decimal("45.120000"))
    provider = make.provider(tenant, name="Vodokanal")
    premise = make.premise(make.building(tenant), area=Decimal(40))
    account = make.account(premise, number="000001")
    make.account_service(account, maintenance, provider)
    make.account_service(account, water, provider)
    meter = make.meter(premise)
    for day, value in (
        (date(2025, 6, 20), 100),
        (date(2025, 7, 20), 105),
        (date(2025, 8, 20), 108),
    ):
        make.reading(meter, taken_on=day, value=Decimal(value))
    open_period(tenant, JULY.first_day)
    bill(tenant, JULY, today=date(2025, 8, 5))
    open_period(tenant, AUGUST.first_day)
    bill(tenant, AUGUST, today=date(2025, 9, 1))
    post_entries(
        [
            LedgerEntry(
                tenant=tenant,
                account=account,
                provider=provider,
                service=maintenance,
                period=JULY.first_day,
                posted_on=date(2025, 7, 31),
                kind="penalty",
                rule="penalty",
                amount=Decimal("50.00"),
            )
        ]
    )
    return account


def paid(account: Any, amount: str, day: date, number: str) -> list[tuple[Any, ...]]:
    outcome = post_payment(
        PaymentRecord(
            tenant_id=account.tenant_id,
            source="sber",
            external_id=number,
            paid_at=at(day),
            amount=Decimal(amount),
            account_number=account.number,
        )
    )
    assert outcome.result is Result.POSTED
    return sorted(
        LedgerEntry.objects.filter(source_id=str(outcome.payment.pk), kind="payment").values_list(
            "period", "service__code", "rule", "amount"
        ),
        key=lambda row: (row[0], row[1] or "", row[2]),
    )


def test_oldest_first_then_proportional_then_penalties_then_an_advance(make: Any) -> None:
    account = billed_for_two_months(make)
    charges = LedgerEntry.objects.filter(kind="charge").values_list("period", "amount")
    assert sorted(charges) == [
        (JULY.first_day, Decimal("225.60")),
        (JULY.first_day, Decimal("1286.00")),
        (AUGUST.first_day, Decimal("135.36")),
        (AUGUST.first_day, Decimal("1286.00")),
    ]
    assert balance(account) == Decimal("2982.96")  # 1511.60 + 1421.36 + 50.00

    # 2000.00 on 25 August: July's principal, 1511.60, is settled in full; the 488.40 left
    # is split over August's principal in proportion to what was billed, 1286.00 : 135.36
    # (of 1421.36): exactly 441.888… and 46.511…; the floors 441.88 + 46.51 leave one
    # kopeck, which goes to the larger remainder (maintenance, .0083 against .0017).
    # The penalty waits: principal first.
    assert paid(account, "2000.00", date(2025, 8, 25), "op-1") == [
        (JULY.first_day, "cold_water", "principal", Decimal("-225.60")),
        (JULY.first_day, "maintenance", "principal", Decimal("-1286.00")),
        (AUGUST.first_day, "cold_water", "principal", Decimal("-46.51")),
        (AUGUST.first_day, "maintenance", "principal", Decimal("-441.89")),
    ]
    assert balance(account) == Decimal("982.96")

    # 1000.00 on 28 August: August's rest (844.11 + 88.85 = 932.96), then the penalty,
    # 50.00; the 17.04 left is an advance with the provider, in the open period.
    assert paid(account, "1000.00", date(2025, 8, 28), "op-2") == [
        (JULY.first_day, "maintenance", "penalty", Decimal("-50.00")),
        (AUGUST.first_day, None, "advance", Decimal("-17.04")),
        (AUGUST.first_day, "cold_water", "principal", Decimal("-88.85")),
        (AUGUST.first_day, "maintenance", "principal", Decimal("-844.11")),
    ]
    assert balance(account) == Decimal("-17.04")
    assert balance_mismatches(account.tenant) == []
    # The real-time recalculation of August ran twice and found nothing to post.
    assert LedgerEntry.objects.exclude(kind="payment").count() == 5
