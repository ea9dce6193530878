"""Configuration parameters of the domain spec, section 10: names, kinds and defaults.

A tenant overrides a parameter with effective-dated rows; anything not overridden takes the
default in force on that date. Values are stored as text and parsed here, so the engine, the
admin and the importers agree on one meaning for each parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any


class Kind(Enum):
    DECIMAL = "decimal"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    WINDOWS = "windows"  # JSON list of {"from": ISO date, "to": ISO date, ...}


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    name: str
    kind: Kind
    # (effective_from, default text) pairs in date order; date.min for "always"
    defaults: tuple[tuple[date, str], ...]
    description: str
    choices: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def default_on(self, day: date) -> str:
        value = self.defaults[0][1]
        for effective_from, text in self.defaults:
            if effective_from <= day:
                value = text
        return value

    def parse(self, text: str) -> Any:
        """The typed value of `text`, or ValueError with a message naming the rule."""
        return _PARSERS[self.kind](self, text.strip())


def _parse_decimal(spec: ParameterSpec, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{spec.name}: '{text}' is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{spec.name}: '{text}' is not a finite number")
    if spec.minimum is not None and value < spec.minimum:
        raise ValueError(f"{spec.name}: {value} is below the minimum {spec.minimum}")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueError(f"{spec.name}: {value} is above the maximum {spec.maximum}")
    return value


def _parse_integer(spec: ParameterSpec, text: str) -> int:
    if not text.lstrip("-").isdigit():
        raise ValueError(f"{spec.name}: '{text}' is not a whole number")
    return int(_parse_decimal(spec, text))


def _parse_boolean(spec: ParameterSpec, text: str) -> bool:
    lowered = text.lower()
    if lowered not in {"true", "false"}:
        raise ValueError(f"{spec.name}: '{text}' must be true or false")
    return lowered == "true"


def _parse_choice(spec: ParameterSpec, text: str) -> str:
    if text not in spec.choices:
        raise ValueError(f"{spec.name}: '{text}' must be one of {', '.join(spec.choices)}")
    return text


def _parse_windows(spec: ParameterSpec, text: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{spec.name}: not valid JSON ({error.msg})") from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValueError(f"{spec.name}: expected a JSON list of objects")
    for number, row in enumerate(rows, start=1):
        try:
            start, end = date.fromisoformat(row["from"]), date.fromisoformat(row["to"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"{spec.name}: item {number} needs 'from' and 'to' as YYYY-MM-DD dates"
            ) from None
        if end < start:
            raise ValueError(f"{spec.name}: item {number} ends before it starts")
    return rows


_PARSERS: dict[Kind, Callable[[ParameterSpec, str], Any]] = {
    Kind.DECIMAL: _parse_decimal,
    Kind.INTEGER: _parse_integer,
    Kind.BOOLEAN: _parse_boolean,
    Kind.CHOICE: _parse_choice,
    Kind.WINDOWS: _parse_windows,
}

_ALWAYS = date.min
_ZERO, _ONE = Decimal(0), Decimal(1)


def _spec(name: str, kind: Kind, default: str, description: str, **extra: Any) -> ParameterSpec:
    return ParameterSpec(name, kind, ((_ALWAYS, default),), description, **extra)


# The Bank of Russia key rate by the day it took effect (equal to the refinancing rate since
# 2016-01-01; before that the refinancing rate, 8.25 % since 2012-09-14, is what penalties
# used). Data, not code: a tenant adds effective-dated `key_rate` rows for decisions after
# the last step here (or to correct one); `penalty_tables.key_rates_from_parameters` merges them.
KEY_RATE_HISTORY: tuple[tuple[date, str], ...] = (
    (_ALWAYS, "0.0825"),
    (date(2016, 1, 1), "0.11"),
    (date(2016, 6, 14), "0.105"),
    (date(2016, 9, 19), "0.10"),
    (date(2017, 3, 27), "0.0975"),
    (date(2017, 5, 2), "0.0925"),
    (date(2017, 6, 19), "0.09"),
    (date(2017, 9, 18), "0.085"),
    (date(2017, 10, 30), "0.0825"),
    (date(2017, 12, 18), "0.0775"),
    (date(2018, 2, 12), "0.075"),
    (date(2018, 3, 26), "0.0725"),
    (date(2018, 9, 17), "0.075"),
    (date(2018, 12, 17), "0.0775"),
    (date(2019, 6, 17), "0.075"),
    (date(2019, 7, 29), "0.0725"),
    (date(2019, 9, 9), "0.07"),
    (date(2019, 10, 28), "0.065"),
    (date(2019, 12, 16), "0.0625"),
    (date(2020, 2, 10), "0.06"),
    (date(2020, 4, 27), "0.055"),
    (date(2020, 6, 22), "0.045"),
    (date(2020, 7, 27), "0.0425"),
    (date(2021, 3, 22), "0.045"),
    (date(2021, 4, 26), "0.05"),
    (date(2021, 6, 15), "0.055"),
    (date(2021, 7, 26), "0.065"),
    (date(2021, 9, 13), "0.0675"),
    (date(2021, 10, 25), "0.075"),
    (date(2021, 12, 20), "0.085"),
    (date(2022, 2, 14), "0.095"),
    (date(2022, 2, 28), "0.20"),
    (date(2022, 4, 11), "0.17"),
    (date(2022, 5, 4), "0.14"),
    (date(2022, 5, 27), "0.11"),
    (date(2022, 6, 14), "0.095"),
    (date(2022, 7, 25), "0.08"),
    (date(2022, 9, 19), "0.075"),
    (date(2023, 7, 24), "0.085"),
    (date(2023, 8, 15), "0.12"),
    (date(2023, 9, 18), "0.13"),
    (date(2023, 10, 30), "0.15"),
    (date(2023, 12, 18), "0.16"),
    (date(2024, 7, 29), "0.18"),
    (date(2024, 9, 16), "0.19"),
    (date(2024, 10, 28), "0.21"),
    (date(2025, 6, 9), "0.20"),
    (date(2025, 7, 28), "0.18"),
    (date(2025, 9, 15), "0.17"),
    (date(2025, 10, 27), "0.165"),
    (date(2025, 12, 22), "0.16"),
)

SPECS: dict[str, ParameterSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "reading_cutoff_day",
            Kind.INTEGER,
            "25",
            "Readings after this day go to the next period",
            minimum=_ONE,
            maximum=Decimal(31),
        ),
        _spec(
            "rollover_max_fraction",
            Kind.DECIMAL,
            "0.1",
            "Largest rollover volume as a fraction of meter capacity (2.2)",
            minimum=_ZERO,
            maximum=_ONE,
        ),
        _spec(
            "avg_window_months",
            Kind.INTEGER,
            "6",
            "Months averaged when a reading is missing (2.4)",
            minimum=_ONE,
        ),
        _spec(
            "avg_min_months",
            Kind.INTEGER,
            "3",
            "Fewest actual months that make an average (2.4)",
            minimum=_ONE,
        ),
        _spec(
            "avg_max_periods_no_reading",
            Kind.INTEGER,
            "6",
            "Periods billed by average when readings are not submitted",
            minimum=_ZERO,
        ),
        _spec(
            "avg_max_periods_failed",
            Kind.INTEGER,
            "3",
            "Periods billed by average after a meter failure, residential",
            minimum=_ZERO,
        ),
        _spec(
            "avg_max_periods_failed_nonresidential",
            Kind.INTEGER,
            "2",
            "Periods billed by average after a meter failure, non-residential",
            minimum=_ZERO,
        ),
        _spec(
            "electricity_meter_owned_by_supplier",
            Kind.BOOLEAN,
            "true",
            "Failed household electricity meters: average until replaced",
        ),
        _spec(
            "verification_freeze_windows",
            Kind.WINDOWS,
            '[{"from": "2020-04-06", "to": "2020-12-31"}]',
            "Windows in which an expired verification does not fail a meter",
        ),
        _spec(
            "norm_coefficient_no_meter",
            Kind.DECIMAL,
            "1.5",
            "Norm coefficient when a meter is missing but possible (2.5)",
            minimum=_ONE,
        ),
        _spec(
            "norm_coefficient_after_failure",
            Kind.DECIMAL,
            "1.0",
            "Norm coefficient after a failed meter's average period",
            minimum=_ONE,
        ),
        _spec(
            "norm_coefficient_refused_access",
            Kind.DECIMAL,
            "1.5",
            "Norm coefficient after the second refusal of access",
            minimum=_ONE,
        ),
        _spec(
            "norm_coefficient_after_no_reading",
            Kind.DECIMAL,
            "1.0",
            "Norm coefficient after readings were not submitted",
            minimum=_ONE,
        ),
        _spec(
            "trueup_mode",
            Kind.CHOICE,
            "current_period",
            "How an actual reading after estimates is settled (2.7)",
            choices=("current_period", "rerate_past"),
        ),
        _spec(
            "partial_split_basis",
            Kind.CHOICE,
            "billed",
            "Basis for splitting a partial payment (3.4)",
            choices=("billed", "unpaid"),
        ),
        _spec(
            "odn_cap_by_norm", Kind.BOOLEAN, "true", "Cap common-house volumes at the norm (2.8)"
        ),
        _spec(
            "negative_odn_mode",
            Kind.CHOICE,
            "carry_forward",
            "Negative common-house volume (2.8)",
            choices=("carry_forward", "zero"),
        ),
        _spec(
            "absence_min_full_days",
            Kind.INTEGER,
            "6",
            "Full days of absence that make a recalculation (2.14)",
            minimum=_ONE,
        ),
        _spec(
            "quality_reduction_pct_per_hour",
            Kind.DECIMAL,
            "0.15",
            "Reduction per excess interruption hour, percent (2.15)",
            minimum=_ZERO,
        ),
        _spec(
            "excess_mode",
            Kind.CHOICE,
            "total",
            "Interruption hours counted against the month's total only, or also per event (2.15)",
            choices=("total", "per_event"),
        ),
        ParameterSpec(
            "due_day",
            Kind.INTEGER,
            ((_ALWAYS, "10"), (date(2026, 3, 1), "15")),
            "Day of the next month by which a period is due (3.1); dated by period start",
            minimum=_ONE,
            maximum=Decimal(28),
        ),
        _spec(
            "shift_due_date_to_business_day",
            Kind.BOOLEAN,
            "false",
            "Move a due date off weekends and holidays (3.1)",
        ),
        _spec(
            "penalty_grace_days",
            Kind.INTEGER,
            "30",
            "Delay days without penalty (3.2)",
            minimum=_ZERO,
        ),
        _spec(
            "penalty_switch_day",
            Kind.INTEGER,
            "90",
            "Last delay day at 1/300 before 1/130 (3.2)",
            minimum=_ONE,
        ),
        _spec(
            "penalty_rate_cap",
            Kind.WINDOWS,
            json.dumps(
                [
                    {"from": "2022-02-28", "to": "2022-07-31", "mode": "fixed", "rate": "0.095"},
                    {
                        "from": "2022-08-01",
                        "to": "2026-12-31",
                        "mode": "min_key_rate",
                        "rate": "0.095",
                    },
                ]
            ),
            "Effective-dated cap on the key rate for penalties (3.2)",
        ),
        ParameterSpec(
            "key_rate",
            Kind.DECIMAL,
            KEY_RATE_HISTORY,
            "Central bank key rate in effect from each date, a fraction (3.2)",
            minimum=_ZERO,
            maximum=_ONE,
        ),
        _spec(
            "penalty_moratoria",
            Kind.WINDOWS,
            json.dumps(
                [
                    {"from": "2020-04-06", "to": "2020-12-31"},
                    {
                        "from": "2022-04-01",
                        "to": "2022-10-01",
                        "applies_to_obligations_before": "2022-04-01",
                    },
                ]
            ),
            "Days without penalty accrual (3.2)",
        ),
        _spec(
            "penalty_uz_daily_rate",
            Kind.DECIMAL,
            "0.004",
            "Contractual penalty per day of delay, contract_uz (3.3)",
            minimum=_ZERO,
            maximum=_ONE,
        ),
        _spec(
            "penalty_uz_total_cap_share",
            Kind.DECIMAL,
            "0.5",
            "Limit of contract_uz penalties as a share of the overdue amount (3.3)",
            minimum=_ZERO,
        ),
        _spec(
            "payment_day_counts_old_balance",
            Kind.BOOLEAN,
            "true",
            "A payment lowers the penalty base from the next day (3.2)",
        ),
        _spec(
            "allocate_time_barred",
            Kind.BOOLEAN,
            "false",
            "Allocate payments to periods older than 3 years (3.4)",
        ),
        _spec(
            "volume_scale_m3_kwh",
            Kind.INTEGER,
            "3",
            "Decimals of derived m³ and kWh volumes (4)",
            minimum=_ZERO,
            maximum=Decimal(6),
        ),
        _spec(
            "volume_scale_gcal",
            Kind.INTEGER,
            "6",
            "Decimals of derived Gcal volumes (4)",
            minimum=_ZERO,
            maximum=Decimal(6),
        ),
        _spec(
            "suspense_refund_days",
            Kind.INTEGER,
            "30",
            "Days before an unidentified payment may be refunded (6.4)",
            minimum=_ZERO,
        ),
        _spec(
            "limitation_warning_days",
            Kind.INTEGER,
            "20",
            "Days between a warning and limitation (8)",
            minimum=_ZERO,
        ),
        _spec(
            "suspension_after_limitation_days",
            Kind.INTEGER,
            "10",
            "Days between limitation and suspension (8)",
            minimum=_ZERO,
        ),
        _spec(
            "loss_tolerance_pp",
            Kind.DECIMAL,
            "0.5",
            "Allowed loss above the norm, percentage points (7.2)",
            minimum=_ZERO,
        ),
        _spec(
            "benefit_mode",
            Kind.CHOICE,
            "discount",
            "Benefits as a discount or only reported (2.16)",
            choices=("discount", "compensation_report"),
        ),
    )
}
