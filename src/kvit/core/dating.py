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
