"""kvit.core.penalties as the bill run uses it: one billing period's penalty
(`period_penalty`), the cheap test before it (`Debt.accrues_in`), the penalty lines
(`penalty_lines`) and their sentence; the key rate and due-day tables built from a tenant's
parameter rows. No database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kvit.core.codes import LineKind, Method, PenaltyScheme, Rule, Unit
from kvit.core.config import ParameterRow, steps_of
from kvit.core.explain import NBSP, render
from kvit.core.inputs import Service
from kvit.core.parameters import SPECS
from kvit.core.penalties import (
    NEGATIVE_PAYMENT,
    Debt,
    Obligation,
    Payment,
    PenaltyResult,
    PenaltyRules,
    Preset,
    penalty,
    penalty_lines,
    period_penalty,
    rules_from_parameters,
    scheme,
)
from kvit.core.penalty_tables import DEFAULT_KEY_RATES, key_rates_from_parameters
from kvit.core.periods import Period
from kvit.core.rebilling import diff, posted_from

JULY = Period(2025, 7)


def d(text: str) -> Decimal:
    return Decimal(text)


def rules(preset: Preset = Preset.HOUSING_RF, **texts: str) -> PenaltyRules:
    """Section 10's defaults, the default key rate table."""
    return rules_from_parameters(preset, DEFAULT_KEY_RATES, texts)


def every(**texts: str) -> dict[Preset, PenaltyRules]:
    return {preset: rules(preset, **texts) for preset in Preset}


def shape(result: PenaltyResult) -> list[tuple[date, date, int, str, str, str]]:
    return [
        (row.first_day, row.last_day, row.days, str(row.base), row.fraction_text, str(row.amount))
        for row in result.rows
    ]


# --- key rates and due days from the parameters ----------------------------------------------


def test_the_default_key_rate_table() -> None:
    rates = DEFAULT_KEY_RATES
    assert rates.on(date(2015, 12, 31)) == d("0.0825")  # the refinancing rate before 2016
    assert rates.on(date(2022, 2, 28)) == d("0.20")
    assert rates.on(date(2025, 6, 30)) == d("0.20")
    assert rates.on(date(2025, 7, 31)) == d("0.18")
    assert rates.on(date(2026, 6, 1)) == d("0.16")  # the last decision in the table
    assert SPECS["key_rate"].parse(SPECS["key_rate"].default_on(date(2025, 1, 1))) == d("0.21")


def test_a_tenant_lays_its_key_rate_rows_over_the_table() -> None:
    rates = key_rates_from_parameters(
        [
            ParameterRow("key_rate", "0.155", date(2026, 2, 16)),
            ParameterRow("key_rate", "0.19", date(2025, 1, 1), date(2025, 2, 1)),
            ParameterRow("due_day", "12", date(2025, 1, 1)),  # not a key rate: ignored
        ]
    )
    assert rates.on(date(2026, 2, 15)) == d("0.16")
    assert rates.on(date(2026, 3, 1)) == d("0.155")
    assert rates.on(date(2025, 1, 15)) == d("0.19")
    assert rates.on(date(2025, 2, 1)) == d("0.21")  # the table again after the row ends


def test_steps_of_merges_a_row_equal_to_the_default() -> None:
    assert steps_of("due_day") == SPECS["due_day"].defaults
    same = [ParameterRow("due_day", "10", date(2024, 1, 1), date(2025, 1, 1))]
    assert steps_of("due_day", same) == SPECS["due_day"].defaults
    own = [ParameterRow("due_day", "12", date(2024, 1, 1), date(2025, 1, 1))]
    assert steps_of("due_day", own) == (
        (date.min, "10"),
        (date(2024, 1, 1), "12"),
        (date(2025, 1, 1), "10"),
        (date(2026, 3, 1), "15"),
    )


# --- one period's penalty -----------------------------------------------------------------


def test_example_19_month_by_month_adds_up_to_the_whole() -> None:
    """Spec example 19 billed monthly: the rows are cut where a month begins, each month
    charges its own days, and the months add up to the example's 122.38. The key rate
    (21 %, then 20 % from 2025-06-09) is capped at 9.5 % (Decree 1681's window)."""
    debt = Obligation(Period(2025, 1), d("5000.00"), date(2025, 2, 10))
    payments = [Payment(date(2025, 4, 15), d("2000.00"))]
    months = {m: period_penalty(debt, payments, Period(2025, m), rules()) for m in (2, 3, 4, 5)}
    assert months[2] == PenaltyResult((), d("0.00"))  # the grace days
    # 5000 × 19 × 0.095 / 300 = 30.0833…
    march = [(date(2025, 3, 13), date(2025, 3, 31), 19, "5000.00", "1/300", "30.08")]
    assert shape(months[3]) == march
    # 5000 × 15 × 0.095 / 300 = 23.75; the payment day still on the old base; 3000 × 15 × …
    assert shape(months[4]) == [
        (date(2025, 4, 1), date(2025, 4, 15), 15, "5000.00", "1/300", "23.75"),
        (date(2025, 4, 16), date(2025, 4, 30), 15, "3000.00", "1/300", "14.25"),
    ]
    # 3000 × 11 × 0.095 / 300 = 10.45; day 91 on 12.05: 3000 × 20 × 0.095 / 130 = 43.846…
    assert shape(months[5]) == [
        (date(2025, 5, 1), date(2025, 5, 11), 11, "3000.00", "1/300", "10.45"),
        (date(2025, 5, 12), date(2025, 5, 31), 20, "3000.00", "1/130", "43.85"),
    ]
    total = sum((result.total for result in months.values()), d("0"))
    assert total == penalty(debt, payments, date(2025, 5, 31), rules()).total == d("122.38")


def test_a_month_inside_one_row_is_the_row_itself() -> None:
    debt = Obligation(Period(2025, 1), d("5000.00"), date(2025, 2, 10))
    (row,) = period_penalty(debt, [], Period(2025, 3), rules()).rows
    assert (row.first_day, row.last_day, row.explanation.first_delay_day) == (
        date(2025, 3, 13),
        date(2025, 3, 31),
        31,
    )


def test_the_contract_uz_limit_runs_over_the_months() -> None:
    """1000.00 at 0.4 % a day from day 1 is 4.00 a day, at most 500.00 in all: February
    (18 days) 72.00, March 124.00, April 120.00, May 124.00 — 440.00; June gets the 60.00
    left of its 120.00, July nothing."""
    debt = Obligation(Period(2025, 1), d("1000.00"), date(2025, 2, 10))
    uz = rules(Preset.CONTRACT_UZ)
    totals = [period_penalty(debt, [], Period(2025, m), uz).total for m in range(2, 8)]
    assert totals == [d("72.00"), d("124.00"), d("120.00"), d("124.00"), d("60.00"), d("0.00")]
    june = period_penalty(debt, [], Period(2025, 6), uz).rows[0]
    assert (june.explanation.limited, june.explanation.formula_amount) == (True, d("120.00"))
    assert sum(totals, d("0")) == penalty(debt, [], date(2025, 7, 31), uz).total


# --- the cheap test ---------------------------------------------------------------------------


def test_what_cannot_accrue_in_the_period_is_told_without_computing() -> None:
    may = Obligation(Period(2025, 5), d("100.00"), date(2025, 6, 10))  # charged from 11.07
    housing = scheme(Preset.HOUSING_RF)
    assert not Debt("1", "w", may).accrues_in(Period(2025, 6), housing)
    assert Debt("1", "w", may).accrues_in(JULY, housing)
    assert not Debt("1", "w", may).accrues_in(JULY, scheme(Preset.NONE))
    paid = Debt("1", "w", may, (Payment(date(2025, 6, 30), d("100.00")),))
    assert not paid.accrues_in(JULY, housing)
    partly = Debt("1", "w", may, (Payment(date(2025, 6, 30), d("60.00")),))
    assert partly.accrues_in(JULY, housing)
    later = Debt("1", "w", may, (Payment(date(2025, 7, 5), d("100.00")),))
    assert later.accrues_in(JULY, housing)  # paid inside the period: computed (no rows)
    assert period_penalty(later.obligation, later.payments, JULY, rules()).rows == ()
    odd = Debt("1", "w", may, (Payment(date(2025, 6, 1), d("-100.00")),))
    assert odd.accrues_in(JULY, housing)  # a negative payment pays nothing


# --- the lines --------------------------------------------------------------------------------

SERVICES = {
    "cold_water": Service("cold_water", "Холодная вода", Unit.M3, Method.METERED),
    "guard": Service(
        "guard", "Охрана", Unit.ACCOUNT, Method.FIXED, penalty_scheme=PenaltyScheme.NONE
    ),
    "capital_repair": Service(
        "capital_repair",
        "Взнос на капремонт",
        Unit.M2,
        Method.PER_AREA,
        penalty_scheme=PenaltyScheme.CAPITAL_REPAIR_RF,
    ),
    "supply": Service(
        "supply", "Поставка", Unit.ACCOUNT, Method.FIXED, penalty_scheme=PenaltyScheme.CONTRACT_UZ
    ),
}


def debt(
    service: str, period: Period, principal: str, provider: str = "1", *payments: Payment
) -> Debt:
    return Debt(provider, service, Obligation(period, d(principal), due(period)), payments)


def due(period: Period) -> date:
    following = period.next()
    return date(following.year, following.month, 10)


def test_one_line_per_provider_and_service_for_every_overdue_period() -> None:
    """July 2025, key rate 18-20 % capped at 9.5 %: April's 1000.00 is in days 52-82 (1/300):
    1000 × 31 × 0.095 / 300 = 9.8166… → 9.82; May's 500.00 from day 31 on 11.07: 500 × 21 ×
    0.095 / 300 = 3.325 → 3.33; together 13.15. June is not overdue enough; a service
    without penalties has none, nor one paid before its grace days ended; capital repair
    accrues from day 1 after 10.07: 200 × 21 × 0.095 / 300 = 1.33."""
    debts = [
        debt("cold_water", Period(2025, 5), "500.00"),
        debt("cold_water", Period(2025, 4), "1000.00"),
        debt("cold_water", Period(2025, 6), "800.00"),
        debt("guard", Period(2025, 4), "1000.00"),
        debt("capital_repair", Period(2025, 6), "200.00", "2"),
        debt("cold_water", Period(2025, 5), "90.00", "3", Payment(date(2025, 7, 5), d("90"))),
    ]
    lines, issues = penalty_lines("000001", JULY, debts, SERVICES, every())
    assert issues == ()
    assert [(line.provider, line.service, line.amount) for line in lines] == [
        ("1", "cold_water", d("13.15")),
        ("2", "capital_repair", d("1.33")),
    ]
    water = lines[0]
    assert (water.kind, water.explanation.rule, water.zone, water.tier) == (
        LineKind.PENALTY,
        Rule.PENALTY,
        "",
        0,
    )
    assert (water.quantity, water.tariff, water.unit, water.span) == (0, 0, Unit.M3, JULY.span)
    assert water.key == ("1", "cold_water", JULY, LineKind.PENALTY, "penalty", "", 0,
                         date(2025, 7, 1), date(2025, 8, 1))  # fmt: skip
    values = water.explanation.values
    assert values["rows"] == 2
    first = (values["period_1"], values["due_1"], values["delay_1"])
    assert first == ("2025-04", date(2025, 5, 10), 52)
    second = (values["from_2"], values["to_2"], values["days_2"])
    assert second == (date(2025, 7, 11), date(2025, 7, 31), 21)
    assert (values["base_2"], values["rate_2"], values["fraction_2"], values["amount_2"]) == (
        d("500.00"),
        d("0.095"),
        "1/300",
        d("3.33"),
    )
    assert render(water, "ru") == (
        f"Холодная вода, пени: апрель 2025: 1{NBSP}000,00 ₽ × 31 дн. × 9,5 % × 1/300 = 9,82 ₽ "
        "(01.07.2025–31.07.2025); май 2025: 500,00 ₽ × 21 дн. × 9,5 % × 1/300 = 3,33 ₽ "
        "(11.07.2025–31.07.2025); итого 13,15 ₽"
    )
    assert render(lines[1], "en") == (
        "Capital repair contribution, penalty: June 2025: 200.00 RUB × 21 d × 9.5 % × 1/300 "
        "= 1.33 RUB (11.07.2025–31.07.2025)"
    )


def test_a_moratorium_suppresses_the_line_and_shows_in_a_partial_one() -> None:
    debts = [debt("cold_water", Period(2025, 4), "1000.00")]
    whole = '[{"from": "2025-07-01", "to": "2025-07-31"}]'
    assert penalty_lines("1", JULY, debts, SERVICES, every(penalty_moratoria=whole)) == ((), ())
    half = '[{"from": "2025-07-01", "to": "2025-07-15"}]'
    (line,), _ = penalty_lines("1", JULY, debts, SERVICES, every(penalty_moratoria=half))
    # 16.07-31.07: 1000 × 16 × 0.095 / 300 = 5.066… → 5.07
    assert line.amount == d("5.07")
    assert line.explanation.values["moratorium_1"] == date(2025, 7, 1)
    assert render(line, "en") == (
        "Cold water, penalty: April 2025: 1,000.00 RUB × 15 d: moratorium, no penalty "
        "accrues = 0.00 RUB (01.07.2025–15.07.2025); April 2025: 1,000.00 RUB × 16 d × 9.5 % "
        "× 1/300 = 5.07 RUB (16.07.2025–31.07.2025); total 5.07 RUB"
    )


def test_a_limited_contract_line_and_the_issues_of_the_calculation() -> None:
    debts = [
        debt("supply", Period(2025, 1), "1000.00"),
        debt("cold_water", Period(2025, 4), "100.00", "1", Payment(date(2025, 6, 1), d("-5"))),
    ]
    lines, issues = penalty_lines("1", Period(2025, 6), debts, SERVICES, every())
    supply = next(line for line in lines if line.service == "supply")
    values = supply.explanation.values
    assert (values["limit_1"], values["formula_1"], supply.amount) == (
        d("500.00"),
        d("120.00"),
        d("60.00"),
    )
    assert render(supply, "ru") == (
        "Поставка, пени: январь 2025: 1 000,00 ₽ × 30 дн. × 0,4 % = 120,00 ₽, с учётом "
        "предела 500,00 ₽: 60,00 ₽ (01.06.2025–30.06.2025)"
    ).replace("1 000", f"1{NBSP}000")
    assert [issue.code for issue in issues] == [NEGATIVE_PAYMENT]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_changed_penalty_is_corrected_by_the_difference(language: str) -> None:
    before = [debt("cold_water", Period(2025, 4), "1000.00")]
    (old,), _ = penalty_lines("1", JULY, before, SERVICES, every())
    payment = Payment(date(2025, 7, 15), d("400"))
    paid = [debt("cold_water", Period(2025, 4), "1000.00", "1", payment)]
    (new,), _ = penalty_lines("1", JULY, paid, SERVICES, every())
    # 1000 × 15 × 0.095 / 300 = 4.75 to the payment day, then 600 × 16 × 0.095 / 300 = 3.04
    assert (old.amount, new.amount) == (d("9.82"), d("7.79"))
    (fix,) = diff(
        [new],
        posted_from([old]),
        account="1",
        period=JULY,
        posting_period=JULY,
        services=SERVICES,
        reason="recalculated",
    )
    assert (fix.amount, fix.key) == (d("-2.03"), old.key)
    expected = {
        "ru": "Холодная вода, пени, перерасчёт: было 9,82 ₽, стало 7,79 ₽, разница −2,03 ₽ "
        "(изменились данные расчёта)",
        "en": "Cold water, penalty, recalculation: was 9.82 RUB, now 7.79 RUB, difference "
        "-2.03 RUB (calculation data changed)",
    }
    assert render(fix, language) == expected[language]
