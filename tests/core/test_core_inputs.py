"""kvit.core.inputs, codes and config: the engine's input types and the typed section-10
configuration. No database."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from kvit.core.codes import ZONES_BY_COUNT, LineKind, NormKind, Resource, Rule, Unit, Zone
from kvit.core.config import Config, DateWindow, ParameterRow, config_on, overrides_on
from kvit.core.dating import DateRange
from kvit.core.inputs import (
    Account,
    ConnectedService,
    Meter,
    NormVersion,
    PostedLine,
    Registration,
    TariffVersion,
    ZonePrice,
)
from kvit.core.lines import ChargeLine, Explanation
from kvit.core.parameters import SPECS
from kvit.core.periods import Period

JULY = Period(2025, 7)


# --- codes match the models' choices --------------------------------------------------------


def test_zone_sets_by_meter_zones() -> None:
    assert ZONES_BY_COUNT[2] == (Zone.DAY, Zone.NIGHT)
    assert [zone.value for zone in ZONES_BY_COUNT[3]] == ["peak", "semipeak", "night"]


# --- config ---------------------------------------------------------------------------------


def test_config_has_a_field_for_every_parameter() -> None:
    assert {field.name for field in dataclasses.fields(Config)} == set(SPECS)


def test_config_defaults_are_typed_and_dated() -> None:
    before = config_on(date(2026, 2, 28))
    after = config_on(date(2026, 3, 1))
    assert (before.due_day, after.due_day) == (10, 15)
    assert before.rollover_max_fraction == Decimal("0.1")
    assert before.odn_cap_by_norm is True
    assert before.trueup_mode == "current_period"
    assert before.verification_freeze_windows == (DateWindow(date(2020, 4, 6), date(2020, 12, 31)),)
    fixed, capped = before.penalty_rate_cap
    assert (fixed.mode, fixed.rate, fixed.first) == ("fixed", Decimal("0.095"), date(2022, 2, 28))
    assert capped.mode == "min_key_rate"
    everyone, older = before.penalty_moratoria
    assert (everyone.applies_before, older.applies_before) == (None, date(2022, 4, 1))
    assert older.contains(date(2022, 10, 1)) and not older.contains(date(2022, 10, 2))


def test_config_overrides_are_parsed() -> None:
    config = config_on(date(2025, 7, 1), {"rollover_max_fraction": "0.2", "due_day": "12"})
    assert (config.rollover_max_fraction, config.due_day) == (Decimal("0.2"), 12)


def test_config_refuses_unknown_names_and_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown configuration parameters: nope, zzz"):
        config_on(date(2025, 7, 1), {"zzz": "1", "nope": "2"})
    with pytest.raises(ValueError, match="rollover_max_fraction"):
        config_on(date(2025, 7, 1), {"rollover_max_fraction": "lots"})


@pytest.mark.parametrize(
    "row",
    [
        '{"from": "2022-01-01", "to": "2022-02-01", "rate": 0.095}',
        '{"from": "2022-01-01", "to": "2022-02-01", "rate": "x"}',
        '{"from": "2022-01-01", "to": "2022-02-01", "applies_to_obligations_before": 5}',
    ],
)
def test_config_refuses_bad_window_rows(row: str) -> None:
    with pytest.raises(ValueError, match=r"penalty_rate_cap: item 1: "):
        config_on(date(2025, 7, 1), {"penalty_rate_cap": f"[{row}]"})


def test_overrides_on_a_date() -> None:
    rows = [
        ParameterRow("due_day", "12", date(2025, 1, 1), date(2025, 7, 1)),
        ParameterRow("due_day", "14", date(2025, 7, 1)),
        ParameterRow("trueup_mode", "rerate_past", date(2026, 1, 1)),
    ]
    assert overrides_on(rows, date(2025, 6, 30)) == {"due_day": "12"}
    assert overrides_on(rows, date(2025, 7, 1)) == {"due_day": "14"}
    assert config_on(date(2026, 1, 1), overrides_on(rows, date(2026, 1, 1))).trueup_mode == (
        "rerate_past"
    )


# --- inputs ---------------------------------------------------------------------------------


def test_effective_spans_are_half_open() -> None:
    tariff = TariffVersion(date(2025, 1, 1), date(2025, 7, 16), value=Decimal("1"))
    assert tariff.span == DateRange(date(2025, 1, 1), date(2025, 7, 16))
    assert NormVersion(NormKind.PER_PERSON, Decimal(1), date(2025, 1, 1)).span.end is None
    assert ConnectedService("x", "p", date(2025, 1, 1)).span.contains(date(2030, 1, 1))
    assert not Registration("a", date(2025, 1, 1), date(2025, 2, 1)).span.contains(date(2025, 2, 1))
    account = Account("1", date(2025, 1, 1), Decimal("54.30"), closed_on=date(2025, 8, 1))
    assert account.active_span == DateRange(date(2025, 1, 1), date(2025, 8, 1))


def test_zone_prices() -> None:
    tariff = TariffVersion(
        date(2025, 1, 1), value=Decimal("6"), zones=(ZonePrice(Zone.DAY, Decimal("5")),)
    )
    assert tariff.zone_value(Zone.DAY) == Decimal("5")
    assert tariff.zone_value(Zone.TOTAL) == Decimal("6")
    assert tariff.zone_value(Zone.NIGHT) is None


def test_meter_capacity() -> None:
    meter = Meter("E", Resource.ELECTRICITY, date(2020, 1, 1), integer_digits=5)
    assert meter.capacity == Decimal(100000)


def test_inputs_are_frozen() -> None:
    account = Account("1", date(2025, 1, 1), Decimal("54.30"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.number = "2"  # type: ignore[misc]


def test_posted_lines_pair_with_charge_lines_by_key() -> None:
    line = ChargeLine(
        "1",
        "p",
        "maintenance",
        JULY,
        LineKind.CHARGE,
        Decimal("54.30"),
        Unit.M2,
        Decimal("33.40"),
        Decimal("1813.62"),
        Explanation(Rule.PER_AREA),
        JULY.span,
    )
    posted = PostedLine(
        "p",
        "maintenance",
        JULY,
        LineKind.CHARGE,
        Decimal("1813.62"),
        Decimal("54.30"),
        rule="per_area",
        span_from=JULY.first_day,
        span_to=JULY.end,
    )
    assert line.key == (
        posted.provider,
        posted.service,
        posted.period,
        posted.kind,
        posted.rule,
        posted.zone,
        posted.tier,
        posted.span_from,
        posted.span_to,
    )
