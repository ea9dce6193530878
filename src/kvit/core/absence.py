"""Recalculation for a temporary absence (spec 2.14, R354 p.86–97).

For the services whose catalogue entry allows it (`Service.absence_recalc_allowed`), an
absence gives, for the days of this period it covers, a recalculation line

    V_r = round3(Σ_days N(n) × absent persons / D),   amount −round2(V_r × T)

(`N × absent_persons × days / D` when nothing changes), one per tariff and norm segment and
per stretch of absent days (persons away over the same days make one line). Eligible only
when all of these hold, else a warning names the condition that fails:

* the service is cold or hot water, sewerage, electricity, gas, or a per-person service
  without a resource (solid waste per person); never heating, common-house or area-based
  services (`absence_service_excluded`);
* it is billed by norm because an individual meter is technically impossible: the resource
  (for sewerage every summed resource) is in `Account.meter_impossible`
  (`absence_meter_possible`); solid waste has no meter and needs no act;
* `full_days = (arrival − departure).days − 1 ≥ absence_min_full_days` (`absence_too_short`);
* documents filed (`Absence.filed_on`) no later than 30 days after the arrival
  (`absence_not_documented`);
* an application covers at most 6 months from the first full day; later days are not
  recalculated (`absence_over_six_months`).

Only days on which the absent person is counted (registered) on the account reduce the
volume. Sewerage adds up the volumes recalculated for its resources in this run (2.1). The
recalculated volume also lowers the resource's volume billed this period (`Rating.volumes`,
which the house balance of 2.8 adds up).

[DECISION] The rule works on the period being rated: the days of the absence that fall in
it. Documents filed after a period was posted are applied by re-rating that period (the
recompute-and-diff step posts the difference), so every line here belongs to its own
period and carries no `corrects`. [DECISION] A tiered tariff has no single price for the
recalculated volume: `absence_tiered_tariff` says so and nothing is recalculated.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from kvit.core.codes import LineKind, Method, NormKind, Resource, Rule
from kvit.core.context import Job, Run, days, overlap
from kvit.core.dating import DateRange
from kvit.core.house import spread
from kvit.core.inputs import Absence, Service
from kvit.core.issues import Issue, Severity, Value, register_messages
from kvit.core.lines import Explanation
from kvit.core.money import prorate
from kvit.core.norms import segments
from kvit.core.tariffs import ZERO, norm_for, price, times

ABSENCE_SERVICE_EXCLUDED = "absence_service_excluded"
ABSENCE_METER_POSSIBLE = "absence_meter_possible"
ABSENCE_TOO_SHORT = "absence_too_short"
ABSENCE_NOT_DOCUMENTED = "absence_not_documented"
ABSENCE_OVER_SIX_MONTHS = "absence_over_six_months"
ABSENCE_TIERED_TARIFF = "absence_tiered_tariff"

FILING_DAYS = 30
APPLICATION_MONTHS = 6

_WHO = {
    "en": "the absence of {person} from {departure} to {arrival}",
    "ru": "отсутствие {person} с {departure} по {arrival}",
}

register_messages(
    {
        ABSENCE_SERVICE_EXCLUDED: {
            "en": "the service ({method}) is never recalculated for a temporary absence "
            "(heating, common-house and area-based services are excluded, spec 2.14); "
            "check the service's absence flag",
            "ru": "услуга ({method}) не пересчитывается за временное отсутствие (отопление, "
            "общедомовые нужды и услуги по площади исключены, п. 2.14); проверьте признак "
            "перерасчёта у услуги",
        },
        ABSENCE_METER_POSSIBLE: {
            "en": "no act says an individual {resource} meter is technically impossible; a "
            "temporary absence is not recalculated (spec 2.14)",
            "ru": "нет акта о технической невозможности установки счётчика ({resource}); "
            "перерасчёт за временное отсутствие не делается (п. 2.14)",
        },
        ABSENCE_TOO_SHORT: {
            "en": _WHO["en"] + " has {full_days} full days, fewer than {minimum}; "
            "it is not recalculated (spec 2.14)",
            "ru": _WHO["ru"] + ": полных дней {full_days}, меньше {minimum}; перерасчёт не "
            "делается (п. 2.14)",
        },
        ABSENCE_NOT_DOCUMENTED: {
            "en": _WHO["en"] + ": documents filed on “{filed_on}”, not by {deadline} (30 days "
            "after the return); it is not recalculated (spec 2.14)",
            "ru": _WHO["ru"] + ": документы поданы «{filed_on}», а не до {deadline} (30 дней "
            "после возвращения); перерасчёт не делается (п. 2.14)",
        },
        ABSENCE_OVER_SIX_MONTHS: {
            "en": _WHO["en"] + ": an application covers at most 6 months; the days from "
            "{day} are not recalculated until it is renewed (spec 2.14)",
            "ru": _WHO["ru"] + ": заявление действует не более 6 месяцев; дни с {day} не "
            "пересчитаны, нужно продлить заявление (п. 2.14)",
        },
        ABSENCE_TIERED_TARIFF: {
            "en": "the tariff from {day} is tiered: a temporary absence has no single price "
            "and is not recalculated",
            "ru": "тариф с {day} ступенчатый: у перерасчёта за временное отсутствие нет "
            "единой цены, он не сделан",
        },
    }
)

_WATER_LIKE = frozenset(
    {Resource.COLD_WATER, Resource.HOT_WATER, Resource.ELECTRICITY, Resource.GAS}
)
_PER_VOLUME = frozenset({Method.METERED, Method.TIME_OF_USE, Method.TIERED, Method.NORM_PER_PERSON})


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def eligible_kind(service: Service) -> bool:
    """Cold/hot water, electricity, gas by volume; sewerage; a per-person service without a
    resource (solid waste)."""
    if service.summed_resources:
        return True
    if service.resource is None:
        return service.method is Method.NORM_PER_PERSON
    return service.resource in _WATER_LIKE and service.method in _PER_VOLUME


def meter_resources(service: Service) -> tuple[Resource, ...]:
    """The resources whose meter must be technically impossible (none for solid waste)."""
    if service.summed_resources:
        return service.summed_resources
    return () if service.resource is None else (service.resource,)


def absence(run: Run, jobs: Sequence[Job]) -> None:
    """Recalculation lines for the eligible absences of the period (see the module text)."""
    if not run.account.absences:
        return
    candidates = [job for job in jobs if job.service.absence_recalc_allowed]
    if not candidates:
        return
    covered = _covered(run)
    if not covered:
        return
    recalculated: dict[tuple[Resource, DateRange], Decimal] = {}
    for job in candidates:
        groups = _groups(run, job, covered)
        if not groups:
            continue
        service = job.service
        if not eligible_kind(service):
            run.issue(ABSENCE_SERVICE_EXCLUDED, job, Severity.WARNING, method=service.method.value)
            continue
        possible = [r for r in meter_resources(service) if r not in run.account.meter_impossible]
        if possible:
            run.issue(ABSENCE_METER_POSSIBLE, job, Severity.WARNING, resource=possible[0].value)
            continue
        for span, group in groups:
            if service.summed_resources:
                _summed(run, job, span, group, recalculated)
            else:
                _by_norm(run, job, span, group, recalculated)


def _covered(run: Run) -> list[tuple[Absence, DateRange]]:
    """The eligible absences and the days of the account's period they cover; warnings for
    the ones that touch the period but are not eligible."""
    active = run.active
    assert active.end is not None  # the account's days inside a period
    config = run.config
    found: list[tuple[Absence, DateRange]] = []
    for item in run.account.absences:
        if not (item.departure < active.end and item.arrival >= active.start):
            continue
        full_days = (item.arrival - item.departure).days - 1
        who: dict[str, Value] = {
            "person": item.person,
            "departure": item.departure,
            "arrival": item.arrival,
        }
        if full_days < config.absence_min_full_days:
            minimum = config.absence_min_full_days
            _warn(run, ABSENCE_TOO_SHORT, who, full_days=full_days, minimum=minimum)
            continue
        deadline = item.arrival + timedelta(days=FILING_DAYS)
        if item.filed_on is None or item.filed_on > deadline:
            _warn(run, ABSENCE_NOT_DOCUMENTED, who, filed_on=item.filed_on, deadline=deadline)
            continue
        first = item.departure + timedelta(days=1)
        end = item.arrival
        limit = add_months(first, APPLICATION_MONTHS)
        if limit < end:
            if overlap(active, DateRange(limit, end)) is not None:
                _warn(run, ABSENCE_OVER_SIX_MONTHS, who, day=limit)
            end = limit
        days_here = overlap(DateRange(first, end), active)
        if days_here is not None:
            found.append((item, days_here))
    return found


def _warn(run: Run, code: str, who: dict[str, Value], **values: Value) -> None:
    run.issues.append(Issue(code, Severity.WARNING, run.account.number, "", "", {**who, **values}))


def _groups(
    run: Run, job: Job, covered: list[tuple[Absence, DateRange]]
) -> list[tuple[DateRange, list[Absence]]]:
    """The job's absent days, by stretch: the days each absent person is counted, grouped
    when they are the same days."""
    groups: dict[DateRange, list[Absence]] = {}
    registrations = run.account.registrations
    for item, span in covered:
        inside = overlap(span, job.span)
        if inside is None:
            continue
        for registration in registrations:
            if registration.person == item.person:
                counted = overlap(inside, registration.span)
                if counted is not None:
                    groups.setdefault(counted, []).append(item)
    return sorted(groups.items(), key=lambda group: (group[0].start, group[0].end))


def _values(group: list[Absence]) -> dict[str, Value]:
    values: dict[str, Value] = {"persons": len(group)}
    first = group[0]
    if all((a.departure, a.arrival) == (first.departure, first.arrival) for a in group):
        values["departure"] = first.departure
        values["arrival"] = first.arrival
        values["full_days"] = (first.arrival - first.departure).days - 1
    return values


def _by_norm(
    run: Run,
    job: Job,
    span: DateRange,
    group: list[Absence],
    recalculated: dict[tuple[Resource, DateRange], Decimal],
) -> None:
    service = job.service
    places = run.places(service.unit)
    period_days = run.period_days
    absent = len(group)
    total_volume = ZERO
    for piece, version, rows in segments(run, job, NormKind.PER_PERSON):
        sub = overlap(piece, span)
        if sub is None or version is None:
            continue  # no tariff: the charge itself was not made (no_tariff)
        if version.value is None:
            if version.tiers:
                run.issue(ABSENCE_TIERED_TARIFF, job, Severity.WARNING, day=sub.start)
            continue
        total = ZERO
        norms: set[Decimal] = set()
        for person_run in run.person_runs():
            common = overlap(person_run.span, sub)
            if common is None:
                continue
            norm = norm_for(rows, run.account.rooms, person_run.persons)
            if norm is None:
                return  # the charge itself reported no_norm
            norms.add(norm.value)
            total += times(norm.value, Decimal(absent), Decimal(days(common)))
        volume = prorate(total, 1, period_days, places)
        if not volume:
            continue
        total_volume += volume
        values = _values(group)
        if len(norms) == 1:
            values["norm"] = norms.pop()
        values["days"] = days(sub)
        values["period_days"] = period_days
        run.line(
            job,
            sub,
            -volume,
            version.value,
            -price(volume, version.value),
            Explanation(Rule.ABSENCE, service.name, values),
            kind=LineKind.RECALCULATION,
        )
    if service.resource is not None:
        key = (service.resource, span)
        recalculated[key] = recalculated.get(key, ZERO) + total_volume
        run.add_volume(service.resource, -total_volume)  # the volume billed (house balance)


def _summed(
    run: Run,
    job: Job,
    span: DateRange,
    group: list[Absence],
    recalculated: dict[tuple[Resource, DateRange], Decimal],
) -> None:
    """Sewerage: the volumes recalculated for its resources over the same days (2.1)."""
    service = job.service
    found: dict[str, Value] = {}
    total = ZERO
    for resource in service.summed_resources:
        volume = recalculated.get((resource, span))
        if volume:
            found[resource.value] = volume
            total += volume
    if not total:
        return
    pieces = spread(run, job, [span], total, run.places(service.unit))
    for piece in pieces:
        version = piece.version
        if version is None or version.value is None or not piece.volume:
            continue
        values = {**_values(group), **found}
        if len(pieces) > 1:
            values["volume"] = total
            values["days"] = days(piece.span)
        run.line(
            job,
            piece.span,
            -piece.volume,
            version.value,
            -price(piece.volume, version.value),
            Explanation(Rule.ABSENCE, service.name, values),
            kind=LineKind.RECALCULATION,
        )
