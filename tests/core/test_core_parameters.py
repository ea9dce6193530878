"""kvit.core.parameters: names, defaults and parsing of the spec's parameters (section 10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kvit.core.parameters import SPECS, Kind, ParameterSpec

# Defaults as written in the domain spec, section 10 (for the dates where they differ).
SPEC_DEFAULTS = {
    "reading_cutoff_day": 25,
    "rollover_max_fraction": Decimal("0.1"),
    "avg_window_months": 6,
    "avg_min_months": 3,
    "avg_max_periods_no_reading": 6,
    "avg_max_periods_failed": 3,
    "avg_max_periods_failed_nonresidential": 2,
    "electricity_meter_owned_by_supplier": True,
    "norm_coefficient_no_meter": Decimal("1.5"),
    "norm_coefficient_after_failure": Decimal("1.0"),
    "norm_coefficient_refused_access": Decimal("1.5"),
    "trueup_mode": "current_period",
    "partial_split_basis": "billed",
    "norm_coefficient_after_no_reading": Decimal("1.0"),
    "odn_cap_by_norm": True,
    "negative_odn_mode": "carry_forward",
    "absence_min_full_days": 6,
    "quality_reduction_pct_per_hour": Decimal("0.15"),
    "excess_mode": "total",  # 2.15 [UNCERTAIN]: or per_event
    "shift_due_date_to_business_day": False,
    "penalty_grace_days": 30,
    "penalty_switch_day": 90,
    "penalty_uz_daily_rate": Decimal("0.004"),  # 3.3 contract_uz, [UNCERTAIN]
    "penalty_uz_total_cap_share": Decimal("0.5"),
    "payment_day_counts_old_balance": True,
    "allocate_time_barred": False,
    "volume_scale_m3_kwh": 3,
    "volume_scale_gcal": 6,
    "suspense_refund_days": 30,
    "limitation_warning_days": 20,
    "suspension_after_limitation_days": 10,
    "loss_tolerance_pp": Decimal("0.5"),
}


def spec(kind: Kind, **extra: object) -> ParameterSpec:
    return ParameterSpec("p", kind, ((date.min, ""),), "test", **extra)  # type: ignore[arg-type]


def test_each_spec_is_filed_under_its_own_name() -> None:
    assert all(name == s.name for name, s in SPECS.items())


@pytest.mark.parametrize(("name", "expected"), sorted(SPEC_DEFAULTS.items()))
def test_defaults_match_the_domain_spec(name: str, expected: object) -> None:
    parsed = SPECS[name].parse(SPECS[name].default_on(date(2025, 1, 1)))
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_default_parses_with_its_own_rules(name: str) -> None:
    for day in (date(2000, 1, 1), date(2026, 2, 28), date(2026, 3, 1), date(2100, 1, 1)):
        SPECS[name].parse(SPECS[name].default_on(day))


def test_due_day_moves_from_the_10th_to_the_15th_in_march_2026() -> None:
    due_day = SPECS["due_day"]
    assert due_day.parse(due_day.default_on(date(2000, 1, 1))) == 10
    assert due_day.parse(due_day.default_on(date(2026, 2, 28))) == 10
    assert due_day.parse(due_day.default_on(date(2026, 3, 1))) == 15
    assert due_day.parse(due_day.default_on(date(2030, 1, 1))) == 15


def test_a_single_default_applies_on_every_date() -> None:
    cutoff = SPECS["reading_cutoff_day"]
    assert cutoff.default_on(date.min) == cutoff.default_on(date.max) == "25"


def test_the_window_defaults_follow_the_spec() -> None:
    freeze = SPECS["verification_freeze_windows"].parse(
        SPECS["verification_freeze_windows"].default_on(date(2025, 1, 1))
    )
    assert [(w["from"], w["to"]) for w in freeze] == [("2020-04-06", "2020-12-31")]
    moratoria = SPECS["penalty_moratoria"].parse(SPECS["penalty_moratoria"].default_on(date.min))
    assert [(w["from"], w["to"]) for w in moratoria] == [
        ("2020-04-06", "2020-12-31"),
        ("2022-04-01", "2022-10-01"),
    ]


class TestDecimal:
    def test_parses_and_strips_spaces(self) -> None:
        assert SPECS["rollover_max_fraction"].parse(" 0.25 ") == Decimal("0.25")

    @pytest.mark.parametrize("text", ["", "abc", "0,5", "1e"])
    def test_not_a_number(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"rollover_max_fraction: .* is not a decimal number"):
            SPECS["rollover_max_fraction"].parse(text)

    @pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "sNaN"])
    def test_not_finite(self, text: str) -> None:
        with pytest.raises(ValueError, match="is not a finite number"):
            SPECS["rollover_max_fraction"].parse(text)

    def test_bounds_are_inclusive(self) -> None:
        rollover = SPECS["rollover_max_fraction"]
        assert rollover.parse("0") == 0
        assert rollover.parse("1") == 1
        with pytest.raises(ValueError, match=r"-0\.01 is below the minimum 0"):
            rollover.parse("-0.01")
        with pytest.raises(ValueError, match=r"1\.01 is above the maximum 1"):
            rollover.parse("1.01")

    def test_only_a_minimum(self) -> None:
        assert SPECS["loss_tolerance_pp"].parse("1000000") == Decimal(1000000)

    def test_no_bounds(self) -> None:
        assert spec(Kind.DECIMAL).parse("-12.5") == Decimal("-12.5")


class TestInteger:
    def test_parses(self) -> None:
        assert SPECS["due_day"].parse("28") == 28
        assert spec(Kind.INTEGER).parse("-3") == -3

    @pytest.mark.parametrize("text", ["", "1.5", "ten", "1e3", "+5"])
    def test_not_a_whole_number(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"due_day: .* is not a whole number"):
            SPECS["due_day"].parse(text)

    def test_bounds(self) -> None:
        with pytest.raises(ValueError, match="29 is above the maximum 28"):
            SPECS["due_day"].parse("29")
        with pytest.raises(ValueError, match="0 is below the minimum 1"):
            SPECS["due_day"].parse("0")
        with pytest.raises(ValueError, match="-1 is below the minimum 0"):
            SPECS["penalty_grace_days"].parse("-1")


class TestBoolean:
    @pytest.mark.parametrize(
        ("text", "expected"), [("true", True), ("False", False), ("TRUE", True)]
    )
    def test_parses_any_case(self, text: str, expected: bool) -> None:
        assert SPECS["odn_cap_by_norm"].parse(text) is expected

    @pytest.mark.parametrize("text", ["yes", "1", ""])
    def test_rejects_other_words(self, text: str) -> None:
        with pytest.raises(ValueError, match=r"odn_cap_by_norm: .* must be true or false"):
            SPECS["odn_cap_by_norm"].parse(text)


class TestChoice:
    def test_parses_a_listed_choice(self) -> None:
        assert SPECS["trueup_mode"].parse("rerate_past") == "rerate_past"

    def test_rejects_others_and_lists_the_choices(self) -> None:
        with pytest.raises(ValueError, match="'Rerate_past' must be one of current_period, rerate"):
            SPECS["trueup_mode"].parse("Rerate_past")


class TestWindows:
    windows = SPECS["penalty_moratoria"]

    def test_parses_a_list_keeping_extra_keys(self) -> None:
        text = '[{"from": "2024-01-01", "to": "2024-01-01", "note": "one day"}]'
        assert self.windows.parse(text) == [
            {"from": "2024-01-01", "to": "2024-01-01", "note": "one day"}
        ]

    def test_an_empty_list_is_no_windows(self) -> None:
        assert self.windows.parse("[]") == []

    def test_invalid_json(self) -> None:
        with pytest.raises(ValueError, match=r"penalty_moratoria: not valid JSON \("):
            self.windows.parse("[{")

    @pytest.mark.parametrize("text", ['{"from": "2024-01-01"}', "[1, 2]", '"text"'])
    def test_not_a_list_of_objects(self, text: str) -> None:
        with pytest.raises(ValueError, match="expected a JSON list of objects"):
            self.windows.parse(text)

    @pytest.mark.parametrize(
        "item",
        [
            '{"from": "2024-01-01"}',
            '{"from": 20240101, "to": "2024-02-01"}',
            '{"from": "2024-13-01", "to": "2024-12-31"}',
        ],
    )
    def test_item_needs_iso_dates(self, item: str) -> None:
        text = f'[{{"from": "2024-01-01", "to": "2024-02-01"}}, {item}]'
        with pytest.raises(ValueError, match="item 2 needs 'from' and 'to' as YYYY-MM-DD"):
            self.windows.parse(text)

    def test_item_ending_before_it_starts(self) -> None:
        with pytest.raises(ValueError, match="item 1 ends before it starts"):
            self.windows.parse('[{"from": "2024-02-01", "to": "2024-01-31"}]')
