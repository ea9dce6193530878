"""kvit.core.allocation: the order of settlement of spec 3.4 (example 21), explicit splits,
named periods, penalties, time-barred periods, advances, several providers, reversal
(spec 6.3) and the properties every allocation keeps. No database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvit.core.allocation import (
    LIMITATION_YEARS,
    Advance,
    Allocation,
    AllocationConfig,
    AllocationLine,
    Explanation,
    Kind,
    Obligation,
    Payment,
    Rule,
    SplitBasis,
    SplitLine,
    allocate_payment,
    reverse,
    settle,
)
from kvit.core.issues import Severity
from kvit.core.money import to_decimal
from kvit.core.periods import Period

PRINCIPAL, PENALTY = Kind.PRINCIPAL, Kind.PENALTY
ORDER = ("maintenance", "cold_water", "heating", "electricity")
PAID_ON = date(2025, 5, 12)


def d(text: str) -> Decimal:
    return to_decimal(text)


def p(text: str) -> Period:
    return Period.parse(text)


def due(period: Period) -> date:
    """Spec 3.1 with due_day 10 (the penalties helper computes the real ones)."""
    following = period.next()
    return date(following.year, following.month, 10)


def ob(
    period: str,
    service: str,
    unpaid: str,
    billed: str | None = None,
    provider: str = "uk",
    kind: Kind = PRINCIPAL,
) -> Obligation:
    return Obligation(provider, service, p(period), kind, d(billed or unpaid), d(unpaid))


def pay(amount: str, **extra: object) -> Payment:
    return Payment(d(amount), extra.pop("paid_on", PAID_ON), **extra)  # type: ignore[arg-type]


def run(
    payment: Payment,
    obligations: Sequence[Obligation],
    basis: SplitBasis = SplitBasis.BILLED,
    time_barred: bool = False,
) -> Allocation:
    config = AllocationConfig(partial_split_basis=basis, allocate_time_barred=time_barred)
    return allocate_payment(payment, obligations, due, ORDER, config)


def amounts(allocation: Allocation) -> list[tuple[str, str, str, str]]:
    """(period, service, kind, amount) of each line, in order."""
    return [
        (str(line.period), line.service, line.kind.value, str(line.amount))
        for line in allocation.lines
    ]


def remaining(obligations: Sequence[Obligation], allocation: Allocation) -> dict[str, Decimal]:
    return {
        f"{o.period} {o.service} {o.kind}": o.unpaid
        for o in settle(obligations, allocation)
        if o.unpaid
    }


def advances(allocation: Allocation) -> dict[str, str]:
    return {advance.provider: str(advance.amount) for advance in allocation.advances}


def total(allocation: Allocation) -> Decimal:
    return sum(
        (line.amount for line in allocation.lines),
        sum((a.amount for a in allocation.advances), Decimal(0)),
    )


# --- example 21 ---------------------------------------------------------------------------

EXAMPLE_21 = [
    ob("2025-03", "maintenance", "1813.62"),
    ob("2025-03", "cold_water", "379.36"),
    ob("2025-03", "heating", "3290.68"),
    ob("2025-04", "maintenance", "1813.62"),
    ob("2025-04", "cold_water", "246.07"),
    ob("2025-04", "heating", "3290.68"),
]


class TestExample21:
    def test_oldest_first_then_proportional_by_largest_remainder(self) -> None:
        allocation = run(pay("7000.00"), EXAMPLE_21)
        assert amounts(allocation) == [
            ("2025-03", "maintenance", "principal", "1813.62"),
            ("2025-03", "cold_water", "principal", "379.36"),
            ("2025-03", "heating", "principal", "3290.68"),
            ("2025-04", "maintenance", "principal", "513.99"),
            ("2025-04", "cold_water", "principal", "69.74"),
            ("2025-04", "heating", "principal", "932.61"),
        ]
        april = [line.amount for line in allocation.lines if line.period == p("2025-04")]
        assert sum(april) == d("1516.34")
        assert remaining(EXAMPLE_21, allocation) == {
            "2025-04 maintenance principal": d("1299.63"),
            "2025-04 cold_water principal": d("176.33"),
            "2025-04 heating principal": d("2358.07"),
        }
        penalties_paid = sum(
            (line.amount for line in allocation.lines if line.kind is PENALTY), Decimal("0.00")
        )
        assert penalties_paid == d("0.00")
        assert allocation.advances == ()
        assert allocation.issues == ()
        assert allocation.amount == d("7000.00")

    def test_explanations_say_which_rule_and_which_split(self) -> None:
        allocation = run(pay("7000.00"), EXAMPLE_21)
        march, april = allocation.lines[0], allocation.lines[4]
        assert march.explanation == Explanation(
            rule=Rule.OLDEST_FIRST, unpaid_before=d("1813.62"), split=None, weight=None
        )
        assert april.service == "cold_water"
        assert april.explanation == Explanation(
            rule=Rule.OLDEST_FIRST,
            unpaid_before=d("246.07"),
            split=SplitBasis.BILLED,
            weight=d("246.07"),
            time_barred=False,
        )

    def test_the_order_of_the_input_does_not_matter(self) -> None:
        assert run(pay("7000.00"), EXAMPLE_21[::-1]) == run(pay("7000.00"), EXAMPLE_21)

    def test_the_default_config_is_billed_basis_without_time_barred_periods(self) -> None:
        assert allocate_payment(pay("7000.00"), EXAMPLE_21, due, ORDER) == run(
            pay("7000.00"), EXAMPLE_21
        )

    def test_a_payment_that_covers_everything_leaves_nothing_owed(self) -> None:
        allocation = run(pay("10834.03"), EXAMPLE_21)
        assert remaining(EXAMPLE_21, allocation) == {}
        assert allocation.advances == ()
        assert all(line.explanation.split is None for line in allocation.lines)


# --- rule 1: explicit split ---------------------------------------------------------------

TWO_SERVICES = [
    ob("2025-03", "cold_water", "100.00"),
    ob("2025-04", "cold_water", "100.00"),
    ob("2025-03", "heating", "400.00"),
    ob("2025-04", "heating", "400.00"),
]


class TestExplicitSplit:
    def test_applied_as_given_oldest_first_within_each_service(self) -> None:
        split = (SplitLine("uk", "cold_water", d("150.00")), SplitLine("uk", "heating", d("50.00")))
        allocation = run(pay("200.00", split=split), TWO_SERVICES)
        assert amounts(allocation) == [
            ("2025-03", "cold_water", "principal", "100.00"),
            ("2025-04", "cold_water", "principal", "50.00"),
            ("2025-03", "heating", "principal", "50.00"),
        ]
        assert {line.explanation.rule for line in allocation.lines} == {Rule.EXPLICIT_SPLIT}
        assert allocation.issues == ()
        assert allocation.advances == ()

    def test_more_than_a_service_owes_is_an_advance_for_its_provider(self) -> None:
        split = (SplitLine("uk", "cold_water", d("250.00")),)
        allocation = run(pay("250.00", split=split), TWO_SERVICES)
        assert amounts(allocation) == [
            ("2025-03", "cold_water", "principal", "100.00"),
            ("2025-04", "cold_water", "principal", "100.00"),
        ]
        assert allocation.advances == (Advance("uk", d("50.00")),)

    def test_a_split_short_of_the_payment_sends_the_rest_through_the_usual_order(self) -> None:
        split = (SplitLine("uk", "heating", d("100.00")),)
        allocation = run(pay("300.00", split=split, account="1002003"), TWO_SERVICES)
        assert amounts(allocation) == [
            ("2025-03", "heating", "principal", "100.00"),
            ("2025-03", "cold_water", "principal", "40.00"),
            ("2025-03", "heating", "principal", "160.00"),
        ]
        rules = [line.explanation.rule for line in allocation.lines]
        assert rules == [Rule.EXPLICIT_SPLIT, Rule.OLDEST_FIRST, Rule.OLDEST_FIRST]
        (issue,) = allocation.issues
        assert issue.code == "allocation_split_short"
        assert issue.severity is Severity.WARNING
        assert issue.message("en") == (
            "account 1002003: the explicit split adds up to 100.00, less than the payment "
            "300.00; the rest, 200.00, is allocated in the usual order"
        )
        assert "остаток 200.00" in issue.message("ru")

    def test_a_split_above_the_payment_is_ignored(self) -> None:
        split = (SplitLine("uk", "heating", d("150.00")), SplitLine("uk", "cold_water", d("60")))
        allocation = run(pay("200.00", split=split), TWO_SERVICES)
        assert amounts(allocation) == [
            ("2025-03", "cold_water", "principal", "40.00"),
            ("2025-03", "heating", "principal", "160.00"),
        ]
        assert {line.explanation.rule for line in allocation.lines} == {Rule.OLDEST_FIRST}
        (issue,) = allocation.issues
        assert issue.code == "allocation_split_exceeds"
        assert issue.values["split_total"] == d("210.00")
        assert "the split is ignored" in issue.message("en")
        assert "разбивка не применена" in issue.message("ru")

    def test_an_unknown_service_goes_through_the_usual_order(self) -> None:
        split = (SplitLine("uk", "gas", d("100.00")), SplitLine("uk", "heating", d("100.00")))
        allocation = run(pay("200.00", split=split), TWO_SERVICES)
        assert amounts(allocation) == [
            ("2025-03", "heating", "principal", "100.00"),
            ("2025-03", "cold_water", "principal", "20.00"),
            ("2025-03", "heating", "principal", "80.00"),
        ]
        (issue,) = allocation.issues
        assert issue.code == "allocation_split_unknown_service"
        assert issue.service == "gas"
        assert issue.message("en") == (
            "service gas: the explicit split names a service of provider uk that the account "
            "does not have; its 100.00 is allocated in the usual order"
        )
        assert issue.message("ru").startswith(
            "услуга gas: в разбивке указана услуга поставщика uk, которой нет на лицевом счёте"
        )

    def test_a_line_for_another_provider_than_the_payment_names_is_unknown(self) -> None:
        obligations = [*TWO_SERVICES, ob("2025-03", "electricity", "70.00", provider="energo")]
        split = (SplitLine("energo", "electricity", d("70.00")),)
        allocation = run(pay("70.00", split=split, provider="uk"), obligations)
        assert [issue.code for issue in allocation.issues] == ["allocation_split_unknown_service"]
        assert {line.provider for line in allocation.lines} == {"uk"}

    def test_a_settled_service_is_known_and_takes_an_advance(self) -> None:
        obligations = [*TWO_SERVICES, ob("2025-04", "electricity", "0.00", "70.00", "energo")]
        split = (SplitLine("energo", "electricity", d("70.00")),)
        allocation = run(pay("70.00", split=split), obligations)
        assert allocation.lines == ()
        assert allocation.advances == (Advance("energo", d("70.00")),)
        assert allocation.issues == ()

    def test_zero_lines_are_skipped(self) -> None:
        split = (SplitLine("uk", "gas", d("0.00")), SplitLine("uk", "heating", d("10.00")))
        allocation = run(pay("10.00", split=split), TWO_SERVICES)
        assert amounts(allocation) == [("2025-03", "heating", "principal", "10.00")]
        assert allocation.issues == ()

    def test_the_named_period_comes_first_within_the_service(self) -> None:
        split = (SplitLine("uk", "heating", d("500.00")),)
        allocation = run(pay("500.00", split=split, period=p("2025-04")), TWO_SERVICES)
        assert amounts(allocation) == [
            ("2025-04", "heating", "principal", "400.00"),
            ("2025-03", "heating", "principal", "100.00"),
        ]
        assert {line.explanation.rule for line in allocation.lines} == {Rule.EXPLICIT_SPLIT}

    def test_principal_of_the_service_before_its_penalties_unless_designated(self) -> None:
        obligations = [*TWO_SERVICES, ob("2025-03", "heating", "30.00", kind=PENALTY)]
        split = (SplitLine("uk", "heating", d("820.00")),)
        plain = run(pay("820.00", split=split), obligations)
        assert amounts(plain)[-1] == ("2025-03", "heating", "penalty", "20.00")
        designated = run(pay("820.00", split=split, penalty_designated=True), obligations)
        assert amounts(designated) == [
            ("2025-03", "heating", "penalty", "30.00"),
            ("2025-03", "heating", "principal", "400.00"),
            ("2025-04", "heating", "principal", "390.00"),
        ]


# --- rule 2: named period -----------------------------------------------------------------

THREE_MONTHS = [
    ob("2025-02", "maintenance", "100.00"),
    ob("2025-03", "maintenance", "100.00"),
    ob("2025-03", "heating", "300.00"),
    ob("2025-04", "maintenance", "100.00"),
]


class TestNamedPeriod:
    def test_the_named_period_first_then_oldest_first(self) -> None:
        allocation = run(pay("550.00", period=p("2025-03")), THREE_MONTHS)
        assert amounts(allocation) == [
            ("2025-03", "maintenance", "principal", "100.00"),
            ("2025-03", "heating", "principal", "300.00"),
            ("2025-02", "maintenance", "principal", "100.00"),
            ("2025-04", "maintenance", "principal", "50.00"),
        ]
        rules = [line.explanation.rule for line in allocation.lines]
        assert rules == [
            Rule.NAMED_PERIOD,
            Rule.NAMED_PERIOD,
            Rule.OLDEST_FIRST,
            Rule.OLDEST_FIRST,
        ]

    def test_a_partial_payment_of_the_named_period_is_split_inside_it(self) -> None:
        allocation = run(pay("200.00", period=p("2025-03")), THREE_MONTHS)
        assert amounts(allocation) == [
            ("2025-03", "maintenance", "principal", "50.00"),
            ("2025-03", "heating", "principal", "150.00"),
        ]

    def test_a_named_period_with_nothing_owed_is_plain_oldest_first(self) -> None:
        allocation = run(pay("150.00", period=p("2024-12")), THREE_MONTHS)
        assert amounts(allocation) == [
            ("2025-02", "maintenance", "principal", "100.00"),
            ("2025-03", "maintenance", "principal", "12.50"),
            ("2025-03", "heating", "principal", "37.50"),
        ]

    def test_the_named_period_principal_before_its_penalties(self) -> None:
        obligations = [*THREE_MONTHS, ob("2025-03", "maintenance", "9.00", kind=PENALTY)]
        allocation = run(pay("609.00", period=p("2025-03")), obligations)
        assert amounts(allocation)[-1] == ("2025-03", "maintenance", "penalty", "9.00")
        assert allocation.lines[-1].explanation.rule is Rule.PENALTY_LAST


# --- rule 5: penalties --------------------------------------------------------------------

WITH_PENALTIES = [
    ob("2025-01", "maintenance", "10.00", kind=PENALTY),
    ob("2025-01", "heating", "30.00", kind=PENALTY),
    ob("2025-02", "maintenance", "100.00"),
    ob("2025-03", "maintenance", "100.00"),
]


class TestPenalties:
    def test_penalties_after_all_principal(self) -> None:
        allocation = run(pay("220.00"), WITH_PENALTIES)
        assert amounts(allocation) == [
            ("2025-02", "maintenance", "principal", "100.00"),
            ("2025-03", "maintenance", "principal", "100.00"),
            ("2025-01", "maintenance", "penalty", "5.00"),
            ("2025-01", "heating", "penalty", "15.00"),
        ]
        assert [line.explanation.rule for line in allocation.lines][2:] == [
            Rule.PENALTY_LAST,
            Rule.PENALTY_LAST,
        ]

    def test_a_designated_penalty_payment_pays_penalties_first(self) -> None:
        allocation = run(pay("60.00", penalty_designated=True), WITH_PENALTIES)
        assert amounts(allocation) == [
            ("2025-01", "maintenance", "penalty", "10.00"),
            ("2025-01", "heating", "penalty", "30.00"),
            ("2025-02", "maintenance", "principal", "20.00"),
        ]
        rules = [line.explanation.rule for line in allocation.lines]
        assert rules == [Rule.DESIGNATED_PENALTY, Rule.DESIGNATED_PENALTY, Rule.OLDEST_FIRST]

    def test_a_designated_payment_with_a_named_period_starts_with_that_period(self) -> None:
        obligations = [*WITH_PENALTIES, ob("2025-03", "maintenance", "7.00", kind=PENALTY)]
        payment = pay("110.00", penalty_designated=True, period=p("2025-03"))
        allocation = run(payment, obligations)
        assert amounts(allocation) == [
            ("2025-03", "maintenance", "penalty", "7.00"),
            ("2025-01", "maintenance", "penalty", "10.00"),
            ("2025-01", "heating", "penalty", "30.00"),
            ("2025-03", "maintenance", "principal", "63.00"),
        ]
        assert allocation.lines[-1].explanation.rule is Rule.NAMED_PERIOD


# --- rule 3: time-barred periods ----------------------------------------------------------

OLD_AND_NEW = [
    ob("2022-03", "maintenance", "100.00"),  # due 10.04.2022
    ob("2025-03", "maintenance", "100.00"),
]


class TestTimeBarred:
    def test_skipped_by_automatic_allocation(self) -> None:
        allocation = run(pay("150.00", paid_on=date(2025, 4, 11)), OLD_AND_NEW)
        assert amounts(allocation) == [("2025-03", "maintenance", "principal", "100.00")]
        assert allocation.advances == (Advance("uk", d("50.00")),)

    def test_the_last_day_of_the_term_is_not_barred(self) -> None:
        allocation = run(pay("150.00", paid_on=date(2025, 4, 10)), OLD_AND_NEW)
        assert amounts(allocation)[0] == ("2022-03", "maintenance", "principal", "100.00")
        assert allocation.lines[0].explanation.time_barred is False

    def test_allocated_when_allowed_and_marked(self) -> None:
        allocation = run(pay("150.00", paid_on=date(2025, 4, 11)), OLD_AND_NEW, time_barred=True)
        assert amounts(allocation) == [
            ("2022-03", "maintenance", "principal", "100.00"),
            ("2025-03", "maintenance", "principal", "50.00"),
        ]
        assert [line.explanation.time_barred for line in allocation.lines] == [True, False]

    def test_a_named_time_barred_period_is_paid(self) -> None:
        payment = pay("100.00", paid_on=date(2025, 4, 11), period=p("2022-03"))
        allocation = run(payment, OLD_AND_NEW)
        assert amounts(allocation) == [("2022-03", "maintenance", "principal", "100.00")]
        assert allocation.lines[0].explanation == Explanation(
            Rule.NAMED_PERIOD, d("100.00"), time_barred=True
        )

    def test_penalties_of_a_barred_period_are_skipped_too(self) -> None:
        obligations = [*OLD_AND_NEW, ob("2022-03", "maintenance", "5.00", kind=PENALTY)]
        allocation = run(pay("200.00", paid_on=date(2025, 4, 11)), obligations)
        assert amounts(allocation) == [("2025-03", "maintenance", "principal", "100.00")]

    @pytest.mark.parametrize(
        ("paid_on", "barred"),
        [(date(2027, 2, 28), False), (date(2027, 3, 1), True)],
    )
    def test_a_due_date_on_29_february_ends_its_term_on_28_february(
        self, paid_on: date, barred: bool
    ) -> None:
        obligations = [ob("2024-01", "maintenance", "100.00")]
        allocation = allocate_payment(
            pay("100.00", paid_on=paid_on), obligations, {p("2024-01"): date(2024, 2, 29)}
        )
        assert bool(allocation.lines) is not barred
        assert bool(allocation.advances) is barred

    def test_due_dates_may_be_a_mapping(self) -> None:
        due_dates = {p("2022-03"): date(2022, 4, 10), p("2025-03"): date(2025, 4, 10)}
        payment = pay("150.00", paid_on=date(2025, 4, 11))
        assert allocate_payment(payment, OLD_AND_NEW, due_dates, ORDER) == run(payment, OLD_AND_NEW)

    def test_a_missing_due_date_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="no due date given for period 2022-03"):
            allocate_payment(pay("10.00"), OLD_AND_NEW, {p("2025-03"): date(2025, 4, 10)})

    def test_due_dates_are_only_needed_for_periods_with_something_owed(self) -> None:
        obligations = [ob("2020-01", "maintenance", "0.00", "100.00"), *OLD_AND_NEW[1:]]
        allocation = allocate_payment(pay("10.00"), obligations, {p("2025-03"): date(2025, 4, 10)})
        assert amounts(allocation) == [("2025-03", "maintenance", "principal", "10.00")]


# --- rules 4 and 6: providers, bases, advances --------------------------------------------

TWO_PROVIDERS = [
    ob("2025-04", "maintenance", "300.00", provider="uk"),
    ob("2025-04", "electricity", "100.00", provider="energo"),
]


class TestProvidersAndAdvances:
    def test_an_unnamed_payment_splits_a_period_across_providers(self) -> None:
        allocation = run(pay("200.00"), TWO_PROVIDERS)
        assert [(line.provider, str(line.amount)) for line in allocation.lines] == [
            ("uk", "150.00"),
            ("energo", "50.00"),
        ]

    def test_a_named_provider_only_reaches_its_own_obligations(self) -> None:
        allocation = run(pay("250.00", provider="energo"), TWO_PROVIDERS)
        assert [(line.provider, str(line.amount)) for line in allocation.lines] == [
            ("energo", "100.00")
        ]
        assert allocation.advances == (Advance("energo", d("150.00")),)

    def test_a_named_provider_without_obligations_gets_the_whole_advance(self) -> None:
        allocation = run(pay("50.00", provider="vodokanal"), TWO_PROVIDERS)
        assert allocation.lines == ()
        assert allocation.advances == (Advance("vodokanal", d("50.00")),)

    def test_an_unnamed_leftover_follows_the_latest_billed_amounts(self) -> None:
        obligations = [
            ob("2025-03", "maintenance", "0.00", "100.00", "uk"),
            ob("2025-03", "electricity", "0.00", "900.00", "energo"),
            *TWO_PROVIDERS,
            ob("2025-04", "electricity", "0.00", "-5.00", "energo", PENALTY),
        ]
        allocation = run(pay("500.00"), obligations)
        assert advances(allocation) == {"uk": "75.00", "energo": "25.00"}
        assert [a.provider for a in allocation.advances] == ["uk", "energo"]

    def test_advances_are_listed_in_service_order(self) -> None:
        obligations = [
            ob("2025-04", "heating", "0.00", "100.00", "teplo"),
            ob("2025-04", "maintenance", "0.00", "100.00", "uk"),
            ob("2025-04", "electricity", "0.00", "300.00", "uk"),
        ]
        allocation = run(pay("300.00"), obligations)
        assert [(a.provider, str(a.amount)) for a in allocation.advances] == [
            ("uk", "240.00"),
            ("teplo", "60.00"),
        ]

    def test_split_and_leftover_advances_of_a_provider_add_up(self) -> None:
        split = (SplitLine("energo", "electricity", d("150.00")),)
        allocation = run(pay("500.00", split=split), TWO_PROVIDERS)
        assert advances(allocation) == {"uk": "37.50", "energo": "62.50"}

    def test_with_nothing_billed_lately_the_first_provider_takes_the_advance(self) -> None:
        obligations = [
            ob("2025-04", "maintenance", "0.00", "0.00", "uk"),
            ob("2025-04", "cold_water", "0.00", "0.00", "vodokanal"),
        ]
        allocation = allocate_payment(pay("80.00"), obligations, due, ("cold_water", "maintenance"))
        assert allocation.advances == (Advance("vodokanal", d("80.00")),)

    def test_services_outside_the_order_come_after_it(self) -> None:
        obligations = [
            ob("2025-04", "antenna", "100.00", provider="tv"),
            ob("2025-04", "maintenance", "100.00"),
        ]
        allocation = run(pay("300.00"), obligations)
        assert [line.service for line in allocation.lines] == ["maintenance", "antenna"]
        assert advances(allocation) == {"uk": "50.00", "tv": "50.00"}
        assert [a.provider for a in allocation.advances] == ["uk", "tv"]

    def test_no_obligations_and_no_provider_leaves_the_advance_unassigned(self) -> None:
        allocation = run(pay("80.00", account="77"), [])
        assert allocation.advances == (Advance("", d("80.00")),)
        (issue,) = allocation.issues
        assert issue.code == "allocation_advance_unassigned"
        assert issue.message("en") == (
            "account 77: the payment 80.00 names no provider and the account has no "
            "obligations; the advance 80.00 is not assigned to a provider"
        )
        assert "не отнесён ни к одному поставщику" in issue.message("ru")


PARTLY_PAID = [
    ob("2025-04", "maintenance", "1000.00", "1000.00"),
    ob("2025-04", "heating", "250.00", "1000.00"),
]


class TestSplitBasis:
    def test_billed_basis_splits_by_the_document(self) -> None:
        allocation = run(pay("500.00"), PARTLY_PAID, SplitBasis.BILLED)
        assert amounts(allocation) == [
            ("2025-04", "maintenance", "principal", "250.00"),
            ("2025-04", "heating", "principal", "250.00"),
        ]

    def test_unpaid_basis_splits_by_what_is_owed(self) -> None:
        allocation = run(pay("500.00"), PARTLY_PAID, SplitBasis.UNPAID)
        assert amounts(allocation) == [
            ("2025-04", "maintenance", "principal", "400.00"),
            ("2025-04", "heating", "principal", "100.00"),
        ]
        assert allocation.lines[0].explanation.split is SplitBasis.UNPAID
        assert allocation.lines[0].explanation.weight == d("1000.00")

    def test_a_service_never_gets_more_than_it_owes(self) -> None:
        allocation = run(pay("600.00"), PARTLY_PAID, SplitBasis.BILLED)
        assert amounts(allocation) == [
            ("2025-04", "maintenance", "principal", "350.00"),
            ("2025-04", "heating", "principal", "250.00"),
        ]

    def test_the_config_takes_the_parameter_text(self) -> None:
        config = AllocationConfig(partial_split_basis="unpaid")  # type: ignore[arg-type]
        assert config.partial_split_basis is SplitBasis.UNPAID
        with pytest.raises(ValueError, match="'evenly' is not a valid SplitBasis"):
            AllocationConfig(partial_split_basis="evenly")  # type: ignore[arg-type]

    def test_services_billed_nothing_share_what_the_others_cannot_take(self) -> None:
        obligations = [
            ob("2025-04", "maintenance", "100.00", "100.00"),
            ob("2025-04", "heating", "50.00", "0.00"),
            ob("2025-04", "cold_water", "30.00", "-10.00"),
        ]
        allocation = run(pay("140.00"), obligations)
        assert amounts(allocation) == [
            ("2025-04", "maintenance", "principal", "100.00"),
            ("2025-04", "cold_water", "principal", "15.00"),
            ("2025-04", "heating", "principal", "25.00"),
        ]
        assert [(ln.explanation.split, ln.explanation.weight) for ln in allocation.lines] == [
            (SplitBasis.BILLED, d("100.00")),
            (SplitBasis.UNPAID, d("30.00")),
            (SplitBasis.UNPAID, d("50.00")),
        ]

    def test_with_nothing_billed_the_split_follows_what_is_owed(self) -> None:
        obligations = [
            ob("2025-04", "maintenance", "30.00", "0.00"),
            ob("2025-04", "heating", "10.00", "0.00"),
        ]
        allocation = run(pay("20.00"), obligations)
        assert amounts(allocation) == [
            ("2025-04", "maintenance", "principal", "15.00"),
            ("2025-04", "heating", "principal", "5.00"),
        ]

    def test_a_share_rounded_to_nothing_makes_no_line(self) -> None:
        obligations = [
            ob("2025-04", "maintenance", "1000.00"),
            ob("2025-04", "heating", "0.01"),
        ]
        allocation = run(pay("0.01"), obligations)
        assert amounts(allocation) == [("2025-04", "maintenance", "principal", "0.01")]

    def test_a_single_open_obligation_needs_no_split(self) -> None:
        obligations = [ob("2025-04", "maintenance", "0.00", "50.00"), ob("2025-04", "heating", "9")]
        allocation = run(pay("5.00"), obligations)
        assert allocation.lines[0].explanation == Explanation(Rule.OLDEST_FIRST, d("9.00"))


# --- reversal and settling ----------------------------------------------------------------


class TestReversal:
    def test_the_exact_negation_in_reverse_order(self) -> None:
        allocation = run(pay("7100.00"), [*EXAMPLE_21[:3], *TWO_PROVIDERS])
        undone = reverse(allocation)
        assert undone.amount == d("-7100.00")
        assert [line.amount for line in undone.lines] == [
            -line.amount for line in reversed(allocation.lines)
        ]
        assert [line.explanation for line in undone.lines] == [
            line.explanation for line in reversed(allocation.lines)
        ]
        assert [a.amount for a in undone.advances] == [
            -a.amount for a in reversed(allocation.advances)
        ]
        assert total(undone) == -total(allocation)
        assert undone.issues == ()
        assert reverse(undone) == allocation

    def test_settling_then_reversing_restores_every_obligation(self) -> None:
        allocation = run(pay("7000.00"), EXAMPLE_21)
        after = settle(EXAMPLE_21, allocation)
        assert settle(after, reverse(allocation)) == tuple(EXAMPLE_21)

    def test_settle_refuses_an_unknown_obligation(self) -> None:
        allocation = run(pay("7000.00"), EXAMPLE_21)
        with pytest.raises(ValueError, match="not given"):
            settle(EXAMPLE_21[3:], allocation)

    def test_settle_refuses_to_apply_an_allocation_twice(self) -> None:
        allocation = run(pay("7000.00"), EXAMPLE_21)
        with pytest.raises(ValueError, match="unpaid must be zero or more"):
            settle(settle(EXAMPLE_21, allocation), allocation)

    def test_an_allocation_must_add_up(self) -> None:
        line = AllocationLine(
            "uk",
            "heating",
            p("2025-04"),
            PRINCIPAL,
            d("10.00"),
            Explanation(Rule.OLDEST_FIRST, d("1")),
        )
        with pytest.raises(ValueError, match=r"add up to 15\.00, not to the amount 20\.00"):
            Allocation(d("20.00"), (line,), (Advance("uk", d("5.00")),))


# --- refused input ------------------------------------------------------------------------


class TestRefusedInput:
    @pytest.mark.parametrize("amount", ["0.00", "0", "-0.01", "-100.00"])
    def test_a_payment_must_be_positive(self, amount: str) -> None:
        with pytest.raises(ValueError, match=r"must be positive.*reversing"):
            pay(amount)

    def test_amounts_are_whole_kopecks(self) -> None:
        with pytest.raises(ValueError, match=r"payment amount 10\.005 is not a whole number"):
            pay("10.005")
        with pytest.raises(ValueError, match=r"billed 1\.001 is not a whole number of kopecks"):
            ob("2025-04", "heating", "1.00", "1.001")

    def test_floats_are_refused(self) -> None:
        with pytest.raises(TypeError, match="floats are inexact"):
            Payment(10.5, PAID_ON)  # type: ignore[arg-type]

    def test_text_and_whole_numbers_come_in_through_to_decimal(self) -> None:
        payment = Payment("12.30", PAID_ON, split=[SplitLine("uk", "heating", 5)])  # type: ignore[arg-type]
        assert payment.amount == d("12.30")
        assert payment.split == (SplitLine("uk", "heating", d("5")),)
        obligation = Obligation("uk", "heating", p("2025-04"), "penalty", "1", 2)  # type: ignore[arg-type]
        assert (obligation.kind, obligation.billed, obligation.unpaid) == (PENALTY, d("1"), d("2"))

    def test_unpaid_cannot_be_negative(self) -> None:
        with pytest.raises(ValueError, match="unpaid must be zero or more"):
            ob("2025-04", "heating", "-1.00", "5.00")

    def test_split_lines_cannot_be_negative(self) -> None:
        with pytest.raises(ValueError, match="split amount must be zero or more"):
            SplitLine("uk", "heating", d("-1.00"))

    def test_an_obligation_given_twice_is_an_error(self) -> None:
        with pytest.raises(ValueError, match="given twice"):
            run(pay("10.00"), [EXAMPLE_21[0], EXAMPLE_21[0]])


# --- properties ---------------------------------------------------------------------------

PERIODS = [p("2021-11"), p("2022-03"), p("2022-04"), p("2024-12"), p("2025-03"), p("2025-04")]
PROVIDERS = ["uk", "energo"]
SERVICES = ["maintenance", "heating", "electricity", "antenna"]
cents = st.integers(min_value=0, max_value=500_000)


def money(units: int) -> Decimal:
    return Decimal(units).scaleb(-2)


@st.composite
def obligation_lists(draw: st.DrawFn) -> list[Obligation]:
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PROVIDERS),
                st.sampled_from(SERVICES),
                st.sampled_from(PERIODS),
                st.sampled_from(list(Kind)),
            ),
            unique=True,
            max_size=12,
        )
    )
    result = []
    for provider, service, period, kind in keys:
        billed = draw(st.integers(min_value=-1000, max_value=500_000))
        unpaid = draw(st.one_of(st.just(0), st.just(max(billed, 0)), cents))
        result.append(Obligation(provider, service, period, kind, money(billed), money(unpaid)))
    return result


@st.composite
def payments(draw: st.DrawFn) -> Payment:
    split = draw(
        st.lists(
            st.builds(
                SplitLine,
                st.sampled_from(PROVIDERS),
                st.sampled_from([*SERVICES, "gas"]),
                cents.map(money),
            ),
            max_size=3,
        )
        | st.just([])
    )
    return Payment(
        amount=money(draw(st.integers(min_value=1, max_value=3_000_000))),
        paid_on=draw(st.dates(min_value=date(2025, 4, 1), max_value=date(2025, 6, 30))),
        provider=draw(st.none() | st.sampled_from([*PROVIDERS, "tv"])),
        period=draw(st.none() | st.sampled_from(PERIODS)),
        split=tuple(split),
        penalty_designated=draw(st.booleans()),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Payment, list[Obligation], AllocationConfig]:
    obligations = draw(obligation_lists())
    config = AllocationConfig(draw(st.sampled_from(list(SplitBasis))), draw(st.booleans()))
    return draw(payments()), obligations, config


def allocate_case(case: tuple[Payment, list[Obligation], AllocationConfig]) -> Allocation:
    payment, obligations, config = case
    return allocate_payment(payment, obligations, due, ORDER, config)


class TestProperties:
    @given(cases())
    @settings(max_examples=200, deadline=None)
    def test_the_lines_and_advances_add_up_to_the_payment(
        self, case: tuple[Payment, list[Obligation], AllocationConfig]
    ) -> None:
        allocation = allocate_case(case)
        assert total(allocation) == case[0].amount
        assert allocation.amount == case[0].amount

    @given(cases())
    @settings(max_examples=200, deadline=None)
    def test_no_line_or_advance_is_negative_or_zero(
        self, case: tuple[Payment, list[Obligation], AllocationConfig]
    ) -> None:
        allocation = allocate_case(case)
        assert all(line.amount > 0 for line in allocation.lines)
        assert all(advance.amount > 0 for advance in allocation.advances)
        assert len({a.provider for a in allocation.advances}) == len(allocation.advances)

    @given(cases())
    @settings(max_examples=200, deadline=None)
    def test_no_obligation_gets_more_than_it_owes(
        self, case: tuple[Payment, list[Obligation], AllocationConfig]
    ) -> None:
        payment, obligations, _ = case
        allocation = allocate_case(case)
        paid: dict[object, Decimal] = {}
        for line in allocation.lines:
            paid[line.key] = paid.get(line.key, Decimal(0)) + line.amount
            assert line.amount <= line.explanation.unpaid_before
        for obligation in obligations:
            assert paid.get(obligation.key, Decimal(0)) <= obligation.unpaid
        if payment.provider is not None:
            assert {line.provider for line in allocation.lines} <= {payment.provider}
            assert {a.provider for a in allocation.advances} <= {payment.provider}

    @given(cases())
    @settings(max_examples=200, deadline=None)
    def test_settling_then_reversing_leaves_every_obligation_as_it_was(
        self, case: tuple[Payment, list[Obligation], AllocationConfig]
    ) -> None:
        _, obligations, _ = case
        allocation = allocate_case(case)
        after = settle(obligations, allocation)
        assert all(o.unpaid >= 0 for o in after)
        assert settle(after, reverse(allocation)) == tuple(obligations)
        assert total(reverse(allocation)) == -total(allocation)

    @given(cases(), st.randoms(use_true_random=False))
    @settings(max_examples=200, deadline=None)
    def test_allocation_is_deterministic_whatever_the_input_order(
        self, case: tuple[Payment, list[Obligation], AllocationConfig], random: Random
    ) -> None:
        payment, obligations, config = case
        shuffled = list(obligations)
        random.shuffle(shuffled)
        first = allocate_case(case)
        assert allocate_case(case) == first
        assert allocate_payment(payment, shuffled, due, ORDER, config) == first

    @given(cases())
    @settings(max_examples=200, deadline=None)
    def test_without_a_split_an_advance_means_everything_reachable_is_settled(
        self, case: tuple[Payment, list[Obligation], AllocationConfig]
    ) -> None:
        payment, obligations, config = case
        if payment.split:
            payment = Payment(payment.amount, payment.paid_on, payment.provider, payment.period)
        allocation = allocate_payment(payment, obligations, due, ORDER, config)
        if not allocation.advances:
            return
        for obligation in settle(obligations, allocation):
            reachable = payment.provider in (None, obligation.provider)
            barred = _barred(obligation.period, payment.paid_on)
            exempt = (
                barred and not config.allocate_time_barred and obligation.period != payment.period
            )
            if reachable and not exempt:
                assert obligation.unpaid == 0

    @given(obligation_lists(), st.integers(min_value=1, max_value=3_000_000))
    @settings(max_examples=200, deadline=None)
    def test_penalties_only_once_all_reachable_principal_is_settled(
        self, obligations: list[Obligation], units: int
    ) -> None:
        payment = Payment(money(units), PAID_ON)
        allocation = allocate_payment(payment, obligations, due, ORDER)
        after = settle(obligations, allocation)
        if any(line.kind is PENALTY for line in allocation.lines):
            for obligation in after:
                if obligation.kind is PRINCIPAL and not _barred(obligation.period, PAID_ON):
                    assert obligation.unpaid == 0
        lines = [line for line in allocation.lines if line.kind is PRINCIPAL]
        if lines:  # oldest first: every earlier open principal period is settled
            latest = lines[-1].period
            for obligation in after:
                earlier = obligation.period < latest and obligation.kind is PRINCIPAL
                if earlier and not _barred(obligation.period, PAID_ON):
                    assert obligation.unpaid == 0


def _barred(period: Period, paid_on: date) -> bool:
    limit = due(period)
    return paid_on > limit.replace(year=limit.year + LIMITATION_YEARS)
