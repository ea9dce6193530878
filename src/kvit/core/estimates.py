"""Estimated volumes of a metered service: average, then norm (spec 2.3, 2.4).

A register that cannot be measured for some of its days is estimated over those days:

* `no_reading` — no usable reading in the period's window; at most
  `avg_max_periods_no_reading` (6) consecutive periods by average;
* `meter_failed` — from the meter's `failed_on` day; `verification_expired` — from the
  day after the due date (a freeze window moves it); at most `avg_max_periods_failed` (3)
  consecutive periods, `avg_max_periods_failed_nonresidential` (2) for a non-residential
  premise, the month of the failure counting as the first;
* `replacement_gap` — days no meter served after a removal in the period (2.3); no limit
  (the gap lies inside one period).

The volume is the register's average `V_avg = round3(Σ V_actual / k)` (`history.average`:
the latest `avg_window_months` actual periods before the first estimated one; heating:
heating-season months only), prorated `round3(V_avg × d / D)` when only `d` days are
estimated (a failure on day `d`: the days before it by reading, the rest by average; gap
days; a heat meter: only the days inside a heating season). A household electricity meter
of the supplier (`electricity_meter_owned_by_supplier`) is averaged without a limit and
without a coefficient until it is replaced.

When the limit is passed, or fewer than `avg_min_months` actual periods exist, the days go
to the norm (per person — for electricity by rooms and persons — or per m² when the service
has only area norms) with `norm_coefficient_after_no_reading` or
`norm_coefficient_after_failure`, raised to `norm_coefficient_refused_access` from the
period after the second recorded refusal of access for the resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kvit.core.codes import ConsumerKind, PremiseKind, Resource
from kvit.core.consumption import METER_FAILED as FAILED_ISSUE
from kvit.core.consumption import Stop
from kvit.core.context import Job, Run, days, overlap
from kvit.core.dating import DateRange
from kvit.core.history import Register, average, longest_limit, months_between
from kvit.core.issues import Value
from kvit.core.lines import Estimate, RegisterVolume
from kvit.core.money import prorate
from kvit.core.norms import Why
from kvit.core.periods import Period

ONE = Decimal(1)

# Why a line is estimated (`Explanation.reason`, `Estimate.reason`).
NO_READING = "no_reading"
METER_FAILED = "meter_failed"
VERIFICATION_EXPIRED = "verification_expired"
REPLACEMENT_GAP = "replacement_gap"
ACTUAL_READING = "actual_reading"  # a true-up: an actual reading after estimated periods
REFUSED_ACCESS = "refused_access"  # the ×1.5 after the second refusal of access


def reason_of(stop: Stop) -> str:
    return METER_FAILED if stop.reason == FAILED_ISSUE else VERIFICATION_EXPIRED


class Kind(StrEnum):
    """What a portion of a metered service's volume is, and so which line prices it."""

    METERED = "metered"  # two readings: rule metered, a charge
    AVERAGE = "average"  # an estimate: rule average, a charge
    TRUE_UP = "true_up"  # V_true − V_est in the current period: rule true_up, a recalculation
    SPREAD = "spread"  # the current period's share of V_true (rerate_past): a charge


@dataclass(frozen=True, slots=True)
class Settlement:
    """Registers whose actual reading arrived after estimated `periods` (2.7), settled
    together: `true_volume = Σ (R_now − R_last)`, `estimated_volume` the Σ of the posted
    estimated quantities of those periods. `zone` is `None` when the service's lines are
    not per zone. For `rerate_past`, `allocated` is the current period's share of the true
    volume and `allocated_before` what went to the past periods."""

    registers: tuple[RegisterVolume, ...]
    periods: tuple[Period, ...]
    true_volume: Decimal
    estimated_volume: Decimal
    zone: str | None
    allocated: Decimal = Decimal(0)
    allocated_before: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Portion:
    """A volume to price over `days_served` (the days of the job it covers)."""

    kind: Kind
    source: RegisterVolume | Estimate | Settlement
    volume: Decimal
    days_served: DateRange


@dataclass(frozen=True, slots=True)
class Fallback:
    """Days to bill by norm instead of an average (2.4 step 3)."""

    span: DateRange
    coefficient: Decimal
    why: Why


def estimate(
    run: Run,
    job: Job,
    register: Register,
    span: DateRange,
    reason: str,
    onset: Period | None = None,
) -> Portion | Fallback:
    """The register's volume over `span` by average, or the norm when the limit is passed
    or the history is too short. `onset` is the period the meter stopped counting in (a
    failure or an expired verification)."""
    config = run.config
    period = run.period
    supplier = False
    limit: int | None
    if reason == NO_READING:
        limit = config.avg_max_periods_no_reading
        before = register.run_before(period, limit)
        number = len(before) + 1
        first = before[-1] if before else period
    elif onset is None:  # a replacement gap: inside this period
        limit, number, first = None, 0, period
    else:
        supplier = supplier_meter(run, job.service.resource)
        limit = None if supplier else _failed_limit(run)
        number = months_between(onset, period) + 1
        before = register.run_before(onset, longest_limit(config))
        first = before[-1] if before else onset
    coefficient, coefficient_reason = (ONE, "") if supplier else _coefficient(run, job, reason)
    if limit is not None and number > limit:
        values: dict[str, Value] = {"fallback": "limit", "limit": limit}
        return Fallback(span, coefficient, Why(reason, values, coefficient_reason))
    places = run.places(job.service.unit)
    seasons = _seasons(run, job)
    found = average(register, first, config, places, seasons)
    if found.value is None:
        values = {
            "fallback": "history",
            "months": len(found.periods),
            "min_months": config.avg_min_months,
        }
        return Fallback(span, coefficient, Why(reason, values, coefficient_reason))
    estimated_days = days(span) if seasons is None else _heated(span, seasons)
    period_days = run.period_days
    volume = (
        found.value
        if estimated_days == period_days
        else prorate(found.value, estimated_days, period_days, places)
    )
    return Portion(
        Kind.AVERAGE,
        Estimate(
            register.meter.serial,
            register.zone,
            reason,
            found.value,
            found.periods,
            estimated_days,
            period_days,
            volume,
            number,
            limit,
        ),
        volume,
        span,
    )


def supplier_meter(run: Run, resource: Resource | None) -> bool:
    """A household electricity meter that belongs to the supplier (2.4 step 2)."""
    return (
        resource is Resource.ELECTRICITY
        and run.config.electricity_meter_owned_by_supplier
        and run.account.consumer_kind is ConsumerKind.HOUSEHOLD
    )


def _failed_limit(run: Run) -> int:
    config = run.config
    if run.account.premise_kind is PremiseKind.NON_RESIDENTIAL:
        return config.avg_max_periods_failed_nonresidential
    return config.avg_max_periods_failed


def _coefficient(run: Run, job: Job, reason: str) -> tuple[Decimal, str]:
    """The norm coefficient after the average (2.4 step 3) and the reason for the (K − 1)
    line when it is the refused-access one."""
    config = run.config
    base = (
        config.norm_coefficient_after_no_reading
        if reason == NO_READING
        else config.norm_coefficient_after_failure
    )
    refusals = sorted(
        refusal.recorded_on
        for refusal in run.account.access_refusals
        if refusal.resource is job.service.resource
    )
    refused = config.norm_coefficient_refused_access
    if len(refusals) >= 2 and Period.of(refusals[1]) < run.period and refused > base:
        return refused, REFUSED_ACCESS
    return base, ""


def _heated(span: DateRange, seasons: tuple[DateRange, ...]) -> int:
    """The days of `span` inside a heating season: a heat meter's average is for heated
    days only [DECISION]."""
    return sum(days(common) for season in seasons if (common := overlap(span, season)))


def _seasons(run: Run, job: Job) -> tuple[DateRange, ...] | None:
    """Heating averages over heating-season months only (`Building.heating_season`)."""
    building = run.account.building
    if job.service.resource is not Resource.HEAT or building is None:
        return None
    return building.heating_season
