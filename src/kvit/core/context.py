"""The state of rating one account for one period, shared by the rule modules.

`Run` holds the inputs, the batch's `TariffBook`, the lines and issues found so far, and
what several rules need once per account: the persons counted on each day, the readings
grouped by register, the volume billed for each resource (sewerage adds them up). A `Job`
is one connected service over the days it is billed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from kvit.core.codes import PREMISE_METER_KINDS, LineKind, Resource, Unit, Zone
from kvit.core.consumption import Cutoffs, registers
from kvit.core.dating import DateRange
from kvit.core.inputs import (
    Account,
    ConnectedService,
    Meter,
    PeriodInputs,
    Reading,
    Service,
    TariffVersion,
)
from kvit.core.issues import Issue, Severity, Value, register_messages
from kvit.core.lines import ChargeLine, Explanation, HouseCarry
from kvit.core.periods import Period
from kvit.core.tariffs import TariffBook

NO_TARIFF = "no_tariff"
NO_NORM = "no_norm"
METHOD_NOT_SUPPORTED = "method_not_supported"
UNKNOWN_SERVICE = "unknown_service"
VOLUME_MISSING = "volume_missing"
TARIFF_TIERS_AND_ZONES = "tariff_tiers_and_zones"
NO_TIER_ZONE_PRICE = "no_tier_zone_price"

register_messages(
    {
        NO_TARIFF: {
            "en": "no tariff for {day} (tariff group “{group}”, zone {zone}); "
            "the days {day}–{last} are not charged",
            "ru": "нет тарифа на {day} (тарифная группа «{group}», зона {zone}); "
            "дни {day}–{last} не начислены",
        },
        NO_NORM: {
            "en": "no {kind} norm for {day} ({rooms} rooms, {persons} persons); "
            "the days {day}–{last} are not charged",
            "ru": "нет норматива ({kind}) на {day} (комнат: {rooms}, человек: {persons}); "
            "дни {day}–{last} не начислены",
        },
        METHOD_NOT_SUPPORTED: {
            "en": "the calculation method {method} is not part of the engine yet; "
            "the service is not charged",
            "ru": "способ расчёта {method} ещё не реализован в расчётном ядре; услуга не начислена",
        },
        UNKNOWN_SERVICE: {
            "en": "the connected service is not in the service catalogue; it is not charged",
            "ru": "подключённой услуги нет в справочнике услуг; она не начислена",
        },
        VOLUME_MISSING: {
            "en": "no {resource} volume for {period} to add up; the service is not charged",
            "ru": "нет объёма ({resource}) за {period} для суммирования; услуга не начислена",
        },
        TARIFF_TIERS_AND_ZONES: {
            "en": "the tariff in force on {day} (tariff group “{group}”) has both tiers and "
            "zone prices for the whole tariff; a tiered tariff takes its zone prices in each "
            "tier, so the days {day}–{last} are not charged",
            "ru": "в тарифе на {day} (тарифная группа «{group}») заданы и ступени, и цены зон "
            "на весь тариф; у ступенчатого тарифа цены зон задаются в каждой ступени, поэтому "
            "дни {day}–{last} не начислены",
        },
        NO_TIER_ZONE_PRICE: {
            "en": "no price for zone {zone} in tier {tier} of the tariff in force on {day} "
            "(tariff group “{group}”); the zone's volume of the days {day}–{last} is not "
            "charged",
            "ru": "нет цены зоны {zone} в ступени {tier} тарифа на {day} (тарифная группа "
            "«{group}»); объём зоны за дни {day}–{last} не начислен",
        },
    }
)


def clip(span: DateRange, start: date, end: date | None) -> DateRange | None:
    """The days of `span` from `start` until `end` (exclusive, `None` = open), `span`
    itself when it lies inside, `None` when nothing is left."""
    first = span.start if span.start >= start else start
    stop = span.end if end is None or (span.end is not None and span.end <= end) else end
    if stop is not None and stop <= first:
        return None
    if first == span.start and stop == span.end:
        return span
    return DateRange(first, stop)


def overlap(a: DateRange, b: DateRange) -> DateRange | None:
    """The common days of two ranges, `a` itself when it lies inside `b`."""
    return clip(a, b.start, b.end)


@lru_cache(maxsize=256)
def period_span(period: Period) -> DateRange:
    """`period.span`, worked out once per period (it is asked for once per account)."""
    return period.span


def days(span: DateRange) -> int:
    assert span.end is not None  # every span the rules see is inside a period
    return (span.end - span.start).days


@dataclass(frozen=True, slots=True)
class Job:
    """One connected service billed over `span` (inside the period and the account's days)."""

    service: Service
    connected: ConnectedService
    span: DateRange


@dataclass(frozen=True, slots=True)
class PersonRun:
    """Days on which the same number of persons count (`persons`; owners when nobody)."""

    span: DateRange
    persons: int
    owners_used: bool


class Run:
    """Everything rating one account's period accumulates; rules append to `lines`."""

    __slots__ = (
        "_cutoffs",
        "_meters",
        "_person_runs",
        "_previous_cutoffs",
        "_registers",
        "account",
        "active",
        "book",
        "carried",
        "config",
        "inputs",
        "issues",
        "lines",
        "period",
        "period_days",
        "reported",
        "volumes",
    )

    def __init__(self, inputs: PeriodInputs, book: TariffBook, active: DateRange) -> None:
        self.inputs = inputs
        self.active = active  # the days of the period the account is open
        self.book = book
        self.period: Period = inputs.period
        self.period_days = inputs.period.days
        self.account = inputs.account
        self.config = inputs.config
        self.lines: list[ChargeLine] = []
        self.issues: list[Issue] = []
        self.volumes: dict[Resource, Decimal] = {}
        self.carried: list[HouseCarry] = []  # common-house carries (2.8)
        self.reported: list[ChargeLine] = []  # benefits only reported (2.16)
        self._person_runs: tuple[PersonRun, ...] | None = None
        self._registers: dict[tuple[str, Zone], list[Reading]] | None = None
        self._cutoffs: Cutoffs | None = None
        self._previous_cutoffs: Cutoffs | None = None
        self._meters: dict[Resource, list[Meter]] | None = None

    # --- what rules report -------------------------------------------------------------

    def issue(
        self, code: str, job: Job, severity: Severity = Severity.ERROR, **values: Value
    ) -> None:
        self.issues.append(Issue(code, severity, self.account.number, "", job.service.code, values))

    def tariff_issue(self, code: str, job: Job, span: DateRange, **values: Value) -> None:
        """A problem with the tariff of the job's days `span` (what is not charged)."""
        values.update(day=span.start, last=last_day(span), group=job.connected.tariff_group)
        self.issue(code, job, Severity.ERROR, **values)

    def no_tariff(self, job: Job, span: DateRange, zone: str = Zone.TOTAL.value) -> None:
        self.tariff_issue(NO_TARIFF, job, span, zone=zone)

    def tiers_and_zones(self, job: Job, span: DateRange, version: TariffVersion) -> bool:
        """A tiered version with zone prices for the whole version cannot be priced (a
        tiered tariff takes zone prices per tier, 2.11): reported, `True`, nothing charged."""
        if not version.zones:
            return False
        self.tariff_issue(TARIFF_TIERS_AND_ZONES, job, span)
        return True

    def no_tier_zone_price(self, job: Job, span: DateRange, zone: str, tier: int) -> None:
        self.tariff_issue(NO_TIER_ZONE_PRICE, job, span, zone=zone, tier=tier)

    def line(
        self,
        job: Job,
        span: DateRange,
        quantity: Decimal,
        tariff: Decimal,
        amount: Decimal,
        explanation: Explanation,
        zone: str = "",
        tier: int = 0,
        kind: LineKind = LineKind.CHARGE,
        unit: Unit | None = None,
    ) -> None:
        self.lines.append(
            ChargeLine(
                self.account.number,
                job.connected.provider,
                job.service.code,
                self.period,
                kind,
                quantity,
                unit or job.service.unit,
                tariff,
                amount,
                explanation,
                span,
                zone,
                tier,
            )
        )

    def add_volume(self, resource: Resource | None, volume: Decimal) -> None:
        if resource is not None:
            self.volumes[resource] = self.volumes.get(resource, Decimal(0)) + volume

    # --- lookups -----------------------------------------------------------------------

    def job_lines(self, job: Job, *kinds: LineKind) -> list[ChargeLine]:
        """The lines of `kinds` proposed so far for the job's service, provider and days
        (what the adjustments of 2.14–2.16 work on)."""
        return [
            line
            for line in self.lines
            if line.kind in kinds
            and line.service == job.service.code
            and line.provider == job.connected.provider
            and line.span.overlaps(job.span)
        ]

    def tariff_pieces(self, job: Job) -> Iterator[tuple[DateRange, TariffVersion | None]]:
        """The job's days cut where its tariff version changes (`None`: no tariff)."""
        for piece in self.book.tariffs(job.service, job.connected.tariff_group, self.period):
            span = overlap(piece.span, job.span)
            if span is not None:
                yield span, piece.version

    def places(self, unit: Unit) -> int:
        """Decimals of a derived volume (spec 4.3): Gcal 6, m³ and kWh 3 by default."""
        if unit is Unit.GCAL:
            return self.config.volume_scale_gcal
        return self.config.volume_scale_m3_kwh

    def cutoffs(self) -> Cutoffs:
        if self._cutoffs is None:
            self._cutoffs = Cutoffs.of(self.period, self.config.reading_cutoff_day)
        return self._cutoffs

    def previous_cutoffs(self) -> Cutoffs:
        if self._previous_cutoffs is None:
            self._previous_cutoffs = Cutoffs.of(
                self.period.previous(), self.config.reading_cutoff_day
            )
        return self._previous_cutoffs

    def premise_meters(self, resource: Resource | None) -> list[Meter]:
        """The premise's own meters of `resource` (not house or common meters), in input
        order."""
        if self._meters is None:
            self._meters = {}
            for meter in self.inputs.meters:
                if meter.kind in PREMISE_METER_KINDS:
                    self._meters.setdefault(meter.resource, []).append(meter)
        return self._meters.get(resource, []) if resource is not None else []

    def registers(self) -> dict[tuple[str, Zone], list[Reading]]:
        if self._registers is None:
            self._registers = registers(self.inputs.readings)
        return self._registers

    def person_runs(self) -> tuple[PersonRun, ...]:
        """Persons counted on each day of the account's part of the period (spec 1.6).

        Every registration kind counts; on a day nobody counts, the owners do (R354
        p.56(2)).
        """
        if self._person_runs is None:
            self._person_runs = _person_runs(self.active, self.inputs.account)
        return self._person_runs


def last_day(span: DateRange) -> date:
    assert span.end is not None  # spans inside a period are bounded
    return span.end - timedelta(days=1)


def _person_runs(whole: DateRange, account: Account) -> tuple[PersonRun, ...]:
    spans = [r.span for r in account.registrations]
    end = whole.end
    assert end is not None  # the account's days inside a period
    points = {whole.start, end}
    for span in spans:
        if whole.start < span.start < end:
            points.add(span.start)
        if span.end is not None and whole.start < span.end < end:
            points.add(span.end)
    ordered = sorted(points)
    runs: list[PersonRun] = []
    for start, stop in pairwise(ordered):
        count = sum(1 for span in spans if span.contains(start))
        persons, owners_used = (count, False) if count else (account.owners, True)
        if runs and runs[-1].persons == persons and runs[-1].owners_used == owners_used:
            runs[-1] = PersonRun(DateRange(runs[-1].span.start, stop), persons, owners_used)
        else:
            runs.append(PersonRun(DateRange(start, stop), persons, owners_used))
    return tuple(runs)


def share_text(share: Fraction) -> str:
    return f"{share.numerator}/{share.denominator}"
