"""An organisation billed for June 2025 (closed) and July 2025 (open), on which the real-time
tests change inputs; and the check that the ledger is then what a fresh bill run would make."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from kvit.billing.actions import bill, recalculate_accounts
from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period
from kvit.ledger.models import LedgerEntry

JUNE, JULY = Period(2025, 6), Period(2025, 7)
TARIFF = Decimal("48.950000")
NORM = Decimal("4.745000")  # m³ per person per month (spec example 16)


def water_by_norm(make: Any, tenant: Any = None, *, persons: int = 1, **service: Any) -> Any:
    """An account billed for cold water by norm per person, with `persons` registered."""
    from kvit.tariffs.models import Service

    tenant = tenant or make.tenant()
    water = Service.objects.filter(tenant=tenant, code="cold_water").first()
    if water is None:
        water = make.service(
            tenant,
            code="cold_water",
            name="Cold water",
            method="norm_per_person",
            absence_recalc_allowed=True,
            **service,
        )
        make.tariff(water, value=TARIFF)
        make.norm(water, value=NORM)
    account = make.account(make.premise(make.building(tenant)))
    make.account_service(account, water)
    for _ in range(persons):
        make.registration(account)
    return account


def water_by_meter(make: Any) -> tuple[Any, Any]:
    """An account of a new organisation billed for cold water by its meter (45.12 per m³),
    and the meter, not read yet."""
    tenant = make.tenant()
    premise = make.premise(make.building(tenant))
    account = make.account(premise)
    water = make.service(tenant, code="cold_water")
    make.tariff(water, value=Decimal("45.120000"))
    make.account_service(account, water)
    return account, make.meter(premise)


def billed(tenant: Any) -> None:
    """June billed and closed, July open and billed: as an organisation runs its months."""
    open_period(tenant, JUNE.first_day)
    bill(tenant, JUNE, today=JUNE.end)
    open_period(tenant, JULY.first_day)
    close_period(tenant, JUNE.first_day, None)
    bill(tenant, JULY, today=JULY.end)


def assert_current(tenant: Any) -> None:
    """The ledger holds what the engine makes of today's inputs for every billed period:
    rating June and July again, as a fresh bill run would, posts nothing."""
    before = LedgerEntry.objects.filter(tenant=tenant).count()
    outcomes = recalculate_accounts(
        tenant.pk, tenant.account_set.values_list("pk", flat=True), [JUNE, JULY]
    )
    assert [o.entries for o in outcomes.values()] == [0, 0], outcomes
    assert [o.skipped for o in outcomes.values()] == [[], []]
    assert bill(tenant, JULY, today=JULY.end).entries == 0
    assert LedgerEntry.objects.filter(tenant=tenant).count() == before


def entries(account: Any, **filters: Any) -> list[tuple[Any, ...]]:
    """The account's entries posted after the bill runs: (period, kind, corrects_period,
    reason, amount), in posting order."""
    return list(
        LedgerEntry.objects.filter(account=account, run_id__isnull=True, **filters)
        .order_by("pk")
        .values_list("period", "kind", "corrects_period", "reason", "amount")
    )


def day(month: int, number: int) -> date:
    return date(2025, month, number)
