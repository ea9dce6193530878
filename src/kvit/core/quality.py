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
first 14 days ("not reduced"); the hours beyond count. Only full hours of excess count ("for
each hour"). `P_period` is the service's charge and recalculation lines of this period
(after a temporary-absence recalculation, 2.14; not recalculations that correct an earlier
period). Interruptions are naive local date-times; only their part inside the days the
service is billed counts.

`excess_mode` (spec 2.15 [UNCERTAIN]):

* `total` (default, the spec's formula): every counted hour goes into `Σ interruption
  hours`, an accident on a dead-end main too; the single-event limits play no part.
* `per_event`: the single-event limits of the spec count as well — cold and hot water 4 h
  at a time, an accident on a dead-end main (`accident_dead_end`) 24 h at a time. [DECISION]
  The hours of an interruption beyond its single-event limit are excess on their own; its
  hours up to the limit go into the month's total as under `total`, except that an accident
  on a dead-end main is excused for its first 24 h (the spec allows it that long), so
  `excess_s = Σ beyond + max(0, Σ within − allowed)`: every hour is counted once and,
  without dead-end accidents, never fewer hours than under `total`. The limit runs from the
  interruption's start (after a planned shutdown's 14 days), also when it began before the
  job's days. Services without a single-event limit in the spec count as under `total`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from kvit.core.codes import LineKind, Method, Resource, Rule
from kvit.core.context import Job, Run
from kvit.core.inputs import Building, Interruption, Service
from kvit.core.issues import Severity, Value, register_messages
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
PER_EVENT = "per_event"
# single-event limits (`excess_mode = per_event`): hours at a time
EVENT_HOURS = {Resource.COLD_WATER: 4, Resource.HOT_WATER: 4}
DEAD_END_HOURS = 24  # an accident on a dead-end main, excused up to this long


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


def event_hours(service: Service) -> int | None:
    """The service's single-event limit (`excess_mode = per_event`), `None` when the spec
    gives none."""
    if service.summed_resources or service.resource is None:
        return None
    return EVENT_HOURS.get(service.resource)


def counted_seconds(item: Interruption, start: datetime, end: datetime) -> int:
    """The seconds of an interruption that count inside `[start, end)` (`excess_mode =
    total`): all of them, but the first 14 days of the planned shutdown."""
    return _seconds(_begin(item), item.end, start, end)


@dataclass(frozen=True, slots=True)
class Counted:
    """An interruption's counted seconds inside the job's days: `within` go into the month's
    total, `beyond` (its part past a single-event limit, `per_event`) are excess on their
    own."""

    within: int
    beyond: int = 0


def count(item: Interruption, limit: int | None, start: datetime, end: datetime) -> Counted:
    """What of an interruption counts under `per_event`, its single-event limit `limit`
    hours (`None`: no limit); an accident on a dead-end main is allowed 24 h and excused for
    them."""
    begin = _begin(item)
    if item.accident_dead_end:
        cut = begin + timedelta(hours=DEAD_END_HOURS)
        return Counted(0, _seconds(cut, item.end, start, end))
    if limit is None:
        return Counted(_seconds(begin, item.end, start, end))
    cut = begin + timedelta(hours=limit)
    return Counted(
        _seconds(begin, min(cut, item.end), start, end), _seconds(cut, item.end, start, end)
    )


def _begin(item: Interruption) -> datetime:
    return item.start + PLANNED_EXCUSED if item.planned_shutdown else item.start


def _seconds(begin: datetime, finish: datetime, start: datetime, end: datetime) -> int:
    """The seconds of `[begin, finish)` inside `[start, end)`."""
    lower, upper = max(begin, start), min(finish, end)
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
    per_event = run.config.excess_mode == PER_EVENT
    limit = event_hours(job.service)
    if per_event:
        counted = [count(item, limit, start, end) for item in own]
    else:
        counted = [Counted(counted_seconds(item, start, end)) for item in own]
    within = sum(found.within for found in counted)
    beyond = sum(found.beyond for found in counted)
    seconds = within + beyond
    if not seconds:
        return
    allowed = allowed_hours(job.service, run.account.building)
    minutes = seconds // 60
    if allowed is None:
        run.issue(QUALITY_NOT_DEFINED, job, Severity.WARNING, hours=_hours(minutes))
        return
    excess = (beyond + max(0, within - allowed * HOUR)) // HOUR
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
    values: dict[str, Value] = {
        "interruptions": sum(1 for found in counted if found.within or found.beyond),
        "minutes": minutes,
        "allowed": allowed,
        "excess_hours": excess,
        "percent": percent,
        "charge": charge,
    }
    if per_event:
        values["excess_mode"] = PER_EVENT
        values["beyond_minutes"] = beyond // 60
        if limit is not None:
            values["event_limit"] = limit
        dead_ends = sum(
            1
            for item in own
            if item.accident_dead_end and _seconds(item.start, item.end, start, end)
        )
        if dead_ends:
            values["dead_end"] = dead_ends
    run.line(
        job,
        job.span,
        ZERO,
        ZERO,
        -reduction,
        Explanation(Rule.QUALITY_REDUCTION, job.service.name, values),
        kind=LineKind.QUALITY_REDUCTION,
    )


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"
