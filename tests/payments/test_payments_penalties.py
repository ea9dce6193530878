"""Penalties follow the payments in real time (spec 3.2, 6.1): posting a payment recomputes
the penalties of the open periods it changes, and only those.

The arithmetic is `tests/billing/test_billing_penalties.py`'s: 40 m² × 32.15 = 1286.00 a
month of maintenance (`housing_rf`); May 2025 is due on 10.06.2025, its penalty runs from
delay day 31, 11.07.2025, at 1/300 of the capped 9.5 % key rate. July's penalty on May,
unpaid: 1286.00 × 21 days × 0.095 / 300 = 8.55.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kvit.billing.actions import bill
from kvit.core.periods import Period
from kvit.ledger.actions import open_period
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance
from kvit.payments.actions import PaymentRecord, Result, post_payment

pytestmark = pytest.mark.django_db

MAY, JUNE, JULY = Period(2025, 5), Period(2025, 6), Period(2025, 7)
MONTHLY = Decimal("1286.00")
MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture
def tenant(make: Any) -> Any:
    """One account paying maintenance per m², billed for May, June and July 2025."""
    tenant = make.tenant()
    maintenance = make.service(
        tenant, code="maintenance", unit="m2", method="per_area", resource=""
    )
    make.tariff(maintenance, value=Decimal("32.150000"))
    provider = make.provider(tenant, name="UK Dom")
    account = make.account(make.premise(make.building(tenant), area=Decimal(40)), number="000001")
    make.account_service(account, maintenance, provider)
    for period in (MAY, JUNE, JULY):
        open_period(tenant, period.first_day)
        bill(tenant, period, today=period.end)
    return tenant


def penalties_of(tenant: Any) -> list[tuple[Any, ...]]:
    return list(
        LedgerEntry.objects.filter(tenant=tenant, rule="penalty")
        .exclude(kind=LedgerEntry.Kind.PAYMENT)
        .order_by("id")
        .values_list("period", "amount", "source_kind", "source_id")
    )


def pay(tenant: Any, amount: str, day: date, **fields: Any) -> Any:
    return post_payment(
        PaymentRecord(
            tenant.pk,
            "bank",
            f"op-{day}-{amount}",
            datetime(day.year, day.month, day.day, 12, tzinfo=MOSCOW),
            amount,
            account_number="000001",
            **fields,
        )
    )


def test_paying_an_overdue_month_corrects_the_open_periods_penalty_at_once(tenant: Any) -> None:
    july = JULY.first_day
    assert [row[:3] for row in penalties_of(tenant)] == [(july, Decimal("8.55"), "bill_run")]
    outcome = pay(tenant, "1286.00", date(2025, 7, 20))  # May, the oldest
    assert outcome.result is Result.POSTED
    # May's base is paid from 21.07: 11.07–20.07, 10 days: 1286.00 × 10 × 0.095 / 300 = 4.07
    assert penalties_of(tenant)[1:] == [
        (july, Decimal("4.07") - Decimal("8.55"), "payment", str(outcome.payment.pk))
    ]
    assert balance(tenant.account_set.get()) == 2 * MONTHLY + Decimal("4.07")
    again = bill(tenant, JULY, today=JULY.end)  # the bill run agrees: nothing more
    assert (again.entries, again.amount) == (0, 0)


def test_paying_what_is_not_overdue_yet_leaves_the_penalties_alone(tenant: Any) -> None:
    before = penalties_of(tenant)
    # June is due on 10.07 and accrues from 09.08: nothing in July changes
    outcome = pay(tenant, "1286.00", date(2025, 7, 20), period=JUNE)
    assert outcome.result is Result.POSTED
    assert penalties_of(tenant) == before
    assert LedgerEntry.objects.filter(source_kind="payment").exclude(kind="payment").count() == 0


def test_an_advance_leaves_the_penalties_alone(tenant: Any) -> None:
    before = penalties_of(tenant)
    pay(tenant, "1286.00", date(2025, 7, 20), period=JULY)  # July's own bill, not due yet
    assert penalties_of(tenant) == before
