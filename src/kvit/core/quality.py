"""Quality reductions for interruptions (недопоставка, spec 2.15, R354 appendix 1).

For each full hour of interruptions above the month's allowed total, the period's charge
for the service is reduced by `quality_reduction_pct_per_hour` (0.15 %):

    excess_h = max(0, Σ interruption hours − allowed)   (full hours)
    R = min(round2(P_period × pct / 100 × excess_h), P_period)

posted as a negative `quality_reduction` line. Allowed totals a month: cold and hot water
8 h, sewerage 8 h, electricity 2 h with two independent supply sources
(`Building.electricity_two_sources`) or 24 h with one, heating 24 h, gas 4 h. A service
without an allowed total (maintenance, …) gets `quality_not_defined`.

[DECISION] The planned annual hot-water shutdown (`planned_shutdown`) is excused for its
first 14 days, an accident on a dead-end main (`accident_dead_end`) for its first 24 hours;
the hours beyond count towards the total. The single-event limits (4 h at a time) are not
counted separately (`excess_mode = per_event` is [UNCERTAIN] in the spec). Only full hours
of excess count ("for each hour"). `P_period` is the service's charge and recalculation
lines of this period (after a temporary-absence recalculation, 2.14; not recalculations
that correct an earlier period). Interruptions are
naive local date-times; only their part inside the days the service is billed counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal

from kvit.core.codes import LineKind, Method, Resource, Rule
from kvit.core.context import Job, Run
from kvit.core.inputs import Building, Interruption, Service
from kvit.core.issues import Severity, register_messages
from kvit.core.lines import Explanation
from kvit.core.money import prorate
from kvit.core.tariffs import ZERO, times

QUALITY_NOT_DEFINED = "quality_not_defined"

register_messages(
    {
        QUALITY_NOT_DEFINED: {
            "en": "{hours} h of interruptions are recorded, but no allowed total is defined "
            "for this service (spec 2.15); its charge is not reduced",
            "ru": "записаны перерывы {hours} ч, но допустимая продолжительность для этой "
            "услуги не определена (п. 2.15); плата не снижена",
        },
    }
)

HOUR = 3600
ALLOWED_HOURS = {
    Resource.COLD_WATER: 8,
    Resource.HOT_WATER: 8,
    Resource.HEAT: 24,
    Resource.GAS: 4,
}
SEWERAGE_HOURS = 8
HEATING_HOURS = 24
ELECTRICITY_HOURS_TWO_SOURCES = 2
ELECTRICITY_HOURS_ONE_SOURCE = 24
PLANNED_EXCUSED = timedelta(days=14)
DEAD_END_EXCUSED = timedelta(hours=24)


def allowed_hours(service: Service, building: Building | None) -> int | None:
    """The month's allowed total of interruptions for the service, `None` when undefined."""
    if service.summed_resources:
        return SEWERAGE_HOURS
    if service.method is Method.HEATING_BY_AREA:
        return HEATING_HOURS
    if service.resource is Resource.ELECTRICITY:
        two = building is not None and building.electricity_two_sources
        return ELECTRICITY_HOURS_TWO_SOURCES if two else ELECTRICITY_HOURS_ONE_SOURCE
    return None if service.resource is None else ALLOWED_HOURS.get(service.resource)


def counted_seconds(item: Interruption, start: datetime, end: datetime) -> int:
    """The seconds of an interruption that count inside `[start, end)`."""
    begin = item.start
    if item.planned_shutdown:
        begin += PLANNED_EXCUSED
    elif item.accident_dead_end:
        begin += DEAD_END_EXCUSED
    lower, upper = max(begin, start), min(item.end, end)
    if upper <= lower:
        return 0
    delta = upper - lower
    return delta.days * 86400 + delta.seconds


def quality(run: Run, jobs: Sequence[Job]) -> None:
    """A reduction line per service whose interruptions exceed the allowed total."""
    interruptions = run.account.interruptions
    if not interruptions:
        return
    for job in jobs:
        own = [item for item in interruptions if item.service == job.service.code]
        if own:
            _reduce(run, job, own)


def _reduce(run: Run, job: Job, own: list[Interruption]) -> None:
    assert job.span.end is not None  # a job lies inside its period
    start = datetime.combine(job.span.start, time())
    end = datetime.combine(job.span.end, time())
    counted = [(item, counted_seconds(item, start, end)) for item in own]
    seconds = sum(found for _, found in counted)
    if not seconds:
        return
    allowed = allowed_hours(job.service, run.account.building)
    minutes = seconds // 60
    if allowed is None:
        run.issue(QUALITY_NOT_DEFINED, job, Severity.WARNING, hours=_hours(minutes))
        return
    excess = max(0, seconds - allowed * HOUR) // HOUR
    if not excess:
        return
    lines = run.job_lines(job, LineKind.CHARGE, LineKind.RECALCULATION)
    charge = sum((line.amount for line in lines if line.explanation.corrects is None), ZERO)
    if charge <= 0:
        return
    percent = run.config.quality_reduction_pct_per_hour
    reduction = min(prorate(times(charge, percent, Decimal(excess)), 1, 100), charge)
    if not reduction:
        return  # less than half a kopeck: no line
    run.line(
        job,
        job.span,
        ZERO,
        ZERO,
        -reduction,
        Explanation(
            Rule.QUALITY_REDUCTION,
            job.service.name,
            {
                "interruptions": sum(1 for _, found in counted if found),
                "minutes": minutes,
                "allowed": allowed,
                "excess_hours": excess,
                "percent": percent,
                "charge": charge,
            },
        ),
        kind=LineKind.QUALITY_REDUCTION,
    )


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"
