"""Metered charges: registers → tariff segments → lines (2.1–2.3, 2.5, 2.11–2.13).

For each premise meter of the service's resource that serves some of the job's days, each
register is measured (`consumption.measure`); the registers of a replaced meter and its
successor add up per zone (2.3). The volume is cut over the tariff segments by a reading
taken on the change date if there is one, else by the meter's days (`round3` each, the
last gets the remainder, 2.13). A segment is priced by what its tariff version holds:
tiers → marginal blocks (2.11); zone prices → one line per zone (2.12); a flat value → one
line for all registers. Without any meter the service is billed by norm, with the (K − 1)
surcharge line when a meter is possible but missing (2.5). Sewerage adds up the volumes
billed for its resources (2.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kvit.core.codes import PREMISE_METER_KINDS, Rule, Zone
from kvit.core.consumption import cut_at, measure, split_by_days, uncovered, window
from kvit.core.context import METER_GAP, VOLUME_MISSING, Job, Run, clip, days, overlap
from kvit.core.dating import DateRange
from kvit.core.inputs import Meter, TariffVersion
from kvit.core.issues import Severity, Value
from kvit.core.lines import Explanation, RegisterVolume
from kvit.core.norms import ONE, norm_per_person
from kvit.core.tariffs import ZERO, blocks, price


@dataclass(frozen=True, slots=True)
class Part:
    """The share of a register's volume that falls in one tariff segment.

    `whole_days` is set when the share was cut by days: `days` of `whole_days`, or, for the
    last share, the remainder after `others`.
    """

    source: RegisterVolume
    volume: Decimal
    days: int = 0
    whole_days: int = 0
    others: Decimal | None = None


def metered(run: Run, job: Job) -> None:
    service = job.service
    if service.summed_resources:
        summed(run, job)
        return
    served: list[tuple[Meter, DateRange]] = []
    for meter in run.inputs.meters:
        if meter.resource is service.resource and meter.kind in PREMISE_METER_KINDS:
            days_served = clip(job.span, meter.installed_on, meter.removed_on)
            if days_served is not None:
                served.append((meter, days_served))
    if not served:
        no_meter(run, job)
        return
    assert job.span.end is not None  # a job lies inside its period
    missing, first_missing = uncovered([span for _, span in served], job.span.start, job.span.end)
    if missing:
        run.issue(
            METER_GAP,
            job,
            Severity.WARNING,
            days=missing,
            day=first_missing,
            period=str(run.period),
        )
    measured = _measure(run, job, served)
    if measured is not None:
        run.add_volume(service.resource, sum((rv.volume for rv, _ in measured), ZERO))
        _price(run, job, measured)


def no_meter(run: Run, job: Job) -> None:
    """No meter serves the job: norm × persons, × K when a meter is possible (2.5, 2.6)."""
    coefficient = ONE
    if (
        job.service.increase_coefficient_applies
        and job.service.resource not in run.account.meter_impossible
    ):
        coefficient = run.config.norm_coefficient_no_meter
    norm_per_person(run, job, coefficient)


def _measure(
    run: Run, job: Job, served: Sequence[tuple[Meter, DateRange]]
) -> list[tuple[RegisterVolume, DateRange]] | None:
    """Every register's volume, or `None` when one of them cannot be measured (the errors
    are reported) or nothing is due yet."""
    account = run.account
    connected = job.connected
    chains = run.registers()
    measured: list[tuple[RegisterVolume, DateRange]] = []
    failed = False
    for meter, days_served in served:
        started_on = max(meter.installed_on, account.opened_on, connected.effective_from)
        stops = [d for d in (meter.removed_on, account.closed_on, connected.effective_to) if d]
        span = window(run.cutoffs(), started_on, min(stops, default=None))
        if span.empty:
            continue
        for zone in meter.zones:
            result = measure(
                meter,
                zone,
                chains.get((meter.serial, zone), ()),
                span,
                run.period,
                run.config,
                account.number,
                job.service.code,
            )
            run.issues.extend(result.issues)
            if result.volume is None:
                failed = True
            else:
                measured.append((result.volume, days_served))
    return None if failed or not measured else measured


def _price(run: Run, job: Job, measured: Sequence[tuple[RegisterVolume, DateRange]]) -> None:
    pieces = list(run.tariff_pieces(job))
    places = run.places(job.service.unit)
    parts: list[list[Part]] = [[] for _ in pieces]
    for volume, days_served in measured:
        hits: list[tuple[int, int]] = []
        for index, (span, _) in enumerate(pieces):
            common = overlap(span, days_served)
            if common is not None:
                hits.append((index, days(common)))
        for index, part in zip(
            (i for i, _ in hits), _split(volume, hits, pieces, places), strict=True
        ):
            parts[index].append(part)
    for (span, version), piece_parts in zip(pieces, parts, strict=True):
        if piece_parts:
            _price_segment(run, job, span, version, piece_parts)


def _split(
    volume: RegisterVolume,
    hits: Sequence[tuple[int, int]],
    pieces: Sequence[tuple[DateRange, TariffVersion | None]],
    places: int,
) -> list[Part]:
    """A register's volume over the segments it serves: by readings on the change dates
    when every change date has one, else by days (2.13)."""
    if len(hits) == 1:
        return [Part(volume, volume.volume)]
    by_reading = _cut(volume, [pieces[index][0].start for index, _ in hits[1:]])
    if by_reading is not None:
        return [Part(piece, piece.volume) for piece in by_reading]
    whole_days = sum(d for _, d in hits)
    shares = split_by_days(volume.volume, [d for _, d in hits], places)
    last = len(shares) - 1
    return [
        Part(volume, share, d, whole_days, volume.volume - share if i == last else None)
        for i, ((_, d), share) in enumerate(zip(hits, shares, strict=True))
    ]


def _cut(volume: RegisterVolume, change_days: Sequence[date]) -> list[RegisterVolume] | None:
    pieces: list[RegisterVolume] = []
    rest = volume
    for day in change_days:
        cut = cut_at(rest, day)
        if cut is None:
            return None
        pieces.append(cut[0])
        rest = cut[1]
    pieces.append(rest)
    return pieces


def _price_segment(
    run: Run, job: Job, span: DateRange, version: TariffVersion | None, parts: list[Part]
) -> None:
    if version is None:
        run.no_tariff(job, span)
    elif version.tiers:
        _tiers(run, job, span, version, parts)
    elif not version.zones:
        if version.value is None:
            run.no_tariff(job, span)
        else:
            _flat(run, job, span, version.value, parts, "")
    else:
        zones: dict[Zone, list[Part]] = {}
        for part in parts:
            zones.setdefault(part.source.zone, []).append(part)
        for zone, zone_parts in zones.items():
            tariff = version.zone_value(zone)
            if tariff is None:
                run.no_tariff(job, span, zone.value)
            else:
                _flat(run, job, span, tariff, zone_parts, zone.value)


def _flat(
    run: Run, job: Job, span: DateRange, tariff: Decimal, parts: list[Part], zone: str
) -> None:
    quantity = sum((part.volume for part in parts), ZERO)
    run.line(
        job,
        span,
        quantity,
        tariff,
        price(quantity, tariff),
        _explanation(Rule.METERED, job, parts, {}),
        zone=zone,
    )


def _tiers(run: Run, job: Job, span: DateRange, version: TariffVersion, parts: list[Part]) -> None:
    total = sum((part.volume for part in parts), ZERO)
    places = run.places(job.service.unit)
    for block in blocks(total, version.tiers, days(span), run.period_days, places):
        values: dict[str, Value] = {
            "tier": block.index,
            "lower": block.lower,
            "upper": block.upper,
            "total": total,
        }
        run.line(
            job,
            span,
            block.quantity,
            block.value,
            price(block.quantity, block.value),
            _explanation(Rule.TIER, job, parts, values),
            tier=block.index,
        )


def _explanation(rule: Rule, job: Job, parts: list[Part], values: dict[str, Value]) -> Explanation:
    if any(part.whole_days for part in parts):
        values["volume"] = sum((part.source.volume for part in parts), ZERO)
        if len(parts) == 1:
            part = parts[0]
            if part.others is not None:
                values["others"] = part.others
            else:
                values["days"] = part.days
                values["whole_days"] = part.whole_days
    return Explanation(rule, job.service.name, values, tuple(part.source for part in parts))


def summed(run: Run, job: Job) -> None:
    """Sewerage: the volumes billed for its resources added up (2.1), split over its own
    tariff segments by days."""
    service = job.service
    found: dict[str, Value] = {}
    total = ZERO
    for resource in service.summed_resources:
        volume = run.volumes.get(resource)
        if volume is None:
            run.issue(VOLUME_MISSING, job, resource=resource.value, period=str(run.period))
            return
        found[resource.value] = volume
        total += volume
    pieces = list(run.tariff_pieces(job))
    shares = split_by_days(total, [days(span) for span, _ in pieces], run.places(service.unit))
    whole_days = days(job.span)
    last = len(pieces) - 1
    for index, ((span, version), share) in enumerate(zip(pieces, shares, strict=True)):
        if version is None or version.value is None:
            run.no_tariff(job, span)
            continue
        values = dict(found)
        if last:
            values["volume"] = total
            if index == last:
                values["others"] = total - share
            else:
                values["days"] = days(span)
                values["whole_days"] = whole_days
        run.line(
            job,
            span,
            share,
            version.value,
            price(share, version.value),
            Explanation(Rule.SEWERAGE, service.name, values),
        )
