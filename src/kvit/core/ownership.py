"""Ownership shares of a premise: on every date they add up to exactly one (spec 1.5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from kvit.core.dating import DateRange, breakpoints


@dataclass(frozen=True, slots=True)
class Share:
    numerator: int
    denominator: int
    span: DateRange

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)


@dataclass(frozen=True, slots=True)
class ShareMismatch:
    """A stretch of dates on which the shares add up to `total` instead of one."""

    span: DateRange
    total: Fraction


def share_mismatches(shares: Sequence[Share]) -> list[ShareMismatch]:
    """Every maximal stretch, from the first share's start on, where the total is not 1.

    A stretch with no owner at all counts as a total of 0 only between owned stretches
    (a gap); before the first and after the last share there is simply no ownership data.
    """
    if not shares:
        return []
    points = breakpoints([s.span for s in shares])
    open_ended = any(s.span.end is None for s in shares)
    segments: list[DateRange] = [DateRange(a, b) for a, b in pairwise(points)]
    if open_ended:
        segments.append(DateRange(points[-1]))
    found: list[ShareMismatch] = []
    for segment in segments:
        total = sum(
            (s.fraction for s in shares if s.span.contains(segment.start)), start=Fraction(0)
        )
        if total == 1:
            continue
        previous = found[-1] if found else None
        if previous and previous.total == total and previous.span.end == segment.start:
            found[-1] = ShareMismatch(DateRange(previous.span.start, segment.end), total)
        else:
            found.append(ShareMismatch(segment, total))
    return found
