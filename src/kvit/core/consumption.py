"""Readings → volumes: the reading window, rollover, capacity, replacement pieces (2.1–2.3).

A register's readings are walked in date order and each one is accepted or rejected by the
same rules every time, so the start of a period is the last reading the previous period
accepted, without any stored state:

* a value below 0 or at/above the capacity `C = 10^integer_digits` is rejected
  (`reading_out_of_range`);
* a value below the previous accepted one is a rollover when `C − prev + value ≤
  rollover_max_fraction × C`, otherwise it is rejected (`reading_decreased`, 2.2);
* readings after the verification due date or the failure day are not used (1.8, 2.4):
  `stop_of` says from which day a meter's days are estimated instead (`estimates.py`).

Only readings inside the period's window raise issues: history was reported when its own
period was rated. A window is `(anchor_on, end_on]`: the start reading is the last accepted
one on or before `anchor_on` (the previous period's cutoff, or the day the meter, the
account or the service started), the end reading the last one on or before `end_on` (this
period's cutoff, or the day the meter, the account or the service stopped).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

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
        METER_FAILED: {
            "en": "the meter failed on {day}; its readings after that day are not used and "
            "its days from then on are estimated (average, then norm, spec 2.4) until it is "
            "replaced",
            "ru": "счётчик вышел из строя {day}; его показания после этого дня не "
            "используются, а объём с этого дня определяется расчётно (по среднему, затем по "
            "нормативу, п. 2.4) до замены счётчика",
        },
        METER_VERIFICATION_EXPIRED: {
            "en": "the verification was due on {due}; readings after it are not used and the "
            "days from {day} on are estimated (average, then norm, spec 2.4) until the meter "
            "is verified or replaced",
            "ru": "срок поверки истёк {due}; показания после этого не используются, а объём "
            "начиная с {day} определяется расчётно (по среднему, затем по нормативу, п. 2.4) "
            "до поверки или замены счётчика",
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
        """Worked out once per period and cutoff day (the history rules ask again and
        again)."""
        return _cutoffs(period, cutoff_day)


@lru_cache(maxsize=1024)
def _cutoffs(period: Period, cutoff_day: int) -> Cutoffs:
    return Cutoffs(
        cutoff_date(period.previous(), cutoff_day), cutoff_date(period, cutoff_day), period.end
    )


def window(cutoffs: Cutoffs, started_on: date, stopped_on: date | None) -> Window:
    """The reading window of a meter that serves the account from `started_on` (inclusive)
    until `stopped_on` (exclusive, `None` = still serving): the later of the meter's, the
    account's and the connected service's dates."""
    anchor_on = max(cutoffs.previous, started_on)
    if stopped_on is not None and stopped_on <= cutoffs.period_end:
        return Window(anchor_on, stopped_on)
    return Window(anchor_on, cutoffs.current)


@dataclass(frozen=True, slots=True)
class Stop:
    """When a meter stops counting (1.8, 2.4): readings taken after `last_usable` are not
    used, and the days from `from_day` on are estimated. A failed meter stops on its
    `failed_on` day (its reading of that day still counts, the day itself is estimated); an
    expired one counts as failed from the day after the due date. `reason` is the issue
    code, `due` the verification due date after any freeze window."""

    last_usable: date
    from_day: date
    reason: str
    due: date | None = None


def stop_of(meter: Meter, config: Config) -> Stop | None:
    """The earlier of the failure and the verification expiry, if any.

    A verification due inside a freeze window (Decree 424) counts as due on the window's
    last day, so the meter does not fail inside the window.
    """
    stops: list[Stop] = []
    if meter.failed_on is not None:
        stops.append(Stop(meter.failed_on, meter.failed_on, METER_FAILED))
    due = meter.verification_due
    if due is not None:
        for freeze in config.verification_freeze_windows:
            if freeze.contains(due):
                due = freeze.last
        stops.append(Stop(due, due + timedelta(days=1), METER_VERIFICATION_EXPIRED, due))
    return min(stops, key=lambda stop: stop.from_day) if stops else None


@dataclass(frozen=True, slots=True)
class Measured:
    """A register's volume for the window (`None` when no usable reading closes it), the
    start reading (`None`: nothing to start from, reported) and the issues found."""

    volume: RegisterVolume | None
    issues: tuple[Issue, ...]
    start: Reading | None = None


def measure(
    meter: Meter,
    zone: Zone,
    chain: Sequence[Reading],
    span: Window,
    period: Period,
    config: Config,
    account: str,
    service: str,
    stop: Stop | None,
) -> Measured:
    """The volume of one register between the window's start and end readings (2.1, 2.2).

    Rejected readings inside the window are reported and skipped; the rest of the window
    still counts. Readings after the meter's `stop` (`stop_of`) are not used. With no start
    reading the volume is `None` and `no_start_reading` says what an operator must supply;
    with a start but no usable end reading the volume is `None` without an issue: the
    caller estimates it (2.4).
    """
    capacity = meter.capacity
    last_usable = None if stop is None else stop.last_usable
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
        if last_usable is not None and reading.taken_on > last_usable:
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
            limit = times(config.rollover_max_fraction, capacity)
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
    if not steps:
        return Measured(None, tuple(issues), start)
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
        start,
    )


@dataclass(frozen=True, slots=True)
class Track:
    """A register's usable accepted readings in walking order (the same walk as `measure`,
    over the whole history given, without issues), with the rollovers counted up to each:
    the history the averaging and true-up rules look back over (2.4, 2.7)."""

    readings: tuple[Reading, ...]
    rollovers: tuple[int, ...]
    capacity: Decimal
    ratio: Decimal

    def last_on_or_before(self, day: date) -> int | None:
        """The index of the last usable reading taken on or before `day`."""
        index = bisect_right(self.readings, day, key=lambda r: r.taken_on) - 1
        return index if index >= 0 else None

    def volume(self, first: int, last: int) -> Decimal:
        """The volume between two readings of the track, rollovers included."""
        return _volume(
            self.readings[first],
            self.readings[last],
            self.rollovers[last] - self.rollovers[first],
            self.capacity,
            self.ratio,
        )


def track(meter: Meter, chain: Sequence[Reading], config: Config) -> Track:
    capacity = meter.capacity
    limit = times(config.rollover_max_fraction, capacity)
    stop = stop_of(meter, config)
    readings: list[Reading] = []
    counts: list[int] = []
    rollovers = 0
    for reading in chain:
        if stop is not None and reading.taken_on > stop.last_usable:
            break
        value = reading.value
        if value < 0 or value >= capacity:
            continue
        if readings and value < readings[-1].value:
            if capacity - readings[-1].value + value > limit:
                continue
            rollovers += 1
        readings.append(reading)
        counts.append(rollovers)
    return Track(tuple(readings), tuple(counts), capacity, meter.transform_ratio)


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
    so no part has the other sign. A negative volume (a true-up credit, 2.7) is split as its
    absolute value and negated."""
    if volume < 0:
        return [-part for part in split_by_days(-volume, days, places)]
    total = sum(days)
    parts: list[Decimal] = []
    remaining = volume
    for part_days in days[:-1]:
        part = min(prorate(volume, part_days, total, places), remaining)
        parts.append(part)
        remaining -= part
    parts.append(remaining)
    return parts


def uncovered(spans: Iterable[DateRange], first: date, end: date) -> list[DateRange]:
    """The stretches of `[first, end)` that none of `spans` covers: the days between a
    removed meter and its replacement, after a removal, or before a first meter (2.3). The
    spans are bounded and lie inside `[first, end)`."""
    missing: list[DateRange] = []
    cursor = first
    for span in sorted(spans, key=lambda s: s.start):
        if span.start > cursor:
            missing.append(DateRange(cursor, span.start))
        cursor = max(cursor, span.end or end)
    if end > cursor:
        missing.append(DateRange(cursor, end))
    return missing
