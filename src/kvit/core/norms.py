"""Norm-based charges: per person with person-days, per m², and the ×K surcharge (1.6, 2.5,
2.6, 2.9 without a house meter).

`V = round3(Σ_days N(n) × n / D)` per tariff and norm segment (one line each): with a steady
`n` over a whole month that is `round3(N × n)`; when `n` changes it is the person-days rule
`N × Σ person-days / D`; when the norm depends on the number of persons (electricity), each
day uses the row for that day's `n`. The volume is rounded before it meets the tariff
(spec 4.3), also on a part of a month [DECISION: 2.13's "per-person" proration is read as
`round3(N × n × d / D) × T`, the volume rule of 1.6 and 4.3]. On a tiered tariff the norm
volume is cut into the blocks of 2.11, and the ×K surcharge is one line over them,
`round2(Σ_k V_k × T_k × (K − 1))` (2.5 applies K to electricity, tiered in many regions).

A metered service billed by norm instead of an average (2.4, `estimates.py`) passes `Why`
(the cause and why not the average) and the coefficient after the average; both norm rules
then add the (K − 1) line when it is above 1.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from kvit.core.codes import NormKind, Rule
from kvit.core.context import NO_NORM, Job, Run, days, last_day, overlap, share_text
from kvit.core.dating import DateRange
from kvit.core.inputs import NormVersion, TariffVersion
from kvit.core.issues import Value
from kvit.core.lines import Explanation
from kvit.core.money import prorate, quantize, round2
from kvit.core.tariffs import ZERO, Block, blocks, norm_for, price, times

ONE = Decimal(1)


def segments(
    run: Run, job: Job, kind: NormKind
) -> Iterator[tuple[DateRange, TariffVersion | None, tuple[NormVersion, ...]]]:
    """The job's days cut wherever the tariff or a norm row of `kind` changes."""
    norm_pieces = run.book.norms(job.service, kind, run.period)
    for span, version in run.tariff_pieces(job):
        for piece in norm_pieces:
            sub = overlap(piece.span, span)
            if sub is not None:
                yield sub, version, piece.rows


def norm_per_person(
    run: Run,
    job: Job,
    coefficient: Decimal = ONE,
    why: Why | None = None,
) -> None:
    """Norm × persons (2.6, 1.6); with `coefficient > 1` also the (K − 1) line (2.5, 2.4).

    `why` says why a metered service is billed by norm (2.4: after the average's limit,
    or without enough history); its reason and values go into the explanations.
    """
    service = job.service
    places = run.places(service.unit)
    period_days = run.period_days
    rooms = run.account.rooms
    for span, version, rows in segments(run, job, NormKind.PER_PERSON):
        if version is None or (version.value is None and not version.tiers):
            run.no_tariff(job, span)
            continue
        total = ZERO
        norms: set[Decimal] = set()
        person_days = 0
        persons: set[int] = set()
        owners_used = False
        missing: int | None = None
        for person_run in run.person_runs():
            sub = overlap(person_run.span, span)
            if sub is None or person_run.persons == 0:
                continue
            norm = norm_for(rows, rooms, person_run.persons)
            if norm is None:
                missing = person_run.persons
                break
            sub_days = days(sub)
            total += times(norm.value, Decimal(person_run.persons), Decimal(sub_days))
            norms.add(norm.value)
            persons.add(person_run.persons)
            person_days += person_run.persons * sub_days
            owners_used = owners_used or person_run.owners_used
        if missing is not None:
            run.issue(
                NO_NORM,
                job,
                kind=NormKind.PER_PERSON.value,
                day=span.start,
                last=last_day(span),
                rooms=rooms,
                persons=missing,
            )
            continue
        tariff = version.value
        values: dict[str, Value] = {}
        single = norms.pop() if len(norms) == 1 else None
        if single is not None:
            values["norm"] = single
        steady = next(iter(persons)) if len(persons) == 1 else 0
        if single is not None and steady and person_days == steady * period_days:
            # the whole month with one n: round3(N × n), without the exact division
            values["persons"] = steady
            volume = quantize(times(single, Decimal(steady)), places)
        else:
            values["person_days"] = person_days
            values["period_days"] = period_days
            volume = prorate(total, 1, period_days, places)
        if owners_used:
            values["persons_from"] = "owners"
        run.add_volume(service.resource, volume)
        if why is not None:
            values.update(why.values)
        if tariff is None:
            _tiers(run, job, span, version, volume, values, coefficient, why)
            continue
        _base_and_coefficient(
            run, job, span, Rule.NORM_PER_PERSON, volume, tariff, values, coefficient, why
        )


@dataclass(frozen=True, slots=True)
class Why:
    """Why a metered service is billed by norm (2.4): `reason` (the estimate's cause),
    `values` for the base line, and `coefficient_reason` for the (K − 1) line."""

    reason: str
    values: Mapping[str, Value]
    coefficient_reason: str = ""


def _base_and_coefficient(
    run: Run,
    job: Job,
    span: DateRange,
    rule: Rule,
    volume: Decimal,
    tariff: Decimal,
    values: dict[str, Value],
    coefficient: Decimal,
    why: Why | None,
) -> None:
    name = job.service.name
    reason = surcharge_reason = ""
    if why is not None:
        reason = why.reason
        surcharge_reason = why.coefficient_reason or reason
    run.line(
        job,
        span,
        volume,
        tariff,
        price(volume, tariff),
        Explanation(rule, name, values, reason=reason),
    )
    if coefficient > 1:
        run.line(
            job,
            span,
            volume,
            tariff,
            round2(times(volume, tariff, coefficient - 1)),
            Explanation(
                Rule.NORM_COEFFICIENT,
                name,
                {"volume": volume, "coefficient": coefficient},
                reason=surcharge_reason,
            ),
        )


def _tiers(
    run: Run,
    job: Job,
    span: DateRange,
    version: TariffVersion,
    volume: Decimal,
    norm_values: dict[str, Value],
    coefficient: Decimal,
    why: Why | None,
) -> None:
    """A tiered tariff on a norm volume: the blocks of 2.11 at the tiers' single-rate
    prices; with `coefficient > 1` also the (K − 1) line over them (2.5)."""
    if run.tiers_and_zones(job, span, version):
        return
    places = run.places(job.service.unit)
    found = blocks(volume, version.tiers, days(span), run.period_days, places)
    for block in found:
        values: dict[str, Value] = {
            **norm_values,
            "tier": block.index,
            "lower": block.lower,
            "upper": block.upper,
            "total": volume,
        }
        run.line(
            job,
            span,
            block.quantity,
            block.value,
            price(block.quantity, block.value),
            Explanation(
                Rule.TIER, job.service.name, values, reason="" if why is None else why.reason
            ),
            tier=block.index,
        )
    if coefficient > 1:
        _tiered_coefficient(run, job, span, volume, found, coefficient, why)


def _tiered_coefficient(
    run: Run,
    job: Job,
    span: DateRange,
    volume: Decimal,
    found: list[Block],
    coefficient: Decimal,
    why: Why | None,
) -> None:
    """The (K − 1) line on a tiered norm volume: `round2(Σ_k V_k × T_k × (K − 1))`, one
    rounding (2.5 with 2.11). Its tariff is 0: the tiers have no single price; `values`
    keep each tier's volume and price."""
    base = sum((times(block.quantity, block.value) for block in found), ZERO)
    values: dict[str, Value] = {"volume": volume, "coefficient": coefficient}
    for block in found:
        values[f"tier_volume_{block.index}"] = block.quantity
        values[f"tier_tariff_{block.index}"] = block.value
    reason = "" if why is None else why.coefficient_reason or why.reason
    run.line(
        job,
        span,
        volume,
        ZERO,
        round2(times(base, coefficient - 1)),
        Explanation(Rule.NORM_COEFFICIENT, job.service.name, values, reason=reason),
    )


def norm_per_area(run: Run, job: Job, coefficient: Decimal = ONE, why: Why | None = None) -> None:
    """Norm × area (2.6; heating without a house meter, 2.9): `V = round(N × S × d / D)`
    at the unit's scale (Gcal 6), `S = area × share` exact. `coefficient` and `why` as for
    `norm_per_person` (a metered service with area norms billed by norm, 2.4)."""
    service = job.service
    account = run.account
    places = run.places(service.unit)
    period_days = run.period_days
    share = account.share
    for span, version, rows in segments(run, job, NormKind.PER_AREA):
        if version is None or version.value is None:
            run.no_tariff(job, span)
            continue
        norm = norm_for(rows, account.rooms, 0)
        if norm is None:
            run.issue(
                NO_NORM,
                job,
                kind=NormKind.PER_AREA.value,
                day=span.start,
                last=last_day(span),
                rooms=account.rooms,
                persons=0,
            )
            continue
        span_days = days(span)
        exact = times(norm.value, account.area)
        if span_days == period_days and share == 1:
            volume = quantize(exact, places)
        else:
            volume = prorate(
                exact, share.numerator * span_days, share.denominator * period_days, places
            )
        values: dict[str, Value] = {"norm": norm.value, "area": account.area}
        if share != 1:
            values["share"] = share_text(share)
        if span_days != period_days:
            values["days"] = span_days
            values["period_days"] = period_days
        if why is not None:
            values.update(why.values)
        _base_and_coefficient(
            run, job, span, Rule.NORM_PER_AREA, volume, version.value, values, coefficient, why
        )
        run.add_volume(service.resource, volume)
