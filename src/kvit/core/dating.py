"""Effective dating: half-open date ranges [effective_from, effective_to).

`effective_to` is exclusive (the first day the row no longer applies), the same rule as an
account's `closed_on`; `None` means open-ended. See docs/adr/0001-half-open-dates.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class DateRange:
    start: date
    end: date | None = None  # exclusive; None = open-ended

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"range end {self.end} must be after its start {self.start}")

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def overlaps(self, other: DateRange) -> bool:
        return (other.end is None or self.start < other.end) and (
            self.end is None or other.start < self.end
        )


@dataclass(frozen=True, slots=True)
class Overlap(Generic[K]):
    first: K
    second: K


def find_overlaps(items: Iterable[tuple[K, DateRange]]) -> list[Overlap[K]]:
    """Pairs of items whose ranges overlap, each pair once, in start order."""
    ordered = sorted(items, key=lambda item: item[1].start)
    found: list[Overlap[K]] = []
    for index, (key, span) in enumerate(ordered):
        for other_key, other_span in ordered[index + 1 :]:
            if span.end is not None and other_span.start >= span.end:
                break
            found.append(Overlap(key, other_key))
    return found


def breakpoints(ranges: Sequence[DateRange]) -> list[date]:
    """Sorted distinct dates where any range starts or ends: the segments between them are
    stretches on which the set of applicable ranges does not change."""
    points = {r.start for r in ranges} | {r.end for r in ranges if r.end is not None}
    return sorted(points)


def first_difference(before: DateRange | None, after: DateRange | None, same: bool) -> date | None:
    """The first day on which two versions of a dated row differ (None: on no day).

    `before` / `after` are the row's ranges before and after a change (None: the row did not
    exist, or no longer does); `same` says whether everything but the dates is equal. A row
    added or removed differs from its start; a row whose other values changed, from the
    earlier start; a row whose dates alone moved, from the first day one covers and the
    other does not.
    """
    if before is None or after is None:
        kept = before or after
        return None if kept is None else kept.start
    if not same or before.start != after.start:
        return min(before.start, after.start)
    if before.end == after.end:
        return None
    return min(end for end in (before.end, after.end) if end is not None)
