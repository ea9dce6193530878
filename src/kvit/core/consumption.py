"""Readings → volumes: the reading window, rollover, capacity, replacement pieces (2.1–2.3).

A register's readings are walked in date order and each one is accepted or rejected by the
same rules every time, so the start of a period is the last reading the previous period
accepted, without any stored state:

* a value below 0 or at/above the capacity `C = 10^integer_digits` is rejected
  (`reading_out_of_range`);
* a value below the previous accepted one is a rollover when `C − prev + value ≤
  rollover_max_fraction × C`, otherwise it is rejected (`reading_decreased`, 2.2);
* readings after the verification due date or the failure day are not used (1.8, 2.4).

Only readings inside the period's window raise issues: history was reported when its own
period was rated. A window is `(anchor_on, end_on]`: the start reading is the last accepted
one on or before `anchor_on` (the previous period's cutoff, or the day the meter, the
account or the service started), the end reading the last one on or before `end_on` (this
period's cutoff, or the day the meter, the account or the service stopped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kvit.core.codes import ReadingKind, Zone
from kvit.core.config import Config
from kvit.core.dating import DateRange
from kvit.core.inputs import Meter, Reading
from kvit.core.issues import Issue, Severity, Value, register_messages
from kvit.core.lines import RegisterVolume
from kvit.core.money import prorate
from kvit.core.periods import Period
from kvit.core.tariffs import times

READING_OUT_OF_RANGE = "reading_out_of_range"
READING_DECREASED = "reading_decreased"
NO_START_READING = "no_start_reading"
READING_MISSING = "reading_missing"
METER_FAILED = "meter_failed"
METER_VERIFICATION_EXPIRED = "meter_verification_expired"

register_messages(
    {
        READING_OUT_OF_RANGE: {
            "en": "zone {zone}: reading {value} of {taken_on} does not fit the meter "
            "(0 up to below {capacity}); the reading is rejected",
            "ru": "зона {zone}: показание {value} от {taken_on} не помещается в счётчик "
            "(от 0 до значения меньше {capacity}); показание отклонено",
        },
        READING_DECREASED: {
            "en": "zone {zone}: reading {value} of {taken_on} is below the previous {previous}; "
            "as a rollover it would be {candidate}, above the limit {limit}; the reading is "
            "rejected and must be checked by an operator",
            "ru": "зона {zone}: показание {value} от {taken_on} меньше предыдущего {previous}; "
            "переход через ноль дал бы {candidate}, больше предела {limit}; показание "
            "отклонено, его должен проверить оператор",
        },
        NO_START_READING: {
            "en": "zone {zone}: no accepted reading on or before {day} to start {period} from "
            "(an initial reading is missing); the service is not charged",
            "ru": "зона {zone}: нет принятого показания на {day} или раньше, от которого "
            "считать {period} (нет начального показания); услуга не начислена",
        },
        READING_MISSING: {
            "en": "zone {zone}: no valid reading for {period}; the volume must be estimated "
            "(average, spec 2.4); the service is not charged",
            "ru": "зона {zone}: нет верного показания за {period}; объём нужно определить "
            "расчётно (по среднему, п. 2.4); услуга не начислена",
        },
        METER_FAILED: {
            "en": "zone {zone}: the meter failed on {day}; readings after it are not used and "
            "the rest of {period} must be estimated (spec 2.4)",
            "ru": "зона {zone}: счётчик вышел из строя {day}; показания после этого не "
            "используются, остаток {period} нужно определить расчётно (п. 2.4)",
        },
        METER_VERIFICATION_EXPIRED: {
            "en": "zone {zone}: the verification was due on {day}; readings after it are not "
            "used and the rest of {period} must be estimated (spec 2.4)",
            "ru": "зона {zone}: срок поверки истёк {day}; показания после этого не "
            "используются, остаток {period} нужно определить расчётно (п. 2.4)",
        },
    }
)

_KIND_ORDER = {
    ReadingKind.INITIAL: 0,
    ReadingKind.ACTUAL: 1,
    ReadingKind.CONTROL: 1,
    ReadingKind.FINAL: 2,
}


def cutoff_date(period: Period, cutoff_day: int) -> date:
    """The last day whose readings belong to `period` (the 25th by default; spec 1.8)."""
    return date(period.year, period.month, min(cutoff_day, period.days))


def registers(readings: Iterable[Reading]) -> dict[tuple[str, Zone], list[Reading]]:
    """Readings grouped by (meter, zone), each list in walking order: by date, and on one
    date the initial reading first and the final one last."""
    grouped: dict[tuple[str, Zone], list[Reading]] = {}
    for reading in readings:
        grouped.setdefault((reading.meter, reading.zone), []).append(reading)
    for chain in grouped.values():
        chain.sort(key=lambda r: (r.taken_on, _KIND_ORDER[r.kind]))
    return grouped


@dataclass(frozen=True, slots=True)
class Window:
    """Which readings bill a meter in a period: `(anchor_on, end_on]`."""

    anchor_on: date
    end_on: date

    @property
    def empty(self) -> bool:
        """Nothing to bill yet: the meter or account started after this period's cutoff."""
        return self.end_on <= self.anchor_on


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """A period's reading dates, worked out once per account: the previous period's cutoff,
    this period's cutoff and the period's exclusive end."""

    previous: date
    current: date
    period_end: date

    @classmethod
    def of(cls, period: Period, cutoff_day: int) -> Cutoffs:
        return cls(
            cutoff_date(period.previous(), cutoff_day),
            cutoff_date(period, cutoff_day),
            period.end,
        )


def window(cutoffs: Cutoffs, started_on: date, stopped_on: date | None) -> Window:
    """The reading window of a meter that serves the account from `started_on` (inclusive)
    until `stopped_on` (exclusive, `None` = still serving): the later of the meter's, the
    account's and the connected service's dates."""
    anchor_on = max(cutoffs.previous, started_on)
    if stopped_on is not None and stopped_on <= cutoffs.period_end:
        return Window(anchor_on, stopped_on)
    return Window(anchor_on, cutoffs.current)


def usable_until(meter: Meter, config: Config) -> tuple[date, str] | None:
    """The last day whose readings count, and why (failure or verification), if any.

    A verification due inside a freeze window (Decree 424) counts as due on the window's
    last day.
    """
    limits: list[tuple[date, str]] = []
    if meter.failed_on is not None:
        limits.append((meter.failed_on, METER_FAILED))
    due = meter.verification_due
    if due is not None:
        for freeze in config.verification_freeze_windows:
            if freeze.contains(due):
                due = freeze.last
        limits.append((due, METER_VERIFICATION_EXPIRED))
    return min(limits) if limits else None


@dataclass(frozen=True, slots=True)
class Measured:
    """A register's volume for the window (`None` when it cannot be measured) and issues."""

    volume: RegisterVolume | None
    issues: tuple[Issue, ...]


def measure(
    meter: Meter,
    zone: Zone,
    chain: Sequence[Reading],
    span: Window,
    period: Period,
    config: Config,
    account: str,
    service: str,
) -> Measured:
    """The volume of one register between the window's start and end readings (2.1, 2.2).

    Rejected readings inside the window are reported and skipped; the rest of the window
    still counts. With no start or no end reading the volume is `None` and the error says
    what an operator (or the averaging rule) must supply.
    """
    capacity = meter.capacity
    limit = times(config.rollover_max_fraction, capacity)
    stop = usable_until(meter, config)
    issues: list[Issue] = []

    def issue(code: str, severity: Severity, **values: Value) -> None:
        values.setdefault("zone", zone.value)
        issues.append(Issue(code, severity, account, meter.serial, service, values))

    previous: Reading | None = None
    start: Reading | None = None
    rollovers = start_rollovers = 0
    steps: list[tuple[Reading, int]] = []
    for reading in chain:
        if reading.taken_on > span.end_on:
            break
        if stop is not None and reading.taken_on > stop[0]:
            continue
        inside = reading.taken_on > span.anchor_on
        value = reading.value
        if value < 0 or value >= capacity:
            if inside:
                issue(
                    READING_OUT_OF_RANGE,
                    Severity.ERROR,
                    value=value,
                    taken_on=reading.taken_on,
                    capacity=capacity,
                )
            continue
        if previous is not None and value < previous.value:
            candidate = capacity - previous.value + value
            if candidate > limit:
                if inside:
                    issue(
                        READING_DECREASED,
                        Severity.ERROR,
                        value=value,
                        taken_on=reading.taken_on,
                        previous=previous.value,
                        candidate=candidate,
                        limit=limit,
                    )
                continue
            rollovers += 1
        previous = reading
        if inside:
            steps.append((reading, rollovers - start_rollovers))
        else:
            start, start_rollovers = reading, rollovers
    if start is None:
        issue(NO_START_READING, Severity.ERROR, day=span.anchor_on, period=str(period))
        return Measured(None, tuple(issues))
    cut_short = stop is not None and stop[0] < span.end_on
    if not steps:
        if cut_short and stop is not None:
            issue(stop[1], Severity.ERROR, day=stop[0], period=str(period))
        else:
            issue(READING_MISSING, Severity.ERROR, period=str(period))
        return Measured(None, tuple(issues))
    if cut_short and stop is not None:
        issue(stop[1], Severity.WARNING, day=stop[0], period=str(period))
    end, rolled = steps[-1]
    volume = _volume(start, end, rolled, capacity, meter.transform_ratio)
    return Measured(
        RegisterVolume(
            meter.serial,
            zone,
            start,
            end,
            rolled,
            capacity,
            meter.transform_ratio,
            volume,
            tuple(steps),
            meter.fraction_digits,
        ),
        tuple(issues),
    )


def _volume(
    start: Reading, end: Reading, rollovers: int, capacity: Decimal, ratio: Decimal
) -> Decimal:
    raw = end.value - start.value + rollovers * capacity
    return raw if ratio == 1 else times(raw, ratio)


def cut_at(volume: RegisterVolume, day: date) -> tuple[RegisterVolume, RegisterVolume] | None:
    """The volume cut at an accepted reading taken on `day` (a tariff change, 2.13), if any."""
    for index, (reading, rolled) in enumerate(volume.steps):
        if reading.taken_on == day:
            before = _piece(volume, volume.start, reading, rolled, volume.steps[: index + 1])
            later = tuple((r, k - rolled) for r, k in volume.steps[index + 1 :])
            after = _piece(volume, reading, volume.end, volume.rollovers - rolled, later)
            return before, after
    return None


def _piece(
    whole: RegisterVolume,
    start: Reading,
    end: Reading,
    rollovers: int,
    steps: tuple[tuple[Reading, int], ...],
) -> RegisterVolume:
    volume = _volume(start, end, rollovers, whole.capacity, whole.ratio)
    return RegisterVolume(
        whole.meter,
        whole.zone,
        start,
        end,
        rollovers,
        whole.capacity,
        whole.ratio,
        volume,
        steps,
        whole.fraction_digits,
    )


def split_by_days(volume: Decimal, days: Sequence[int], places: int) -> list[Decimal]:
    """`volume` over pieces of `days`: `round(V × d_i / Σd)` each, the last the remainder
    (spec 2.13), so the parts add up exactly. A rounded part never takes more than is left,
    so no part is negative."""
    total = sum(days)
    parts: list[Decimal] = []
    remaining = volume
    for part_days in days[:-1]:
        part = min(prorate(volume, part_days, total, places), remaining)
        parts.append(part)
        remaining -= part
    parts.append(remaining)
    return parts


def uncovered(spans: Iterable[DateRange], first: date, end: date) -> tuple[int, date | None]:
    """Days of `[first, end)` that none of `spans` covers, and the first such day: the days
    between a removed meter and its replacement, or before a first meter (2.3). The spans
    are bounded and lie inside `[first, end)`."""
    missing = 0
    first_missing: date | None = None
    cursor = first
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > cursor:
            missing += (span.start - cursor).days
            first_missing = first_missing or cursor
        cursor = max(cursor, span.end or end)
    if end > cursor:
        missing += (end - cursor).days
        first_missing = first_missing or cursor
    return missing, first_missing
