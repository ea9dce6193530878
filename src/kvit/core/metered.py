"""Metered charges: registers → portions → tariff segments → lines (2.1–2.5, 2.7, 2.11–2.13).

For each premise meter of the service's resource that serves some of the job's days, each
register is measured (`consumption.measure`) and becomes one or two portions of the
service's volume:

* measured from the previous window's reading → a **metered** portion; the registers of a
  replaced meter and its successor add up per zone (2.3);
* measured from an older reading (the periods between were estimated) → settled by the
  **true-up** rule (`trueup.py`, 2.7);
* not measured — no usable reading, a failed meter or an expired verification from its
  stop day on (`consumption.stop_of`), days no meter served after a removal (2.3) — →
  **estimated** (`estimates.py`, 2.4): the register's average, or, past the limit or
  without enough history, the norm over those days. Days before a first meter are billed
  like a service without a meter (2.5).

A portion is cut over the tariff segments by a reading taken on the change date if there
is one, else by days (`round3` each, the last gets the remainder, 2.13). A segment is
priced by what its tariff version holds: tiers → marginal blocks of the charges' sum (2.11),
and with zone prices on the tiers each zone's share of every block (one line per zone and
tier); zone prices → one line per zone (2.12); a flat value → one line per kind of portion
(metered, average, true-up). Without any meter the service is billed by norm, with the
(K − 1) surcharge line when a meter is possible but missing (2.5). Sewerage adds up the
volumes billed for its resources (2.1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from kvit.core.codes import LineKind, NormKind, Rule, Zone
from kvit.core.consumption import (
    METER_VERIFICATION_EXPIRED,
    cut_at,
    measure,
    split_by_days,
    stop_of,
    track,
    uncovered,
    window,
)
from kvit.core.context import VOLUME_MISSING, Job, Run, clip, days, overlap
from kvit.core.dating import DateRange
from kvit.core.estimates import (
    ACTUAL_READING,
    NO_READING,
    REPLACEMENT_GAP,
    Fallback,
    Kind,
    Portion,
    Settlement,
    estimate,
    reason_of,
)
from kvit.core.history import Register
from kvit.core.inputs import Meter, TariffVersion
from kvit.core.issues import Issue, Severity, Value
from kvit.core.lines import Estimate, Explanation, RegisterVolume
from kvit.core.norms import ONE, norm_per_area, norm_per_person
from kvit.core.periods import Period
from kvit.core.tariffs import ZERO, Block, blocks, price, zone_shares
from kvit.core.trueup import Rerate, Stale, post_rerates, settle

_RULES = {
    Kind.METERED: Rule.METERED,
    Kind.AVERAGE: Rule.AVERAGE,
    Kind.TRUE_UP: Rule.TRUE_UP,
    Kind.SPREAD: Rule.TRUE_UP,
}


@dataclass(frozen=True, slots=True)
class Part:
    """The share of a portion that falls in one tariff segment.

    `whole` is set when the portion was cut by days: `days` of `whole_days`, or, for the
    last share, the remainder after `others`.
    """

    kind: Kind
    source: RegisterVolume | Estimate | Settlement
    volume: Decimal
    whole: Decimal | None = None
    days: int = 0
    whole_days: int = 0
    others: Decimal | None = None

    @property
    def zone(self) -> Zone:
        source = self.source
        if isinstance(source, Settlement):
            return Zone.TOTAL if source.zone is None else Zone(source.zone)
        return source.zone


class _Found:
    """What the registers of a job came to: portions to price, stale registers to settle,
    days to bill by norm, days before a first meter."""

    __slots__ = ("fallbacks", "no_meter", "portions", "stale")

    def __init__(self) -> None:
        self.portions: list[Portion] = []
        self.stale: list[Stale] = []
        self.fallbacks: list[Fallback] = []
        self.no_meter: list[DateRange] = []

    def add(self, result: Portion | Fallback) -> None:
        if isinstance(result, Portion):
            self.portions.append(result)
        else:
            self.fallbacks.append(result)


def metered(run: Run, job: Job) -> None:
    service = job.service
    if service.summed_resources:
        summed(run, job)
        return
    served: list[tuple[Meter, DateRange]] = []
    for meter in run.premise_meters(service.resource):
        days_served = clip(job.span, meter.installed_on, meter.removed_on)
        if days_served is not None:
            served.append((meter, days_served))
    if not served:
        no_meter(run, job)
        return
    found = _assess(run, job, served)
    if found is None:
        return
    span = job.span
    if len(served) > 1 or served[0][1] != span:
        assert span.end is not None  # a job lies inside its period
        for gap in uncovered([days_served for _, days_served in served], span.start, span.end):
            _gap(run, job, gap, found)
    fallbacks = _merge(found.fallbacks) if found.fallbacks else []
    for fallback in fallbacks:
        if fallback.span == span:
            # the norm is the premise's volume, not a register's: it replaces the rest
            _norm(run, job, fallback)
            return
    pieces = list(run.tariff_pieces(job))
    portions = found.portions
    rerates: list[Rerate] = []
    if found.stale:
        zoned = any(
            version is not None and (bool(version.zones) or version.zoned_tiers)
            for _, version in pieces
        )
        settled, rerates = settle(run, job, found.stale, zoned)
        portions = portions + settled
    if portions:
        run.add_volume(service.resource, sum((portion.volume for portion in portions), ZERO))
        _price(run, job, pieces, portions)
    for fallback in fallbacks:
        _norm(run, job, fallback)
    for gap in found.no_meter:
        no_meter(run, Job(service, job.connected, gap))
    post_rerates(run, job, rerates)


def no_meter(run: Run, job: Job) -> None:
    """No meter serves the job: norm × persons, × K when a meter is possible (2.5, 2.6)."""
    coefficient = ONE
    if (
        job.service.increase_coefficient_applies
        and job.service.resource not in run.account.meter_impossible
    ):
        coefficient = run.config.norm_coefficient_no_meter
    norm_per_person(run, job, coefficient)


def _dates(run: Run, job: Job, meter: Meter) -> tuple[date, date | None]:
    """When the meter serves this job: the latest start and the earliest stop of the
    meter, the account and the connection."""
    account = run.account
    connected = job.connected
    started_on = max(meter.installed_on, account.opened_on, connected.effective_from)
    stops = [d for d in (meter.removed_on, account.closed_on, connected.effective_to) if d]
    return started_on, min(stops, default=None)


def _register(run: Run, job: Job, meter: Meter, zone: Zone) -> Register:
    started_on, stopped_on = _dates(run, job, meter)
    stop = stop_of(meter, run.config)
    return Register(
        meter,
        zone,
        track(meter, run.registers().get((meter.serial, zone), ()), run.config),
        started_on,
        stopped_on,
        run.config.reading_cutoff_day,
        None if stop is None else stop.last_usable,
    )


def _assess(run: Run, job: Job, served: Sequence[tuple[Meter, DateRange]]) -> _Found | None:
    """Every register's portions, or `None` when one of them has no start reading (the
    error is reported and the service is not charged)."""
    account = run.account
    config = run.config
    period = run.period
    chains = run.registers()
    previous = run.previous_cutoffs()
    found = _Found()
    complete = True
    for meter, days_served in served:
        started_on, stopped_on = _dates(run, job, meter)
        span = window(run.cutoffs(), started_on, stopped_on)
        if span.empty:
            continue  # the meter started after the cutoff: billed next period
        stop = stop_of(meter, config)
        tail = None if stop is None else clip(days_served, stop.from_day, None)
        if stop is not None and tail is not None:
            values: dict[str, Value] = {"day": stop.from_day, "period": str(period)}
            if stop.reason == METER_VERIFICATION_EXPIRED:
                values["due"] = stop.due
            run.issues.append(
                Issue(
                    stop.reason,
                    Severity.WARNING,
                    account.number,
                    meter.serial,
                    job.service.code,
                    values,
                )
            )
        before = window(previous, started_on, stopped_on)
        for zone in meter.zones:
            result = measure(
                meter,
                zone,
                chains.get((meter.serial, zone), ()),
                span,
                period,
                config,
                account.number,
                job.service.code,
                stop,
            )
            run.issues.extend(result.issues)
            if result.start is None:
                complete = False
                continue
            volume = result.volume
            reason, onset = NO_READING, None
            if stop is not None and tail is not None:
                reason, onset = reason_of(stop), Period.of(stop.from_day)
            if volume is None or (tail is not None and tail.start == days_served.start):
                # no usable reading closes the window, or the meter stopped before these days
                register = _register(run, job, meter, zone)
                found.add(estimate(run, job, register, days_served, reason, onset))
                continue
            measured = days_served if tail is None else DateRange(days_served.start, tail.start)
            if not before.empty and result.start.taken_on <= before.anchor_on:
                register = _register(run, job, meter, zone)
                periods = tuple(reversed(register.run_before(period, None)))
                found.stale.append(Stale(register, volume, measured, periods))
            else:
                found.portions.append(Portion(Kind.METERED, volume, volume.volume, measured))
            if tail is not None:  # the days from the failure on (2.4)
                register = _register(run, job, meter, zone)
                found.add(estimate(run, job, register, tail, reason, onset))
    return found if complete else None


def _gap(run: Run, job: Job, gap: DateRange, found: _Found) -> None:
    """Days no meter served: by the average of the meter removed before them (2.3), or,
    before a first meter, like a service without a meter (2.5)."""
    removed = [
        meter
        for meter in run.premise_meters(job.service.resource)
        if meter.removed_on is not None and job.span.start <= meter.removed_on <= gap.start
    ]
    if not removed:
        found.no_meter.append(gap)
        return
    latest = max(meter.removed_on for meter in removed if meter.removed_on is not None)
    for meter in removed:
        if meter.removed_on == latest:
            for zone in meter.zones:
                register = _register(run, job, meter, zone)
                found.add(estimate(run, job, register, gap, REPLACEMENT_GAP))


def _merge(fallbacks: Sequence[Fallback]) -> list[Fallback]:
    """Norm days of several registers as one set of stretches: the norm is billed once for
    the premise (the highest coefficient, the first reason)."""
    merged: list[Fallback] = []
    for fallback in sorted(fallbacks, key=lambda f: f.span.start):
        if merged:
            last = merged[-1]
            assert last.span.end is not None  # spans inside a period
            if fallback.span.start <= last.span.end:
                end = max(last.span.end, fallback.span.end or last.span.end)
                coefficient = max(last.coefficient, fallback.coefficient)
                merged[-1] = Fallback(DateRange(last.span.start, end), coefficient, last.why)
                continue
        merged.append(fallback)
    return merged


def _norm(run: Run, job: Job, fallback: Fallback) -> None:
    """A metered service billed by norm (2.4 step 3): per person, or per m² when the
    service has only area norms (heat)."""
    sub = job if fallback.span == job.span else Job(job.service, job.connected, fallback.span)
    kinds = {norm.kind for norm in job.service.norms}
    rule: Callable[..., None] = norm_per_person
    if NormKind.PER_PERSON not in kinds and NormKind.PER_AREA in kinds:
        rule = norm_per_area
    rule(run, sub, fallback.coefficient, fallback.why)


def _price(
    run: Run,
    job: Job,
    pieces: Sequence[tuple[DateRange, TariffVersion | None]],
    portions: Sequence[Portion],
) -> None:
    if len(pieces) == 1:  # one tariff version over the job's days: nothing to cut
        span, version = pieces[0]
        whole = [Part(p.kind, p.source, p.volume) for p in portions]
        _price_segment(run, job, span, version, whole)
        return
    places = run.places(job.service.unit)
    parts: list[list[Part]] = [[] for _ in pieces]
    for portion in portions:
        hits: list[tuple[int, int]] = []
        for index, (span, _) in enumerate(pieces):
            common = overlap(span, portion.days_served)
            if common is not None:
                hits.append((index, days(common)))
        for index, part in zip(
            (i for i, _ in hits), _split(portion, hits, pieces, places), strict=True
        ):
            parts[index].append(part)
    for (span, version), piece_parts in zip(pieces, parts, strict=True):
        if piece_parts:
            _price_segment(run, job, span, version, piece_parts)


def _split(
    portion: Portion,
    hits: Sequence[tuple[int, int]],
    pieces: Sequence[tuple[DateRange, TariffVersion | None]],
    places: int,
) -> list[Part]:
    """A portion over the segments it serves: a measured register by readings on the
    change dates when every change date has one, else by days (2.13)."""
    source = portion.source
    if len(hits) == 1:
        return [Part(portion.kind, source, portion.volume)]
    if isinstance(source, RegisterVolume):
        by_reading = _cut(source, [pieces[index][0].start for index, _ in hits[1:]])
        if by_reading is not None:
            return [Part(portion.kind, piece, piece.volume) for piece in by_reading]
    whole_days = sum(d for _, d in hits)
    shares = split_by_days(portion.volume, [d for _, d in hits], places)
    last = len(shares) - 1
    return [
        Part(
            portion.kind,
            source,
            share,
            portion.volume,
            d,
            whole_days,
            portion.volume - share if i == last else None,
        )
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
        return
    if version.tiers:
        if run.tiers_and_zones(job, span, version):
            return
        charges = [part for part in parts if part.kind is not Kind.TRUE_UP]
        if charges:
            _tiers(run, job, span, version, charges, Rule.TIER)
        credits = [part for part in parts if part.kind is Kind.TRUE_UP]
        if credits:
            _tiers(run, job, span, version, credits, Rule.TRUE_UP)
        return
    if not version.zones:
        if version.value is None:
            run.no_tariff(job, span)
        else:
            _by_kind(run, job, span, version.value, parts, "")
        return
    zones: dict[Zone, list[Part]] = {}
    for part in parts:
        zones.setdefault(part.zone, []).append(part)
    for zone, zone_parts in zones.items():
        tariff = version.zone_value(zone)
        if tariff is None:
            run.no_tariff(job, span, zone.value)
        else:
            _by_kind(run, job, span, tariff, zone_parts, zone.value)


def _by_kind(
    run: Run, job: Job, span: DateRange, tariff: Decimal, parts: list[Part], zone: str
) -> None:
    """One line per kind of portion: metered, average, true-up."""
    kinds: dict[Kind, list[Part]] = {}
    if len(parts) == 1:
        kinds[parts[0].kind] = parts
    else:
        for part in parts:
            kinds.setdefault(part.kind, []).append(part)
    for kind, kind_parts in kinds.items():
        quantity = sum((part.volume for part in kind_parts), ZERO)
        run.line(
            job,
            span,
            quantity,
            tariff,
            price(quantity, tariff),
            _explanation(_RULES[kind], job, kind_parts, {}),
            zone=zone,
            kind=LineKind.RECALCULATION if kind is Kind.TRUE_UP else LineKind.CHARGE,
        )


def _tiers(
    run: Run, job: Job, span: DateRange, version: TariffVersion, parts: list[Part], rule: Rule
) -> None:
    """Marginal blocks of the parts' sum (2.11). A true-up (`rule` true_up) is priced by the
    blocks when it is a charge and at the first tier's price when it is a credit
    [DECISION]. With zone prices on the tiers, each zone is priced per tier (`_zone_tiers`)."""
    total = sum((part.volume for part in parts), ZERO)
    places = run.places(job.service.unit)
    span_days = days(span)
    found = blocks(max(total, ZERO), version.tiers, span_days, run.period_days, places)
    if total < 0:
        found = [replace(found[0], quantity=total)]
    if version.zoned_tiers:
        _zone_tiers(run, job, span, parts, found, total, rule)
        return
    for block in found:
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
            _explanation(rule, job, parts, values),
            tier=block.index,
            kind=LineKind.RECALCULATION if rule is Rule.TRUE_UP else LineKind.CHARGE,
        )


def _zone_tiers(
    run: Run,
    job: Job,
    span: DateRange,
    parts: list[Part],
    found: list[Block],
    total: Decimal,
    rule: Rule,
) -> None:
    """A multi-zone meter on a tiered tariff (2.11 [UNCERTAIN]): the blocks are those of all
    zones' sum; each zone's volume is split across them in proportion (`round3`, the
    remainder to the last tier) and priced at the tier's price for the zone, one line per
    zone and tier. A zone without a price in a tier it reaches is reported and not charged."""
    zones: dict[Zone, list[Part]] = {}
    for part in parts:
        zones.setdefault(part.zone, []).append(part)
    places = run.places(job.service.unit)
    several = len(zones) > 1 and len(found) > 1
    last = found[-1]
    kind = LineKind.RECALCULATION if rule is Rule.TRUE_UP else LineKind.CHARGE
    for zone, zone_parts in zones.items():
        prices = [block.tier.zone_value(zone) for block in found]
        missing = [block.index for block, value in zip(found, prices, strict=True) if value is None]
        if missing:
            run.no_tier_zone_price(job, span, zone.value, missing[0])
            continue
        volume = sum((part.volume for part in zone_parts), ZERO)
        shares = zone_shares(volume, total, found, places)
        for block, share, tariff in zip(found, shares, prices, strict=True):
            assert tariff is not None  # checked above
            values: dict[str, Value] = {
                "tier": block.index,
                "lower": block.lower,
                "upper": block.upper,
                "total": total,
            }
            if several:
                values["zone_volume"] = volume
                if block is last:
                    values["zone_others"] = volume - share
                else:
                    values["block"] = block.quantity
            run.line(
                job,
                span,
                share,
                tariff,
                price(share, tariff),
                _explanation(rule, job, zone_parts, values),
                zone=zone.value,
                tier=block.index,
                kind=kind,
            )


def _explanation(rule: Rule, job: Job, parts: list[Part], values: dict[str, Value]) -> Explanation:
    if len(parts) == 1:
        part = parts[0]
        if part.whole is None and isinstance(part.source, RegisterVolume):
            # the common case, one register's reading difference: skip the general walk
            return Explanation(rule, job.service.name, values, (part.source,))
    if any(part.whole is not None for part in parts):
        values["volume"] = sum(
            (part.volume if part.whole is None else part.whole for part in parts), ZERO
        )
        if len(parts) == 1:
            part = parts[0]
            if part.others is not None:
                values["others"] = part.others
            else:
                values["days"] = part.days
                values["whole_days"] = part.whole_days
    sources: list[RegisterVolume] = []
    estimates: list[Estimate] = []
    settlements: list[tuple[Kind, Settlement]] = []
    for part in parts:
        source = part.source
        if isinstance(source, RegisterVolume):
            sources.append(source)
        elif isinstance(source, Estimate):
            estimates.append(source)
        else:  # a settlement: one part per line (it is one portion)
            settlements.append((part.kind, source))
            sources.extend(source.registers)
    reason = estimates[0].reason if estimates else ""
    estimated: set[Period] = set()
    if settlements:
        reason = ACTUAL_READING
        values["true_volume"] = sum((s.true_volume for _, s in settlements), ZERO)
        for kind, settlement in settlements:
            estimated.update(settlement.periods)
            if kind is Kind.TRUE_UP:
                _add(values, "estimated_volume", settlement.estimated_volume)
            else:
                _add(values, "allocated", settlement.allocated)
                _add(values, "allocated_before", settlement.allocated_before)
    return Explanation(
        rule,
        job.service.name,
        values,
        tuple(sources),
        tuple(sorted({period for e in estimates for period in e.periods})),
        reason=reason,
        estimates=tuple(estimates),
        estimated=tuple(sorted(estimated)),
    )


def _add(values: dict[str, Value], key: str, amount: Decimal) -> None:
    known = values.get(key, ZERO)
    assert isinstance(known, Decimal)
    values[key] = known + amount


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
