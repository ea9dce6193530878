"""Penalties in the bill run (`kvit.billing.penalties`, hooked into `recompute`): the penalty
of a later period on an obligation left unpaid, posted once, corrected by a payment recorded
later (and by its reversal), suppressed by a moratorium; the key and the queries.

The arithmetic (spec 3.2, 3.3 `housing_rf`, section 10 defaults): 40 m² × 32.15 = 1286.00 a
month; May 2025 is due on 10.06.2025 (`due_day` 10, not moved off weekends); delay day 31 —
the first with a penalty after `penalty_grace_days` 30 — is 11.07.2025, 1/300 up to day 90
(`penalty_switch_day`). The `key_rate` parameter's default on the calculation date 31.07.2025
is 18 % (from 28.07.2025), capped by `penalty_rate_cap` (min(9.5 %, key rate) from
2022-08-01 to 2026-12-31) at 9.5 %. No moratorium covers 2025.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kvit.billing import penalties
from kvit.billing.actions import bill, recalculate
from kvit.billing.mapping import Catalogue, fetch
from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period, post_entries, reverse_entry
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance

MAY, JUNE, JULY, AUGUST = Period(2025, 5), Period(2025, 6), Period(2025, 7), Period(2025, 8)
MONTHLY = Decimal("1286.00")  # 40 m² × 32.15
# 11.07-31.07 (delay days 31-51): 1286.00 × 21 × 0.095 / 300 = 8.55190 → 8.55
JULY_PENALTY = Decimal("8.55")


def housing(make: Any, *, scheme: str = "housing_rf", due_day: int | None = None) -> Any:
    """One account paying maintenance per m², billed for May and June 2025."""
    tenant = make.tenant()
    maintenance = make.service(
        tenant,
        code="maintenance",
        name="Maintenance",
        unit="m2",
        method="per_area",
        resource="",
        penalty_scheme=scheme,
    )
    make.tariff(maintenance, value=Decimal("32.150000"))
    provider = make.provider(tenant, name="UK Dom")
    building = make.building(tenant, due_day=due_day)
    account = make.account(make.premise(building, area=Decimal(40)), number="000001")
    make.account_service(account, maintenance, provider)
    for period in (MAY, JUNE):
        open_period(tenant, period.first_day)
        bill(tenant, period, today=period.end)
    return tenant


def bill_period(tenant: Any, period: Period) -> Any:
    open_period(tenant, period.first_day)
    return bill(tenant, period, today=period.end)


def penalties_of(tenant: Any) -> list[tuple[Any, ...]]:
    return list(
        LedgerEntry.objects.filter(tenant=tenant, rule="penalty")
        .exclude(kind=LedgerEntry.Kind.PAYMENT)
        .order_by("id")
        .values_list("period", "kind", "amount", "corrects_period")
    )


def pay(tenant: Any, amount: str, on: date, period: Period = MAY, **fields: Any) -> Any:
    """A payment of the principal of `period` as `kvit.payments` posts it: negative, rule
    `principal`, dated by `posted_on`; `into` another (open) period than `period`."""
    into = fields.pop("into", period)
    fields = {
        "provider": tenant.provider_set.get(),
        "service": tenant.service_set.get(),
        "rule": "principal",
        **fields,
    }
    entry = LedgerEntry(
        tenant=tenant,
        account=tenant.account_set.get(),
        period=into.first_day,
        posted_on=on,
        kind=LedgerEntry.Kind.PAYMENT,
        amount=-Decimal(amount),
        **fields,
    )
    return post_entries([entry])[0]


@pytest.mark.django_db
class TestAccrual:
    def test_an_unpaid_month_accrues_after_the_grace_days_and_posts_once(self, make: Any) -> None:
        tenant = housing(make)
        assert penalties_of(tenant) == []  # June: May's grace days run to 10.07
        summary = bill_period(tenant, JULY)
        assert penalties_of(tenant) == [(JULY.first_day, "penalty", JULY_PENALTY, None)]
        assert summary.entries == 2  # July's charge and the penalty
        entry = LedgerEntry.objects.get(kind="penalty")
        assert (entry.service.code, entry.zone, entry.tier, entry.quantity, entry.tariff) == (
            "maintenance",
            "",
            0,
            Decimal(0),
            Decimal(0),
        )
        assert (entry.span_from, entry.span_to) == (date(2025, 7, 1), date(2025, 8, 1))
        values = entry.explanation["values"]
        assert entry.explanation["rule"] == "penalty"
        assert (values["rows"], values["period_1"], values["due_1"]) == (1, "2025-05", "2025-06-10")
        assert (values["from_1"], values["to_1"], values["delay_1"]) == (
            "2025-07-11",
            "2025-07-31",
            31,
        )
        assert (values["base_1"], values["rate_1"], values["fraction_1"]) == (
            "1286.00",
            "0.095",
            "1/300",
        )
        again = bill(tenant, JULY, today=JULY.end)
        assert (again.entries, again.amount) == (0, 0)
        assert balance(tenant.account_set.get()) == 3 * MONTHLY + JULY_PENALTY

    def test_every_overdue_month_however_old(self, make: Any) -> None:
        tenant = housing(make)
        bill_period(tenant, JULY)
        bill_period(tenant, AUGUST)
        # May, 01.08-31.08 (days 52-82): 1286.00 × 31 × 0.095 / 300 = 12.62413 → 12.62;
        # June, due 10.07, 09.08-31.08 (days 30-52: from day 31 on 10.08): 1286.00 × 22 ×
        # 0.095 / 300 = 8.95913 → 8.96; the July penalty is no principal (none on penalties)
        august = LedgerEntry.objects.get(kind="penalty", period=AUGUST.first_day)
        assert august.amount == Decimal("12.62") + Decimal("8.96")
        values = august.explanation["values"]
        assert [values[f"period_{k}"] for k in (1, 2)] == ["2025-05", "2025-06"]
        assert values["from_2"] == "2025-08-10"

    def test_a_building_s_own_due_day_and_a_service_without_penalties(self, make: Any) -> None:
        # due 25.06 (before 2026-03 a building may move it): day 31 is 26.07, 6 days in July:
        # 1286.00 × 6 × 0.095 / 300 = 2.4434 → 2.44
        tenant = housing(make, due_day=25)
        bill_period(tenant, JULY)
        assert penalties_of(tenant) == [(JULY.first_day, "penalty", Decimal("2.44"), None)]
        untouched = housing(make, scheme="none")
        bill_period(untouched, JULY)
        assert penalties_of(untouched) == []

    def test_a_moratorium_window_suppresses_it(self, make: Any) -> None:
        tenant = housing(make)
        make.parameter(
            tenant,
            name="penalty_moratoria",
            value='[{"from": "2025-07-01", "to": "2025-08-31"}]',
        )
        bill_period(tenant, JULY)
        assert penalties_of(tenant) == []

    def test_a_moratorium_set_later_reverses_what_was_posted(self, make: Any) -> None:
        tenant = housing(make)
        bill_period(tenant, JULY)
        make.parameter(
            tenant, name="penalty_moratoria", value='[{"from": "2025-07-01", "to": "2025-07-31"}]'
        )
        again = bill(tenant, JULY, today=JULY.end)
        assert (again.entries, again.amount) == (1, -JULY_PENALTY)
        assert sum(amount for _p, _k, amount, _c in penalties_of(tenant)) == 0


@pytest.mark.django_db
class TestPayments:
    def test_a_payment_recorded_later_reduces_the_penalty_by_a_correction(self, make: Any) -> None:
        tenant = housing(make)
        bill_period(tenant, JULY)
        pay(tenant, "1286.00", on=date(2025, 7, 20))
        # The payment day still accrues (payment_day_counts_old_balance): 11.07-20.07,
        # 1286.00 × 10 × 0.095 / 300 = 4.07233 → 4.07; the correction 4.07 − 8.55 = −4.48
        again = bill(tenant, JULY, today=JULY.end)
        assert (again.entries, again.amount) == (1, Decimal("-4.48"))
        assert penalties_of(tenant)[-1] == (JULY.first_day, "penalty", Decimal("-4.48"), None)
        assert bill(tenant, JULY, today=JULY.end).entries == 0

    def test_a_partial_payment_and_a_reversal_of_it(self, make: Any) -> None:
        tenant = housing(make)
        payment = pay(tenant, "286.00", on=date(2025, 6, 30))  # before the grace days ended
        bill_period(tenant, JULY)
        # 1000.00 × 21 × 0.095 / 300 = 6.65
        assert penalties_of(tenant) == [(JULY.first_day, "penalty", Decimal("6.65"), None)]
        reverse_entry(payment, make.user(tenant), "bank recall", posted_on=date(2025, 7, 25))
        again = bill(tenant, JULY, today=JULY.end)  # the reversal undoes it from 30.06
        assert (again.entries, again.amount) == (1, JULY_PENALTY - Decimal("6.65"))

    def test_an_advance_and_a_penalty_payment_lower_no_principal(self, make: Any) -> None:
        tenant = housing(make)
        pay(tenant, "500.00", on=date(2025, 6, 30), rule="penalty")  # settled a penalty
        pay(tenant, "500.00", on=date(2025, 6, 30), service=None, rule="advance")
        bill_period(tenant, JULY)
        assert penalties_of(tenant) == [(JULY.first_day, "penalty", JULY_PENALTY, None)]

    def test_a_contract_limit_counts_the_payments_by_day(self, make: Any) -> None:
        """contract_uz: 0.4 % a day from day 1, at most `penalty_uz_total_cap_share` (here
        0.1) of the base on day 1. May: 1286.00 on 11.06 → limit 128.60; 11.06-20.06
        1286.00 × 10 × 0.004 = 51.44, 21.06-30.06 1000.00 × 10 × 0.004 = 40.00, July
        1000.00 × 31 × 0.004 = 124.00 → what is left of the limit, 128.60 − 91.44 = 37.16.
        June (due 10.07): 11.07-31.07 1286.00 × 21 × 0.004 = 108.024 → 108.02."""
        tenant = housing(make, scheme="contract_uz")
        make.parameter(tenant, name="penalty_uz_total_cap_share", value="0.1")
        pay(tenant, "286.00", on=date(2025, 6, 20))
        bill_period(tenant, JULY)
        july = LedgerEntry.objects.get(kind="penalty", period=JULY.first_day)
        assert july.amount == Decimal("37.16") + Decimal("108.02")
        assert july.explanation["values"]["limit_1"] == "128.60"

    def test_a_closed_period_is_corrected_in_the_open_one(self, make: Any) -> None:
        tenant = housing(make)
        bill_period(tenant, JULY)
        open_period(tenant, AUGUST.first_day)
        user = make.user(tenant)
        for period in (MAY, JUNE, JULY):
            close_period(tenant, period.first_day, user)
        # paid on 20.07 but recorded in August: for May's obligation (the corrected period)
        pay(tenant, "1286.00", on=date(2025, 7, 20), into=AUGUST, corrects_period=MAY.first_day)
        account = tenant.account_set.get()
        (outcome,) = recalculate(account, [JULY], reason="recalculated")
        assert (outcome.entries, outcome.amount) == (1, Decimal("-4.48"))
        assert penalties_of(tenant)[-1] == (
            AUGUST.first_day,
            "recalculation",
            Decimal("-4.48"),
            JULY.first_day,
        )
        assert recalculate(account, [JULY])[0].entries == 0
        # August: May paid; June 10.08-31.08 = 8.96, the July correction is no principal
        bill(tenant, AUGUST, today=AUGUST.end)
        august = LedgerEntry.objects.get(kind="penalty", period=AUGUST.first_day)
        assert august.amount == Decimal("8.96")


@pytest.mark.django_db
def test_one_query_without_obligations_three_with_them(
    make: Any, django_assert_num_queries: Any
) -> None:
    """The ledger in one query for the chunk; the parameters and the buildings' due days
    only once some obligation exists."""
    tenant = housing(make)
    account_ids = list(tenant.account_set.values_list("pk", flat=True))
    found = {}
    for period, queries in ((MAY, 1), (JUNE, 3), (JULY, 3)):
        catalogue = Catalogue.load(tenant.pk, period)
        chunk = fetch(catalogue, account_ids)
        with django_assert_num_queries(queries):
            found[period] = penalties.accrue(catalogue, chunk)
    assert found[MAY] == found[JUNE] == {}  # nothing before May; May not overdue in June
    (accrual,) = found[JULY].values()
    assert [line.amount for line in accrual.lines] == [JULY_PENALTY]
