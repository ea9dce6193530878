"""Balances are sums of entries; posted lines are what recompute-and-diff compares with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from ledger_books import FEB, JAN, MAR, Books

from kvit.core.codes import LineKind, Rule, Unit
from kvit.core.dating import DateRange
from kvit.core.inputs import PostedLine
from kvit.core.lines import ChargeLine, Explanation
from kvit.core.periods import Period
from kvit.ledger.actions import close_period, open_period, reverse_entry
from kvit.ledger.queries import (
    balance,
    balances_by_provider_service,
    cached_balance,
    posted_house_volumes,
    posted_lines,
)

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def history(books: Books) -> Books:
    """January: water 100 + heat 40, paid 90 on 10 February (into February)."""
    open_period(books.tenant, FEB)
    books.post(amount=D("100.00"), posted_on=date(2024, 1, 31))
    books.post(
        provider=books.heat,
        service=books.heat_service,
        amount=D("40.00"),
        posted_on=date(2024, 1, 31),
    )
    books.post(
        kind="payment", service=None, period=FEB, amount=D("-90.00"), posted_on=date(2024, 2, 10)
    )
    return books


def test_the_balance_is_the_sum_of_the_entries(history: Books) -> None:
    assert balance(history.account) == D("50.00")
    assert cached_balance(history.account) == D("50.00")


def test_the_balance_on_a_date_counts_what_was_posted_by_then(history: Books) -> None:
    assert balance(history.account, as_of=date(2024, 1, 30)) == D("0.00")
    assert balance(history.account, as_of=date(2024, 1, 31)) == D("140.00")
    assert balance(history.account, as_of=date(2024, 2, 10)) == D("50.00")


def test_the_balance_of_one_provider_or_service(history: Books) -> None:
    assert balance(history.account, provider=history.water) == D("10.00")
    assert balance(history.account, provider=history.heat) == D("40.00")
    assert balance(history.account, service=history.water_service) == D("100.00")
    assert cached_balance(history.account, provider=history.water) == D("10.00")
    assert cached_balance(history.account, service=history.heat_service) == D("40.00")


def test_an_account_without_entries_has_a_zero_balance(make: Any, books: Books) -> None:
    empty = make.account(make.premise(make.building(books.tenant)))
    assert balance(empty) == cached_balance(empty) == D("0.00")
    assert balances_by_provider_service(empty) == {}


def test_balances_by_provider_and_service(history: Books) -> None:
    assert balances_by_provider_service(history.account) == {
        (history.water.pk, history.water_service.pk): D("100.00"),
        (history.heat.pk, history.heat_service.pk): D("40.00"),
        (history.water.pk, None): D("-90.00"),
    }
    assert balances_by_provider_service(history.account, as_of=date(2024, 1, 31)) == {
        (history.water.pk, history.water_service.pk): D("100.00"),
        (history.heat.pk, history.heat_service.pk): D("40.00"),
    }


def test_each_query_is_one_query(history: Books, django_assert_num_queries: Any) -> None:
    for query in (balance, balances_by_provider_service, cached_balance):
        with django_assert_num_queries(1):
            query(history.account)
    with django_assert_num_queries(1):
        posted_lines(history.account, JAN)


def test_another_accounts_entries_do_not_count(make: Any, history: Books) -> None:
    other = make.account(make.premise(make.building(history.tenant)))
    history.post(account=other, amount=D("999.00"))
    assert balance(history.account) == D("50.00")
    assert posted_lines(other, JAN)[0].amount == D("999.00")
    assert len(posted_lines(history.account, JAN)) == 2


# --- posted lines ---------------------------------------------------------------------------


def metered(books: Books, **fields: Any) -> dict[str, Any]:
    return {
        "rule": "metered",
        "zone": "total",
        "quantity": D("3.000000"),
        "unit": "m3",
        "tariff": D("33.333333"),
        "span_from": JAN,
        "span_to": FEB,
        **fields,
    }


def test_posted_lines_are_net_per_key(history: Books) -> None:
    books = history
    first = books.post(**metered(books, amount=D("60.00")))
    books.post(**metered(books, amount=D("40.00"), quantity=D("2")))
    books.post(**metered(books, zone="night", amount=D("5.00"), quantity=D("1")))
    lines = posted_lines(books.account, Period(2024, 1))
    water = str(books.water.pk)
    assert lines == (
        PostedLine(
            provider=water,
            service=books.water_service.code,
            period=Period(2024, 1),
            kind=LineKind.CHARGE,
            amount=D("100.00"),
            quantity=D("0"),
            entry=lines[0].entry,
        ),
        PostedLine(
            provider=water,
            service=books.water_service.code,
            period=Period(2024, 1),
            kind=LineKind.CHARGE,
            amount=D("5.00"),
            quantity=D("1.000000"),
            rule="metered",
            zone="night",
            span_from=JAN,
            span_to=FEB,
            entry=lines[1].entry,
        ),
        PostedLine(
            provider=water,
            service=books.water_service.code,
            period=Period(2024, 1),
            kind=LineKind.CHARGE,
            amount=D("100.00"),
            quantity=D("5.000000"),
            rule="metered",
            zone="total",
            span_from=JAN,
            span_to=FEB,
            entry=str(first.pk),
        ),
        PostedLine(
            provider=str(books.heat.pk),
            service=books.heat_service.code,
            period=Period(2024, 1),
            kind=LineKind.CHARGE,
            amount=D("40.00"),
            quantity=D("0"),
            entry=lines[3].entry,
        ),
    )
    assert [line.amount for line in posted_lines(books.account, date(2024, 1, 1))] == [
        line.amount for line in lines
    ]


def test_payments_and_other_periods_are_not_posted_lines(history: Books) -> None:
    assert posted_lines(history.account, FEB) == ()
    assert posted_lines(history.account, MAR) == ()


def test_a_reversed_line_nets_to_zero(history: Books) -> None:
    books = history
    charge = books.post(**metered(books, amount=D("60.00")))
    reverse_entry(charge, books.user, "wrong meter")
    (line,) = [line for line in posted_lines(books.account, JAN) if line.rule == "metered"]
    assert (line.kind, line.amount, line.quantity) == (LineKind.CHARGE, D("0.00"), D("0"))
    assert line.entry == str(charge.pk)


def test_a_correction_of_a_closed_period_counts_for_that_period(history: Books) -> None:
    books = history
    charge = books.post(**metered(books, amount=D("60.00")))
    close_period(books.tenant, JAN, books.user)
    reverse_entry(charge, books.user, "wrong meter")  # into February, for January
    books.post(  # the recomputed January line, posted in February
        **metered(books, amount=D("45.00"), quantity=D("2.25")),
        period=FEB,
        corrects_period=JAN,
        corrects=charge,
    )
    (line,) = [line for line in posted_lines(books.account, JAN) if line.rule == "metered"]
    assert (line.amount, line.quantity) == (D("45.00"), D("2.250000"))
    assert posted_lines(books.account, FEB) == ()
    assert balance(books.account) == D("95.00")


def test_the_engines_own_recalculation_lines_belong_to_their_period(history: Books) -> None:
    books = history
    books.post(period=FEB, kind="recalculation", rule="true_up", amount=D("-12.00"))
    (line,) = posted_lines(books.account, FEB)
    assert (line.kind, line.rule, line.amount) == (LineKind.RECALCULATION, "true_up", D("-12.00"))


def test_a_posted_line_pairs_with_the_engines_line_by_key(history: Books) -> None:
    """`PostedLine` and `ChargeLine.key` name a line by the same fields (recompute-and-diff)."""
    books = history
    books.post(**metered(books, amount=D("100.00")))
    proposed = ChargeLine(
        account=books.account.number,
        provider=str(books.water.pk),
        service=books.water_service.code,
        period=Period(2024, 1),
        kind=LineKind.CHARGE,
        quantity=D(3),
        unit=Unit.M3,
        tariff=D("33.333333"),
        amount=D("100.00"),
        explanation=Explanation(Rule.METERED),
        span=DateRange(JAN, FEB),
        zone="total",
    )
    keys = {
        (p.provider, p.service, p.period, p.kind, p.rule, p.zone, p.tier, p.span_from, p.span_to)
        for p in posted_lines(books.account, JAN)
    }
    assert proposed.key in keys


# --- the volumes a house balance reads of the premises it does not rate --------------------


def test_house_volumes_count_each_premise_s_own_volume_as_posted(
    history: Books, make: Any, django_assert_num_queries: Any
) -> None:
    """Per building, premise kind and service: charges and recalculations of the period's
    days, a correction of the closed period for it and a reversal as what it reverses; not
    the rules left out, not a true-up of earlier days, not an account left out."""
    books = history
    charge = books.post(**metered(books, amount=D("60.00"), quantity=D("5")))
    books.post(**metered(books, amount=D("9.00"), quantity=D("1.5"), rule="norm_coefficient"))
    december = {"span_from": date(2023, 12, 1), "span_to": JAN}
    books.post(  # a true-up of December, posted in January: not January's volume
        **metered(books, amount=D("4.00"), quantity=D("0.5"), kind="recalculation", **december)
    )
    neighbour = make.account(make.premise(books.account.premise.building))
    books.post(**metered(books, amount=D("20.00"), quantity=D("1")), account=neighbour)
    close_period(books.tenant, JAN, books.user)
    reverse_entry(charge, books.user, "wrong meter")  # into February, for January
    books.post(
        **metered(books, amount=D("45.00"), quantity=D("2.25")),
        period=FEB,
        corrects_period=JAN,
        corrects=charge,
    )
    water = books.water_service.pk
    rules = ["norm_coefficient"]
    building, kind = books.account.premise.building_id, books.account.premise.kind

    def volumes(*excluding: Any) -> list[tuple[int, str, int, Decimal]]:
        return posted_house_volumes(Period(2024, 1), [building], excluding, rules)

    assert volumes(neighbour.pk) == [(building, kind, water, D("2.250000"))]
    assert volumes(books.account.pk) == [(building, kind, water, D("1.000000"))]
    assert volumes() == [(building, kind, water, D("3.250000"))]
    with django_assert_num_queries(1):  # the building's accounts; every one rated: no more
        assert volumes(books.account.pk, neighbour.pk) == []
    other = make.building(books.tenant)
    assert posted_house_volumes(Period(2024, 1), [other.pk], [], rules) == []
