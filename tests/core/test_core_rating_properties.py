"""kvit.core.rating properties (Hypothesis): rollover and replacement never give a negative
volume; proration segments add up to the whole within a kopeck per segment; recomputing
unchanged inputs gives identical lines. No database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from test_core_rating_builders import (
    account,
    area_service,
    flat,
    inputs,
    meter,
    metered_service,
    norm,
    persons,
    reading,
)

from kvit.core.codes import ReadingKind, Resource
from kvit.core.config import config_on
from kvit.core.inputs import Meter, Reading
from kvit.core.money import round2
from kvit.core.rating import rate
from kvit.core.tariffs import TariffBook

JULY_DAYS = st.integers(2, 31).map(lambda day: date(2025, 7, day))


def values(digits: int, fraction: int) -> st.SearchStrategy[str]:
    top = 10 ** (digits + fraction) - 1
    return st.integers(0, top).map(lambda n: str(Decimal(n).scaleb(-fraction)))


@st.composite
def rollover_case(draw: st.DrawFn) -> tuple[int, int, str, str, str]:
    digits = draw(st.integers(1, 7))
    fraction = draw(st.integers(0, 3))
    previous = draw(values(digits, fraction))
    current = draw(values(digits, fraction))
    limit = draw(st.sampled_from(["0", "0.05", "0.1", "0.5", "1"]))
    return digits, fraction, previous, current, limit


@given(rollover_case())
def test_rollover_never_gives_a_negative_volume(case: tuple[int, int, str, str, str]) -> None:
    digits, fraction, previous, current, limit = case
    config = config_on(date(2025, 7, 1), {"rollover_max_fraction": limit})
    rating = rate(
        inputs(
            account("electricity"),
            [metered_service(Resource.ELECTRICITY, flat("6.43"))],
            [meter("E", Resource.ELECTRICITY, integer_digits=digits, fraction_digits=fraction)],
            [
                reading("E", date(2025, 6, 25), previous),
                reading("E", date(2025, 7, 25), current),
            ],
            config=config,
        )
    )
    for line in rating.lines:
        assert line.quantity >= 0
        assert line.amount >= 0
    if Decimal(current) >= Decimal(previous):
        assert [line.quantity for line in rating.lines] == [Decimal(current) - Decimal(previous)]
    elif rating.lines[0].explanation.sources:
        assert rating.lines[0].explanation.sources[0].rollovers == 1
    else:  # rejected: estimated (no history, no norm: a zero norm line, 2.4)
        assert [issue.code for issue in rating.issues] == ["reading_decreased"]
        assert [line.quantity for line in rating.lines] == [Decimal("0.000")]


@dataclass(frozen=True)
class Replacement:
    removed: date
    installed: date
    change: date | None
    readings: tuple[str, str, str, str]

    def rows(self) -> list[Reading]:
        old_start, old_final, new_initial, new_end = self.readings
        return [
            reading("old", date(2025, 6, 25), old_start),
            reading("old", self.removed, old_final, kind=ReadingKind.FINAL),
            reading("new", self.installed, new_initial, kind=ReadingKind.INITIAL),
            reading("new", date(2025, 7, 25), new_end),
        ]

    def meters(self) -> list[Meter]:
        return [
            meter("old", Resource.HOT_WATER, removed_on=self.removed),
            meter("new", Resource.HOT_WATER, installed_on=self.installed),
        ]


@st.composite
def replacement_case(draw: st.DrawFn) -> Replacement:
    removed = draw(JULY_DAYS)
    installed = draw(st.integers(0, 5).map(lambda gap: removed + timedelta(days=gap)))
    numbers = st.integers(0, 99_999_999).map(lambda n: str(Decimal(n).scaleb(-3)))
    return Replacement(
        removed,
        min(installed, date(2025, 7, 31)),
        draw(st.one_of(st.none(), JULY_DAYS)),
        draw(st.tuples(numbers, numbers, numbers, numbers)),
    )


@given(replacement_case())
@settings(max_examples=200)
def test_replacement_never_gives_a_negative_volume(case: Replacement) -> None:
    change = case.change
    tariffs = (
        (flat("10"),) if change is None else (flat("10", end=change), flat("11", start=change))
    )
    rating = rate(
        inputs(
            account("hot_water"),
            [metered_service(Resource.HOT_WATER, *tariffs)],
            case.meters(),
            case.rows(),
        )
    )
    for line in rating.lines:
        assert line.quantity >= 0
        for source in line.explanation.sources:
            assert source.volume >= 0
    if rating.lines and change is None:
        assert sum(line.quantity for line in rating.lines) == sum(
            source.volume for source in rating.lines[0].explanation.sources
        )


@given(
    area=st.integers(1, 999_999).map(lambda n: Decimal(n).scaleb(-2)),
    tariff=st.integers(0, 99_999_999).map(lambda n: Decimal(n).scaleb(-4)),
    changes=st.sets(JULY_DAYS, max_size=4),
    opened=st.integers(1, 31).map(lambda day: date(2025, 7, day)),
)
def test_proration_segments_add_up_within_a_kopeck_each(
    area: Decimal, tariff: Decimal, changes: set[date], opened: date
) -> None:
    edges = sorted(changes)
    starts = [date(2020, 1, 1), *edges]
    ends: list[date | None] = [*edges, None]
    versions = [flat(str(tariff), start, end) for start, end in zip(starts, ends, strict=True)]
    service = area_service("maintenance", *versions)
    whole = rate(inputs(account("maintenance", area=str(area)), [service]))
    assert len(whole.lines) == len(changes) + 1
    assert abs(whole.total - round2(area * tariff)) <= Decimal("0.01") * len(whole.lines)
    part = rate(inputs(account("maintenance", area=str(area), opened_on=opened), [service]))
    exact = area * tariff * (32 - opened.day) / 31
    assert abs(part.total - exact) <= Decimal("0.005") * len(part.lines)


@given(
    volume=st.integers(0, 10**9).map(lambda n: Decimal(n).scaleb(-3)),
    changes=st.sets(JULY_DAYS, min_size=1, max_size=4),
)
def test_metered_split_adds_up_exactly(volume: Decimal, changes: set[date]) -> None:
    edges = sorted(changes)
    starts = [date(2020, 1, 1), *edges]
    ends: list[date | None] = [*edges, None]
    versions = [flat("1", start, end) for start, end in zip(starts, ends, strict=True)]
    rating = rate(
        inputs(
            account("cold_water"),
            [metered_service(Resource.COLD_WATER, *versions)],
            [meter("C", Resource.COLD_WATER, integer_digits=7)],
            [reading("C", date(2025, 6, 25), "0"), reading("C", date(2025, 7, 25), str(volume))],
        )
    )
    assert sum(line.quantity for line in rating.lines) == volume
    assert all(line.quantity >= 0 for line in rating.lines)


@given(replacement_case(), st.integers(1, 5))
@settings(max_examples=50)
def test_recomputing_unchanged_inputs_gives_identical_lines(
    case: Replacement, registered: int
) -> None:
    cold = metered_service(
        Resource.COLD_WATER,
        flat("48.95"),
        norms=(norm("4.745"),),
        increase_coefficient_applies=True,
    )
    hot = metered_service(Resource.HOT_WATER, flat("245.67"))
    given_inputs = inputs(
        account(
            "hot_water",
            "cold_water",
            "maintenance",
            registrations=persons(registered),
            opened_on=case.removed,
        ),
        [hot, cold, area_service("maintenance", flat("33.40"))],
        case.meters(),
        case.rows(),
    )
    book = TariffBook()
    first = rate(given_inputs, book)
    assert rate(given_inputs, book) == first
    assert rate(given_inputs) == first
