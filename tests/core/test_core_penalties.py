"""kvit.core.penalties: penalty rows on one overdue obligation (spec 3.2, 3.3, 4.4; example 19).
No database. Properties are in test_core_penalties_properties.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from kvit.core.dating import DateRange
from kvit.core.due_dates import delay_day, due_date
from kvit.core.issues import Severity
from kvit.core.penalties import (
    NEGATIVE_PAYMENT,
    NO_KEY_RATE,
    ONE_130,
    ONE_300,
    FractionStep,
    Obligation,
    Payment,
    PenaltyResult,
    PenaltyRow,
    PenaltyRules,
    Preset,
    Scheme,
    penalty,
    rules_from_parameters,
    scheme,
)
from kvit.core.penalty_tables import (
    DEFAULT_MORATORIA,
    DEFAULT_RATE_CAPS,
    CapMode,
    KeyRates,
    Moratorium,
    RateBasis,
    RateCap,
)
from kvit.core.periods import Period


def d(text: str) -> Decimal:
    return Decimal(text)


# An illustrative key rate history (Bank of Russia decisions, rounded to what the tests need).
KEY_RATES = KeyRates(
    (
        (date(2020, 2, 10), d("0.06")),
        (date(2020, 4, 27), d("0.055")),
        (date(2020, 7, 27), d("0.0425")),
        (date(2021, 3, 22), d("0.045")),
        (date(2021, 4, 26), d("0.05")),
        (date(2021, 6, 15), d("0.055")),
        (date(2021, 7, 26), d("0.065")),
        (date(2021, 10, 25), d("0.075")),
        (date(2021, 12, 20), d("0.085")),
        (date(2022, 2, 14), d("0.095")),
        (date(2022, 2, 28), d("0.20")),
        (date(2022, 9, 19), d("0.075")),
        (date(2023, 8, 15), d("0.12")),
        (date(2024, 10, 28), d("0.21")),
        (date(2025, 6, 9), d("0.20")),
        (date(2025, 7, 28), d("0.18")),
    )
)
FIXED_CAP, MIN_CAP = DEFAULT_RATE_CAPS
COVID, SANCTIONS = DEFAULT_MORATORIA


def rules(preset: Preset | str = Preset.HOUSING_RF, **texts: str) -> PenaltyRules:
    """The tenant defaults of section 10 with the illustrative key rates."""
    return rules_from_parameters(preset, KEY_RATES, texts)


def obligation(
    period: str, principal: str, due_on: date | None = None, arises_on: date | None = None
) -> Obligation:
    month = Period.parse(period)
    return Obligation(month, d(principal), due_on or due_date(month), arises_on)


def shape(result: PenaltyResult) -> list[tuple[date, date, int, str, str, str, str, bool]]:
    return [
        (
            row.first_day,
            row.last_day,
            row.days,
            str(row.base),
            row.fraction_text,
            str(row.rate),
            str(row.amount),
            row.moratorium is not None,
        )
        for row in result.rows
    ]


def exact(row: PenaltyRow) -> Fraction:
    return Fraction(row.base) * row.days * Fraction(row.rate) * row.fraction


def check_rows(result: PenaltyResult) -> None:
    """Invariants of every result: the total is Σ rows, each row is its rounded formula (0.00
    in a moratorium), and its day count matches its dates."""
    assert result.total == sum((row.amount for row in result.rows), Decimal(0))
    for row in result.rows:
        assert row.days == (row.last_day - row.first_day).days + 1
        assert row.explanation.formula_amount == _round_fraction(exact(row))
        if row.moratorium is not None:
            assert row.amount == 0
        elif not row.explanation.limited:
            assert row.amount == row.explanation.formula_amount


def _round_fraction(value: Fraction) -> Decimal:
    units = (value * 100 + Fraction(1, 2)).__floor__()
    return Decimal(units).scaleb(-2)


# --- example 19 ---------------------------------------------------------------------------


class TestExample19:
    """Housing penalty across the 30/90-day thresholds with a partial payment."""

    due = date(2025, 2, 10)
    result = penalty(
        obligation("2025-01", "5000.00"),
        [Payment(date(2025, 4, 15), d("2000.00"))],
        date(2025, 5, 31),
        rules(),
    )

    def test_due_and_delay_days(self) -> None:
        assert due_date(Period(2025, 1)) == self.due
        assert delay_day(self.due, 1) == date(2025, 2, 11)
        assert delay_day(self.due, 31) == date(2025, 3, 13)
        assert delay_day(self.due, 90) == date(2025, 5, 11)
        assert delay_day(self.due, 91) == date(2025, 5, 12)

    def test_rows_and_total(self) -> None:
        assert shape(self.result) == [
            (date(2025, 3, 13), date(2025, 4, 15), 34, "5000.00", "1/300", "0.095", "53.83", False),
            (date(2025, 4, 16), date(2025, 5, 11), 26, "3000.00", "1/300", "0.095", "24.70", False),
            (date(2025, 5, 12), date(2025, 5, 31), 20, "3000.00", "1/130", "0.095", "43.85", False),
        ]
        assert self.result.total == d("122.38")
        assert self.result.issues == ()
        check_rows(self.result)

    def test_explanations(self) -> None:
        first, second, third = (row.explanation for row in self.result.rows)
        assert (first.first_delay_day, first.last_delay_day) == (31, 64)
        assert (second.first_delay_day, second.last_delay_day) == (65, 90)
        assert (third.first_delay_day, third.last_delay_day) == (91, 110)
        paid = RateBasis(date(2025, 4, 15), d("0.095"), key_rate=d("0.21"), cap=MIN_CAP)
        unpaid = RateBasis(date(2025, 5, 31), d("0.095"), key_rate=d("0.21"), cap=MIN_CAP)
        # The first row covers both the paid 2 000 and the unpaid 3 000: both rates show.
        assert first.rate_bases == (paid, unpaid)
        assert third.rate_bases == (paid, unpaid)
        assert first.formula_amount == d("53.83")
        assert not first.limited
        assert first.limit is None

    def test_sentences(self) -> None:
        first, _, third = self.result.rows
        assert first.render("ru") == (
            "5 000,00 ₽ × 34 дн. × 9,5 % × 1/300 = 53,83 ₽ (13.03.2025–15.04.2025)"
        )
        assert first.render("en") == (
            "5,000.00 ₽ × 34 days × 9.5% × 1/300 = 53.83 ₽ (13.03.2025–15.04.2025)"
        )
        assert third.render("en", "RUB") == (
            "3,000.00 RUB × 20 days × 9.5% × 1/130 = 43.85 RUB (12.05.2025–31.05.2025)"
        )

    def test_span_is_half_open(self) -> None:
        assert self.result.rows[0].span == DateRange(date(2025, 3, 13), date(2025, 4, 16))


# --- presets ------------------------------------------------------------------------------

JAN_2025 = obligation("2025-01", "10000.00")  # due 2025-02-10
LONG = date(2025, 7, 1)  # delay day 141


class TestPresets:
    def test_housing(self) -> None:
        result = penalty(JAN_2025, [], LONG, rules())
        assert shape(result) == [
            (
                date(2025, 3, 13),
                date(2025, 5, 11),
                60,
                "10000.00",
                "1/300",
                "0.095",
                "190.00",
                False,
            ),
            (
                date(2025, 5, 12),
                date(2025, 7, 1),
                51,
                "10000.00",
                "1/130",
                "0.095",
                "372.69",
                False,
            ),
        ]
        check_rows(result)

    def test_rso_from_uk_is_the_housing_scheme(self) -> None:
        housing = penalty(JAN_2025, [], LONG, rules(Preset.HOUSING_RF))
        rso = penalty(JAN_2025, [], LONG, rules(Preset.RSO_FROM_UK_RF))
        assert shape(rso) == shape(housing)
        assert scheme("rso_from_uk_rf").steps == scheme("housing_rf").steps

    def test_capital_repair_1_300_from_day_1_never_1_130(self) -> None:
        result = penalty(JAN_2025, [], LONG, rules(Preset.CAPITAL_REPAIR_RF))
        assert shape(result) == [
            (
                date(2025, 2, 11),
                date(2025, 7, 1),
                141,
                "10000.00",
                "1/300",
                "0.095",
                "446.50",
                False,
            )
        ]

    def test_legal_electricity_1_130_from_day_1(self) -> None:
        result = penalty(JAN_2025, [], date(2025, 3, 12), rules(Preset.LEGAL_ELECTRICITY_RF))
        assert shape(result) == [
            (
                date(2025, 2, 11),
                date(2025, 3, 12),
                30,
                "10000.00",
                "1/130",
                "0.095",
                "219.23",
                False,
            )
        ]

    def test_none_never_charges(self) -> None:
        result = penalty(JAN_2025, [], LONG, rules(Preset.NONE))
        assert result == PenaltyResult((), Decimal(0))

    def test_grace_and_switch_come_from_the_parameters(self) -> None:
        custom = rules(penalty_grace_days="10", penalty_switch_day="20")
        assert [
            (row.first_day, row.fraction) for row in penalty(JAN_2025, [], LONG, custom).rows
        ] == [
            (date(2025, 2, 21), ONE_300),
            (date(2025, 3, 3), ONE_130),
        ]

    def test_switch_before_grace_skips_the_1_300_band(self) -> None:
        assert scheme(Preset.HOUSING_RF, 30, 20).steps == (FractionStep(31, ONE_130),)
        assert scheme(Preset.HOUSING_RF, 0, 90).steps == (
            FractionStep(1, ONE_300),
            FractionStep(91, ONE_130),
        )

    @pytest.mark.parametrize(("grace", "switch"), [(-1, 90), (30, 0)])
    def test_impossible_thresholds(self, grace: int, switch: int) -> None:
        with pytest.raises(ValueError, match="grace_days must be 0 or more"):
            scheme(Preset.HOUSING_RF, grace, switch)

    def test_unknown_preset(self) -> None:
        with pytest.raises(ValueError, match="housing"):
            scheme("housing")


class TestContractUz:
    """0.4 % per day from day 1, the total at most 50 % of the overdue amount."""

    def uz(
        self, principal: str, calc: date, payments: list[Payment] | None = None
    ) -> PenaltyResult:
        ob = obligation("2025-01", principal, due_on=date(2025, 2, 10))
        # No key rate at all: the contractual rate needs none.
        return penalty(ob, payments or [], calc, PenaltyRules(scheme(Preset.CONTRACT_UZ)))

    def test_per_day_rate(self) -> None:
        result = self.uz("1000000.00", date(2025, 2, 20))
        assert shape(result) == [
            (
                date(2025, 2, 11),
                date(2025, 2, 20),
                10,
                "1000000.00",
                "1",
                "0.004",
                "40000.00",
                False,
            )
        ]
        assert result.rows[0].render("ru", "сум") == (
            "1 000 000,00 сум × 10 дн. × 0,4 % = 40 000,00 сум (11.02.2025–20.02.2025)"
        )
        assert result.rows[0].explanation.rate_bases == (RateBasis(date(2025, 2, 20), d("0.004")),)
        assert result.issues == ()

    def test_total_stops_at_half_the_overdue_amount(self) -> None:
        # 1 000 × 0.4 % = 4 a day: 125 days would be 500, the limit. Day 200 → 800 uncapped.
        payment = Payment(date(2025, 5, 1), d("500.00"))  # lowers the base, not the limit
        result = self.uz("1000.00", date(2025, 8, 29), [payment])
        assert shape(result) == [
            (date(2025, 2, 11), date(2025, 5, 1), 80, "1000.00", "1", "0.004", "320.00", False),
            (date(2025, 5, 2), date(2025, 8, 29), 120, "500.00", "1", "0.004", "180.00", False),
        ]
        assert result.total == d("500.00")
        first, second = result.rows
        assert not first.explanation.limited
        assert second.explanation.limited
        assert second.explanation.formula_amount == d("240.00")
        assert second.explanation.limit == d("500.00")
        assert second.render("en", "UZS") == (
            "500.00 UZS × 120 days × 0.4% = 240.00 UZS, limited to 500.00 UZS in total: "
            "180.00 UZS (02.05.2025–29.08.2025)"
        )
        assert second.render("ru", "сум") == (
            "500,00 сум × 120 дн. × 0,4 % = 240,00 сум, с учётом предела 500,00 сум: 180,00 сум "
            "(02.05.2025–29.08.2025)"
        )

    def test_rows_after_the_limit_are_zero(self) -> None:
        payments = [Payment(date(2025, 8, 1), d("100.00"))]
        result = self.uz("1000.00", date(2025, 9, 30), payments)
        assert [(str(row.amount), row.explanation.limited) for row in result.rows] == [
            ("500.00", True),
            ("0.00", True),
        ]
        assert result.total == d("500.00")

    def test_payment_before_the_due_date_lowers_the_limit(self) -> None:
        payments = [Payment(date(2025, 2, 5), d("600.00"))]
        result = self.uz("1000.00", date(2025, 12, 31), payments)
        assert result.total == d("200.00")  # half of the 400 overdue on day 1

    def test_limit_is_rounded_down(self) -> None:
        assert self.uz("0.03", date(2026, 1, 1)).total == d("0.01")  # not 0.02 (0.015 ↑)

    def test_the_defaults_are_the_parameters(self) -> None:
        default = rules(Preset.CONTRACT_UZ).scheme
        assert (default.fixed_rate, default.total_cap_share) == (d("0.004"), d("0.5"))
        assert default == scheme(Preset.CONTRACT_UZ)

    def test_rate_and_limit_come_from_the_parameters(self) -> None:
        custom = rules(
            Preset.CONTRACT_UZ, penalty_uz_daily_rate="0.001", penalty_uz_total_cap_share="0.1"
        )
        assert (custom.scheme.fixed_rate, custom.scheme.total_cap_share) == (d("0.001"), d("0.1"))
        ob = obligation("2025-01", "1000.00", due_on=date(2025, 2, 10))
        # 1 000 × 0.1 % = 1 a day: 10 days → 10.00; 200 days would be 200, the limit is 100
        assert penalty(ob, [], date(2025, 2, 20), custom).total == d("10.00")
        limited = penalty(ob, [], date(2025, 8, 29), custom)
        assert limited.total == d("100.00")
        assert limited.rows[-1].explanation.limit == d("100.00")
        # the housing schemes ignore them
        housing = rules(penalty_uz_daily_rate="0.001", penalty_uz_total_cap_share="0.1")
        assert (housing.scheme.fixed_rate, housing.scheme.total_cap_share) == (None, None)

    @pytest.mark.parametrize(
        ("name", "text", "message"),
        [
            ("penalty_uz_daily_rate", "-0.001", "below the minimum 0"),
            ("penalty_uz_daily_rate", "1.5", "above the maximum 1"),
            ("penalty_uz_total_cap_share", "-0.5", "below the minimum 0"),
        ],
    )
    def test_bad_parameter_text_names_the_parameter(
        self, name: str, text: str, message: str
    ) -> None:
        with pytest.raises(ValueError, match=f"{name}: .*{message}"):
            rules(Preset.CONTRACT_UZ, **{name: text})


# --- rates ---------------------------------------------------------------------------------

APR_2022 = obligation("2022-04", "10000.00")  # due 2022-05-10, arises after 2022-04-01


class TestRates:
    def test_fixed_cap_even_when_the_key_rate_is_20_percent(self) -> None:
        result = penalty(APR_2022, [], date(2022, 7, 20), rules())
        assert KEY_RATES.on(date(2022, 7, 20)) == d("0.20")
        assert [(str(row.rate), row.explanation.rate_bases) for row in result.rows] == [
            ("0.095", (RateBasis(date(2022, 7, 20), d("0.095"), cap=FIXED_CAP),))
        ]
        assert shape(result)[0][:3] == (date(2022, 6, 10), date(2022, 7, 20), 41)

    def test_min_cap_with_a_7_5_percent_key_rate(self) -> None:
        result = penalty(APR_2022, [], date(2022, 10, 1), rules())
        assert {row.rate for row in result.rows} == {d("0.075")}
        assert result.rows[0].explanation.rate_bases[0].key_rate == d("0.075")
        assert [str(row.amount) for row in result.rows] == ["150.00", "311.54"]  # 60 + 54 days
        check_rows(result)

    def test_without_a_cap_window_the_key_rate_applies(self) -> None:
        june_2021 = penalty(obligation("2021-06", "10000.00"), [], date(2021, 10, 31), rules())
        assert {row.rate for row in june_2021.rows} == {d("0.075")}
        after = penalty(obligation("2027-01", "10000.00"), [], date(2027, 6, 1), rules())
        assert {row.rate for row in after.rows} == {d("0.18")}

    def test_the_paid_portion_takes_the_rate_of_its_payment_date(self) -> None:
        # 2021: no cap. 4 000 paid on 2021-06-01 at 5 %, the rest at 7.5 % on 2021-12-01.
        ob = obligation("2021-01", "10000.00")  # due 2021-02-10; day 31 = 2021-03-13
        payment = Payment(date(2021, 6, 1), d("4000.00"))
        result = penalty(ob, [payment], date(2021, 12, 1), rules())
        assert shape(result) == [
            (date(2021, 3, 13), date(2021, 5, 11), 60, "4000.00", "1/300", "0.05", "40.00", False),
            (date(2021, 3, 13), date(2021, 5, 11), 60, "6000.00", "1/300", "0.075", "90.00", False),
            (date(2021, 5, 12), date(2021, 6, 1), 21, "4000.00", "1/130", "0.05", "32.31", False),
            (
                date(2021, 5, 12),
                date(2021, 12, 1),
                204,
                "6000.00",
                "1/130",
                "0.075",
                "706.15",
                False,
            ),
        ]
        check_rows(result)

    def test_two_payment_dates_with_the_same_rate_share_a_layer(self) -> None:
        payments = [Payment(date(2025, 3, 20), d("1000.00")), Payment(date(2025, 4, 20), d("1.00"))]
        result = penalty(JAN_2025, payments, date(2025, 4, 30), rules())
        assert [str(row.base) for row in result.rows] == ["10000.00", "9000.00", "8999.00"]
        assert [basis.on for basis in result.rows[0].explanation.rate_bases] == [
            date(2025, 3, 20),
            date(2025, 4, 20),
            date(2025, 4, 30),
        ]


class TestRateOfTheSettlementDate:
    """Documented exceptions to monotonicity: the law's rate is the one of the payment date or
    the calculation date, so it applies to the whole portion, not day by day."""

    falling = PenaltyRules(
        scheme(Preset.CAPITAL_REPAIR_RF),
        KeyRates(((date.min, d("0.20")), (date(2025, 6, 1), d("0.10")))),
    )

    def test_a_later_calculation_date_after_a_rate_cut_gives_less(self) -> None:
        before_cut = penalty(JAN_2025, [], date(2025, 5, 31), self.falling)
        after_cut = penalty(JAN_2025, [], date(2025, 6, 1), self.falling)
        assert (before_cut.total, after_cut.total) == (
            d("733.33"),
            d("370.00"),
        )  # 110 days at 20 %, 111 at 10 %

    def test_a_payment_while_the_rate_was_higher_can_raise_it(self) -> None:
        unpaid = penalty(JAN_2025, [], date(2025, 6, 30), self.falling)
        paid = penalty(
            JAN_2025, [Payment(date(2025, 5, 31), d("10000.00"))], date(2025, 6, 30), self.falling
        )
        assert unpaid.total < paid.total


class TestNoKeyRate:
    def test_an_issue_not_an_exception_and_the_rest_is_computed(self) -> None:
        # Key rates known from 2020 only: the 400 paid on 2019-12-31 has no rate, the unpaid
        # 600 takes the rate of the calculation date and is computed.
        known = KeyRates(((date(2020, 1, 1), d("0.0625")),))
        ob = Obligation(Period(2019, 10), d("1000.00"), date(2019, 11, 10), account="0001")
        payment = Payment(date(2019, 12, 31), d("400.00"))
        capital = PenaltyRules(scheme("capital_repair_rf"), known)
        result = penalty(ob, [payment], date(2020, 1, 31), capital)
        assert shape(result) == [
            (date(2019, 11, 11), date(2020, 1, 31), 82, "600.00", "1/300", "0.0625", "10.25", False)
        ]
        (issue,) = result.issues
        assert issue.code == NO_KEY_RATE
        assert issue.severity is Severity.ERROR
        assert issue.account == "0001"
        assert dict(issue.values) == {
            "date": date(2019, 12, 31),
            "amount": d("400.00"),
            "period": "2019-10",
        }
        assert issue.message("en") == (
            "account 0001: no key rate in effect on 31.12.2019: the penalty for 2019-10 on "
            "400.00 was not calculated"
        )
        assert issue.message("ru") == (
            "лицевой счёт 0001: нет ключевой ставки на 31.12.2019: пени за 2019-10 на сумму "
            "400.00 не рассчитаны"
        )

    def test_the_unpaid_part_after_a_fixed_cap_window(self) -> None:
        # The payment falls in the fixed 9.5 % window (no key rate needed); the calculation
        # date in the min(key, 9.5 %) window needs one and there is none.
        capital = rules_from_parameters("capital_repair_rf", KeyRates())
        payment = Payment(date(2022, 7, 15), d("400.00"))
        result = penalty(APR_2022, [payment], date(2022, 8, 31), capital)
        assert shape(result) == [
            (date(2022, 5, 11), date(2022, 7, 15), 66, "400.00", "1/300", "0.095", "8.36", False)
        ]
        assert [(i.code, i.values["date"], i.values["amount"]) for i in result.issues] == [
            (NO_KEY_RATE, date(2022, 8, 31), d("9600.00"))
        ]

    def test_not_asked_for_when_nothing_accrues(self) -> None:
        within_grace = penalty(JAN_2025, [], date(2025, 3, 12), PenaltyRules(scheme("housing_rf")))
        assert within_grace == PenaltyResult((), Decimal(0))


# --- moratoria -----------------------------------------------------------------------------


class TestMoratoria:
    def test_2020_all_obligations_days_keep_counting(self) -> None:
        result = penalty(obligation("2020-01", "10000.00"), [], date(2021, 1, 31), rules())
        assert shape(result) == [
            (
                date(2020, 3, 12),
                date(2020, 4, 5),
                25,
                "10000.00",
                "1/300",
                "0.0425",
                "35.42",
                False,
            ),
            (date(2020, 4, 6), date(2020, 5, 10), 35, "10000.00", "1/300", "0.0425", "0.00", True),
            (
                date(2020, 5, 11),
                date(2020, 12, 31),
                235,
                "10000.00",
                "1/130",
                "0.0425",
                "0.00",
                True,
            ),
            (
                date(2021, 1, 1),
                date(2021, 1, 31),
                31,
                "10000.00",
                "1/130",
                "0.0425",
                "101.35",
                False,
            ),
        ]
        assert result.rows[1].moratorium == COVID
        # Delay days counted through the moratorium: 2021-01-01 is day 326, at 1/130.
        assert result.rows[3].explanation.first_delay_day == 326
        assert result.rows[2].explanation.formula_amount == d("768.27")
        assert result.total == d("136.77")
        check_rows(result)

    def test_2020_obligation_arising_during_the_moratorium_too(self) -> None:
        result = penalty(obligation("2020-06", "1000.00"), [], date(2020, 12, 31), rules())
        assert result.total == 0
        assert all(row.moratorium == COVID for row in result.rows)

    def test_moratorium_sentences(self) -> None:
        row = penalty(obligation("2020-01", "10000.00"), [], date(2021, 1, 31), rules()).rows[1]
        assert row.render("ru") == (
            "10 000,00 ₽ × 35 дн.: мораторий, пени не начисляются = 0,00 ₽ (06.04.2020–10.05.2020)"
        )
        assert row.render("en") == (
            "10,000.00 ₽ × 35 days: moratorium, no penalty accrues = 0.00 ₽ (06.04.2020–10.05.2020)"
        )

    def test_2022_covers_obligations_arising_before_april(self) -> None:
        feb = penalty(obligation("2022-02", "10000.00"), [], date(2022, 10, 31), rules())
        # due 2022-03-10; day 31 = 2022-04-10, already inside the moratorium
        assert [(row.first_day, row.last_day, row.moratorium) for row in feb.rows] == [
            (date(2022, 4, 10), date(2022, 6, 8), SANCTIONS),
            (date(2022, 6, 9), date(2022, 10, 1), SANCTIONS),
            (date(2022, 10, 2), date(2022, 10, 31), None),
        ]
        assert feb.total == feb.rows[-1].amount == d("173.08")  # 30 days at 7.5 %
        # [DECISION] March 2022 arises on 2022-03-31: covered.
        march = penalty(obligation("2022-03", "10000.00"), [], date(2022, 10, 1), rules())
        assert march.total == 0
        assert all(row.moratorium == SANCTIONS for row in march.rows)

    def test_2022_april_accrues_normally(self) -> None:
        result = penalty(APR_2022, [], date(2022, 10, 1), rules())
        assert all(row.moratorium is None for row in result.rows)
        assert result.total > 0

    def test_arising_date_can_be_given(self) -> None:
        march = obligation("2022-03", "10000.00", arises_on=date(2022, 4, 1))
        assert march.arising_day == date(2022, 4, 1)
        assert penalty(march, [], date(2022, 10, 1), rules()).total > 0

    def test_open_ended_and_overlapping_moratoria(self) -> None:
        open_ended = Moratorium(DateRange(date(2025, 4, 1)))
        inner = Moratorium(DateRange(date(2025, 4, 10), date(2025, 4, 20)))
        custom = PenaltyRules(
            scheme("housing_rf"), KEY_RATES, DEFAULT_RATE_CAPS, (open_ended, inner)
        )
        result = penalty(JAN_2025, [], date(2025, 5, 31), custom)
        # The first listed moratorium is shown; the inner one's boundaries cut nothing.
        assert [(row.first_day, row.moratorium) for row in result.rows] == [
            (date(2025, 3, 13), None),
            (date(2025, 4, 1), open_ended),
            (date(2025, 5, 12), open_ended),
        ]


# --- payments ------------------------------------------------------------------------------


class TestPaymentDay:
    payment = Payment(date(2025, 4, 15), d("2000.00"))

    def bases(self, old_balance: str) -> list[tuple[date, date, str]]:
        custom = rules(payment_day_counts_old_balance=old_balance)
        result = penalty(
            obligation("2025-01", "5000.00"), [self.payment], date(2025, 4, 30), custom
        )
        return [(row.first_day, row.last_day, str(row.base)) for row in result.rows]

    def test_paid_day_still_on_the_old_balance(self) -> None:
        assert self.bases("true") == [
            (date(2025, 3, 13), date(2025, 4, 15), "5000.00"),
            (date(2025, 4, 16), date(2025, 4, 30), "3000.00"),
        ]

    def test_paid_day_already_on_the_new_balance(self) -> None:
        assert self.bases("false") == [
            (date(2025, 3, 13), date(2025, 4, 14), "5000.00"),
            (date(2025, 4, 15), date(2025, 4, 30), "3000.00"),
        ]

    def test_paying_on_day_1_of_accrual(self) -> None:
        ob = obligation("2025-01", "100.00")
        full = Payment(date(2025, 2, 11), d("100.00"))
        old = penalty(ob, [full], date(2025, 3, 1), rules(Preset.CAPITAL_REPAIR_RF))
        assert [(row.first_day, row.days) for row in old.rows] == [(date(2025, 2, 11), 1)]
        new_rules = rules(Preset.CAPITAL_REPAIR_RF, payment_day_counts_old_balance="false")
        assert penalty(ob, [full], date(2025, 3, 1), new_rules).rows == ()


class TestPayments:
    def test_paid_by_the_due_date_nothing_accrues(self) -> None:
        on_due = [Payment(date(2025, 2, 10), d("10000.00"))]
        assert penalty(JAN_2025, on_due, LONG, rules()).rows == ()

    def test_fully_paid_rows_stop_at_the_payment(self) -> None:
        result = penalty(JAN_2025, [Payment(date(2025, 4, 1), d("10000.00"))], LONG, rules())
        assert [(row.first_day, row.last_day) for row in result.rows] == [
            (date(2025, 3, 13), date(2025, 4, 1))
        ]

    def test_overpayment_never_makes_the_base_negative(self) -> None:
        payments = [
            Payment(date(2025, 4, 1), d("6000.00")),
            Payment(date(2025, 4, 20), d("9999.00")),  # only 4 000 of it is for this period
            Payment(date(2025, 5, 1), d("50.00")),
        ]
        result = penalty(JAN_2025, payments, LONG, rules())
        assert [(str(row.base), row.last_day) for row in result.rows] == [
            ("10000.00", date(2025, 4, 1)),
            ("4000.00", date(2025, 4, 20)),
        ]
        assert all(row.base > 0 for row in result.rows)

    def test_payments_are_taken_in_date_order(self) -> None:
        late_first = [
            Payment(date(2025, 4, 20), d("1000.00")),
            Payment(date(2025, 4, 1), d("500.00")),
        ]
        in_order = list(reversed(late_first))
        assert penalty(JAN_2025, late_first, LONG, rules()) == penalty(
            JAN_2025, in_order, LONG, rules()
        )

    def test_future_and_zero_payments_change_nothing(self) -> None:
        unpaid = penalty(JAN_2025, [], date(2025, 5, 1), rules())
        others = [Payment(date(2025, 5, 2), d("10000.00")), Payment(date(2025, 4, 1), d("0.00"))]
        assert penalty(JAN_2025, others, date(2025, 5, 1), rules()) == unpaid

    def test_a_negative_payment_is_an_issue_and_ignored(self) -> None:
        reversal = Payment(date(2025, 4, 1), d("-500.00"))
        result = penalty(JAN_2025, [reversal], date(2025, 5, 1), rules())
        assert result.rows == penalty(JAN_2025, [], date(2025, 5, 1), rules()).rows
        (issue,) = result.issues
        assert (issue.code, issue.severity) == (NEGATIVE_PAYMENT, Severity.WARNING)
        assert issue.message("en").startswith("payment of -500.00 on 01.04.2025 for 2025-01")
        assert issue.message("ru").startswith("платёж -500.00 от 01.04.2025 за 2025-01")


# --- nothing to charge -----------------------------------------------------------------------


class TestNothingDue:
    @pytest.mark.parametrize(
        "calc", [date(2025, 1, 31), date(2025, 2, 10), date(2025, 2, 11), date(2025, 3, 12)]
    )
    def test_before_the_due_date_or_within_the_grace_days(self, calc: date) -> None:
        assert penalty(JAN_2025, [], calc, rules()) == PenaltyResult((), Decimal(0))

    def test_first_charged_day(self) -> None:
        (row,) = penalty(JAN_2025, [], date(2025, 3, 13), rules()).rows
        assert row.render("en") == (
            "10,000.00 ₽ × 1 day × 9.5% × 1/300 = 3.17 ₽ (13.03.2025–13.03.2025)"
        )

    @pytest.mark.parametrize("principal", ["0.00", "-150.00"])
    def test_no_debt_no_penalty(self, principal: str) -> None:
        result = penalty(obligation("2025-01", principal), [], LONG, rules())
        assert result == PenaltyResult((), Decimal(0))


# --- schemes as data ---------------------------------------------------------------------------


class TestCustomSchemes:
    def test_steps_with_the_same_fraction_merge(self) -> None:
        same = Scheme(Preset.HOUSING_RF, (FractionStep(1, ONE_300), FractionStep(5, ONE_300)))
        result = penalty(JAN_2025, [], date(2025, 2, 20), PenaltyRules(same, KEY_RATES))
        assert [(row.first_day, row.days) for row in result.rows] == [(date(2025, 2, 11), 10)]

    def test_a_zero_band_in_the_middle_is_a_gap(self) -> None:
        steps = (FractionStep(1, ONE_300), FractionStep(5, Fraction(0)), FractionStep(8, ONE_300))
        gap = Scheme(Preset.HOUSING_RF, steps)
        result = penalty(JAN_2025, [], date(2025, 2, 20), PenaltyRules(gap, KEY_RATES))
        assert [(row.first_day, row.days) for row in result.rows] == [
            (date(2025, 2, 11), 4),
            (date(2025, 2, 18), 3),
        ]
        assert gap.fraction_on(0) == 0
        assert gap.fraction_on(6) == 0

    @pytest.mark.parametrize(
        ("steps", "message"),
        [
            ((FractionStep(0, ONE_300),), "start on day 1 or later"),
            ((FractionStep(5, ONE_300), FractionStep(5, ONE_130)), "increasing"),
            ((FractionStep(1, Fraction(-1, 300)),), "cannot be negative"),
        ],
    )
    def test_scheme_validation(self, steps: tuple[FractionStep, ...], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            Scheme(Preset.HOUSING_RF, steps)

    def test_rates_cannot_be_negative_or_floats(self) -> None:
        with pytest.raises(ValueError, match="fixed_rate cannot be negative"):
            Scheme(Preset.CONTRACT_UZ, (), fixed_rate=d("-0.004"))
        with pytest.raises(ValueError, match="cap cannot be negative"):
            Scheme(Preset.CONTRACT_UZ, (), total_cap_share=d("-0.5"))
        with pytest.raises(TypeError, match="fixed_rate must be a Decimal"):
            Scheme(Preset.CONTRACT_UZ, (), fixed_rate=0.004)  # type: ignore[arg-type]

    def test_first_charged_day(self) -> None:
        assert scheme("housing_rf").first_charged_day == 31
        assert scheme("capital_repair_rf").first_charged_day == 1
        assert scheme("none").first_charged_day is None


class TestInputs:
    def test_amounts_must_be_decimals(self) -> None:
        with pytest.raises(TypeError, match="principal must be a Decimal"):
            Obligation(Period(2025, 1), 5000.0, date(2025, 2, 10))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="payment amount must be a finite number"):
            Payment(date(2025, 2, 10), d("Infinity"))

    def test_overlapping_caps_are_a_configuration_error(self) -> None:
        clash = RateCap(DateRange(date(2022, 7, 1), date(2022, 9, 1)), CapMode.FIXED, d("0.1"))
        with pytest.raises(ValueError, match="rate cap windows overlap"):
            PenaltyRules(scheme("housing_rf"), KEY_RATES, (FIXED_CAP, clash))

    def test_bad_parameter_text(self) -> None:
        with pytest.raises(ValueError, match="penalty_grace_days"):
            rules(penalty_grace_days="thirty")
        with pytest.raises(ValueError, match="penalty_moratoria"):
            rules(penalty_moratoria="[{")

    def test_defaults(self) -> None:
        default = rules_from_parameters("housing_rf", KEY_RATES)
        assert default == rules()
        assert default.rate_caps == DEFAULT_RATE_CAPS
        assert default.moratoria == DEFAULT_MORATORIA
        assert default.payment_day_counts_old_balance
        assert PenaltyRules(scheme("none")).key_rates == KeyRates()

    def test_big_and_odd_amounts_render_exactly(self) -> None:
        ob = obligation("2025-01", "1234567.891")
        (row,) = penalty(ob, [], date(2025, 2, 11), rules(Preset.CAPITAL_REPAIR_RF)).rows
        assert row.render("ru").startswith("1 234 567,891 ₽ × 1 дн. × 9,5 % × 1/300 = 390,95 ₽")
