"""kvit.core.due_dates: due day by period, building overrides before 2026-03, business-day
shift, delay-day numbering (spec 3.1, 3.2; example 19). No database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvit.core.config import config_on
from kvit.core.due_dates import (
    LEGAL_DUE_DAY_FROM,
    DueDayRule,
    delay_day,
    delay_day_number,
    due_date,
    is_business_day,
    next_business_day,
)
from kvit.core.parameters import SPECS
from kvit.core.periods import Period

# Russian holidays around the tests' dates (Russia Day and its bridge, New Year).
RUSSIA_DAY_2025 = frozenset({date(2025, 6, 12), date(2025, 6, 13)})
NEW_YEAR_2026 = frozenset(date(2026, 1, day) for day in range(1, 12))


class TestDueDay:
    def test_the_10th_up_to_february_2026(self) -> None:
        assert due_date(Period(2026, 2)) == date(2026, 3, 10)
        assert due_date(Period(2025, 1)) == date(2025, 2, 10)  # example 19

    def test_the_15th_from_march_2026(self) -> None:
        assert due_date(Period(2026, 3)) == date(2026, 4, 15)
        assert due_date(Period(2027, 1)) == date(2027, 2, 15)

    def test_december_is_due_in_january(self) -> None:
        assert due_date(Period(2025, 12)) == date(2026, 1, 10)

    def test_the_default_rule_is_the_parameter_default(self) -> None:
        assert DueDayRule() == DueDayRule.from_rows(SPECS["due_day"].defaults)
        for period in (Period(2000, 1), Period(2026, 2), Period(2026, 3), Period(2040, 7)):
            default = int(SPECS["due_day"].default_on(period.first_day))
            assert DueDayRule().day_for(period) == default

    def test_a_building_override_applies_only_before_march_2026(self) -> None:
        rule = DueDayRule(building_override=20)
        assert due_date(Period(2026, 2), rule) == date(2026, 3, 20)
        assert Period(2026, 3) == LEGAL_DUE_DAY_FROM
        assert due_date(Period(2026, 3), rule) == date(2026, 4, 15)

    def test_steps_are_dated_by_the_period_not_the_due_date(self) -> None:
        # A step from 2026-03-01: period 2026-02 (due in March) still takes the 10th.
        rule = DueDayRule(((date.min, 10), (date(2026, 3, 1), 15)))
        assert rule.day_for(Period(2026, 2)) == 10
        # A step dated mid-month applies from the next period (the one whose first day it
        # precedes).
        rule = DueDayRule(((date.min, 10), (date(2025, 6, 15), 25)))
        assert rule.day_for(Period(2025, 6)) == 10
        assert rule.day_for(Period(2025, 7)) == 25

    def test_from_rows_reads_the_stored_text(self) -> None:
        rule = DueDayRule.from_rows([(date.min, "12"), (date(2026, 3, 1), "15")], " 20 ")
        assert rule == DueDayRule(((date.min, 12), (date(2026, 3, 1), 15)), 20)

    @pytest.mark.parametrize("text", ["0", "29", "x"])
    def test_from_rows_refuses_bad_text(self, text: str) -> None:
        with pytest.raises(ValueError, match="due_day"):
            DueDayRule.from_rows([(date.min, text)])
        with pytest.raises(ValueError, match="due_day"):
            DueDayRule.from_rows([(date.min, "10")], text)

    @pytest.mark.parametrize(
        ("steps", "message"),
        [
            ((), "first due_day step must apply from date.min"),
            (((date(2020, 1, 1), 10),), "first due_day step must apply from date.min"),
            (((date.min, 10), (date.min, 15)), "strictly increasing"),
            (((date.min, 10), (date(2026, 3, 1), 15), (date(2026, 1, 1), 12)), "increasing"),
            (((date.min, 0),), r"steps\[0\] due_day must be 1-28"),
            (((date.min, 10), (date(2026, 3, 1), 29)), r"steps\[1\] due_day must be 1-28"),
        ],
    )
    def test_rule_validation(self, steps: tuple[tuple[date, int], ...], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            DueDayRule(steps)

    @pytest.mark.parametrize("override", [0, 29, 31])
    def test_override_must_be_a_day_every_month_has(self, override: int) -> None:
        with pytest.raises(ValueError, match="building_override must be 1-28"):
            DueDayRule(building_override=override)

    @pytest.mark.parametrize("day", [True, 10.0, "10"])
    def test_days_must_be_ints(self, day: object) -> None:
        with pytest.raises(TypeError, match="must be a whole day of the month"):
            DueDayRule(((date.min, day),))  # type: ignore[arg-type]


class TestBusinessDays:
    def test_not_shifted_by_default(self) -> None:
        # [DECISION] 2025-05-10 is a Saturday and stays the due date.
        assert due_date(Period(2025, 4)) == date(2025, 5, 10)

    def test_weekend_moves_to_monday(self) -> None:
        assert due_date(Period(2025, 4), DueDayRule(), True) == date(2025, 5, 12)

    def test_the_configuration_flag_reaches_the_due_date(self) -> None:
        # the stored text → Config → due_date, as the scenario loader calls it (the loader's
        # own test covers an obligation without a due date end to end)
        for text, expected in (("false", date(2025, 5, 10)), ("true", date(2025, 5, 12))):
            config = config_on(Period(2025, 4).first_day, {"shift_due_date_to_business_day": text})
            rule = DueDayRule(((date.min, config.due_day),))
            shift = config.shift_due_date_to_business_day
            assert due_date(Period(2025, 4), rule, shift) == expected
        assert config_on(date(2025, 4, 1)).shift_due_date_to_business_day is False

    def test_holidays_and_weekend(self) -> None:
        rule = DueDayRule(building_override=12)
        # Thursday 12 and Friday 13 June 2025 are holidays, then the weekend.
        assert due_date(Period(2025, 5), rule, True, RUSSIA_DAY_2025) == date(2025, 6, 16)
        assert due_date(Period(2025, 5), rule, False, RUSSIA_DAY_2025) == date(2025, 6, 12)
        assert due_date(Period(2025, 12), None, True, NEW_YEAR_2026) == date(2026, 1, 12)

    def test_a_business_day_stays(self) -> None:
        assert due_date(Period(2026, 2), None, True, RUSSIA_DAY_2025) == date(2026, 3, 10)

    def test_a_transferred_working_saturday_is_a_business_day(self) -> None:
        saturday = date(2025, 11, 1)
        rule = DueDayRule(building_override=1)
        assert due_date(Period(2025, 10), rule, True) == date(2025, 11, 3)
        assert due_date(Period(2025, 10), rule, True, workdays={saturday}) == saturday
        assert not is_business_day(saturday, holidays={saturday}, workdays={saturday})

    @given(
        st.dates(date(2000, 1, 1), date(2100, 1, 1)),
        st.sets(st.dates(date(2000, 1, 1), date(2100, 3, 1)), max_size=30),
    )
    def test_next_business_day_is_the_first_one(self, day: date, holidays: set[date]) -> None:
        found = next_business_day(day, holidays)
        assert found >= day
        assert is_business_day(found, holidays)
        assert all(
            not is_business_day(day + timedelta(days=i), holidays)
            for i in range((found - day).days)
        )

    @given(
        st.builds(Period, st.integers(1900, 2200), st.integers(1, 12)),
        st.none() | st.integers(1, 28),
    )
    def test_due_date_is_in_the_next_month(self, period: Period, override: int | None) -> None:
        rule = DueDayRule(building_override=override)
        due = due_date(period, rule)
        assert Period.of(due) == period.next()
        assert due.day == rule.day_for(period)
        assert rule.day_for(period) in ({override} if period < LEGAL_DUE_DAY_FROM else set()) | {
            10 if period < LEGAL_DUE_DAY_FROM else 15
        }


class TestDelayDays:
    def test_example_19_day_numbers(self) -> None:
        due = date(2025, 2, 10)
        assert delay_day(due, 1) == date(2025, 2, 11)
        assert delay_day(due, 31) == date(2025, 3, 13)
        assert delay_day(due, 90) == date(2025, 5, 11)
        assert delay_day(due, 91) == date(2025, 5, 12)
        assert delay_day_number(due, date(2025, 5, 12)) == 91
        assert delay_day_number(due, due) == 0
        assert delay_day_number(due, date(2025, 2, 1)) == -9

    @given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(-1000, 1000))
    def test_numbering_round_trips(self, due: date, number: int) -> None:
        assert delay_day_number(due, delay_day(due, number)) == number
