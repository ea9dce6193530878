"""True-up when an actual reading arrives after estimated periods (spec 2.7, R354 p.61).

A register measured this period whose start reading `R_last` is older than the previous
period's window — the periods in between had no usable reading and were billed by average
or norm — is settled instead of billed by reading:

* `V_true = R_now − R_last` (rollovers counted), over the estimated periods and this one;
* `V_est` = Σ quantities of the **posted** estimated lines of the service in those periods
  (`PeriodInputs.posted`: rules `average`, `norm_per_person`, `norm_per_area`, `tier`;
  kind charge; the ×K line repeats a volume and is not counted). The engine takes what was
  billed rather than recomputing it, so a norm or persons that changed since, or a line an
  operator corrected, is settled exactly as it stands in the ledger.

`trueup_mode = current_period` (default): one recalculation line in this period, `V_cur =
V_true − V_est` at this period's tariff (split by days over its tariff segments, 2.13), which
may be negative. `trueup_mode = rerate_past`: `V_true` is spread over the estimated periods
and this one by their days (`round3` each, the remainder to this period), each past period
is re-rated at its own tariff and gets a recalculation line `Σ round2(V_alloc × T) −
billed` (billed = the posted amounts of its estimated lines, ×K included); this period's
share is billed as a charge.

Registers are settled together when they share the estimated periods and, when this
period's tariff has zone prices (also on its tiers), the zone (the posted lines say no more:
they carry no meter). A past period re-rated per zone on a tiered tariff takes the blocks of
all zones' shares of that period and the zone's share of each in proportion (2.11).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kvit.core.codes import LineKind, Rule, Zone
from kvit.core.consumption import split_by_days
from kvit.core.context import Job, Run, days, overlap
from kvit.core.dating import DateRange
from kvit.core.estimates import ACTUAL_READING, Kind, Portion, Settlement
from kvit.core.history import Register
from kvit.core.inputs import TariffVersion
from kvit.core.issues import Value
from kvit.core.lines import Explanation, RegisterVolume
from kvit.core.periods import Period
from kvit.core.tariffs import ZERO, blocks, price, zone_shares

RERATE_PAST = "rerate_past"
ESTIMATE_RULES = frozenset(
    {Rule.AVERAGE.value, Rule.NORM_PER_PERSON.value, Rule.NORM_PER_AREA.value, Rule.TIER.value}
)
BILLED_RULES = ESTIMATE_RULES | {Rule.NORM_COEFFICIENT.value}


@dataclass(frozen=True, slots=True)
class Stale:
    """A register measured this period from a reading older than the previous window."""

    register: Register
    volume: RegisterVolume
    days_served: DateRange
    periods: tuple[Period, ...]  # the estimated periods in between, oldest first


@dataclass(frozen=True, slots=True)
class Rerate:
    """A past period's share of a true volume (`rerate_past`)."""

    settlement: Settlement
    period: Period
    span: DateRange
    allocated: Decimal
    days: int
    whole_days: int


def settle(
    run: Run, job: Job, stale: Sequence[Stale], zoned: bool
) -> tuple[list[Portion], list[Rerate]]:
    """The portions this period prices for the stale registers, and the past periods to
    re-rate (`rerate_past` only)."""
    groups: dict[tuple[str | None, tuple[Period, ...]], list[Stale]] = {}
    for item in stale:
        zone = item.volume.zone.value if zoned else None
        groups.setdefault((zone, item.periods), []).append(item)
    places = run.places(job.service.unit)
    portions: list[Portion] = []
    rerates: list[Rerate] = []
    for (zone, periods), items in groups.items():
        true_volume = sum((item.volume.volume for item in items), ZERO)
        estimated, _ = _posted(run, job, periods, zone)
        registers = tuple(item.volume for item in items)
        served = _covering(item.days_served for item in items)
        if run.config.trueup_mode != RERATE_PAST:
            settlement = Settlement(registers, periods, true_volume, estimated, zone)
            portions.append(Portion(Kind.TRUE_UP, settlement, true_volume - estimated, served))
            continue
        register = items[0].register
        spans = [register.days(period) for period in periods]
        counts = [days(span) for span in (*spans, served)]
        shares = split_by_days(true_volume, counts, places)
        whole = sum(counts)
        settlement = Settlement(
            registers,
            periods,
            true_volume,
            estimated,
            zone,
            shares[-1],
            sum(shares[:-1], ZERO),
        )
        for period, span, share, count in zip(periods, spans, shares, counts, strict=False):
            rerates.append(Rerate(settlement, period, span, share, count, whole))
        portions.append(Portion(Kind.SPREAD, settlement, shares[-1], served))
    return portions, rerates


def post_rerates(run: Run, job: Job, rerates: Sequence[Rerate]) -> None:
    """One recalculation line per past period: re-rated amount − billed amount (2.7)."""
    totals: dict[Period, Decimal] = {}  # all zones' shares of a period: its tier blocks
    for rerate in rerates:
        totals[rerate.period] = totals.get(rerate.period, ZERO) + rerate.allocated
    for rerate in rerates:
        settlement = rerate.settlement
        zone = settlement.zone
        estimated, billed = _posted(run, job, (rerate.period,), zone)
        priced = _rerated(run, job, rerate, zone, totals[rerate.period])
        if priced is None:
            continue
        amount, tariff = priced
        values: dict[str, Value] = {
            "true_volume": settlement.true_volume,
            "allocated": rerate.allocated,
            "days": rerate.days,
            "whole_days": rerate.whole_days,
            "estimated_volume": estimated,
            "rerated": amount,
            "billed": billed,
        }
        run.line(
            job,
            rerate.span,
            rerate.allocated - estimated,
            tariff,
            amount - billed,
            Explanation(
                Rule.TRUE_UP,
                job.service.name,
                values,
                settlement.registers,
                corrects=rerate.period,
                reason=ACTUAL_READING,
                estimated=settlement.periods,
            ),
            zone=zone or "",
            kind=LineKind.RECALCULATION,
        )


def _rerated(
    run: Run, job: Job, rerate: Rerate, zone: str | None, total: Decimal
) -> tuple[Decimal, Decimal] | None:
    """The past period's share priced at that period's tariffs: split by days over its
    tariff segments (2.13), tiers by blocks with monthly bounds (2.11). Per zone, the blocks
    are those of all zones' shares of the period (`total`) and the zone takes its share of
    each in proportion, at the tier's price for the zone (2.11)."""
    period = rerate.period
    places = run.places(job.service.unit)
    pieces: list[tuple[DateRange, TariffVersion | None]] = []
    for piece in run.book.tariffs(job.service, job.connected.tariff_group, period):
        common = overlap(piece.span, rerate.span)
        if common is not None:
            pieces.append((common, piece.version))
    counts = [days(span) for span, _ in pieces]
    shares = split_by_days(rerate.allocated, counts, places)
    wholes = shares if zone is None else split_by_days(total, counts, places)
    amount = tariff = ZERO
    for (span, version), share, whole in zip(pieces, shares, wholes, strict=True):
        if version is not None and version.tiers:
            if run.tiers_and_zones(job, span, version):
                return None
            found = blocks(whole, version.tiers, days(span), period.days, places)
            if zone is None:
                amount += sum((price(block.quantity, block.value) for block in found), ZERO)
                tariff = found[-1].value
                continue
            prices = [block.tier.zone_value(Zone(zone)) for block in found]
            parts = zone_shares(share, whole, found, places)
            for block, part, value in zip(found, parts, prices, strict=True):
                if value is None:
                    run.no_tier_zone_price(job, span, zone, block.index)
                    return None
                amount += price(part, value)
                tariff = value
            continue
        value = None if version is None else _value(version, zone)
        if value is None:
            run.no_tariff(job, span, zone or Zone.TOTAL.value)
            return None
        amount += price(share, value)
        tariff = value
    return amount, tariff


def _value(version: TariffVersion, zone: str | None) -> Decimal | None:
    """A zone's price when the lines are per zone and the version has zone prices, else
    the flat value."""
    if zone is not None and version.zones:
        return version.zone_value(Zone(zone))
    return version.value


def _posted(
    run: Run, job: Job, periods: Sequence[Period], zone: str | None
) -> tuple[Decimal, Decimal]:
    """Σ quantities of the posted estimated lines and Σ their amounts (×K lines included)
    for the service in `periods` (and `zone`, when the lines are per zone)."""
    quantity = amount = ZERO
    code = job.service.code
    for line in run.inputs.posted:
        if (
            line.service == code
            and line.kind is LineKind.CHARGE
            and line.period in periods
            and (zone is None or line.zone == zone)
            and line.rule in BILLED_RULES
        ):
            amount += line.amount
            if line.rule in ESTIMATE_RULES:
                quantity += line.quantity
    return quantity, amount


def _covering(spans: Iterable[DateRange]) -> DateRange:
    """The days from the earliest start to the latest end (spans inside a period)."""
    ordered = list(spans)
    ends = [span.end for span in ordered if span.end is not None]
    return DateRange(min(span.start for span in ordered), max(ends))
