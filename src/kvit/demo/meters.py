"""Meters and their monthly readings: noise, missed months, replacement, rollover.

Values are kept as integers in the meter's last displayed digit (1 = 0.001 m³ for a meter
with 3 fraction digits), so they never have more decimals than the meter shows; they wrap
at the capacity 10^integer_digits exactly like the display does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise

from kvit.demo.rows import Batch, Ids
from kvit.demo.schema import METER, READING
from kvit.demo.window import Window, add_years, days_later, iso

# Seasonal factors by calendar month, January first.
FLAT = (1.0,) * 12
WATER = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.85, 0.9, 1.0, 1.0, 1.0, 1.05)
HOT_WATER = (1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.75, 0.9, 1.0, 1.0, 1.0, 1.05)  # summer shutdowns
LIGHTING = (1.25, 1.15, 1.05, 0.95, 0.85, 0.8, 0.8, 0.85, 0.95, 1.05, 1.15, 1.3)
HEAT = (1.6, 1.4, 1.1, 0.6, 0.1, 0.0, 0.0, 0.0, 0.2, 0.8, 1.2, 1.5)

REJECTED_REASON = "Показание меньше предыдущего (ошибка ввода); принято исправленное"


@dataclass(frozen=True, slots=True)
class MeterModel:
    """What kind of meter is installed and how much goes through it."""

    resource: str
    zones: tuple[str, ...]
    per_day: tuple[float, ...]  # average register units per day, per zone
    season: tuple[float, ...]
    integer_digits: int = 5
    fraction_digits: int = 3
    ratio: str = "1.000"
    interval: int = 6  # verification interval, years
    serial_prefix: str = "00"


@dataclass(frozen=True, slots=True)
class Where:
    """The meter's owner columns: tenant, kind, premise, building, node."""

    tenant: int
    kind: str
    premise: int | None = None
    building: int | None = None
    node: int | None = None


@dataclass(frozen=True, slots=True)
class Habits:
    """Who takes the readings and how reliably."""

    source: str = "consumer"
    first_day: int = 18
    last_day: int = 25
    missing: float = 0.04
    rejected: float = 0.002


def verified(installed_on: date, interval: int, rng: random.Random, reference: date) -> date:
    """Last verification: re-verified shortly before each due date that has passed."""
    checked = installed_on
    while add_years(checked, interval) <= reference:
        checked = days_later(add_years(checked, interval), -rng.randint(1, 40))
    return checked


def install(
    batch: Batch,
    ids: Ids,
    rng: random.Random,
    window: Window,
    where: Where,
    model: MeterModel,
    habits: Habits,
    *,
    replaced: bool = False,
    rollover: bool = False,
    failed: bool = False,
) -> int:
    """Meter(s) of one resource at one place with their readings; the current meter's id.

    A replaced meter is removed mid-month with a final reading and the new one installed
    the same day with an initial reading; a failed one stops counting late in the window.
    """
    installed_on = days_later(window.start, -rng.randint(60, 365 * 10))
    if rollover:
        habits = replace(habits, missing=0)  # a month's volume must stay below 0.1 × capacity
        # An old 4-digit meter whose display wraps past 9999 a few periods into the window.
        model = replace(model, integer_digits=4, fraction_digits=1)
        months_left = rng.uniform(2.5, 4.5)
        start_units = [int((10_000 - p * 30.4 * months_left) * 10) for p in model.per_day]
    else:
        start_units = []
    if not replaced:
        failed_on = window.periods[-rng.randint(2, 4)].day(rng.randint(1, 28)) if failed else None
        meter_id = _meter(batch, ids, rng, window, where, model, installed_on, None, failed_on)
        _readings(batch, ids, rng, window, meter_id, model, habits, installed_on, failed_on,
                  start_units, final=False)  # fmt: skip
        return meter_id
    period = window.periods[rng.randint(2, len(window.periods) - 3)]
    swapped_on = period.day(rng.randint(2, habits.first_day - 3))
    old_id = _meter(batch, ids, rng, window, where, model, installed_on, swapped_on)
    _readings(batch, ids, rng, window, old_id, model, habits, installed_on, swapped_on, [])
    new_id = _meter(batch, ids, rng, window, where, model, swapped_on, None)
    _readings(batch, ids, rng, window, new_id, model, habits, swapped_on, None, [])
    return new_id


def _meter(
    batch: Batch,
    ids: Ids,
    rng: random.Random,
    window: Window,
    where: Where,
    model: MeterModel,
    installed_on: date,
    removed_on: date | None,
    failed_on: date | None = None,
) -> int:
    meter_id = ids.take(METER)
    verified_on = verified(installed_on, model.interval, rng, removed_on or window.reference)
    batch.add(
        METER,
        (meter_id, where.tenant, where.kind, model.resource,
         f"{model.serial_prefix}{meter_id:08d}", where.premise, where.building, where.node,
         len(model.zones), model.integer_digits, model.fraction_digits, model.ratio,
         iso(installed_on), iso(verified_on), model.interval, iso(installed_on),
         iso(removed_on) if removed_on else None, iso(failed_on) if failed_on else None,
         "removed" if removed_on else "failed" if failed_on else "active"),
    )  # fmt: skip
    return meter_id


def _readings(
    batch: Batch,
    ids: Ids,
    rng: random.Random,
    window: Window,
    meter_id: int,
    model: MeterModel,
    habits: Habits,
    installed_on: date,
    stopped_on: date | None,
    start_units: list[int],
    *,
    final: bool = True,
) -> None:
    """An opening reading, then one a month (some missed) until `stopped_on`, and on that
    day a final one (none for a failed meter: nobody reads it any more)."""
    scale = 10**model.fraction_digits
    capacity = 10**model.integer_digits * scale
    per_day = [p * scale for p in model.per_day]
    zones, season = model.zones, model.season
    random_ = rng.random
    if installed_on < window.start:
        # Readings before the window are not seeded: the last one before it opens the series.
        opening = window.day(days_later(window.start, -1))
        used = opening.ordinal - installed_on.toordinal()
        values = start_units or [
            int(rng.randint(0, 50) * scale + p * used) % capacity for p in per_day
        ]
        events = [(opening, "import", "actual")]
    else:
        opening = window.day(installed_on)
        values = [rng.randint(0, 5) * scale for _ in zones]
        events = [(opening, "operator", "initial")]
    after, until = opening.ordinal, stopped_on.toordinal() if stopped_on else 1 << 30
    source, missing = habits.source, habits.missing
    for candidates in window.reading_days(habits.first_day, habits.last_day):
        day = candidates[int(random_() * len(candidates))]
        if after < day.ordinal < until and random_() >= missing:
            events.append((day, source, "actual"))
    if stopped_on and final:
        events.append((window.day(stopped_on), "operator", "final"))

    # A consumer's typo (lower than the previous reading) is rejected beside the right one.
    monthly = len(events) - (2 if stopped_on and final else 1)
    typo = rng.randint(1, monthly) if monthly > 0 and random_() < habits.rejected * monthly else 0
    rows = batch.rows[READING]
    append = rows.append
    rid = ids.take(READING, len(events) * len(zones) + (1 if typo else 0))
    pattern = f"%d.%0{model.fraction_digits}d"
    # Consumption since the previous reading: days between them times the season's factor.
    spans = [0.0] + [
        season[day.month - 1] * (day.ordinal - before.ordinal)
        for (before, _, _), (day, _, _) in pairwise(events)
    ]
    for zone, value, rate in zip(zones, values, per_day, strict=True):
        for number, (day, source, kind) in enumerate(events):
            if number:
                if number == typo and zone == zones[0]:
                    low = pattern % divmod(max(value - 7 * scale, 0), scale)
                    append((rid, meter_id, zone, day.iso, low, source, "actual", "rejected",
                            REJECTED_REASON, day.stamps[rid % 12]))  # fmt: skip
                    rid += 1
                value = (value + int(rate * spans[number] * (0.7 + 0.6 * random_()))) % capacity
            append((rid, meter_id, zone, day.iso, pattern % divmod(value, scale), source, kind,
                    "accepted", "", day.stamps[rid % 12]))  # fmt: skip
            rid += 1
