"""A register's past, derived from its readings alone (spec 2.4, 2.7): which periods were
measured by two actual readings, which had no usable reading, and the average.

The engine stores nothing between runs, so whatever the averaging and true-up rules need
about earlier periods is worked out again, the same way every time, from the readings the
mapping passes (`consumption.track`: the same acceptance walk as `measure`) and the
period's reading windows (`consumption.window`):

* a period is **actual** when its whole window `(previous cutoff, cutoff]` served the
  register, a usable reading closes it, and its start reading closed the previous
  period's window (or the register started then) — its volume came from two actual
  readings of consecutive windows, with nothing estimated in between;
* a period is **unmeasured** when it had a window but no usable reading in it: it was
  billed by an estimate (average or norm).

Anything else (a partial window, a window cut by a failure, a window whose start reading
is older than the previous window — a true-up) is neither, so it is skipped when averaging.
The look-back is bounded (`horizon`, `history_start`), so the answer never depends on how
much older history the mapping happens to pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kvit.core.codes import Zone
from kvit.core.config import Config
from kvit.core.consumption import Cutoffs, Track, Window, cutoff_date, window
from kvit.core.dating import DateRange
from kvit.core.inputs import Meter
from kvit.core.money import prorate
from kvit.core.periods import Period


def horizon(config: Config) -> int:
    """How many periods before the first estimated one the average may look back:
    `2 × avg_window_months` (12 by default) [DECISION]."""
    return 2 * config.avg_window_months


def longest_limit(config: Config) -> int:
    """The most consecutive periods any cause may be billed by average (6 by default)."""
    return max(
        config.avg_max_periods_no_reading,
        config.avg_max_periods_failed,
        config.avg_max_periods_failed_nonresidential,
    )


def history_start(period: Period, config: Config, onset: date | None = None) -> date:
    """The mapping passes every accepted reading taken after this day, plus the last one on
    or before it, for the averages and limits of `period` to be exact (docs/engine.md).

    That is the cutoff of `A − (longest_limit + horizon + 2)` periods, where `A` is
    `period` or, for a meter that failed (or expired) earlier — an electricity meter of
    the supplier is averaged without a limit — the period of `onset`, the day it stopped
    counting. With the defaults: 20 periods back.
    """
    anchor = period if onset is None else min(period, Period.of(onset))
    back = longest_limit(config) + horizon(config) + 2
    for _ in range(back):
        anchor = anchor.previous()
    return cutoff_date(anchor, config.reading_cutoff_day)


def months_between(first: Period, last: Period) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


@dataclass(frozen=True, slots=True)
class Register:
    """One register of a meter as it serves the account's service: from `started_on`
    (the latest of the meter's installation, the account's opening and the connection)
    until `stopped_on` (the earliest of removal, closing and disconnection, exclusive)."""

    meter: Meter
    zone: Zone
    track: Track
    started_on: date
    stopped_on: date | None
    cutoff_day: int
    last_usable: date | None  # readings after it are not used (failure, verification)

    def window(self, period: Period) -> Window:
        return window(Cutoffs.of(period, self.cutoff_day), self.started_on, self.stopped_on)

    def days(self, period: Period) -> DateRange:
        """The register's days inside a period it had a window in (calendar days, for
        spreading a true-up): the window ends by the cutoff or the stop, so some days are
        left."""
        start = max(period.first_day, self.started_on)
        end = period.end if self.stopped_on is None else min(period.end, self.stopped_on)
        return DateRange(start, end)

    def unmeasured(self, period: Period) -> bool:
        """The period had a window for the register but no usable reading in it."""
        span = self.window(period)
        if span.empty:
            return False
        index = self.track.last_on_or_before(span.end_on)
        return index is None or self.track.readings[index].taken_on <= span.anchor_on

    def actual(self, period: Period) -> Decimal | None:
        """The period's volume when it came from two actual readings over its whole window,
        else `None`."""
        cutoffs = Cutoffs.of(period, self.cutoff_day)
        span = window(cutoffs, self.started_on, self.stopped_on)
        if span.anchor_on != cutoffs.previous or span.end_on != cutoffs.current:
            return None  # the register served only part of the window
        if self.last_usable is not None and self.last_usable < span.end_on:
            return None  # cut by a failure or an expired verification
        track = self.track
        start = track.last_on_or_before(span.anchor_on)
        end = track.last_on_or_before(span.end_on)
        if start is None or end is None or end == start:
            return None
        before = self.window(period.previous())
        if not before.empty and track.readings[start].taken_on <= before.anchor_on:
            return None  # the start reading is older: the previous period was estimated
        return track.volume(start, end)

    def run_before(self, period: Period, limit: int | None) -> list[Period]:
        """The unmeasured periods right before `period`, latest first (at most `limit`)."""
        found: list[Period] = []
        current = period.previous()
        while (limit is None or len(found) < limit) and self.unmeasured(current):
            found.append(current)
            current = current.previous()
        return found


@dataclass(frozen=True, slots=True)
class Average:
    """`value = round(Σ volumes / k)` over `periods` (oldest first); `value` is `None` when
    fewer than `avg_min_months` actual periods were found."""

    value: Decimal | None
    periods: tuple[Period, ...]
    total: Decimal


def average(
    register: Register,
    first: Period,
    config: Config,
    places: int,
    seasons: Iterable[DateRange] | None = None,
) -> Average:
    """The average monthly volume of the actual periods before `first` (the first
    estimated period): the latest `avg_window_months` of them within `horizon` periods,
    estimated and partial periods skipped; with `seasons` (heating) only the months that
    overlap a heating season count."""
    wanted = config.avg_window_months
    seasons = None if seasons is None else tuple(seasons)
    found: list[tuple[Period, Decimal]] = []
    current = first
    for _ in range(horizon(config)):
        current = current.previous()
        if seasons is not None and not _in_season(current, seasons):
            continue
        volume = register.actual(current)
        if volume is not None:
            found.append((current, volume))
            if len(found) == wanted:
                break
    periods = tuple(period for period, _ in reversed(found))
    total = sum((volume for _, volume in found), Decimal(0))
    if not found or len(found) < config.avg_min_months:
        return Average(None, periods, total)
    return Average(prorate(total, 1, len(found), places), periods, total)


def _in_season(period: Period, seasons: tuple[DateRange, ...]) -> bool:
    span = period.span
    return any(season.overlaps(span) for season in seasons)
