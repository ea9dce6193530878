"""The debt ageing (spec 5.4's companion report): the debt by period of origin, the
negative nets settling the oldest debts first per provider, checked against a plain Python
settling of the entries and against the ledger's balances."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reports_world import (
    FIRST_DAY,
    PERIODS,
    World,
    days,
    drawn_operations,
    months_back,
    post_operations,
    rolled_back,
)

from kvit.ledger.actions import post_entries
from kvit.ledger.models import LedgerEntry
from kvit.ledger.queries import balance
from kvit.reports.ageing import BUCKETS, AgeingRow, AgeingTotal, bucket_starts, debt_ageing

pytestmark = pytest.mark.django_db

ZERO = Decimal("0.00")
LIMITS = (1, 3, 6, 12, 36)


def bucket(period: date, as_of: date) -> int:
    age = (as_of.year - period.year) * 12 + as_of.month - period.month
    return next((index for index, limit in enumerate(LIMITS) if age <= limit), len(LIMITS))


def expected_ageing(
    world: World, as_of: date, provider: Any = None
) -> dict[int, tuple[tuple[Decimal, ...], Decimal]]:
    """(buckets, advance) per account id: nets per provider and obligation period, the
    negative ones settling the positive ones oldest first."""
    nets: dict[tuple[int, int], dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    entries = LedgerEntry.objects.filter(tenant=world.tenant, posted_on__lte=as_of)
    if provider is not None:
        entries = entries.filter(provider=provider)
    for entry in entries:
        nets[(entry.account_id, entry.provider_id)][entry.obligation_period] += entry.amount
    found: dict[int, tuple[list[Decimal], Decimal]] = {}
    for (account, _provider), by_period in nets.items():
        buckets, advance = found.setdefault(account, ([ZERO] * len(BUCKETS), ZERO))
        credit = -sum((net for net in by_period.values() if net < 0), ZERO)
        for period in sorted(by_period):
            net = by_period[period]
            if net <= 0:
                continue
            settled = min(net, credit)
            credit -= settled
            buckets[bucket(period, as_of)] += net - settled
        found[account] = (buckets, advance + credit)
    return {
        account: (tuple(buckets), advance)
        for account, (buckets, advance) in found.items()
        if advance or any(buckets)
    }


def test_the_ageing_agrees_with_the_ledger_on_any_postings(world: World) -> None:
    @settings(max_examples=25, deadline=None)
    # Besides the drawn operations, debts of several periods on one account and provider
    # and a credit that settles part of them (posted on the first day).
    @given(
        debts=st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0, 0, 2, 13, 40]),
                                 st.integers(1, 100_000)), min_size=2, max_size=5),
        credit=st.integers(1, 300_000),
        drawn=drawn_operations(accounts=2),
        as_of=days,
        one_provider=st.booleans(),
    )  # fmt: skip
    def check(
        debts: list[tuple[int, int, int]],
        credit: int,
        drawn: list[Any],
        as_of: date,
        one_provider: bool,
    ) -> None:
        with rolled_back():
            for period, back, cents in debts:
                post(
                    world,
                    period=PERIODS[period],
                    corrects_period=months_back(PERIODS[period], back) if back else None,
                    posted_on=FIRST_DAY,
                    amount=Decimal(cents) / 100,
                )
            post(world, posted_on=FIRST_DAY, kind="payment", amount=Decimal(-credit) / 100)
            post_operations(world, drawn)
            provider = world.providers[0] if one_provider else None
            lines = list(debt_ageing(world.tenant, as_of, provider=provider))
            rows = [line for line in lines if isinstance(line, AgeingRow)]
            assert {row.account_id: (row.buckets, row.advance) for row in rows} == (
                expected_ageing(world, as_of, provider)
            )
            accounts = {account.pk: account for account in world.accounts}
            for row in rows:
                assert all(amount > 0 for amount in row.buckets if amount)
                assert row.advance >= 0
                assert row.balance == balance(accounts[row.account_id], as_of, provider)
            total = lines[-1]
            assert isinstance(total, AgeingTotal)
            assert total.rows == len(rows)
            assert total.buckets == tuple(
                sum((row.buckets[index] for row in rows), ZERO) for index in range(len(BUCKETS))
            )
            assert total.advance == sum((row.advance for row in rows), ZERO)
            if provider is None:
                assert total.balance == sum(
                    (balance(account, as_of) for account in world.accounts), ZERO
                )
            assert [row.account for row in rows] == sorted(row.account for row in rows)

    check()


def post(world: World, **fields: Any) -> LedgerEntry:
    fields = {
        "tenant": world.tenant,
        "account": world.accounts[0],
        "provider": world.providers[0],
        "service": world.services[0],
        "period": date(2024, 4, 1),
        "posted_on": date(2024, 4, 10),
        "kind": "charge",
        **fields,
    }
    (entry,) = post_entries([LedgerEntry(**fields)])
    return entry


def only_row(world: World, as_of: date) -> AgeingRow:
    lines = list(debt_ageing(world.tenant, as_of))
    rows = [line for line in lines if isinstance(line, AgeingRow)]
    assert len(rows) == 1
    return rows[0]


def test_each_bucket_includes_its_upper_bound(world: World) -> None:
    # Debts of these periods, as of 15 April 2024: age in months → bucket.
    ages = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 6: 2, 7: 3, 12: 3, 13: 4, 36: 4, 37: 5}
    for age in ages:
        index = 2024 * 12 + 3 - age
        period = date(index // 12, index % 12 + 1, 1)
        post(
            world,
            amount=Decimal(10**age % 9973) / 100 + 1,
            corrects_period=period if period < date(2024, 4, 1) else None,
        )
    row = only_row(world, date(2024, 4, 15))
    expected = [ZERO] * len(BUCKETS)
    for age, index in ages.items():
        expected[index] += Decimal(10**age % 9973) / 100 + 1
    assert row.buckets == tuple(expected)
    assert row.advance == ZERO
    assert bucket_starts(date(2024, 4, 15)) == (
        date(2024, 3, 1),
        date(2024, 1, 1),
        date(2023, 10, 1),
        date(2023, 4, 1),
        date(2021, 4, 1),
    )


def test_credits_settle_the_oldest_debt_first(world: World) -> None:
    day = date(2024, 3, 20)
    for month in (1, 2, 3):
        post(world, period=date(2024, month, 1), posted_on=day, amount=Decimal("100.00"))
    # A payment left as an advance in March (no period named): March's net is −50.
    post(world, period=date(2024, 3, 1), posted_on=day, kind="payment", amount=Decimal("-150"))
    row = only_row(world, date(2024, 3, 31))
    assert row.buckets == (Decimal("100.00"), Decimal("50.00"), ZERO, ZERO, ZERO, ZERO)
    assert (row.advance, row.balance) == (ZERO, Decimal("150.00"))


def test_a_payment_for_a_named_period_settles_that_period(world: World) -> None:
    day = date(2024, 3, 20)
    post(world, period=date(2024, 1, 1), posted_on=day, amount=Decimal("100.00"))
    post(world, period=date(2024, 3, 1), posted_on=day, amount=Decimal("100.00"))
    post(
        world,
        period=date(2024, 3, 1),
        posted_on=day,
        corrects_period=date(2024, 1, 1),
        kind="payment",
        amount=Decimal("-100.00"),
    )
    row = only_row(world, date(2024, 3, 31))
    assert row.buckets == (Decimal("100.00"), ZERO, ZERO, ZERO, ZERO, ZERO)


def test_an_advance_stays_with_its_provider(world: World) -> None:
    post(world, amount=Decimal("100.00"))
    post(world, provider=world.providers[1], kind="payment", amount=Decimal("-130.00"))
    row = only_row(world, date(2024, 4, 30))
    assert row.buckets == (Decimal("100.00"), ZERO, ZERO, ZERO, ZERO, ZERO)
    assert (row.advance, row.balance) == (Decimal("130.00"), Decimal("-30.00"))


def test_entries_posted_after_the_date_do_not_count(world: World) -> None:
    post(world, posted_on=date(2024, 4, 10), amount=Decimal("100.00"))
    post(world, posted_on=date(2024, 4, 20), kind="payment", amount=Decimal("-100.00"))
    assert only_row(world, date(2024, 4, 15)).buckets[0] == Decimal("100.00")
    assert list(debt_ageing(world.tenant, date(2024, 4, 20))) == [
        AgeingTotal(rows=0, buckets=(ZERO,) * len(BUCKETS), advance=ZERO)
    ]
