"""The section-10 parameters as one typed value for a date (spec 10; `parameters.SPECS`).

A tenant's overrides come in as text, exactly as stored (`parameters.Parameter.value`); what
is not overridden takes the default in force on the date. `config_on(day, overrides)` parses
everything once, so rules read `config.rollover_max_fraction` as a `Decimal`, never a string.
Every name in `SPECS` is a field here (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from kvit.core.money import to_decimal
from kvit.core.parameters import SPECS, Kind


@dataclass(frozen=True, slots=True)
class DateWindow:
    """A row of a windows parameter: inclusive `first`..`last` days, as the spec writes them.

    `mode` and `rate` are used by `penalty_rate_cap`, `applies_before` by `penalty_moratoria`
    (only obligations that arose before that date); other windows leave them empty.
    """

    first: date
    last: date
    mode: str = ""
    rate: Decimal | None = None
    applies_before: date | None = None

    def contains(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class Config:
    reading_cutoff_day: int
    rollover_max_fraction: Decimal
    avg_window_months: int
    avg_min_months: int
    avg_max_periods_no_reading: int
    avg_max_periods_failed: int
    avg_max_periods_failed_nonresidential: int
    electricity_meter_owned_by_supplier: bool
    verification_freeze_windows: tuple[DateWindow, ...]
    norm_coefficient_no_meter: Decimal
    norm_coefficient_after_failure: Decimal
    norm_coefficient_refused_access: Decimal
    norm_coefficient_after_no_reading: Decimal
    trueup_mode: str
    partial_split_basis: str
    odn_cap_by_norm: bool
    negative_odn_mode: str
    absence_min_full_days: int
    quality_reduction_pct_per_hour: Decimal
    excess_mode: str
    due_day: int
    shift_due_date_to_business_day: bool
    penalty_grace_days: int
    penalty_switch_day: int
    penalty_rate_cap: tuple[DateWindow, ...]
    key_rate: Decimal  # on the configuration's day; the whole table: key_rates_from_parameters
    penalty_moratoria: tuple[DateWindow, ...]
    penalty_uz_daily_rate: Decimal
    penalty_uz_total_cap_share: Decimal
    payment_day_counts_old_balance: bool
    allocate_time_barred: bool
    volume_scale_m3_kwh: int
    volume_scale_gcal: int
    suspense_refund_days: int
    limitation_warning_days: int
    suspension_after_limitation_days: int
    loss_tolerance_pp: Decimal
    benefit_mode: str


@dataclass(frozen=True, slots=True)
class ParameterRow:
    """One stored override (`parameters.Parameter`): half-open `[effective_from, effective_to)`."""

    name: str
    value: str
    effective_from: date
    effective_to: date | None = None


def overrides_on(rows: Iterable[ParameterRow], day: date) -> dict[str, str]:
    """The override text in force on `day` for each overridden name."""
    return {
        row.name: row.value
        for row in rows
        if row.effective_from <= day and (row.effective_to is None or day < row.effective_to)
    }


def steps_of(name: str, rows: Iterable[ParameterRow] = ()) -> tuple[tuple[date, str], ...]:
    """Parameter `name` as text steps `(effective_from, text)`, the first from `date.min`:
    its effective-dated defaults with a tenant's override rows (of that name; others are
    ignored) laid over them for their half-open `[effective_from, effective_to)`. For tables
    read on many dates (`due_day` by period, `key_rate` by day) rather than on one."""
    spec = SPECS[name]
    own = [row for row in rows if row.name == name]
    cuts = {start for start, _text in spec.defaults}
    cuts.update(row.effective_from for row in own)
    cuts.update(row.effective_to for row in own if row.effective_to is not None)
    steps: list[tuple[date, str]] = []
    for day in sorted(cuts):
        text = overrides_on(own, day).get(name, spec.default_on(day))
        if not steps or steps[-1][1] != text:
            steps.append((day, text))
    return tuple(steps)


def config_on(day: date, overrides: Mapping[str, str] | None = None) -> Config:
    """The typed configuration on `day`: overrides parsed, every other name at its default.

    Raises ValueError for an unknown name or a value its parameter refuses (the message
    names the parameter), so a bad override stops the run before anything is computed.
    """
    given = overrides or {}
    unknown = sorted(set(given) - set(SPECS))
    if unknown:
        raise ValueError(f"unknown configuration parameters: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in SPECS.items():
        value = spec.parse(given.get(name, spec.default_on(day)))
        values[name] = _windows(name, value) if spec.kind is Kind.WINDOWS else value
    return Config(**values)


def _windows(name: str, rows: list[dict[str, Any]]) -> tuple[DateWindow, ...]:
    return tuple(_window(name, number, row) for number, row in enumerate(rows, start=1))


def _window(name: str, number: int, row: dict[str, Any]) -> DateWindow:
    rate, before = row.get("rate"), row.get("applies_to_obligations_before")
    try:
        return DateWindow(
            first=date.fromisoformat(row["from"]),
            last=date.fromisoformat(row["to"]),
            mode=str(row.get("mode", "")),
            rate=None if rate is None else to_decimal(rate),
            applies_before=None if before is None else date.fromisoformat(before),
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: item {number}: {error}") from None
